// IncrementalCompiler: compile() and computeMembers() for one node, kept up to date across
// snapshots with work proportional to what changed.
//
// When a snapshot's policies, namespaces and this node's addresses are the same as last
// time (same inputsRevision(), or equal content), only endpoints changed: the compiler
// finds them with one walk over the snapshot's endpoint revisions (same revision =
// unchanged, without touching the endpoint; otherwise compared by id and content), recompiles the
// programs of the local ones among them, moves their addresses in and out of the sets whose
// selectors they match, compiles a policy chain (and its sets) the first time a local endpoint
// needs it, and drops chains and sets no endpoint needs any more. Anything else recompiles
// everything and diffs the two programs. Either way program() and members() equal what compile()
// and computeMembers() give for the snapshot, and update() says what changed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "policy/program.h"
#include "policy/program_change.h"
#include "policy/snapshot.h"

namespace coral::policy {

class IncrementalCompiler {
 public:
  explicit IncrementalCompiler(std::string node) : node_(std::move(node)) {}

  // Brings program() and members() to `snapshot` plus `extra` (endpoints that replace or
  // add to the snapshot's: a pod being added before its record arrives). The first update
  // returns an empty change with full() set: write everything.
  ProgramChange update(const Snapshot& snapshot, const std::vector<Endpoint>& extra = {});
  // True when the last update recompiled everything.
  bool lastWasFull() const { return last_full_; }
  bool empty() const { return !have_; }

  const Program& program() const { return program_; }
  const MemberMap& members() const { return members_; }

 private:
  struct Known {
    Endpoint endpoint;
    common::Labels labels;  // effective labels (namespace labels folded in)
    uint64_t revision = 0;  // 0: an extra endpoint, always compared by content
  };

  ProgramChange rebuild(const Snapshot& snapshot, const std::vector<Endpoint>& extra);
  bool inputsEqual(const Snapshot& snapshot) const;
  bool isLocal(const Endpoint& e) const { return node_.empty() || e.node == node_; }
  // Whether some known endpoint contributes `element` (one address or named member) to `def`.
  bool contributed(const SetDef& def, const SetMembers& element) const;
  void indexAddresses(const Endpoint& e, bool add);

  const std::string node_;
  bool have_ = false;
  bool last_full_ = false;
  uint64_t inputs_revision_ = 0;
  std::vector<Policy> policies_;
  std::map<std::string, NamespaceInfo, std::less<>> namespaces_;
  std::vector<common::IpAddress> node_addresses_;
  std::map<std::string, Known, std::less<>> known_;  // by endpoint id
  // known_ in id order as a flat array, so that the walk in update() reads contiguous
  // revisions and touches an endpoint only where the revisions differ (cold caches: a
  // map walk over 10k endpoints costs ~1 ms of misses).
  struct KnownRef {
    uint64_t revision = 0;
    const std::string* id = nullptr;  // known_'s key
  };
  std::vector<KnownRef> order_;
  std::map<common::IpAddress, std::vector<std::string>> by_address_;  // → endpoint ids
  std::map<std::string, int> chain_refs_;  // policy chain → endpoint chains jumping to it
  std::map<std::string, int> set_refs_;    // set → policy chains using it
  Program program_;
  MemberMap members_;
};

}  // namespace coral::policy
