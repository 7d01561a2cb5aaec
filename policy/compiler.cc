// The policy compiler: policies → per-policy chains of ProgramRules with named sets,
// endpoints → endpoint chains listing the policies that select them.
#include "policy/compiler.h"
#include "common/hash.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "common/strings.h"

namespace coral::policy {
namespace {

using common::Family;

char familyDigit(Family f) { return f == Family::kV4 ? '4' : '6'; }

// A name usable as an nft chain name and readable: "knp:x/allow-web" → "knp.x.allow-web".
std::string chainSafe(std::string_view id) {
  std::string out;
  for (char c : id) out += (c == ':' || c == '/') ? '.' : c;
  if (out.size() > 200) out = out.substr(0, 180) + fmt::format("-{:016x}", fnv1a64(id));
  return out;
}

class RuleCompiler {
 public:
  RuleCompiler(std::map<std::string, SetDef>& sets) : sets_(sets) {}

  std::vector<ProgramRule> compile(const Policy& policy, Direction dir, const PolicyRule& rule) {
    std::vector<ProgramRule> out;
    std::string comment = fmt::format("{} {}[{}]", policy.id(), directionName(dir), rule.index);
    if (!rule.detail.empty()) comment += " " + rule.detail;
    std::string log_prefix;
    if (rule.action == Action::kLog) {
      log_prefix = fmt::format("coral {} {}[{}] ", policy.id(), directionName(dir), rule.index);
      if (log_prefix.size() > 127) log_prefix = log_prefix.substr(0, 126) + " ";
    }
    for (const auto& family : families(rule)) {
      for (const auto& src_ports : portAlternatives(rule.source, rule, family, Side::kSource)) {
        for (const auto& dst_ports :
             portAlternatives(rule.destination, rule, family, Side::kDestination)) {
          Match m;
          m.family = family;
          m.protocol = rule.protocol;
          m.not_protocol = rule.not_protocol;
          m.icmp = rule.icmp;
          m.not_icmp = rule.not_icmp;
          if (family && !addEntity(m, rule.source, *family, Side::kSource)) continue;
          if (family && !addEntity(m, rule.destination, *family, Side::kDestination)) continue;
          append(m, src_ports);
          append(m, dst_ports);
          out.push_back({std::move(m), rule.action, log_prefix, comment});
        }
      }
    }
    return out;
  }

 private:
  // One alternative of a positive port list: either numeric ranges or one named port.
  struct PortAlt {
    std::vector<PortCond> ports;
    std::vector<NamedPortCond> named;
  };

  static bool needsAddresses(const EntityMatch& e) {
    return !e.nets.empty() || !e.not_nets.empty() || e.selector || e.not_selector ||
           !e.ports.names.empty() || !e.not_ports.names.empty();
  }

  // The families a rule is rendered for: nullopt = family-agnostic (no address conditions).
  static std::vector<std::optional<Family>> families(const PolicyRule& r) {
    std::optional<Family> only = r.ip_version;
    if (r.protocol == kProtoIcmp) only = Family::kV4;
    if (r.protocol == kProtoIcmpV6) only = Family::kV6;
    if (r.ip_version && only != r.ip_version) return {};
    if (!needsAddresses(r.source) && !needsAddresses(r.destination)) return {only};
    std::vector<std::optional<Family>> out;
    for (Family f : {Family::kV4, Family::kV6}) {
      if (!only || *only == f) out.push_back(f);
    }
    return out;
  }

