// The internal policy model: names, protocol table, ordering, effective labels and the
// selector rewriting that folds namespaces into selectors.
#include "policy/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common/strings.h"

namespace coral::policy {
namespace {

struct ProtocolRow {
  const char* name;  // lower case, the nft spelling
  uint8_t number;
  bool has_ports;
};
constexpr ProtocolRow kProtocols[] = {
    {"icmp", kProtoIcmp, false},     {"tcp", kProtoTcp, true},   {"udp", kProtoUdp, true},
    {"icmpv6", kProtoIcmpV6, false}, {"sctp", kProtoSctp, true}, {"udplite", kProtoUdpLite, true},
};

void appendQuoted(const std::string& value, std::string& out) {
  const char quote = value.find('"') == std::string::npos ? '"' : '\'';
  out += quote;
  out += value;
  out += quote;
}

}  // namespace

std::string_view directionName(Direction d) {
  return d == Direction::kIngress ? "ingress" : "egress";
}

std::string_view actionName(Action a) {
  switch (a) {
    case Action::kAllow:
      return "allow";
    case Action::kDeny:
      return "deny";
    case Action::kPass:
      return "pass";
    case Action::kLog:
      return "log";
  }
  return "?";
}

std::optional<uint8_t> protocolNumber(std::string_view name) {
  if (auto n = parseInt<int>(name)) {
    if (*n < 1 || *n > 255) return std::nullopt;
    return static_cast<uint8_t>(*n);
  }
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& row : kProtocols) {
    if (lower == row.name) return row.number;
  }
  return std::nullopt;
}

std::string protocolName(uint8_t number) {
  for (const auto& row : kProtocols) {
    if (row.number == number) return row.name;
  }
  return std::to_string(number);
}

bool protocolHasPorts(uint8_t number) {
  for (const auto& row : kProtocols) {
    if (row.number == number) return row.has_ports;
  }
  return false;
}

std::string PortRange::toString() const {
  return first == last ? std::to_string(first) : fmt::format("{}-{}", first, last);
}

std::string Policy::id() const {
  switch (kind) {
    case PolicyKind::kKubernetes:
      return "knp:" + namespace_ + "/" + name;
    case PolicyKind::kCoral:
      return "np:" + namespace_ + "/" + name;
    case PolicyKind::kCoralGlobal:
      return "gnp:" + name;
  }
  return name;
}

bool policyBefore(const Policy& a, const Policy& b) {
  if (a.order != b.order) return a.order < b.order;
  return a.id() < b.id();
}

common::Labels effectiveLabels(const Endpoint& endpoint, const NamespaceInfo* ns) {
  common::Labels labels = endpoint.labels;
  labels[std::string(kNamespaceLabel)] = endpoint.namespace_;
  if (ns != nullptr) {
    for (const auto& [key, value] : ns->labels) {
      labels[std::string(kNamespaceLabelPrefix) + key] = value;
    }
  }
  return labels;
}

std::string selectorText(const SelectorNode& node, std::string_view key_prefix) {
  std::string out;
  const std::string key = std::string(key_prefix) + node.key;
  switch (node.op) {
    case SelectorOp::kAll:
      return "all()";
    case SelectorOp::kGlobal:
      return "global()";
    case SelectorOp::kHas:
      return "has(" + key + ")";
    case SelectorOp::kEquals:
      out = key + " == ";
      appendQuoted(node.values[0], out);
      return out;
    case SelectorOp::kIn:
      out = key + " in {";
      for (size_t i = 0; i < node.values.size(); ++i) {
        if (i > 0) out += ", ";
        appendQuoted(node.values[i], out);
      }
      return out + "}";
    case SelectorOp::kContains:
      out = key + " contains ";
      appendQuoted(node.values[0], out);
      return out;
    case SelectorOp::kStartsWith:
      out = key + " starts with ";
      appendQuoted(node.values[0], out);
      return out;
    case SelectorOp::kEndsWith:
      out = key + " ends with ";
      appendQuoted(node.values[0], out);
      return out;
    case SelectorOp::kNot:
      return "!(" + selectorText(node.children[0], key_prefix) + ")";
    case SelectorOp::kAnd:
    case SelectorOp::kOr: {
      std::vector<std::string> parts;
      for (const auto& child : node.children) {
        parts.push_back("(" + selectorText(child, key_prefix) + ")");
      }
      return join(parts, node.op == SelectorOp::kAnd ? " && " : " || ");
    }
  }
  return "all()";
}

Selector scopeToNamespace(const Selector& selector, std::string_view ns) {
  std::string text = fmt::format("({}) && {} == ", selector.canonical(), kNamespaceLabel);
  appendQuoted(std::string(ns), text);
  auto parsed = Selector::parse(text);
  // A namespace name is a DNS label and the selector was already valid: this cannot fail.
  return parsed.ok() ? *parsed : selector;
}

absl::StatusOr<Selector> scopeToNamespaces(const Selector& selector,
                                           const Selector& namespace_selector) {
  const std::string text =
      fmt::format("({}) && ({})", selector.canonical(),
                  selectorText(namespace_selector.root(), kNamespaceLabelPrefix));
  auto parsed = Selector::parse(text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(fmt::format(
        "namespaceSelector \"{}\": as endpoint labels ({}{}<key>): {}",
        namespace_selector.canonical(), kNamespaceLabelPrefix, "", errorMessage(parsed.status())));
  }
  return parsed;
}

}  // namespace coral::policy
