// Staging: how a pod added on this node costs set elements only.
//
// nf_tables re-validates every chain reachable from the base chains (its loop check) when
// a transaction adds a rule or a map element that jumps: a pod's own chains and dispatch
// entries cost a walk of the node's whole ruleset at commit (~2 ms at 110 pods × 1k
// policies, ~120 ms at 10k local pods; docs/benchmarks.md). Plain set elements cost none of
// that. So a pod whose policy chains all exist already is first *staged*: its interface
// joins ifname sets that guard two shared chains, `staged-ingress` and `staged-egress`,
// which apply every policy chain of the node in evaluation order to the interfaces whose
// set names them:
//
//   staged-in / staged-out            interfaces staged (the base chains jump to the shared
//                                     chain only for these)
//   staged-deny-in / staged-deny-out  staged interfaces some policy selects (default deny)
//   s-<policy chain>                  staged interfaces that policy chain applies to
//
// which is the same decision, rule for rule, as the endpoint's own chain. Later, off the
// CNI path and for every staged pod at once, `consolidate` writes their own chains and
// dispatch entries and takes them out of the sets (one validation for the batch).
//
// The sets and the shared chains are part of every full table (empty sets); Stager keeps
// which endpoints are staged and turns a ProgramChange into the change to write plus the
// staging set elements that go with it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "policy/program.h"
#include "policy/program_change.h"

namespace coral::policy {

inline constexpr const char* kStagedSetIn = "staged-in";
inline constexpr const char* kStagedSetOut = "staged-out";
inline constexpr const char* kStagedDenySetIn = "staged-deny-in";
inline constexpr const char* kStagedDenySetOut = "staged-deny-out";
inline constexpr const char* kStagedChainIn = "staged-ingress";
inline constexpr const char* kStagedChainOut = "staged-egress";

// The guard set of a policy chain: "s-" + its name.
std::string stagedPolicySet(const std::string& policy_chain);

// The program's policy chains of one direction in evaluation order (order, then policy id),
// the order every endpoint chain lists them in.
std::vector<const PolicyChain*> policyChainsInOrder(const Program& program, Direction d);

// The staging sets an endpoint's interface belongs to while it is staged, sorted.
std::vector<std::string> stagingSets(const EndpointProgram& ep);

// Interface names to add to and delete from staging sets (set → names, sorted, unique).
struct StagingChange {
  std::map<std::string, std::vector<std::string>> add;
  std::map<std::string, std::vector<std::string>> remove;
  bool empty() const { return add.empty() && remove.empty(); }
};

class Stager {
 public:
  struct Plan {
    ProgramChange change;   // what is left to write as chains, map entries and elements
    StagingChange staging;  // staging set elements, in the same transaction
  };

  // Splits `change` (leading to `after`): added endpoints whose policy chains all exist
  // before it are staged instead of getting chains; staged endpoints that change or go
  // leave their sets. A change that adds, changes or removes a set or policy chain
  // consolidates every staged endpoint in the same transaction. Takes effect with commit().
  Plan plan(const Program& after, ProgramChange change);
  // Every staged endpoint gets its own chains and dispatch entries and leaves the sets.
  Plan consolidate(const Program& after);
  // The last plan was written.
  void commit();
  // Nothing is staged (after a full write, or a failed one: the next write is full).
  void reset();

  size_t staged() const { return staged_.size(); }
  bool isStaged(const std::string& endpoint_id) const { return staged_.count(endpoint_id) > 0; }

 private:
  // Endpoints staged, as written into the sets.
  std::map<std::string, EndpointProgram> staged_;
  std::map<std::string, EndpointProgram> proposed_;
};

}  // namespace coral::policy
