// ProgramChange: what differs between two (Program, MemberMap) states of one node, in the
// terms the renderers write: sets and chains that appear, change or go, set elements added
// and removed, endpoints (their chains and dispatch map entries) added, changed, removed.
// diffPrograms() computes it structurally from two whole states (O(size), no rendering);
// IncrementalCompiler produces it directly from what changed (O(change)).
#pragma once

#include <string>
#include <vector>

#include "policy/program.h"

namespace coral::policy {

struct ProgramChange {
  std::vector<std::string> sets_added;    // names, defined in the new program
  std::vector<std::string> sets_removed;  // names of the old program
  MemberMap elements_added;               // set → elements to add (whole members of new sets)
  MemberMap elements_removed;             // set → elements to delete (not for removed sets)
  std::vector<std::string> policy_chains_added;    // defined in the new program
  std::vector<std::string> policy_chains_changed;  // same name, other rules
  std::vector<std::string> policy_chains_removed;
  // A changed policy chain has another order: the evaluation order of the node's policy
  // chains (staging.h's shared chains list them in it) differs.
  bool order_changed = false;
  std::vector<std::string> endpoints_added;        // endpoint ids of the new program
  std::vector<EndpointProgram> endpoints_changed;  // as they were; same id in the new program
  std::vector<EndpointProgram> endpoints_removed;  // as they were

  bool empty() const;
  // Sorts every list so that two changes describing the same difference compare equal.
  void normalize();
  bool operator==(const ProgramChange&) const = default;
};

ProgramChange diffPrograms(const Program& before, const MemberMap& before_members,
                           const Program& after, const MemberMap& after_members);

// Element-wise a − b for sorted, unique members (nets compared as a whole list).
SetMembers membersMinus(const SetMembers& a, const SetMembers& b);

}  // namespace coral::policy
