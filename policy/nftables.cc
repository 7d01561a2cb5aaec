// nftables renderer (see nftables.h for the table layout).
#include "policy/nftables.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/strings.h"

namespace coral::policy {
namespace {

using common::Family;

std::string comment(std::string_view text) {
  return fmt::format("comment \"{}\"", commentText(text));
}

std::string ipKeyword(Family f) { return f == Family::kV4 ? "ip" : "ip6"; }
std::string addrField(Side side) { return side == Side::kSource ? "saddr" : "daddr"; }
std::string portField(Side side) { return side == Side::kSource ? "sport" : "dport"; }

Family setFamily(const Program& program, const std::string& set) {
  auto it = program.sets.find(set);
  return it == program.sets.end() ? Family::kV4 : it->second.family;
}

std::string portSet(const std::vector<PortRange>& ranges) {
  if (ranges.size() == 1) return ranges[0].toString();
  std::vector<std::string> parts;
  for (const auto& r : ranges) parts.push_back(r.toString());
  return "{ " + join(parts, ", ") + " }";
}

std::string icmpMatch(Family f, const IcmpSpec& icmp, bool negate) {
  const std::string kw = f == Family::kV4 ? "icmp" : "icmpv6";
  if (!icmp.code) return fmt::format("{} type {}{}", kw, negate ? "!= " : "", icmp.type);
  if (!negate) return fmt::format("{0} type {1} {0} code {2}", kw, icmp.type, *icmp.code);
  return fmt::format("{0} type . {0} code != {{ {1} . {2} }}", kw, icmp.type, *icmp.code);
}

// The match part of a rule, without counter, verdict or comment.
std::string renderMatch(const Program& program, const Match& m) {
  std::vector<std::string> parts;
  const bool has_addresses = !m.addresses.empty() || !m.named_ports.empty();
  if (m.family && !has_addresses && !m.icmp && !m.not_icmp) {
    parts.push_back(fmt::format("meta nfproto {}", *m.family == Family::kV4 ? "ipv4" : "ipv6"));
  }
  if (m.protocol) parts.push_back("meta l4proto " + protocolName(*m.protocol));
  if (!m.protocol && (!m.ports.empty() || !m.named_ports.empty())) {
    parts.push_back("meta l4proto { tcp, udp, sctp, udplite }");  // th ports need one of these
  }
  if (m.not_protocol) parts.push_back("meta l4proto != " + protocolName(*m.not_protocol));
  const Family icmp_family =
      m.family ? *m.family : (m.protocol == kProtoIcmpV6 ? Family::kV6 : Family::kV4);
  if (m.icmp) parts.push_back(icmpMatch(icmp_family, *m.icmp, false));
  if (m.not_icmp) parts.push_back(icmpMatch(icmp_family, *m.not_icmp, true));
  for (const auto& c : m.addresses) {
    parts.push_back(fmt::format("{} {} {}@{}", ipKeyword(setFamily(program, c.set)),
                                addrField(c.side), c.negate ? "!= " : "", c.set));
  }
  for (const auto& c : m.ports) {
    parts.push_back(
        fmt::format("th {} {}{}", portField(c.side), c.negate ? "!= " : "", portSet(c.ranges)));
  }
  for (const auto& c : m.named_ports) {
    parts.push_back(fmt::format("{} {} . meta l4proto . th {} {}@{}",
                                ipKeyword(setFamily(program, c.set)), addrField(c.side),
                                portField(c.side), c.negate ? "!= " : "", c.set));
  }
  return join(parts, " ");
}

std::string renderVerdict(const ProgramRule& rule) {
  switch (rule.action) {
    case Action::kAllow:
      return fmt::format("counter meta mark set meta mark | 0x{:08x} return", kAcceptMark);
    case Action::kPass:
      return fmt::format("counter meta mark set meta mark | 0x{:08x} return", kPassMark);
    case Action::kDeny:
      return "counter drop";
    case Action::kLog: {
      std::string prefix = rule.log_prefix;
      std::replace(prefix.begin(), prefix.end(), '"', '\'');
      return fmt::format("counter log prefix \"{}\"", prefix);
    }
  }
  return "counter";
}

std::vector<std::string> policyChainRules(const Program& program, const PolicyChain& chain) {
  std::vector<std::string> out;
  for (const auto& rule : chain.rules) {
    const std::string match = renderMatch(program, rule.match);
    out.push_back(fmt::format("{}{}{} {}", match, match.empty() ? "" : " ", renderVerdict(rule),
                              comment(rule.comment)));
  }
  return out;
}

std::vector<std::string> endpointChainRules(const EndpointProgram& ep, const EndpointChain& chain) {
  std::vector<std::string> out;
  for (const auto& r : endpointRules(ep, chain)) out.push_back(renderEndpointRule(r));
  return out;
}

std::string setType(const SetDef& def) {
  const std::string addr = def.family == Family::kV4 ? "ipv4_addr" : "ipv6_addr";
  if (def.kind == SetKind::kNamedPorts) return addr + " . inet_proto . inet_service";
  return addr;
}

std::vector<std::string> setElements(const SetDef&, const SetMembers& m) {
  std::vector<std::string> out;
  for (const auto& a : m.addresses) out.push_back(a.toString());
  for (const auto& n : m.nets) {
    // Interval sets reject overlaps: keep only prefixes no other member contains.
    bool covered = std::any_of(m.nets.begin(), m.nets.end(),
                               [&](const common::Prefix& o) { return o != n && o.contains(n); });
    if (!covered) out.push_back(n.toString());
  }
  for (const auto& n : m.named) {
    out.push_back(
        fmt::format("{} . {} . {}", n.address.toString(), protocolName(n.protocol), n.port));
  }
  return out;
}

std::vector<std::string> setElements(const SetDef& def, const MemberMap& members) {
  auto it = members.find(def.name);
  if (it == members.end()) return {};
  return setElements(def, it->second);
}

std::string setBody(const SetDef& def) {
  std::string body = fmt::format("type {}; ", setType(def));
  if (def.kind == SetKind::kNets) body += "flags interval; auto-merge; ";
  body += comment(def.describe()) + ";";
  return body;
}

struct MapEntry {
  std::string interface;
  std::string chain;
  bool operator==(const MapEntry&) const = default;
  auto operator<=>(const MapEntry&) const = default;
};

std::vector<MapEntry> mapEntries(const Program& program, Direction d,
                                 const std::set<std::string>& staged) {
  std::vector<MapEntry> out;
  for (const auto& ep : program.endpoints) {
    if (staged.count(ep.endpoint_id)) continue;
    if (!ep.interface_name.empty()) out.push_back({ep.interface_name, ep.chain(d).name});
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string mapElement(const MapEntry& e) {
  return fmt::format("\"{}\" : jump {}", e.interface, e.chain);
}

// Every chain of the program (name → rules) except the base chains.
std::map<std::string, std::vector<std::string>> allChains(const Program& program,
                                                          const std::set<std::string>& staged) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [name, chain] : program.policy_chains) {
    out[name] = policyChainRules(program, chain);
  }
  for (const auto& ep : program.endpoints) {
    if (staged.count(ep.endpoint_id)) continue;
    out[ep.ingress.name] = endpointChainRules(ep, ep.ingress);
    out[ep.egress.name] = endpointChainRules(ep, ep.egress);
  }
  return out;
}

void appendElements(std::string& out, const std::vector<std::string>& elements,
                    const std::string& indent) {
  if (elements.empty()) return;
  out += indent + "elements = {\n";
  for (size_t i = 0; i < elements.size(); ++i) {
    out += indent + "  " + elements[i] + (i + 1 < elements.size() ? ",\n" : "\n");
  }
  out += indent + "}\n";
}

std::string stagedSetBody(std::string_view what) {
  return fmt::format("type ifname; {};", comment(what));
}

std::string stagedPolicySetComment(const PolicyChain& chain) {
  return fmt::format("staged interfaces {} applies to ({})", chain.policy_id,
                     directionName(chain.direction));
}

// The staging sets of the table, name → comment (staging.h).
std::map<std::string, std::string> stagingSetComments(const Program& program) {
  std::map<std::string, std::string> out = {
      {kStagedSetIn, "staged interfaces (ingress)"},
      {kStagedSetOut, "staged interfaces (egress)"},
      {kStagedDenySetIn, "staged interfaces a policy selects (ingress)"},
      {kStagedDenySetOut, "staged interfaces a policy selects (egress)"},
  };
  for (const auto& [name, chain] : program.policy_chains) {
    out[stagedPolicySet(name)] = stagedPolicySetComment(chain);
  }
  return out;
}

std::string quotedList(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const auto& n : names) quoted.push_back("\"" + n + "\"");
  return join(quoted, ", ");
}

}  // namespace

