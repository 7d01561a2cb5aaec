// PolicyDataplane's backend-independent logic and the nftables backend (see
// policy_dataplane.h).
#include "agent/policy/policy_dataplane.h"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "common/log.h"
#include "common/strings.h"
#include "policy/compiler.h"
#include "policy/nftables.h"

namespace coral::agent {
namespace {

double msSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

class NftPolicyDataplane : public PolicyDataplane {
 public:
  NftPolicyDataplane(std::string node, NftApplierPtr nft, std::unique_ptr<NftnlWriter> netlink)
      : PolicyDataplane(std::move(node)), nft_(std::move(nft)), netlink_(std::move(netlink)) {}

 protected:
  absl::Status writeFull(const policy::Program& program, const policy::MemberMap& members,
                         PolicyApplyStats& stats) override {
    // "table; delete table; table { ... }": one transaction replaces the whole table, in
    // which every endpoint has its own chains.
    const std::string text = policy::renderNftables(program, members);
    stats.full = true;
    stats.consolidated = stager_.staged();
    stager_.reset();
    return run(text, stats);
  }

  absl::Status writeDelta(const policy::Program& after, const policy::MemberMap& /*after_members*/,
                          const policy::ProgramChange& change, PolicyApplyStats& stats) override {
    const policy::Stager::Plan plan = stager_.plan(after, change);
    absl::Status status = writeStagerPlan(after, plan, stats);
    if (status.ok()) {
      auto in = plan.staging.add.find(policy::kStagedSetIn);
      stats.staged = in == plan.staging.add.end() ? 0 : in->second.size();
    }
    return status;
  }

  size_t stagedLocked() const override { return stager_.staged(); }

  absl::Status consolidateLocked(const policy::Program& program, PolicyApplyStats& stats) override {
    const size_t staged = stager_.staged();
    if (staged == 0) return absl::OkStatus();
    absl::Status status = writeStagerPlan(program, stager_.consolidate(program), stats);
    if (status.ok()) stats.consolidated = staged;
    return status;
  }

  absl::StatusOr<std::string> kernelDifference(const policy::Program& program,
                                               const policy::MemberMap& members) override {
    auto listing = nft_->listTableJson(/*stateless=*/true);
    if (absl::IsNotFound(listing.status())) {
      return fmt::format("table inet {} is missing", policy::kNftTable);
    }
    if (!listing.ok()) return listing.status();
    auto got = shapeFromJson(*listing);
    if (!got.ok()) return got.status();
    const NftTableShape want = shapeFromRendered(policy::renderNftables(program, members));
    return describeDifference(want, *got);
  }

  absl::StatusOr<std::vector<RuleCounter>> readCounters() override {
    auto listing = nft_->listTableJson(/*stateless=*/false);
    if (!listing.ok()) return listing.status();
    return countersFromJson(*listing);
  }

 private:
  // Writes a plan of stager_ and makes it the stager's state; after a failure the kernel's
  // state is unknown and the next write is a full one, in which nothing is staged.
  absl::Status writeStagerPlan(const policy::Program& after, const policy::Stager::Plan& plan,
                               PolicyApplyStats& stats) {
    absl::Status status = writePlan(after, plan, stats);
    if (status.ok()) {
      stager_.commit();
    } else {
      stager_.reset();
    }
    return status;
  }

  absl::Status writePlan(const policy::Program& after, const policy::Stager::Plan& plan,
                         PolicyApplyStats& stats) {
    if (netlink_ && NftnlWriter::handles(after, plan.change)) {
      // Endpoints only: one netlink batch, without libnftables' cache (nftnl_writer.h).
      const auto start = std::chrono::steady_clock::now();
      stats.netlink = true;
      absl::Status status = netlink_->write(after, plan.change, plan.staging);
      stats.write_ms = msSince(start);
      return status;
    }
    const std::string text = policy::renderNftablesChange(after, plan.change, plan.staging);
    if (text.empty()) return absl::OkStatus();
    return run(text, stats);
  }

  absl::Status run(const std::string& text, PolicyApplyStats& stats) {
    const auto start = std::chrono::steady_clock::now();
    stats.commands_bytes = text.size();
    absl::Status status = nft_->run(text);
    stats.write_ms = msSince(start);
    return status;
  }

