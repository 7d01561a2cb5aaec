#include "model/kinds/k8s.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"
#include "model/validators.h"

namespace coral::model {

void Namespace::applyDefaults(Namespace& ns) {
  ns.metadata.labels["kubernetes.io/metadata.name"] = ns.metadata.name;
}

void LabelSelectorRequirement::validate(Validation& v) const {
  if (auto s = common::validateLabelKey(key); !s.ok()) v.at("key").error(errorMessage(s));
  const bool set_op = op == "In" || op == "NotIn";
  if (set_op && values.empty())
    v.at("values").error(fmt::format("{} needs at least one value", op));
  if (!set_op && !values.empty()) v.at("values").error(fmt::format("{} takes no values", op));
  for (size_t i = 0; i < values.size(); ++i) {
    if (auto s = common::validateLabelValue(values[i]); !s.ok()) {
      v.at("values").at(i).error(errorMessage(s));
    }
  }
}

void LabelSelectorSpec::validate(Validation& v) const {
  for (const auto& [key, value] : match_labels) {
    auto s = common::validateLabelKey(key);
    if (s.ok()) s = common::validateLabelValue(value);
    if (!s.ok()) v.at("matchLabels").at(key).error(errorMessage(s));
  }
}

bool LabelSelectorSpec::matches(const common::Labels& labels) const {
  for (const auto& [key, value] : match_labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const auto& req : match_expressions) {
    auto it = labels.find(req.key);
    const bool has = it != labels.end();
    const bool in =
        has && std::find(req.values.begin(), req.values.end(), it->second) != req.values.end();
    if (req.op == "In" && !in) return false;
    if (req.op == "NotIn" && in) return false;
    if (req.op == "Exists" && !has) return false;
    if (req.op == "DoesNotExist" && has) return false;
  }
  return true;
}

void IPBlock::validate(Validation& v) const {
  auto range = checkCidr(v.at("cidr"), cidr);
  for (size_t i = 0; i < except.size(); ++i) {
    auto hole = checkCidr(v.at("except").at(i), except[i]);
    if (range && hole && (!range->contains(*hole) || *hole == *range)) {
      v.at("except").at(i).error(
          fmt::format("\"{}\" must be strictly inside cidr {}", except[i], cidr));
    }
  }
}

void NetworkPolicyPeer::validate(Validation& v) const {
  if (ip_block && (pod_selector || namespace_selector)) {
    v.error("ipBlock cannot be combined with podSelector or namespaceSelector in one peer");
  }
  if (!ip_block && !pod_selector && !namespace_selector) {
    v.error("a peer needs podSelector, namespaceSelector or ipBlock");
  }
}

void NetworkPolicyPort::validate(Validation& v) const {
  if (port && port->isInt() && (port->intValue() < 1 || port->intValue() > 65535)) {
    v.at("port").error(fmt::format("{} is not a port (1-65535)", port->intValue()));
  }
  if (port && port->isString() &&
      (port->stringValue().empty() || port->stringValue().size() > 15)) {
    v.at("port").error(
        fmt::format("\"{}\" is not a port name (1-15 characters)", port->stringValue()));
  }
  if (end_port) {
    if (!port || !port->isInt()) {
      v.at("endPort").error("needs a numeric port");
    } else if (*end_port < port->intValue()) {
      v.at("endPort").error(fmt::format("{} is less than port {}", *end_port, port->intValue()));
    }
  }
}

std::vector<std::string> effectivePolicyTypes(const KubernetesNetworkPolicySpec& spec) {
  if (!spec.policy_types.empty()) return spec.policy_types;
  std::vector<std::string> types{"Ingress"};
  if (!spec.egress.empty()) types.push_back("Egress");
  return types;
}

}  // namespace coral::model