namespace {

// The rules every endpoint chain and staged chain starts with: conntrack, neighbour
// discovery, clearing the verdict marks, then (with `from_node`) the node-address allow.
std::vector<EndpointRule> chainPrologue(const std::string& who, bool from_node) {
  using K = EndpointRule::Kind;
  std::vector<EndpointRule> out = {
      {K::kAcceptEstablished, "", commentText(who + ": established")},
      {K::kDropInvalid, "", commentText(who + ": invalid")},
      {K::kAcceptNeighbourDiscovery, "", commentText(who + ": IPv6 neighbour discovery")},
      {K::kClearMarks, "", commentText(who + ": clear verdict marks")},
  };
  if (from_node) {
    out.push_back(
        {K::kReturnFromNode4, "", commentText(who + ": from this node (kubelet probes)")});
    out.push_back(
        {K::kReturnFromNode6, "", commentText(who + ": from this node (kubelet probes)")});
  }
  return out;
}

}  // namespace

std::vector<std::string> stagedChainRules(const Program& program, Direction d) {
  using K = EndpointRule::Kind;
  const bool in = d == Direction::kIngress;
  const std::string who = fmt::format("staged {}", directionName(d));
  const std::string iface = in ? "oifname" : "iifname";
  std::vector<std::string> out;
  // The node-address sets exist once the node has an endpoint (and so whenever one is staged).
  for (const auto& r : chainPrologue(who, in && program.sets.count(kNodeSetV4) > 0)) {
    out.push_back(renderEndpointRule(r));
  }
  for (const PolicyChain* chain : policyChainsInOrder(program, d)) {
    out.push_back(fmt::format("{} @{} counter jump {} {}", iface, stagedPolicySet(chain->name),
                              chain->name, comment(who + ": policy " + chain->policy_id)));
    out.push_back(renderEndpointRule(
        {K::kReturnIfMarked, "", commentText(who + ": allowed or passed by " + chain->policy_id)}));
  }
  out.push_back(fmt::format("{} @{} counter drop {}", iface,
                            in ? kStagedDenySetIn : kStagedDenySetOut,
                            comment(who + ": default deny, a policy selects it")));
  out.push_back(renderEndpointRule(
      {K::kReturn, "", commentText(who + ": no policy selects it, profile allows")}));
  return out;
}

