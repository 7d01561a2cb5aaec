// Packet evaluation over the abstract rule program (see evaluate.h).
#include "policy/evaluate.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace coral::policy {
namespace {

const common::IpAddress& addressOf(const Packet& p, Side side) {
  return side == Side::kSource ? p.source : p.destination;
}
uint16_t portOf(const Packet& p, Side side) {
  return side == Side::kSource ? p.source_port : p.destination_port;
}

bool inSet(const std::string& set, const common::IpAddress& address, const MemberMap& members) {
  auto it = members.find(set);
  if (it == members.end()) return false;
  const SetMembers& m = it->second;
  if (std::binary_search(m.addresses.begin(), m.addresses.end(), address)) return true;
  return std::any_of(m.nets.begin(), m.nets.end(),
                     [&](const common::Prefix& n) { return n.contains(address); });
}

bool icmpMatches(const IcmpSpec& spec, const Packet& p) {
  if (!p.icmp_type || *p.icmp_type != spec.type) return false;
  return !spec.code || (p.icmp_code && *p.icmp_code == *spec.code);
}

}  // namespace

bool matches(const Match& m, const Packet& p, const MemberMap& members) {
  if (m.family && p.source.family() != *m.family) return false;
  if (m.protocol && p.protocol != *m.protocol) return false;
  if (m.not_protocol && p.protocol == *m.not_protocol) return false;
  if (m.icmp && !icmpMatches(*m.icmp, p)) return false;
  if (m.not_icmp && icmpMatches(*m.not_icmp, p)) return false;
  for (const auto& c : m.addresses) {
    if (inSet(c.set, addressOf(p, c.side), members) == c.negate) return false;
  }
  const bool has_ports = protocolHasPorts(p.protocol);
  for (const auto& c : m.ports) {
    // As in nft's `th dport`: a packet without ports matches neither the set nor its negation.
    if (!has_ports) return false;
    const uint16_t port = portOf(p, c.side);
    const bool in = std::any_of(c.ranges.begin(), c.ranges.end(),
                                [&](const PortRange& r) { return r.contains(port); });
    if (in == c.negate) return false;
  }
  for (const auto& c : m.named_ports) {
    if (!has_ports) return false;
    auto it = members.find(c.set);
    bool in = false;
    if (it != members.end()) {
      const NamedPortMember key{addressOf(p, c.side), p.protocol, portOf(p, c.side)};
      in = std::binary_search(it->second.named.begin(), it->second.named.end(), key);
    }
    if (in == c.negate) return false;
  }
  return true;
}

ChainVerdict evaluateChain(const Program& program, const EndpointChain& chain, const Packet& packet,
                           const MemberMap& members) {
  ChainVerdict out;
  if (packet.protocol == kProtoIcmpV6 && packet.icmp_type &&
      *packet.icmp_type >= kNeighbourDiscoveryFirst &&
      *packet.icmp_type <= kNeighbourDiscoveryLast) {
    out.allowed = true;
    out.steps.push_back(
        fmt::format("ICMPv6 type {} is IPv6 neighbour discovery: always allowed, before any policy",
                    *packet.icmp_type));
    return out;
  }
  if (chain.allow_from_node) {
    const char* set = packet.source.isV4() ? kNodeSetV4 : kNodeSetV6;
    if (inSet(set, packet.source, members)) {
      out.allowed = true;
      out.steps.push_back(fmt::format(
          "source {} is an address of node {}: traffic from the pod's own node is allowed",
          packet.source.toString(), program.node));
      return out;
    }
  }
  if (!chain.isolated()) {
    out.allowed = true;
    out.steps.push_back(fmt::format("no policy selects it for {}: allowed by the namespace profile",
                                    directionName(chain.direction)));
    return out;
  }
  out.steps.push_back(fmt::format("policies selecting it for {}, in order: {}",
                                  directionName(chain.direction),
                                  fmt::join(chain.policy_ids, ", ")));
  for (size_t i = 0; i < chain.policy_chains.size(); ++i) {
    auto it = program.policy_chains.find(chain.policy_chains[i]);
    if (it == program.policy_chains.end()) continue;
    const PolicyChain& pc = it->second;
    bool decided = false;
    for (const auto& rule : pc.rules) {
      if (!matches(rule.match, packet, members)) continue;
      // The comment starts with the policy id, already printed at the start of the step.
      std::string_view which = rule.comment;
      if (which.starts_with(pc.policy_id + " ")) which.remove_prefix(pc.policy_id.size() + 1);
      switch (rule.action) {
        case Action::kLog:
          out.steps.push_back(fmt::format("{}: rule {} matched: log \"{}\", continue", pc.policy_id,
                                          which, rule.log_prefix));
          continue;
        case Action::kAllow:
          out.allowed = true;
          out.steps.push_back(fmt::format("{}: rule {} matched: allow", pc.policy_id, which));
          break;
        case Action::kDeny:
          out.allowed = false;
          out.steps.push_back(fmt::format("{}: rule {} matched: deny", pc.policy_id, which));
          break;
        case Action::kPass:
          out.allowed = true;
          out.steps.push_back(fmt::format(
              "{}: rule {} matched: pass, later policies skipped; the namespace profile allows",
              pc.policy_id, which));
          break;
      }
      decided = true;
      break;
    }
    if (decided) return out;
    out.steps.push_back(fmt::format("{}: no rule matched", pc.policy_id));
  }
  out.allowed = false;
  out.steps.push_back(fmt::format("default deny because policy {} selects it for {}",
                                  chain.policy_ids.front(), directionName(chain.direction)));
  return out;
}

}  // namespace coral::policy
