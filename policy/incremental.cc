// IncrementalCompiler (see incremental.h).
#include "policy/incremental.h"

#include <algorithm>
#include <set>

#include "policy/compiler.h"

namespace coral::policy {
namespace {

bool endpointSet(const SetDef& def) {
  return def.kind == SetKind::kEndpoints || def.kind == SetKind::kNamedPorts;
}

auto findProgram(std::vector<EndpointProgram>& endpoints, std::string_view id) {
  return std::lower_bound(
      endpoints.begin(), endpoints.end(), id,
      [](const EndpointProgram& e, std::string_view v) { return e.endpoint_id < v; });
}

void countChains(std::map<std::string, int>& refs, const EndpointProgram& ep, int delta) {
  for (const auto* chain : {&ep.ingress, &ep.egress}) {
    for (const auto& name : chain->policy_chains) refs[name] += delta;
  }
}

// (a ∪ b) for sorted unique members.
SetMembers unite(const SetMembers& a, const SetMembers& b) {
  SetMembers out;
  std::set_union(a.addresses.begin(), a.addresses.end(), b.addresses.begin(), b.addresses.end(),
                 std::back_inserter(out.addresses));
  std::set_union(a.named.begin(), a.named.end(), b.named.begin(), b.named.end(),
                 std::back_inserter(out.named));
  out.nets = a.nets;
  return out;
}

}  // namespace

bool IncrementalCompiler::inputsEqual(const Snapshot& s) const {
  return s.policies() == policies_ && s.namespaces() == namespaces_ &&
         s.nodeAddresses(node_) == node_addresses_;
}

void IncrementalCompiler::indexAddresses(const Endpoint& e, bool add) {
  const std::string id = e.id();
  for (const auto& a : e.addresses) {
    auto& ids = by_address_[a];
    if (add) {
      ids.push_back(id);
    } else {
      std::erase(ids, id);
      if (ids.empty()) by_address_.erase(a);
    }
  }
}

bool IncrementalCompiler::contributed(const SetDef& def, const SetMembers& element) const {
  const common::IpAddress& address =
      element.addresses.empty() ? element.named.front().address : element.addresses.front();
  auto it = by_address_.find(address);
  if (it == by_address_.end()) return false;
  for (const auto& id : it->second) {
    const Known& k = known_.find(id)->second;
    SetMembers m;
    addEndpointMembers(def, k.endpoint, k.labels, m);
    if (!element.addresses.empty() &&
        std::find(m.addresses.begin(), m.addresses.end(), address) != m.addresses.end()) {
      return true;
    }
    if (!element.named.empty() &&
        std::find(m.named.begin(), m.named.end(), element.named.front()) != m.named.end()) {
      return true;
    }
  }
  return false;
}

ProgramChange IncrementalCompiler::rebuild(const Snapshot& s, const std::vector<Endpoint>& extra) {
  Snapshot merged;
  const Snapshot* src = &s;
  if (!extra.empty()) {
    merged = s;
    for (const auto& e : extra) merged.addEndpoint(e);
    src = &merged;
  }
  Program program = compile(*src, node_);
  MemberMap members = computeMembers(program, *src);
  ProgramChange change;
  if (have_) change = diffPrograms(program_, members_, program, members);
  program_ = std::move(program);
  members_ = std::move(members);
  known_.clear();
  by_address_.clear();
  const auto& endpoints = src->endpoints();
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const Endpoint& e = endpoints[i];
    const bool is_extra = std::any_of(extra.begin(), extra.end(),
                                      [&](const Endpoint& x) { return x.id() == e.id(); });
    known_.emplace(e.id(), Known{e, src->labelsOf(e), is_extra ? 0 : src->endpointRevision(i)});
    indexAddresses(e, true);
  }
  order_.clear();
  order_.reserve(known_.size());
  for (const auto& [id, k] : known_) order_.push_back({k.revision, &id});
  chain_refs_.clear();
  for (const auto& ep : program_.endpoints) countChains(chain_refs_, ep, 1);
  set_refs_.clear();
  for (const auto& [name, chain] : program_.policy_chains) {
    for (const auto& set : setsReferenced(chain)) ++set_refs_[set];
  }
  policies_ = s.policies();
  namespaces_ = s.namespaces();
  node_addresses_ = s.nodeAddresses(node_);
  inputs_revision_ = s.inputsRevision();
  have_ = true;
  last_full_ = true;
  change.normalize();
  return change;
}