std::string commentText(std::string_view text) {
  std::string out(text.substr(0, 127));
  std::replace(out.begin(), out.end(), '"', '\'');
  return out;
}

std::vector<EndpointRule> endpointRules(const EndpointProgram& ep, const EndpointChain& chain) {
  using K = EndpointRule::Kind;
  const std::string who = fmt::format("{} {}", ep.endpoint_id, directionName(chain.direction));
  std::vector<EndpointRule> out = chainPrologue(who, chain.allow_from_node);
  if (!chain.isolated()) {
    out.push_back({K::kReturn, "", commentText(who + ": no policy selects it, profile allows")});
    return out;
  }
  for (size_t i = 0; i < chain.policy_chains.size(); ++i) {
    out.push_back(
        {K::kJump, chain.policy_chains[i], commentText(who + ": policy " + chain.policy_ids[i])});
    out.push_back({K::kReturnIfMarked, "",
                   commentText(who + ": allowed or passed by " + chain.policy_ids[i])});
  }
  out.push_back(
      {K::kDrop, "",
       commentText(fmt::format("{}: default deny, {} selects it", who, chain.policy_ids.front()))});
  return out;
}

std::string renderEndpointRule(const EndpointRule& r) {
  using K = EndpointRule::Kind;
  const std::string c = fmt::format("comment \"{}\"", r.comment);
  switch (r.kind) {
    case K::kAcceptEstablished:
      return "ct state established,related counter accept " + c;
    case K::kDropInvalid:
      return "ct state invalid counter drop " + c;
    case K::kAcceptNeighbourDiscovery:
      return fmt::format("meta l4proto ipv6-icmp icmpv6 type {}-{} counter accept {}",
                         kNeighbourDiscoveryFirst, kNeighbourDiscoveryLast, c);
    case K::kClearMarks:
      return fmt::format("counter meta mark set meta mark & 0x{:08x} {}",
                         ~(kAcceptMark | kPassMark), c);
    case K::kReturnFromNode4:
      return fmt::format("ip saddr @{} counter return {}", kNodeSetV4, c);
    case K::kReturnFromNode6:
      return fmt::format("ip6 saddr @{} counter return {}", kNodeSetV6, c);
    case K::kReturn:
      return "counter return " + c;
    case K::kJump:
      return fmt::format("counter jump {} {}", r.chain, c);
    case K::kReturnIfMarked:
      return fmt::format("meta mark & 0x{:08x} != 0 counter return {}", kAcceptMark | kPassMark, c);
    case K::kDrop:
      return "counter drop " + c;
  }
  return c;
}

