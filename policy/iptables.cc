// iptables-restore renderer (see iptables.h).
#include "policy/iptables.h"
#include "common/hash.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"
#include "policy/nftables.h"

namespace coral::policy {

std::string iptablesChainName(std::string_view kind, std::string_view name) {
  return fmt::format("CORAL-{}-{:016x}", kind, fnv1a64(name));
}

namespace {

using common::Family;

std::string comment(std::string_view text) {
  std::string out(text.substr(0, 250));
  std::replace(out.begin(), out.end(), '"', '\'');
  return fmt::format("-m comment --comment \"{}\"", out);
}

std::string ipProto(uint8_t p, Family f) {
  if (p == kProtoIcmpV6 && f == Family::kV6) return "ipv6-icmp";
  return protocolName(p);
}

std::string ports(const std::vector<PortRange>& ranges) {
  std::vector<std::string> parts;
  for (const auto& r : ranges) {
    parts.push_back(r.first == r.last ? std::to_string(r.first)
                                      : fmt::format("{}:{}", r.first, r.last));
  }
  return join(parts, ",");
}

class Renderer {
 public:
  Renderer(const Program& program, const MemberMap& members, Family family)
      : program_(program), members_(members), family_(family) {}

  std::string render() {
    std::vector<std::string> rules;
    const char* hooks[][2] = {{"CORAL-FORWARD", "CORAL-FROM-WL"},
                              {"CORAL-FORWARD", "CORAL-TO-WL"},
                              {"CORAL-INPUT", "CORAL-FROM-WL"},
                              {"CORAL-OUTPUT", "CORAL-TO-WL"}};
    for (const char* chain :
         {"CORAL-FORWARD", "CORAL-INPUT", "CORAL-OUTPUT", "CORAL-FROM-WL", "CORAL-TO-WL"}) {
      declare(chain);
    }
    for (const auto& h : hooks) {
      add(h[0], fmt::format("-j {} {}", h[1], comment("dispatch to workload chains")));
    }
    for (const auto& [name, chain] : program_.policy_chains) policyChain(chain);
    for (const auto& ep : program_.endpoints) {
      for (Direction d : {Direction::kEgress, Direction::kIngress}) {
        const EndpointChain& chain = ep.chain(d);
        const std::string name =
            iptablesChainName(d == Direction::kIngress ? "WI" : "WE", chain.name);
        if (!ep.interface_name.empty()) {
          add(d == Direction::kIngress ? "CORAL-TO-WL" : "CORAL-FROM-WL",
              fmt::format("{} {} -j {} {}", d == Direction::kIngress ? "-o" : "-i",
                          ep.interface_name, name, comment(chain.name)));
        }
        endpointChain(ep, chain, name);
      }
    }
    std::string out =
        fmt::format("# Coral policy for node {} ({}): generated, do not edit.\n*filter\n",
                    program_.node.empty() ? "(all)" : program_.node,
                    family_ == Family::kV4 ? "iptables" : "ip6tables");
    for (const auto& c : declared_) out += ":" + c + " - [0:0]\n";
    for (const auto& r : rules_) out += r + "\n";
    out += "COMMIT\n";
    return out;
  }

 private:
  void declare(const std::string& chain) { declared_.push_back(chain); }
  void add(const std::string& chain, const std::string& rule) {
    rules_.push_back(fmt::format("-A {} {}", chain, rule));
  }

  // Alternatives of one positive set reference: "-s 10.0.0.1", ...
  std::vector<std::string> addressOptions(const AddressCond& c) const {
    std::vector<std::string> out;
    auto it = members_.find(c.set);
    if (it == members_.end()) return out;
    const char* flag = c.side == Side::kSource ? "-s" : "-d";
    for (const auto& a : it->second.addresses)
      out.push_back(fmt::format("{} {}", flag, a.toString()));
    for (const auto& n : it->second.nets) out.push_back(fmt::format("{} {}", flag, n.toString()));
    return out;
  }

  std::vector<std::string> namedOptions(const NamedPortCond& c,
                                        std::optional<uint8_t> proto) const {
    std::vector<std::string> out;
    auto it = members_.find(c.set);
    if (it == members_.end()) return out;
    for (const auto& m : it->second.named) {
      if (proto && m.protocol != *proto) continue;
      out.push_back(fmt::format(
          "{} {} {}-m {} --{} {}", c.side == Side::kSource ? "-s" : "-d", m.address.toString(),
          proto ? "" : fmt::format("-p {} ", protocolName(m.protocol)), protocolName(m.protocol),
          c.side == Side::kSource ? "sport" : "dport", m.port));
    }
    return out;
  }

  std::vector<std::string> verdict(const ProgramRule& rule) const {
    switch (rule.action) {
      case Action::kAllow:
        return {fmt::format("-j MARK --set-xmark 0x{0:x}/0x{0:x}", kAcceptMark)};
      case Action::kPass:
        return {fmt::format("-j MARK --set-xmark 0x{0:x}/0x{0:x}", kPassMark)};
      case Action::kDeny:
        return {"-j DROP"};
      case Action::kLog:
        return {fmt::format("-j LOG --log-prefix \"{}\"", rule.log_prefix.substr(0, 29))};
    }
    return {};
  }