ProgramChange IncrementalCompiler::update(const Snapshot& s, const std::vector<Endpoint>& extra) {
  if (!have_) return rebuild(s, extra);
  if (s.inputsRevision() != inputs_revision_) {
    if (!inputsEqual(s)) return rebuild(s, extra);
    inputs_revision_ = s.inputsRevision();
  }
  last_full_ = false;

  // The new endpoint list: the snapshot's, with `extra` replacing or adding (revision 0).
  std::vector<const Endpoint*> sorted_extra;
  for (const auto& e : extra) sorted_extra.push_back(&e);
  std::stable_sort(
      sorted_extra.begin(), sorted_extra.end(),
      [](const Endpoint* a, const Endpoint* b) { return compareEndpointIds(*a, *b) < 0; });
  // The same id twice: the later one wins, as with Snapshot::addEndpoint.
  for (size_t i = 0; i + 1 < sorted_extra.size();) {
    if (compareEndpointIds(*sorted_extra[i], *sorted_extra[i + 1]) == 0) {
      sorted_extra.erase(sorted_extra.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  const auto& endpoints = s.endpoints();
  std::vector<std::pair<const Endpoint*, uint64_t>> now;
  now.reserve(endpoints.size() + sorted_extra.size());
  {
    // Each extra's place by binary search; the runs between are copied untouched.
    size_t i = 0;
    for (const Endpoint* x : sorted_extra) {
      const auto at = std::lower_bound(
          endpoints.begin() + static_cast<std::ptrdiff_t>(i), endpoints.end(), *x,
          [](const Endpoint& a, const Endpoint& b) { return compareEndpointIds(a, b) < 0; });
      const size_t stop = static_cast<size_t>(at - endpoints.begin());
      for (; i < stop; ++i) now.emplace_back(&endpoints[i], s.endpointRevision(i));
      now.emplace_back(x, 0);
      if (i < endpoints.size() && compareEndpointIds(endpoints[i], *x) == 0) ++i;
    }
    for (; i < endpoints.size(); ++i) now.emplace_back(&endpoints[i], s.endpointRevision(i));
  }

  // What changed: one merge walk of the new list against the known endpoints, by revision
  // first (equal non-zero revisions are the same endpoint), by id and content otherwise.
  std::vector<std::string> removed_ids;
  std::vector<std::pair<const Endpoint*, uint64_t>> arrived;  // added or changed
  std::vector<KnownRef> next_order;
  next_order.reserve(now.size());
  // next_order entries of arrivals: their known_ keys exist once they are inserted below.
  std::vector<std::pair<size_t, const Endpoint*>> unresolved;
  {
    size_t i = 0, k = 0;
    while (i < now.size() || k < order_.size()) {
      if (i < now.size() && k < order_.size() && now[i].second != 0 &&
          now[i].second == order_[k].revision) {
        next_order.push_back(order_[k]);
        ++i;
        ++k;
        continue;
      }
      const int cmp = i == now.size()      ? 1
                      : k == order_.size() ? -1
                                           : compareEndpointId(*now[i].first, *order_[k].id);
      if (cmp < 0) {
        unresolved.emplace_back(next_order.size(), now[i].first);
        next_order.push_back({now[i].second, nullptr});
        arrived.push_back(now[i++]);
      } else if (cmp > 0) {
        removed_ids.push_back(*order_[k++].id);
      } else {
        const auto [e, revision] = now[i];
        Known& known = known_.find(*order_[k].id)->second;
        if (known.endpoint == *e) {
          known.revision = revision;
          next_order.push_back({revision, order_[k].id});
        } else {
          unresolved.emplace_back(next_order.size(), e);
          next_order.push_back({revision, nullptr});
          arrived.push_back(now[i]);
        }
        ++i;
        ++k;
      }
    }
  }
  ProgramChange change;
  if (removed_ids.empty() && arrived.empty()) {
    order_ = std::move(next_order);
    return change;
  }

  MemberMap removed_acc, added_acc;  // unnormalized, existing sets only
  auto contribute = [&](MemberMap& acc, const Endpoint& e, const common::Labels& labels) {
    for (const auto& [name, def] : program_.sets) {
      if (!endpointSet(def)) continue;
      SetMembers m;
      addEndpointMembers(def, e, labels, m);
      if (m.empty()) continue;
      SetMembers& into = acc[name];
      into.addresses.insert(into.addresses.end(), m.addresses.begin(), m.addresses.end());
      into.named.insert(into.named.end(), m.named.begin(), m.named.end());
    }
  };
  std::map<std::string, EndpointProgram> old_programs;  // local endpoints that left or changed
  auto retire = [&](const std::string& id) {
    auto k = known_.find(id);
    contribute(removed_acc, k->second.endpoint, k->second.labels);
    indexAddresses(k->second.endpoint, false);
    if (isLocal(k->second.endpoint)) {
      auto p = findProgram(program_.endpoints, id);
      if (p != program_.endpoints.end() && p->endpoint_id == id) {
        countChains(chain_refs_, *p, -1);
        old_programs.emplace(id, std::move(*p));
        program_.endpoints.erase(p);
      }
    }
    return k;
  };
  for (const auto& id : removed_ids) known_.erase(retire(id));
  for (const auto& [e, revision] : arrived) {
    const std::string id = e->id();
    if (known_.count(id)) retire(id);
  }

  // Arrivals: programs of the local ones (with the policy chains and sets they need).
  std::set<std::string> new_sets;
  for (const auto& [e, revision] : arrived) {
    const std::string id = e->id();
    Known k{*e, s.labelsOf(*e), revision};
    contribute(added_acc, k.endpoint, k.labels);
    indexAddresses(*e, true);
    if (isLocal(*e)) {
      EndpointProgram ep = compileEndpoint(s, *e, k.labels, [&](const Policy& policy, Direction d) {
        const std::string name = policyChainName(policy, d);
        if (program_.policy_chains.count(name)) return;
        PolicyChain chain = compilePolicyChain(policy, d, program_.sets);
        for (const auto& set : setsReferenced(chain)) {
          if (set_refs_[set]++ == 0 && !members_.count(set)) new_sets.insert(set);
        }
        change.policy_chains_added.push_back(name);
        program_.policy_chains.emplace(name, std::move(chain));
      });
      countChains(chain_refs_, ep, 1);
      auto old = old_programs.find(id);
      if (old == old_programs.end()) {
        change.endpoints_added.push_back(id);
      } else {
        if (!(old->second == ep)) change.endpoints_changed.push_back(std::move(old->second));
        old_programs.erase(old);
      }
      program_.endpoints.insert(findProgram(program_.endpoints, id), std::move(ep));
    }
    known_.insert_or_assign(id, std::move(k));
  }
  for (auto& [id, ep] : old_programs) change.endpoints_removed.push_back(std::move(ep));
  for (const auto& [index, e] : unresolved) next_order[index].id = &known_.find(e->id())->first;
  order_ = std::move(next_order);

  // Policy chains no endpoint jumps to any more, and the sets only they used.
  std::vector<std::string> unused_chains;
  for (auto it = chain_refs_.begin(); it != chain_refs_.end();) {
    if (it->second > 0) {
      ++it;
      continue;
    }
    unused_chains.push_back(it->first);
    it = chain_refs_.erase(it);
  }
  for (const auto& name : unused_chains) {
    auto chain = program_.policy_chains.find(name);
    if (chain == program_.policy_chains.end()) continue;
    for (const auto& set : setsReferenced(chain->second)) {
      if (--set_refs_[set] > 0) continue;
      set_refs_.erase(set);
      if (new_sets.erase(set) == 0) change.sets_removed.push_back(set);
      program_.sets.erase(set);
      members_.erase(set);
    }
    program_.policy_chains.erase(chain);
    // A chain added and dropped in the same update was never written.
    auto added =
        std::find(change.policy_chains_added.begin(), change.policy_chains_added.end(), name);
    if (added != change.policy_chains_added.end()) {
      change.policy_chains_added.erase(added);
    } else {
      change.policy_chains_removed.push_back(name);
    }
  }
  // The node-address sets exist while any local endpoint does.
  const bool want_node_sets = !program_.endpoints.empty();
  for (common::Family f : {common::Family::kV4, common::Family::kV6}) {
    SetDef def = nodeAddressSet(f);
    const bool have = program_.sets.count(def.name) > 0;
    if (want_node_sets && !have) {
      new_sets.insert(def.name);
      program_.sets.emplace(def.name, std::move(def));
    } else if (!want_node_sets && have) {
      change.sets_removed.push_back(def.name);
      members_.erase(def.name);
      program_.sets.erase(def.name);
    }
  }

  // Members: whole for new sets, element moves for the others.
  for (const auto& name : new_sets) {
    const SetDef& def = program_.sets.at(name);
    SetMembers m = staticMembers(def, node_addresses_);
    if (endpointSet(def)) {
      for (const auto& [id, k] : known_) addEndpointMembers(def, k.endpoint, k.labels, m);
    }
    normalizeMembers(m);
    change.sets_added.push_back(name);
    if (!m.empty()) change.elements_added[name] = m;
    members_[name] = std::move(m);
  }
  for (auto& [name, removed] : removed_acc) {
    auto def = program_.sets.find(name);
    if (def == program_.sets.end() || new_sets.count(name)) continue;
    normalizeMembers(removed);
    SetMembers gone;
    for (const auto& a : removed.addresses) {
      SetMembers one;
      one.addresses = {a};
      if (!contributed(def->second, one)) gone.addresses.push_back(a);
    }
    for (const auto& n : removed.named) {
      SetMembers one;
      one.named = {n};
      if (!contributed(def->second, one)) gone.named.push_back(n);
    }
    if (gone.empty()) continue;
    SetMembers& m = members_[name];
    m = membersMinus(m, gone);
    change.elements_removed[name] = std::move(gone);
  }
  for (auto& [name, added] : added_acc) {
    if (!program_.sets.count(name) || new_sets.count(name)) continue;
    normalizeMembers(added);
    SetMembers& m = members_[name];
    SetMembers fresh = membersMinus(added, m);
    if (fresh.empty()) continue;
    m = unite(m, fresh);
    change.elements_added[name] = std::move(fresh);
  }
  change.normalize();
  return change;
}

}  // namespace coral::policy