std::string renderNftables(const Program& program, const MemberMap& members,
                           const std::set<std::string>& staged) {
  std::string out = fmt::format("# Coral policy for node {}: generated, do not edit.\n",
                                program.node.empty() ? "(all)" : program.node);
  out += fmt::format("table inet {0}\ndelete table inet {0}\ntable inet {0} {{\n", kNftTable);
  for (const auto& [name, def] : program.sets) {
    out += fmt::format("  set {} {{\n", name);
    out += fmt::format("    type {}\n", setType(def));
    if (def.kind == SetKind::kNets) out += "    flags interval\n    auto-merge\n";
    out += "    " + comment(def.describe()) + "\n";
    appendElements(out, setElements(def, members), "    ");
    out += "  }\n";
  }
  for (Direction d : {Direction::kEgress, Direction::kIngress}) {
    out += fmt::format("  map {} {{\n    type ifname : verdict\n",
                       d == Direction::kEgress ? "from-wl" : "to-wl");
    out += "    " +
           comment(d == Direction::kEgress ? "workload interface -> egress chain"
                                           : "workload interface -> ingress chain") +
           "\n";
    std::vector<std::string> elements;
    for (const auto& e : mapEntries(program, d, staged)) elements.push_back(mapElement(e));
    appendElements(out, elements, "    ");
    out += "  }\n";
  }
  std::map<std::string, std::vector<std::string>> staged_members;
  for (const auto& ep : program.endpoints) {
    if (!staged.count(ep.endpoint_id)) continue;
    for (const auto& set : stagingSets(ep)) {
      staged_members[set].push_back("\"" + ep.interface_name + "\"");
    }
  }
  for (const auto& [name, what] : stagingSetComments(program)) {
    out += fmt::format("  set {} {{\n    type ifname\n    {}\n", name, comment(what));
    appendElements(out, staged_members[name], "    ");
    out += "  }\n";
  }
  auto all = allChains(program, staged);
  all[kStagedChainIn] = stagedChainRules(program, Direction::kIngress);
  all[kStagedChainOut] = stagedChainRules(program, Direction::kEgress);
  for (const auto& [name, rules] : all) {
    out += fmt::format("  chain {} {{\n", name);
    for (const auto& r : rules) out += "    " + r + "\n";
    out += "  }\n";
  }
  const std::string staged_out =
      fmt::format("iifname @{} counter jump {}", kStagedSetOut, kStagedChainOut);
  const std::string staged_in =
      fmt::format("oifname @{} counter jump {}", kStagedSetIn, kStagedChainIn);
  out += fmt::format(
      "  chain forward {{\n"
      "    type filter hook forward priority filter; policy accept;\n"
      "    counter iifname vmap @from-wl comment \"pod egress\"\n"
      "    {0} comment \"staged pod egress\"\n"
      "    counter oifname vmap @to-wl comment \"pod ingress\"\n"
      "    {1} comment \"staged pod ingress\"\n"
      "  }}\n"
      "  chain input {{\n"
      "    type filter hook input priority filter; policy accept;\n"
      "    counter iifname vmap @from-wl comment \"pod egress to this host\"\n"
      "    {0} comment \"staged pod egress to this host\"\n"
      "  }}\n"
      "  chain output {{\n"
      "    type filter hook output priority filter; policy accept;\n"
      "    counter oifname vmap @to-wl comment \"pod ingress from this host\"\n"
      "    {1} comment \"staged pod ingress from this host\"\n"
      "  }}\n"
      "}}\n",
      staged_out, staged_in);
  return out;
}