  void policyChain(const PolicyChain& chain) {
    const std::string name =
        iptablesChainName(chain.direction == Direction::kIngress ? "PI" : "PE", chain.name);
    declare(name);
    for (size_t i = 0; i < chain.rules.size(); ++i) {
      const ProgramRule& rule = chain.rules[i];
      const Match& m = rule.match;
      if (m.family && *m.family != family_) continue;
      // Fixed part: protocol, ICMP, numeric ports.
      std::string fixed;
      if (m.protocol) fixed += fmt::format(" -p {}", ipProto(*m.protocol, family_));
      if (m.not_protocol && !m.protocol)
        fixed += fmt::format(" ! -p {}", ipProto(*m.not_protocol, family_));
      const char* icmp_opt = family_ == Family::kV4 ? "--icmp-type" : "--icmpv6-type";
      auto icmpText = [](const IcmpSpec& s) {
        return s.code ? fmt::format("{}/{}", s.type, *s.code) : std::to_string(s.type);
      };
      if (m.icmp) fixed += fmt::format(" {} {}", icmp_opt, icmpText(*m.icmp));
      if (m.not_icmp) fixed += fmt::format(" ! {} {}", icmp_opt, icmpText(*m.not_icmp));
      for (const auto& p : m.ports) {
        fixed += fmt::format(" -m multiport {}--{}s {}", p.negate ? "! " : "",
                             p.side == Side::kSource ? "sport" : "dport", ports(p.ranges));
      }
      // Positive sets: the cartesian product of their members.
      std::vector<std::string> combos = {""};
      for (const auto& c : m.addresses) {
        if (c.negate) continue;
        combos = product(combos, addressOptions(c));
      }
      for (const auto& c : m.named_ports) {
        if (c.negate) continue;
        combos = product(combos, namedOptions(c, m.protocol));
      }
      const std::string note = comment(rule.comment);
      std::vector<std::string> target = verdict(rule);
      const bool negations =
          std::any_of(m.addresses.begin(), m.addresses.end(), [](auto& c) { return c.negate; }) ||
          std::any_of(m.named_ports.begin(), m.named_ports.end(), [](auto& c) { return c.negate; });
      if (negations) {
        const std::string sub = iptablesChainName("R", fmt::format("{}#{}", chain.name, i));
        declare(sub);
        for (const auto& c : m.addresses) {
          if (!c.negate) continue;
          for (const auto& o : addressOptions(c)) add(sub, fmt::format("{} -j RETURN {}", o, note));
        }
        for (const auto& c : m.named_ports) {
          if (!c.negate) continue;
          for (const auto& o : namedOptions(c, m.protocol))
            add(sub, fmt::format("{} -j RETURN {}", o, note));
        }
        for (const auto& t : target) add(sub, fmt::format("{} {}", t, note));
        target = {"-j " + sub};
      }
      for (const auto& combo : combos) {
        const std::string match =
            trim(fixed + combo).empty() ? "" : std::string(trim(fixed + combo)) + " ";
        for (const auto& t : target) add(name, fmt::format("{}{} {}", match, t, note));
      }
      if (rule.action == Action::kAllow || rule.action == Action::kPass) {
        const uint32_t mark = rule.action == Action::kAllow ? kAcceptMark : kPassMark;
        add(name, fmt::format("-m mark --mark 0x{0:x}/0x{0:x} -j RETURN {1}", mark, note));
      }
    }
  }

  void endpointChain(const EndpointProgram& ep, const EndpointChain& chain,
                     const std::string& name) {
    declare(name);
    const std::string who = fmt::format("{} {}", ep.endpoint_id, directionName(chain.direction));
    add(name,
        "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT " + comment(who + ": established"));
    add(name, "-m conntrack --ctstate INVALID -j DROP " + comment(who + ": invalid"));
    if (family_ == Family::kV6) {
      for (int type = kNeighbourDiscoveryFirst; type <= kNeighbourDiscoveryLast; ++type) {
        add(name, fmt::format("-p ipv6-icmp -m icmp6 --icmpv6-type {} -j ACCEPT {}", type,
                              comment(who + ": IPv6 neighbour discovery")));
      }
    }
    add(name, fmt::format("-j MARK --set-xmark 0x0/0x{:x} {}", kAcceptMark | kPassMark,
                          comment(who + ": clear verdict marks")));
    if (chain.allow_from_node) {
      AddressCond node{Side::kSource, family_ == Family::kV4 ? kNodeSetV4 : kNodeSetV6, false};
      for (const auto& o : addressOptions(node)) {
        add(name,
            fmt::format("{} -j RETURN {}", o, comment(who + ": from this node (kubelet probes)")));
      }
    }
    if (!chain.isolated()) {
      add(name, "-j RETURN " + comment(who + ": no policy selects it, profile allows"));
      return;
    }
    for (size_t i = 0; i < chain.policy_chains.size(); ++i) {
      auto it = program_.policy_chains.find(chain.policy_chains[i]);
      if (it == program_.policy_chains.end()) continue;
      add(name, fmt::format("-j {} {}",
                            iptablesChainName(chain.direction == Direction::kIngress ? "PI" : "PE",
                                              chain.policy_chains[i]),
                            comment(who + ": policy " + chain.policy_ids[i])));
      add(name, fmt::format("-m mark ! --mark 0x0/0x{:x} -j RETURN {}", kAcceptMark | kPassMark,
                            comment(who + ": allowed or passed by " + chain.policy_ids[i])));
    }
    add(name, "-j DROP " + comment(fmt::format("{}: default deny, {} selects it", who,
                                               chain.policy_ids.front())));
  }

  static std::vector<std::string> product(const std::vector<std::string>& left,
                                          const std::vector<std::string>& right) {
    std::vector<std::string> out;
    for (const auto& l : left) {
      for (const auto& r : right) out.push_back(l + " " + r);
    }
    return out;
  }

  const Program& program_;
  const MemberMap& members_;
  Family family_;
  std::vector<std::string> declared_;
  std::vector<std::string> rules_;
};

}  // namespace

std::string renderIptablesRestore(const Program& program, const MemberMap& members, Family family) {
  return Renderer(program, members, family).render();
}

}  // namespace coral::policy
