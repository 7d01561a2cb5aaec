// diffPrograms and ProgramChange helpers (see program_change.h).
#include "policy/program_change.h"

#include <algorithm>
#include <iterator>

namespace coral::policy {
namespace {

template <typename T>
std::vector<T> minus(const std::vector<T>& a, const std::vector<T>& b) {
  std::vector<T> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

const SetMembers& membersOf(const MemberMap& members, const std::string& name) {
  static const SetMembers kNone;
  auto it = members.find(name);
  return it == members.end() ? kNone : it->second;
}

}  // namespace

SetMembers membersMinus(const SetMembers& a, const SetMembers& b) {
  SetMembers out;
  out.addresses = minus(a.addresses, b.addresses);
  out.named = minus(a.named, b.named);
  std::vector<common::Prefix> sa = a.nets, sb = b.nets;
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  out.nets = minus(sa, sb);
  return out;
}

bool ProgramChange::empty() const {
  return sets_added.empty() && sets_removed.empty() && elements_added.empty() &&
         elements_removed.empty() && policy_chains_added.empty() && policy_chains_changed.empty() &&
         policy_chains_removed.empty() && !order_changed && endpoints_added.empty() &&
         endpoints_changed.empty() && endpoints_removed.empty();
}

void ProgramChange::normalize() {
  for (auto* v : {&sets_added, &sets_removed, &policy_chains_added, &policy_chains_changed,
                  &policy_chains_removed, &endpoints_added}) {
    std::sort(v->begin(), v->end());
  }
  auto by_id = [](const EndpointProgram& a, const EndpointProgram& b) {
    return a.endpoint_id < b.endpoint_id;
  };
  std::sort(endpoints_changed.begin(), endpoints_changed.end(), by_id);
  std::sort(endpoints_removed.begin(), endpoints_removed.end(), by_id);
  std::erase_if(elements_added, [](const auto& kv) { return kv.second.empty(); });
  std::erase_if(elements_removed, [](const auto& kv) { return kv.second.empty(); });
}

ProgramChange diffPrograms(const Program& before, const MemberMap& before_members,
                           const Program& after, const MemberMap& after_members) {
  ProgramChange c;
  for (const auto& [name, def] : after.sets) {
    const SetMembers& now = membersOf(after_members, name);
    if (!before.sets.count(name)) {
      c.sets_added.push_back(name);
      if (!now.empty()) c.elements_added[name] = now;
      continue;
    }
    const SetMembers& was = membersOf(before_members, name);
    if (was == now) continue;
    SetMembers added = membersMinus(now, was), removed = membersMinus(was, now);
    if (!added.empty()) c.elements_added[name] = std::move(added);
    if (!removed.empty()) c.elements_removed[name] = std::move(removed);
  }
  for (const auto& [name, def] : before.sets) {
    if (!after.sets.count(name)) c.sets_removed.push_back(name);
  }
  for (const auto& [name, chain] : after.policy_chains) {
    auto old = before.policy_chains.find(name);
    if (old == before.policy_chains.end()) {
      c.policy_chains_added.push_back(name);
    } else if (!(old->second == chain)) {
      c.policy_chains_changed.push_back(name);
      if (old->second.order != chain.order) c.order_changed = true;
    }
  }
  for (const auto& [name, chain] : before.policy_chains) {
    if (!after.policy_chains.count(name)) c.policy_chains_removed.push_back(name);
  }
  // Both endpoint lists are sorted by id: one merge walk.
  auto b = before.endpoints.begin(), a = after.endpoints.begin();
  while (b != before.endpoints.end() || a != after.endpoints.end()) {
    if (a == after.endpoints.end() ||
        (b != before.endpoints.end() && b->endpoint_id < a->endpoint_id)) {
      c.endpoints_removed.push_back(*b++);
    } else if (b == before.endpoints.end() || a->endpoint_id < b->endpoint_id) {
      c.endpoints_added.push_back((a++)->endpoint_id);
    } else {
      if (!(*a == *b)) c.endpoints_changed.push_back(*b);
      ++a;
      ++b;
    }
  }
  return c;
}

}  // namespace coral::policy