std::string renderNftablesChange(const Program& after, const ProgramChange& change,
                                 const StagingChange& staging) {
  const std::string t = fmt::format("inet {}", kNftTable);
  std::string out;
  auto endpointRules = [](const EndpointProgram& ep, Direction d) {
    return endpointChainRules(ep, ep.chain(d));
  };
  std::vector<std::string> gone;  // chains to delete at the end
  // 1. New sets and chains (rules come later, once every chain they jump to exists).
  for (const auto& name : change.sets_added) {
    out += fmt::format("add set {} {} {{ {} }}\n", t, name, setBody(after.sets.at(name)));
  }
  for (const auto& name : change.policy_chains_added) {
    out += fmt::format("add chain {} {}\n", t, name);
    out += fmt::format("add set {} {} {{ {} }}\n", t, stagedPolicySet(name),
                       stagedSetBody(stagedPolicySetComment(after.policy_chains.at(name))));
  }
  std::vector<const EndpointProgram*> added;
  for (const auto& id : change.endpoints_added) {
    const EndpointProgram* ep = after.findEndpoint(id);
    if (ep == nullptr) continue;
    added.push_back(ep);
    out +=
        fmt::format("add chain {} {}\nadd chain {} {}\n", t, ep->egress.name, t, ep->ingress.name);
  }
  // 2. Set elements.
  for (const auto& [name, members] : change.elements_removed) {
    auto def = after.sets.find(name);
    if (def == after.sets.end()) continue;  // the set goes as a whole
    const auto elements = setElements(def->second, members);
    if (!elements.empty()) {
      out += fmt::format("delete element {} {} {{ {} }}\n", t, name, join(elements, ", "));
    }
  }
  for (const auto& [name, members] : change.elements_added) {
    auto def = after.sets.find(name);
    if (def == after.sets.end()) continue;
    const auto elements = setElements(def->second, members);
    if (!elements.empty()) {
      out += fmt::format("add element {} {} {{ {} }}\n", t, name, join(elements, ", "));
    }
  }
  for (const auto& [name, interfaces] : staging.remove) {
    out += fmt::format("delete element {} {} {{ {} }}\n", t, name, quotedList(interfaces));
  }
  for (const auto& [name, interfaces] : staging.add) {
    out += fmt::format("add element {} {} {{ {} }}\n", t, name, quotedList(interfaces));
  }
  // 3. Rules of new and changed chains.
  auto writeRules = [&](const std::string& name, const std::vector<std::string>& rules,
                        bool flush) {
    if (flush) out += fmt::format("flush chain {} {}\n", t, name);
    for (const auto& r : rules) out += fmt::format("add rule {} {} {}\n", t, name, r);
  };
  for (const auto* list : {&change.policy_chains_added, &change.policy_chains_changed}) {
    for (const auto& name : *list) {
      writeRules(name, policyChainRules(after, after.policy_chains.at(name)),
                 list == &change.policy_chains_changed);
    }
  }
  for (const auto* ep : added) {
    for (Direction d : {Direction::kEgress, Direction::kIngress}) {
      writeRules(ep->chain(d).name, endpointRules(*ep, d), false);
    }
  }
  for (const auto& old : change.endpoints_changed) {
    const EndpointProgram* ep = after.findEndpoint(old.endpoint_id);
    if (ep == nullptr) continue;
    for (Direction d : {Direction::kEgress, Direction::kIngress}) {
      auto rules = endpointRules(*ep, d);
      if (rules != endpointRules(old, d)) writeRules(ep->chain(d).name, rules, true);
    }
  }
  // The shared staging chains list every policy chain in evaluation order, and the node
  // rules once the node sets exist.
  auto touches = [](const std::vector<std::string>& names, const char* name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  if (!change.policy_chains_added.empty() || !change.policy_chains_removed.empty() ||
      change.order_changed || touches(change.sets_added, kNodeSetV4) ||
      touches(change.sets_removed, kNodeSetV4)) {
    writeRules(kStagedChainIn, stagedChainRules(after, Direction::kIngress), true);
    writeRules(kStagedChainOut, stagedChainRules(after, Direction::kEgress), true);
  }
  // 4. Dispatch maps: entries of removed endpoints and old interfaces go, new ones come.
  for (Direction d : {Direction::kEgress, Direction::kIngress}) {
    const char* map = d == Direction::kEgress ? "from-wl" : "to-wl";
    std::vector<std::string> removed;
    std::vector<MapEntry> now;
    for (const auto& old : change.endpoints_removed) {
      if (!old.interface_name.empty()) removed.push_back(old.interface_name);
    }
    for (const auto& old : change.endpoints_changed) {
      const EndpointProgram* ep = after.findEndpoint(old.endpoint_id);
      if (ep == nullptr || ep->interface_name == old.interface_name) continue;
      if (!old.interface_name.empty()) removed.push_back(old.interface_name);
      if (!ep->interface_name.empty()) now.push_back({ep->interface_name, ep->chain(d).name});
    }
    for (const auto* ep : added) {
      if (!ep->interface_name.empty()) now.push_back({ep->interface_name, ep->chain(d).name});
    }
    for (const auto& iface : removed) {
      out += fmt::format("delete element {} {} {{ \"{}\" }}\n", t, map, iface);
    }
    for (const auto& e : now) {
      out += fmt::format("add element {} {} {{ {} }}\n", t, map, mapElement(e));
    }
  }
  // 5. Chains nobody jumps to any more: empty them all first, then delete them.
  for (const auto& old : change.endpoints_removed) {
    gone.push_back(old.ingress.name);
    gone.push_back(old.egress.name);
  }
  gone.insert(gone.end(), change.policy_chains_removed.begin(), change.policy_chains_removed.end());
  for (const auto& name : gone) out += fmt::format("flush chain {} {}\n", t, name);
  for (const auto& name : gone) out += fmt::format("delete chain {} {}\n", t, name);
  // 6. Sets no rule references any more.
  for (const auto& name : change.policy_chains_removed) {
    out += fmt::format("delete set {} {}\n", t, stagedPolicySet(name));
  }
  for (const auto& name : change.sets_removed) {
    out += fmt::format("delete set {} {}\n", t, name);
  }
  return out;
}

std::string renderNftablesUpdate(const Program& before, const MemberMap& before_members,
                                 const Program& after, const MemberMap& after_members) {
  return renderNftablesChange(after, diffPrograms(before, before_members, after, after_members));
}

}  // namespace coral::policy
