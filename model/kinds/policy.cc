#include "model/kinds/policy.h"

#include <fmt/format.h>

#include "common/strings.h"
#include "model/validators.h"

namespace coral::model {
namespace {

constexpr const char* kProtocolNames[] = {"TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite"};

void checkProtocol(Validation v, const IntOrString& p) {
  if (p.isInt()) {
    if (p.intValue() < 1 || p.intValue() > 255) {
      v.error(fmt::format("{} is not a protocol number (1-255)", p.intValue()));
    }
    return;
  }
  for (const char* name : kProtocolNames) {
    if (p.stringValue() == name) return;
  }
  v.error(fmt::format("\"{}\" is not one of: TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite, or 1-255",
                      p.stringValue()));
}

bool hasPorts(const std::string& name) {
  return name == "TCP" || name == "UDP" || name == "SCTP" || name == "UDPLite";
}
bool hasPorts(const IntOrString& p) {
  if (p.isInt())
    return p.intValue() == 6 || p.intValue() == 17 || p.intValue() == 132 || p.intValue() == 136;
  return hasPorts(p.stringValue());
}
bool isIcmp(const IntOrString& p) {
  if (p.isInt()) return p.intValue() == 1 || p.intValue() == 58;
  return p.stringValue() == "ICMP" || p.stringValue() == "ICMPv6";
}

// A port is a number 1-65535, a range "a:b", or a named port (IANA_SVC_NAME).
void checkPort(Validation v, const IntOrString& port) {
  if (port.isInt()) {
    if (port.intValue() < 1 || port.intValue() > 65535) {
      v.error(fmt::format("{} is not a port (1-65535)", port.intValue()));
    }
    return;
  }
  const std::string& s = port.stringValue();
  if (auto colon = s.find(':'); colon != std::string::npos) {
    auto lo = parseInt<int>(std::string_view(s).substr(0, colon));
    auto hi = parseInt<int>(std::string_view(s).substr(colon + 1));
    if (!lo || !hi || *lo < 1 || *hi > 65535 || *lo > *hi) {
      v.error(fmt::format("\"{}\" is not a port range (first:last, 1-65535, first <= last)", s));
    }
    return;
  }
  if (auto n = parseInt<int>(s)) {
    if (*n < 1 || *n > 65535) v.error(fmt::format("\"{}\" is not a port (1-65535)", s));
    return;
  }
  bool letter = false;
  bool ok = !s.empty() && s.size() <= 15 && s.front() != '-' && s.back() != '-' &&
            s.find("--") == std::string::npos;
  for (char c : s) {
    letter = letter || (c >= 'a' && c <= 'z');
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  }
  if (!ok || !letter) {
    v.error(fmt::format(
        "\"{}\" is not a port, a range a:b, or a port name (1-15 lowercase letters, digits, '-')",
        s));
  }
}

void checkNets(Validation v, const std::vector<std::string>& nets, std::optional<int> ip_version) {
  for (size_t i = 0; i < nets.size(); ++i) {
    auto prefix = checkCidr(v.at(i), nets[i]);
    if (prefix && ip_version && (prefix->isV4() ? 4 : 6) != *ip_version) {
      v.at(i).error(fmt::format("\"{}\" does not match ipVersion {}", nets[i], *ip_version));
    }
  }
}

}  // namespace

void IcmpMatch::validate(Validation& v) const {
  if (code && !type) v.at("code").error("needs a type");
}

void EntityRule::validate(Validation& v) const {
  checkNets(v.at("nets"), nets, std::nullopt);
  checkNets(v.at("notNets"), not_nets, std::nullopt);
  if (!selector.empty()) checkSelector(v.at("selector"), selector);
  if (!not_selector.empty()) checkSelector(v.at("notSelector"), not_selector);
  if (!namespace_selector.empty()) checkSelector(v.at("namespaceSelector"), namespace_selector);
  for (size_t i = 0; i < ports.size(); ++i) checkPort(v.at("ports").at(i), ports[i]);
  for (size_t i = 0; i < not_ports.size(); ++i) checkPort(v.at("notPorts").at(i), not_ports[i]);
}

void Rule::validate(Validation& v) const {
  if (protocol) checkProtocol(v.at("protocol"), *protocol);
  if (not_protocol) checkProtocol(v.at("notProtocol"), *not_protocol);
  if (ip_version && *ip_version != 4 && *ip_version != 6) {
    v.at("ipVersion").error(fmt::format("{} is not 4 or 6", *ip_version));
  }
  const bool any_ports = !source.ports.empty() || !source.not_ports.empty() ||
                         !destination.ports.empty() || !destination.not_ports.empty();
  if (any_ports && (!protocol || !hasPorts(*protocol))) {
    v.at("protocol").error("ports need protocol TCP, UDP, SCTP or UDPLite");
  }
  if ((icmp || not_icmp) && (!protocol || !isIcmp(*protocol))) {
    v.at("protocol").error("icmp and notICMP need protocol ICMP or ICMPv6");
  }
  if (ip_version) {
    checkNets(v.at("source").at("nets"), source.nets, ip_version);
    checkNets(v.at("destination").at("nets"), destination.nets, ip_version);
  }
}

void NetworkPolicySpec::validate(Validation& v) const {
  if (!selector.empty()) checkSelector(v.at("selector"), selector);
  if (!namespace_selector.empty()) checkSelector(v.at("namespaceSelector"), namespace_selector);
  for (size_t i = 0; i < types.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (types[i] == types[j]) v.at("types").at(i).error(fmt::format("\"{}\" twice", types[i]));
    }
  }
}

std::vector<std::string> inferPolicyTypes(const NetworkPolicySpec& spec) {
  if (!spec.types.empty()) return spec.types;
  std::vector<std::string> types{"Ingress"};
  if (!spec.egress.empty()) types.push_back("Egress");
  return types;
}

void NetworkPolicy::applyDefaults(NetworkPolicy& policy) {
  if (policy.spec.selector.empty()) policy.spec.selector = "all()";
  policy.spec.types = inferPolicyTypes(policy.spec);
}

void NetworkPolicy::validateObject(const NetworkPolicy& policy, Validation& v) {
  if (!policy.spec.namespace_selector.empty()) {
    v.at("spec")
        .at("namespaceSelector")
        .error(
            "only a GlobalNetworkPolicy has a namespaceSelector; a NetworkPolicy applies in its "
            "own namespace");
  }
}

void GlobalNetworkPolicy::applyDefaults(GlobalNetworkPolicy& policy) {
  if (policy.spec.selector.empty()) policy.spec.selector = "all()";
  policy.spec.types = inferPolicyTypes(policy.spec);
}

}  // namespace coral::model
