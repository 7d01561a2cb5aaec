// Staging of endpoints added on this node (see staging.h).
#include "policy/staging.h"

#include <algorithm>
#include <set>

namespace coral::policy {
namespace {

constexpr size_t kMaxInterfaceName = 15;  // IFNAMSIZ - 1

using SetNames = std::map<std::string, std::set<std::string>>;

void addTo(SetNames& sets, const EndpointProgram& ep) {
  for (const auto& s : stagingSets(ep)) sets[s].insert(ep.interface_name);
}

bool structural(const ProgramChange& c) {
  return !c.sets_added.empty() || !c.sets_removed.empty() || !c.policy_chains_added.empty() ||
         !c.policy_chains_changed.empty() || !c.policy_chains_removed.empty() || c.order_changed;
}

// The endpoint's chains need only policy chains that exist (a change that adds policy chains
// is structural and stages nothing).
bool stageable(const Program& after, const EndpointProgram* ep) {
  if (ep == nullptr || ep->interface_name.empty() ||
      ep->interface_name.size() > kMaxInterfaceName) {
    return false;
  }
  for (const auto* chain : {&ep->ingress, &ep->egress}) {
    for (const auto& name : chain->policy_chains) {
      if (!after.policy_chains.count(name)) return false;
    }
  }
  return true;
}

// Net element changes: an interface both removed from and added to a set stays.
StagingChange net(const SetNames& add, const SetNames& remove) {
  StagingChange out;
  auto diff = [](const SetNames& a, const SetNames& b, auto& into) {
    for (const auto& [set, names] : a) {
      auto other = b.find(set);
      std::vector<std::string> v;
      for (const auto& n : names) {
        if (other == b.end() || !other->second.count(n)) v.push_back(n);
      }
      if (!v.empty()) into[set] = std::move(v);
    }
  };
  diff(add, remove, out.add);
  diff(remove, add, out.remove);
  return out;
}

}  // namespace

std::string stagedPolicySet(const std::string& policy_chain) { return "s-" + policy_chain; }

std::vector<const PolicyChain*> policyChainsInOrder(const Program& program, Direction d) {
  std::vector<const PolicyChain*> out;
  for (const auto& [name, chain] : program.policy_chains) {
    if (chain.direction == d) out.push_back(&chain);
  }
  std::sort(out.begin(), out.end(), [](const PolicyChain* a, const PolicyChain* b) {
    if (a->order != b->order) return a->order < b->order;
    return a->policy_id < b->policy_id;
  });
  return out;
}

std::vector<std::string> stagingSets(const EndpointProgram& ep) {
  std::set<std::string> out = {kStagedSetIn, kStagedSetOut};
  if (ep.ingress.isolated()) out.insert(kStagedDenySetIn);
  if (ep.egress.isolated()) out.insert(kStagedDenySetOut);
  for (const auto* chain : {&ep.ingress, &ep.egress}) {
    for (const auto& name : chain->policy_chains) out.insert(stagedPolicySet(name));
  }
  return {out.begin(), out.end()};
}

Stager::Plan Stager::plan(const Program& after, ProgramChange change) {
  proposed_ = staged_;
  SetNames add, remove;
  auto takeOut = [](std::vector<EndpointProgram>& list, const std::string& id) {
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const EndpointProgram& e) { return e.endpoint_id == id; });
    if (it == list.end()) return false;
    list.erase(it);
    return true;
  };
  if (structural(change)) {
    // The transaction re-validates the ruleset anyway: give every staged endpoint its chains.
    for (const auto& [id, old] : staged_) {
      addTo(remove, old);
      if (takeOut(change.endpoints_removed, id)) continue;
      takeOut(change.endpoints_changed, id);
      if (after.findEndpoint(id) != nullptr) change.endpoints_added.push_back(id);
    }
    proposed_.clear();
    return {std::move(change), net(add, remove)};
  }
  std::vector<std::string> candidates = std::move(change.endpoints_added);
  change.endpoints_added.clear();
  for (const auto& [id, old] : staged_) {
    if (takeOut(change.endpoints_removed, id)) {
      addTo(remove, old);
      proposed_.erase(id);
    } else if (takeOut(change.endpoints_changed, id)) {
      addTo(remove, old);
      proposed_.erase(id);
      candidates.push_back(id);
    }
  }
  for (const auto& id : candidates) {
    const EndpointProgram* ep = after.findEndpoint(id);
    if (!stageable(after, ep)) {
      change.endpoints_added.push_back(id);
      continue;
    }
    addTo(add, *ep);
    proposed_[id] = *ep;
  }
  return {std::move(change), net(add, remove)};
}

Stager::Plan Stager::consolidate(const Program& after) {
  Plan plan;
  SetNames remove;
  for (const auto& [id, old] : staged_) {
    addTo(remove, old);
    if (after.findEndpoint(id) != nullptr) plan.change.endpoints_added.push_back(id);
  }
  plan.staging = net({}, remove);
  proposed_.clear();
  return plan;
}

void Stager::commit() { staged_ = proposed_; }

void Stager::reset() {
  staged_.clear();
  proposed_.clear();
}

}  // namespace coral::policy
