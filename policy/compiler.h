// The policy compiler: Snapshot → Program (program.h) for the endpoints of one node, and
// the IP set members of every set the program references.
#pragma once

#include <functional>
#include <string_view>

#include "policy/program.h"
#include "policy/snapshot.h"

namespace coral::policy {

// Programs every endpoint of `node` (all endpoints when node is empty).
Program compile(const Snapshot& snapshot, std::string_view node);

// The members of every set in `program`, from the snapshot's current endpoints, namespaces
// and node addresses. Rules never change when only members do.
MemberMap computeMembers(const Program& program, const Snapshot& snapshot);

// The parts compile() and computeMembers() are made of, for IncrementalCompiler:
//   compilePolicyChain  one policy's chain for a direction; adds the sets it uses to `sets`
//   compileEndpoint     one endpoint's program; `on_policy` sees every selecting policy
//   setsReferenced      the set names a policy chain's rules use, sorted
//   nodeAddressSet      the node4/node6 set definition
//   addEndpointMembers  appends what one endpoint contributes to a selector/named-port set
//   staticMembers       the members that come from the definition or the node (nets, node)
//   normalizeMembers    sorts and deduplicates
PolicyChain compilePolicyChain(const Policy& policy, Direction direction,
                               std::map<std::string, SetDef>& sets);
EndpointProgram compileEndpoint(const Snapshot& snapshot, const Endpoint& endpoint,
                                const common::Labels& labels,
                                const std::function<void(const Policy&, Direction)>& on_policy);
std::vector<std::string> setsReferenced(const PolicyChain& chain);
SetDef nodeAddressSet(common::Family family);
void addEndpointMembers(const SetDef& def, const Endpoint& endpoint, const common::Labels& labels,
                        SetMembers& out);
SetMembers staticMembers(const SetDef& def, const std::vector<common::IpAddress>& node_addresses);
void normalizeMembers(SetMembers& m);

// Names used by the compiler, exposed for renderers and tests.
std::string policyChainName(const Policy& policy, Direction direction);
std::string endpointChainName(const Endpoint& endpoint, Direction direction);

}  // namespace coral::policy