  static std::vector<common::Prefix> ofFamily(const std::vector<common::Prefix>& nets, Family f) {
    std::vector<common::Prefix> out;
    for (const auto& n : nets) {
      if (n.family() == f) out.push_back(n);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // Adds the address conditions of one side; false when they cannot match in this family.
  bool addEntity(Match& m, const EntityMatch& e, Family f, Side side) {
    if (!e.nets.empty()) {
      auto nets = ofFamily(e.nets, f);
      if (nets.empty()) return false;
      m.addresses.push_back({side, netSet(nets, f), false});
    }
    if (auto nets = ofFamily(e.not_nets, f); !nets.empty()) {
      m.addresses.push_back({side, netSet(nets, f), true});
    }
    // all() still names endpoints only (not every address), so it is a set too.
    if (e.selector) m.addresses.push_back({side, selectorSet(*e.selector, f), false});
    if (e.not_selector) m.addresses.push_back({side, selectorSet(*e.not_selector, f), true});
    for (const auto& name : e.not_ports.names) {
      m.named_ports.push_back({side, namedPortSet(e.selector, name, f), true});
    }
    return true;
  }

  std::vector<PortAlt> portAlternatives(const EntityMatch& e, const PolicyRule&,
                                        std::optional<Family> family, Side side) {
    std::vector<PortAlt> out;
    PortAlt negated;
    if (!e.not_ports.ranges.empty())
      negated.ports.push_back({side, sorted(e.not_ports.ranges), true});
    if (e.ports.empty()) return {negated};
    if (!e.ports.ranges.empty()) {
      PortAlt alt = negated;
      alt.ports.push_back({side, sorted(e.ports.ranges), false});
      out.push_back(std::move(alt));
    }
    if (family) {
      for (const auto& name : e.ports.names) {
        PortAlt alt = negated;
        alt.named.push_back({side, namedPortSet(e.selector, name, *family), false});
        out.push_back(std::move(alt));
      }
    }
    return out;
  }

  static std::vector<PortRange> sorted(std::vector<PortRange> ranges) {
    std::sort(ranges.begin(), ranges.end());
    ranges.erase(std::unique(ranges.begin(), ranges.end()), ranges.end());
    return ranges;
  }

  static void append(Match& m, const PortAlt& alt) {
    m.ports.insert(m.ports.end(), alt.ports.begin(), alt.ports.end());
    m.named_ports.insert(m.named_ports.end(), alt.named.begin(), alt.named.end());
  }

  std::string netSet(const std::vector<common::Prefix>& nets, Family f) {
    std::vector<std::string> texts;
    for (const auto& n : nets) texts.push_back(n.toString());
    const std::string name =
        fmt::format("net{}-{:016x}", familyDigit(f), fnv1a64(join(texts, ",")));
    SetDef def{name, SetKind::kNets, f, std::nullopt, "", nets};
    sets_.emplace(name, std::move(def));
    return name;
  }

  std::string selectorSet(const Selector& sel, Family f) {
    const std::string name = fmt::format("sel{}-{:016x}", familyDigit(f), sel.fingerprint());
    sets_.emplace(name, SetDef{name, SetKind::kEndpoints, f, sel, "", {}});
    return name;
  }

  // Endpoints of `selector` (all endpoints when absent) with a port named `port`.
  std::string namedPortSet(const std::optional<Selector>& selector, const std::string& port,
                           Family f) {
    const Selector sel = selector ? *selector : Selector::all();
    const std::string name =
        fmt::format("np{}-{:016x}", familyDigit(f), fnv1a64(sel.canonical() + "\n" + port));
    sets_.emplace(name, SetDef{name, SetKind::kNamedPorts, f, sel, port, {}});
    return name;
  }

  std::map<std::string, SetDef>& sets_;
};

}  // namespace

std::string SetDef::describe() const {
  switch (kind) {
    case SetKind::kEndpoints:
      return "selector " + (selector ? selector->canonical() : std::string("all()"));
    case SetKind::kNets: {
      std::vector<std::string> texts;
      for (const auto& n : nets) texts.push_back(n.toString());
      return "nets " + join(texts, ",");
    }
    case SetKind::kNamedPorts:
      return "named port " + port_name + " of " +
             (selector ? selector->canonical() : std::string("all()"));
    case SetKind::kNodeAddresses:
      return "this node's addresses";
  }
  return "";
}

const EndpointProgram* Program::findEndpoint(std::string_view id) const {
  // compile() keeps endpoints sorted by id; a hand-made program may not be.
  auto it = std::lower_bound(
      endpoints.begin(), endpoints.end(), id,
      [](const EndpointProgram& e, std::string_view v) { return e.endpoint_id < v; });
  if (it != endpoints.end() && it->endpoint_id == id) return &*it;
  for (const auto& e : endpoints) {
    if (e.endpoint_id == id) return &e;
  }
  return nullptr;
}

std::string policyChainName(const Policy& policy, Direction direction) {
  return (direction == Direction::kIngress ? "pi-" : "pe-") + chainSafe(policy.id());
}

std::string endpointChainName(const Endpoint& endpoint, Direction direction) {
  return (direction == Direction::kIngress ? "wi-" : "we-") + chainSafe(endpoint.id());
}

PolicyChain compilePolicyChain(const Policy& policy, Direction direction,
                               std::map<std::string, SetDef>& sets) {
  RuleCompiler rules(sets);
  PolicyChain pc{policyChainName(policy, direction), policy.id(), policy.order, direction, {}};
  for (const auto& rule : policy.rules(direction)) {
    auto compiled = rules.compile(policy, direction, rule);
    pc.rules.insert(pc.rules.end(), compiled.begin(), compiled.end());
  }
  return pc;
}

EndpointProgram compileEndpoint(const Snapshot& snapshot, const Endpoint& endpoint,
                                const common::Labels& labels,
                                const std::function<void(const Policy&, Direction)>& on_policy) {
  EndpointProgram ep;
  ep.endpoint_id = endpoint.id();
  ep.interface_name = endpoint.interface_name;
  ep.addresses = endpoint.addresses;
  for (Direction dir : {Direction::kIngress, Direction::kEgress}) {
    EndpointChain& chain = dir == Direction::kIngress ? ep.ingress : ep.egress;
    chain.name = endpointChainName(endpoint, dir);
    chain.direction = dir;
    chain.allow_from_node = dir == Direction::kIngress;
    for (const Policy* policy : snapshot.policiesFor(labels, dir)) {
      chain.policy_chains.push_back(policyChainName(*policy, dir));
      chain.policy_ids.push_back(policy->id());
      if (on_policy) on_policy(*policy, dir);
    }
  }
  return ep;
}

std::vector<std::string> setsReferenced(const PolicyChain& chain) {
  std::vector<std::string> out;
  for (const auto& r : chain.rules) {
    for (const auto& a : r.match.addresses) out.push_back(a.set);
    for (const auto& n : r.match.named_ports) out.push_back(n.set);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

SetDef nodeAddressSet(common::Family family) {
  const char* name = family == Family::kV4 ? kNodeSetV4 : kNodeSetV6;
  return SetDef{name, SetKind::kNodeAddresses, family, std::nullopt, "", {}};
}

Program compile(const Snapshot& snapshot, std::string_view node) {
  Program program;
  program.node = std::string(node);
  for (const auto& endpoint : snapshot.endpoints()) {
    if (!node.empty() && endpoint.node != node) continue;
    program.endpoints.push_back(compileEndpoint(
        snapshot, endpoint, snapshot.labelsOf(endpoint), [&](const Policy& policy, Direction dir) {
          const std::string name = policyChainName(policy, dir);
          if (program.policy_chains.count(name)) return;
          program.policy_chains.emplace(name, compilePolicyChain(policy, dir, program.sets));
        }));
  }
  if (!program.endpoints.empty()) {
    for (Family f : {Family::kV4, Family::kV6}) {
      SetDef def = nodeAddressSet(f);
      program.sets.emplace(def.name, std::move(def));
    }
  }
  std::sort(program.endpoints.begin(), program.endpoints.end(),
            [](const auto& a, const auto& b) { return a.endpoint_id < b.endpoint_id; });
  return program;
}

void addEndpointMembers(const SetDef& def, const Endpoint& endpoint, const common::Labels& labels,
                        SetMembers& out) {
  if (def.kind != SetKind::kEndpoints && def.kind != SetKind::kNamedPorts) return;
  if (def.selector && !def.selector->matches(labels)) return;
  for (const auto& a : endpoint.addresses) {
    if (a.family() != def.family) continue;
    if (def.kind == SetKind::kEndpoints) {
      out.addresses.push_back(a);
      continue;
    }
    for (const auto& p : endpoint.ports) {
      if (p.name == def.port_name) out.named.push_back({a, p.protocol, p.port});
    }
  }
}

void normalizeMembers(SetMembers& m) {
  std::sort(m.addresses.begin(), m.addresses.end());
  m.addresses.erase(std::unique(m.addresses.begin(), m.addresses.end()), m.addresses.end());
  std::sort(m.named.begin(), m.named.end());
  m.named.erase(std::unique(m.named.begin(), m.named.end()), m.named.end());
}

SetMembers staticMembers(const SetDef& def, const std::vector<common::IpAddress>& node_addresses) {
  SetMembers m;
  if (def.kind == SetKind::kNets) m.nets = def.nets;
  if (def.kind == SetKind::kNodeAddresses) {
    for (const auto& a : node_addresses) {
      if (a.family() == def.family) m.addresses.push_back(a);
    }
  }
  return m;
}

MemberMap computeMembers(const Program& program, const Snapshot& snapshot) {
  MemberMap out;
  std::vector<std::pair<const Endpoint*, common::Labels>> labelled;
  for (const auto& e : snapshot.endpoints()) labelled.emplace_back(&e, snapshot.labelsOf(e));
  for (const auto& [name, def] : program.sets) {
    SetMembers& m = out[name];
    m = staticMembers(def, snapshot.nodeAddresses(program.node));
    for (const auto& [e, labels] : labelled) addEndpointMembers(def, *e, labels, m);
    normalizeMembers(m);
  }
  return out;
}

}  // namespace coral::policy
