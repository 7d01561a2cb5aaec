// The policy compiler: Snapshot → Program (program.h) for the endpoints of one node, and
// the IP set members of every set the program references.
#pragma once

#include <string_view>

#include "policy/program.h"
#include "policy/snapshot.h"

namespace coral::policy {

// Programs every endpoint of `node` (all endpoints when node is empty).
Program compile(const Snapshot& snapshot, std::string_view node);

// The members of every set in `program`, from the snapshot's current endpoints, namespaces
// and node addresses. Rules never change when only members do.
MemberMap computeMembers(const Program& program, const Snapshot& snapshot);

// Names used by the compiler, exposed for renderers and tests.
std::string policyChainName(const Policy& policy, Direction direction);
std::string endpointChainName(const Endpoint& endpoint, Direction direction);

}  // namespace coral::policy
