// PolicyDataplane: keeps this node's policy in the kernel equal to a policy::Snapshot.
//
//   apply(snapshot)      compile the node's Program and every set's members and write the
//                        difference from what was last written, in one transaction: a pod
//                        appearing anywhere changes set elements only, a policy change
//                        rewrites only its chains. The first apply (and any after a failed
//                        one) writes the whole table.
//   ensureEndpoint(...)  CNI ADD: the new pod's chains (default deny when a policy selects
//                        it) exist before ADD returns; the endpoint stays programmed until a
//                        snapshot containing it arrives or forgetEndpoint() is called.
//   consolidate(age)     pods added on this node are first *staged* (policy/staging.h: set
//                        elements only, no ruleset re-validation on the CNI path); this
//                        gives every pod staged at least `age` ago its own chains, all in
//                        one transaction. resync() and counters() consolidate first.
//   resync()             compare the kernel with what was written and rewrite everything
//                        when they differ (someone deleted or edited our table). Rewrites
//                        are one transaction and conntrack entries survive them; every
//                        endpoint chain accepts established/related first, so established
//                        connections are never disrupted.
//   counters(...)        per-rule packet/byte counters (coralctl policy counters, /metrics).
//
// Backends: nftables (one `table inet coral`, nothing else touched) and the iptables
// fallback (CORAL-* chains plus the three jumps into them). Thread-safe: one mutex.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/policy/nft_applier.h"
#include "agent/policy/nft_table_state.h"
#include "agent/policy/nftnl_writer.h"
#include "policy/incremental.h"
#include "policy/program.h"
#include "policy/snapshot.h"

namespace coral::agent {

struct PolicyApplyStats {
  bool full = false;          // the whole table was written
  size_t commands_bytes = 0;  // size of the transaction text
  bool incremental = false;   // only endpoints changed: compiled incrementally
  bool netlink = false;       // written as one netlink batch (nftnl_writer.h), not nft text
  size_t staged = 0;          // endpoints staged by this write (policy/staging.h)
  size_t consolidated = 0;    // staged endpoints given their own chains by this write
  double compile_ms = 0;      // compile + members
  double write_ms = 0;        // the kernel transaction
};

class PolicyDataplane {
 public:
  explicit PolicyDataplane(std::string node) : node_(std::move(node)) {}
  virtual ~PolicyDataplane() = default;
  PolicyDataplane(const PolicyDataplane&) = delete;
  PolicyDataplane& operator=(const PolicyDataplane&) = delete;

  absl::Status apply(const policy::Snapshot& snapshot);
  absl::Status ensureEndpoint(const policy::Snapshot& snapshot, const policy::Endpoint& endpoint);
  void forgetEndpoint(std::string_view endpoint_id);
  // Staged endpoints staged at least `min_age` ago get their own chains (all staged ones
  // when any is that old). Nothing to do is OK.
  absl::Status consolidate(std::chrono::milliseconds min_age = std::chrono::milliseconds(0));
  // Endpoints written in staged form (0 for backends without staging).
  size_t staged() const;
  // True when the kernel differed and was rewritten.
  absl::StatusOr<bool> resync();
  // Every rule of ours; with an endpoint id ("ns/pod") only its chains and the policy chains
  // they jump to.
  absl::StatusOr<std::vector<RuleCounter>> counters(std::string_view endpoint_id = {});

  const std::string& node() const { return node_; }
  PolicyApplyStats lastApply() const;
  // The program last written (empty before the first apply).
  policy::Program lastProgram() const;

 protected:
  // Backend hooks, called with mu_ held.
  virtual absl::Status writeFull(const policy::Program& program, const policy::MemberMap& members,
                                 PolicyApplyStats& stats) = 0;
  // `change` turns what was last written into (after, after_members).
  virtual absl::Status writeDelta(const policy::Program& after,
                                  const policy::MemberMap& after_members,
                                  const policy::ProgramChange& change, PolicyApplyStats& stats) = 0;
  // Empty when the kernel holds what (program, members) renders to, else the first
  // difference.
  virtual absl::StatusOr<std::string> kernelDifference(const policy::Program& program,
                                                       const policy::MemberMap& members) = 0;
  virtual absl::StatusOr<std::vector<RuleCounter>> readCounters() = 0;
  // Staging (policy/staging.h); backends without it stage nothing.
  virtual size_t stagedLocked() const { return 0; }
  virtual absl::Status consolidateLocked(const policy::Program& /*program*/,
                                         PolicyApplyStats& /*stats*/) {
    return absl::OkStatus();
  }
  // The program last computed, for backend hooks (mu_ is held while they run).
  const policy::Program& programLocked() const { return compiler_.program(); }

 private:
  absl::Status applyLocked(const policy::Snapshot& snapshot);
  absl::Status consolidateAllLocked();

  const std::string node_;
  mutable std::mutex mu_;
  bool written_ = false;  // the kernel holds compiler_'s program and members
  policy::IncrementalCompiler compiler_{node_};
  std::vector<policy::Endpoint> pending_;  // ensured, not yet seen in a snapshot
  // When the oldest endpoint still staged was staged (valid while stagedLocked() > 0).
  std::chrono::steady_clock::time_point staged_since_{};
  PolicyApplyStats stats_;
};
using PolicyDataplanePtr = std::unique_ptr<PolicyDataplane>;

// nftables through `nft` (libnftables in production); with `netlink`, changes that touch
// only endpoints go through it instead (see nftnl_writer.h).
PolicyDataplanePtr makeNftPolicyDataplane(std::string node, NftApplierPtr nft,
                                          std::unique_ptr<NftnlWriter> netlink = nullptr);

}  // namespace coral::agent
