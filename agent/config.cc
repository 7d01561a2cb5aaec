#include "agent/config.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/ip.h"
#include "common/strings.h"
#include "model/codec.h"
#include "model/yaml.h"

extern char** environ;

namespace coral::agent {

void AgentConfig::validate(model::Validation& v) const {
  const std::string& d = address_detection;
  if (d != "auto" && !d.starts_with("cidr=") && !d.starts_with("interface=")) {
    v.at("addressDetection").error(fmt::format("\"{}\": use auto, cidr=CIDR or interface=NAME", d));
  }
  if (d.starts_with("cidr=")) {
    auto p = common::Prefix::parse(d.substr(5));
    if (!p.ok()) v.at("addressDetection").error(errorMessage(p.status()));
  }
  if (cni_socket.empty()) v.at("cniSocket").error("must not be empty");
  if (route_source == "bgp" && bgp == "disabled") {
    v.at("routeSource").error("\"bgp\" needs bgp: enabled");
  }
}

std::map<std::string, std::string> processEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

absl::StatusOr<AgentConfig> loadAgentConfig(const std::string& path,
                                            const std::map<std::string, std::string>& env) {
  model::Json json = model::Json::object();
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) {
      return absl::NotFoundError(
          fmt::format("config {}: cannot read: {}", path, std::strerror(errno)));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto docs = model::parseYamlDocuments(ss.str());
    if (docs.size() > 1) {
      return absl::InvalidArgumentError(fmt::format("config {}: one YAML document expected", path));
    }
    if (!docs.empty()) {
      if (!docs[0].json.ok()) {
        return absl::InvalidArgumentError(
            fmt::format("config {}: {}", path, errorMessage(docs[0].json.status())));
      }
      json = *docs[0].json;
    }
  }
  // Environment overrides, as if written in the file.
  auto set = [&](const char* var, const char* key, bool numeric) -> absl::Status {
    auto it = env.find(var);
    if (it == env.end() || it->second.empty()) return absl::OkStatus();
    if (numeric) {
      auto n = parseInt<int64_t>(it->second);
      if (!n) {
        return absl::InvalidArgumentError(
            fmt::format("{}=\"{}\" is not a number", var, it->second));
      }
      json[key] = *n;
    } else {
      json[key] = it->second;
    }
    return absl::OkStatus();
  };
  for (auto [var, key, numeric] : {std::tuple{"CORAL_NODENAME", "nodeName", false},
                                   {"CORAL_DATASTORE", "datastore", false},
                                   {"CORAL_CNI_SOCKET", "cniSocket", false},
                                   {"CORAL_HTTP_PORT", "httpPort", true},
                                   {"CORAL_MTU", "mtu", true},
                                   {"CORAL_UNDERLAY_INTERFACE", "underlayInterface", false},
                                   {"CORAL_ROUTE_SOURCE", "routeSource", false},
                                   {"CORAL_BGP", "bgp", false},
                                   {"CORAL_POLICY_BACKEND", "policyBackend", false},
                                   {"CORAL_VXLAN_VNI", "vxlanVNI", true},
                                   {"CORAL_VXLAN_PORT", "vxlanPort", true},
                                   {"CORAL_LOG_LEVEL", "logLevel", false}}) {
    if (auto s = set(var, key, numeric); !s.ok()) return s;
  }
  model::Validation v;
  AgentConfig config = model::readObject<AgentConfig>(json, v);
  if (!v.ok()) {
    return absl::InvalidArgumentError(fmt::format(
        "config {}: {}", path.empty() ? "(environment)" : path, join(v.errors(), "; ")));
  }
  if (config.node_name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    config.node_name = host;
  }
  return config;
}

}  // namespace coral::agent