  NftApplierPtr nft_;
  std::unique_ptr<NftnlWriter> netlink_;
  policy::Stager stager_;
};

}  // namespace

absl::Status PolicyDataplane::apply(const policy::Snapshot& snapshot) {
  std::lock_guard lock(mu_);
  return applyLocked(snapshot);
}

absl::Status PolicyDataplane::ensureEndpoint(const policy::Snapshot& snapshot,
                                             const policy::Endpoint& endpoint) {
  std::lock_guard lock(mu_);
  std::erase_if(pending_, [&](const policy::Endpoint& e) { return e.id() == endpoint.id(); });
  pending_.push_back(endpoint);
  return applyLocked(snapshot);
}

void PolicyDataplane::forgetEndpoint(std::string_view endpoint_id) {
  std::lock_guard lock(mu_);
  std::erase_if(pending_, [&](const policy::Endpoint& e) { return e.id() == endpoint_id; });
}

absl::Status PolicyDataplane::applyLocked(const policy::Snapshot& snapshot) {
  const auto start = std::chrono::steady_clock::now();
  // An ensured endpoint is done once the snapshot has it on the same interface (its
  // WorkloadEndpoint arrived); until then it overrides whatever the snapshot says.
  std::erase_if(pending_, [&](const policy::Endpoint& e) {
    const policy::Endpoint* seen = snapshot.findEndpoint(e.id());
    return seen != nullptr && seen->interface_name == e.interface_name;
  });
  const policy::ProgramChange change = compiler_.update(snapshot, pending_);
  PolicyApplyStats stats;
  stats.incremental = !compiler_.lastWasFull();
  stats.compile_ms = msSince(start);
  if (written_ && change.empty()) {
    stats_ = stats;
    return absl::OkStatus();
  }
  const policy::Program& program = compiler_.program();
  const policy::MemberMap& members = compiler_.members();
  const size_t staged_before = stagedLocked();
  absl::Status status =
      written_ ? writeDelta(program, members, change, stats) : writeFull(program, members, stats);
  if (staged_before == 0 && stagedLocked() > 0) staged_since_ = std::chrono::steady_clock::now();
  stats_ = stats;
  // After a failure the kernel's state is unknown: the next write replaces everything.
  written_ = status.ok();
  return status;
}

absl::Status PolicyDataplane::consolidateAllLocked() {
  if (!written_ || stagedLocked() == 0) return absl::OkStatus();
  PolicyApplyStats stats;
  const auto start = std::chrono::steady_clock::now();
  absl::Status status = consolidateLocked(compiler_.program(), stats);
  stats.write_ms = msSince(start);
  stats_ = stats;
  written_ = status.ok();
  return status;
}

absl::Status PolicyDataplane::consolidate(std::chrono::milliseconds min_age) {
  std::lock_guard lock(mu_);
  if (stagedLocked() == 0) return absl::OkStatus();
  if (std::chrono::steady_clock::now() - staged_since_ < min_age) return absl::OkStatus();
  return consolidateAllLocked();
}

size_t PolicyDataplane::staged() const {
  std::lock_guard lock(mu_);
  return stagedLocked();
}

absl::StatusOr<bool> PolicyDataplane::resync() {
  std::lock_guard lock(mu_);
  // Listing the table (tens of MB of JSON at 10k pods) leaves glibc's fast bins full of
  // small free chunks; the next large free anywhere consolidates them all (~50 ms at 10k
  // pods x 1k policies) - often a CNI ADD's. Consolidate here, off that path.
  struct TrimOnExit {
    ~TrimOnExit() { ::malloc_trim(0); }
  } trim;
  if (compiler_.empty()) return false;
  const policy::Program& program = compiler_.program();
  const policy::MemberMap& members = compiler_.members();
  if (written_) {
    // Staged endpoints are in sets the full table has empty: give them their chains first.
    if (auto s = consolidateAllLocked(); !s.ok()) {
      log::warn("policy resync: consolidating staged endpoints failed, rewriting the table",
                {{"error", errorMessage(s)}, {"node", node_}});
    }
  }
  if (written_) {
    auto difference = kernelDifference(program, members);
    if (!difference.ok()) return difference.status();
    if (difference->empty()) return false;
    log::warn("policy resync: the kernel differs, rewriting the whole table",
              {{"difference", *difference}, {"node", node_}});
  }
  PolicyApplyStats stats;
  absl::Status status = writeFull(program, members, stats);
  stats_ = stats;
  written_ = status.ok();
  if (!status.ok()) return status;
  return true;
}

absl::StatusOr<std::vector<RuleCounter>> PolicyDataplane::counters(std::string_view endpoint_id) {
  std::lock_guard lock(mu_);
  // Per-endpoint counters live in the endpoint's own chains.
  if (auto s = consolidateAllLocked(); !s.ok()) return s;
  auto all = readCounters();
  if (!all.ok() || endpoint_id.empty()) return all;
  const policy::EndpointProgram* ep = compiler_.program().findEndpoint(endpoint_id);
  if (ep == nullptr) {
    return absl::NotFoundError(
        fmt::format("endpoint \"{}\" is not programmed on node {}", endpoint_id, node_));
  }
  std::set<std::string> chains = {ep->ingress.name, ep->egress.name};
  chains.insert(ep->ingress.policy_chains.begin(), ep->ingress.policy_chains.end());
  chains.insert(ep->egress.policy_chains.begin(), ep->egress.policy_chains.end());
  std::vector<RuleCounter> out;
  for (auto& c : *all) {
    if (chains.count(c.chain)) out.push_back(std::move(c));
  }
  return out;
}

PolicyApplyStats PolicyDataplane::lastApply() const {
  std::lock_guard lock(mu_);
  return stats_;
}

policy::Program PolicyDataplane::lastProgram() const {
  std::lock_guard lock(mu_);
  return compiler_.program();
}

PolicyDataplanePtr makeNftPolicyDataplane(std::string node, NftApplierPtr nft,
                                          std::unique_ptr<NftnlWriter> netlink) {
  return std::make_unique<NftPolicyDataplane>(std::move(node), std::move(nft), std::move(netlink));
}

}  // namespace coral::agent
