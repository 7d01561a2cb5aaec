// Loading ClientConfig from in-cluster files, kubeconfig YAML and datastore URLs.
#include "datastore/kubernetes/kube_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "common/strings.h"

namespace coral::datastore::kubernetes {
namespace {

absl::StatusOr<std::string> readFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(fmt::format("{} {}: cannot read the file", what, path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A kubeconfig's "x-data" (base64) or "x" (a path relative to the kubeconfig's folder).
absl::StatusOr<std::string> dataOrFile(const YAML::Node& node, const std::string& key,
                                       const std::string& base_dir, const std::string& where) {
  if (node[key + "-data"]) {
    std::string decoded;
    if (!absl::Base64Unescape(node[key + "-data"].as<std::string>(), &decoded)) {
      return absl::InvalidArgumentError(fmt::format("{}: {}-data is not base64", where, key));
    }
    return decoded;
  }
  if (node[key]) {
    std::string path = node[key].as<std::string>();
    if (!path.starts_with("/")) path = base_dir + "/" + path;
    return readFile(path, fmt::format("{}: {}", where, key));
  }
  return std::string();
}

const YAML::Node findNamed(const YAML::Node& list, std::string_view name) {
  if (list && list.IsSequence()) {
    for (const auto& item : list) {
      if (item["name"] && item["name"].as<std::string>() == name) return item;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

}  // namespace

absl::Status parseServer(std::string_view server, ClientConfig& config) {
  std::string_view rest = server;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return absl::InvalidArgumentError(
        fmt::format("API server \"{}\": only https:// servers are supported", server));
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  std::string_view host = rest;
  std::string_view port;
  if (rest.starts_with("[")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(fmt::format("API server \"{}\": unclosed [", server));
    }
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(fmt::format("API server \"{}\": no host", server));
  }
  config.host = std::string(host);
  config.port = 443;
  if (!port.empty()) {
    auto p = parseInt<int>(port);
    if (!p || *p <= 0 || *p > 65535) {
      return absl::InvalidArgumentError(fmt::format("API server \"{}\": bad port", server));
    }
    config.port = *p;
  }
  return absl::OkStatus();
}

absl::StatusOr<ClientConfig> loadInClusterConfig(std::string_view serviceaccount_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0') {
    return absl::FailedPreconditionError(
        "in-cluster Kubernetes config: KUBERNETES_SERVICE_HOST is not set (not running in a "
        "pod? use kubernetes:///path/to/kubeconfig)");
  }
  ClientConfig config;
  config.host = host;
  config.port = 443;
  if (port != nullptr && *port != '\0') {
    auto p = parseInt<int>(port);
    if (!p) {
      return absl::InvalidArgumentError(fmt::format("KUBERNETES_SERVICE_PORT \"{}\"", port));
    }
    config.port = *p;
  }
  const std::string dir(serviceaccount_dir);
  auto ca = readFile(dir + "/ca.crt", "in-cluster CA");
  if (!ca.ok()) return ca.status();
  config.ca_pem = std::move(*ca);
  config.token_file = dir + "/token";
  auto token = readFile(config.token_file, "in-cluster service-account token");
  if (!token.ok()) return token.status();
  if (auto ns = readFile(dir + "/namespace", "namespace"); ns.ok() && !trim(*ns).empty()) {
    config.namespace_ = std::string(trim(*ns));
  }
  config.source = "in-cluster";
  return config;
}

absl::StatusOr<ClientConfig> loadKubeconfig(const std::string& path, std::string_view context) {
  auto text = readFile(path, "kubeconfig");
  if (!text.ok()) return text.status();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(fmt::format("kubeconfig {}: {}", path, e.what()));
  }
  const std::string base_dir =
      path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  try {
    std::string ctx_name(context);
    if (ctx_name.empty() && root["current-context"]) {
      ctx_name = root["current-context"].as<std::string>();
    }
    if (ctx_name.empty()) {
      return absl::InvalidArgumentError(
          fmt::format("kubeconfig {}: no current-context and no context= given", path));
    }
    const YAML::Node ctx = findNamed(root["contexts"], ctx_name);
    if (!ctx || !ctx["context"]) {
      return absl::InvalidArgumentError(
          fmt::format("kubeconfig {}: context \"{}\" not found", path, ctx_name));
    }
    const std::string cluster_name = ctx["context"]["cluster"].as<std::string>("");
    const std::string user_name = ctx["context"]["user"].as<std::string>("");
    const YAML::Node cluster = findNamed(root["clusters"], cluster_name);
    if (!cluster || !cluster["cluster"]) {
      return absl::InvalidArgumentError(fmt::format(
          "kubeconfig {}: context \"{}\": cluster \"{}\" not found", path, ctx_name, cluster_name));
    }
    ClientConfig config;
    config.source = path;
    const YAML::Node c = cluster["cluster"];
    if (absl::Status s = parseServer(c["server"].as<std::string>(""), config); !s.ok()) {
      return absl::InvalidArgumentError(fmt::format("kubeconfig {}: {}", path, errorMessage(s)));
    }
    const std::string where = fmt::format("kubeconfig {} cluster \"{}\"", path, cluster_name);
    auto ca = dataOrFile(c, "certificate-authority", base_dir, where);
    if (!ca.ok()) return ca.status();
    config.ca_pem = std::move(*ca);
    config.insecure_skip_verify = c["insecure-skip-tls-verify"].as<bool>(false);
    if (ctx["context"]["namespace"]) {
      config.namespace_ = ctx["context"]["namespace"].as<std::string>();
    }
    const YAML::Node user = findNamed(root["users"], user_name);
    if (user && user["user"]) {
      const YAML::Node u = user["user"];
      const std::string uwhere = fmt::format("kubeconfig {} user \"{}\"", path, user_name);
      if (u["token"]) config.token = u["token"].as<std::string>();
      if (u["tokenFile"]) config.token_file = u["tokenFile"].as<std::string>();
      auto cert = dataOrFile(u, "client-certificate", base_dir, uwhere);
      if (!cert.ok()) return cert.status();
      auto key = dataOrFile(u, "client-key", base_dir, uwhere);
      if (!key.ok()) return key.status();
      config.client_cert_pem = std::move(*cert);
      config.client_key_pem = std::move(*key);
      if (u["exec"] || u["auth-provider"]) {
        return absl::UnimplementedError(fmt::format(
            "{}: exec and auth-provider credentials are not supported (use a token or client "
            "certificate)",
            uwhere));
      }
    }
    return config;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(fmt::format("kubeconfig {}: {}", path, e.what()));
  }
}

absl::StatusOr<ClientConfig> configFromUrl(std::string_view url) {
  std::string_view rest = url;
  if (!rest.starts_with("kubernetes")) {
    return absl::InvalidArgumentError(fmt::format("datastore URL \"{}\": not kubernetes", url));
  }
  rest.remove_prefix(10);
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string path;
  if (rest.starts_with("://")) {
    path = std::string(rest.substr(3));
  } else if (!rest.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "datastore URL \"{}\": use kubernetes or kubernetes:///path/to/kubeconfig", url));
  }
  std::string context, ns, sa_dir(kServiceAccountDir);
  std::optional<int> timeout_ms, max_retries, sweep_ms, qps, burst;
  for (std::string_view pair : split(query, '&', true)) {
    auto eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    const std::string value =
        eq == std::string_view::npos ? "" : percentDecode(pair.substr(eq + 1));
    auto number = [&](std::optional<int>& out) -> absl::Status {
      out = parseInt<int>(value);
      if (!out || *out < 0) {
        return absl::InvalidArgumentError(
            fmt::format("datastore URL \"{}\": {}=\"{}\" is not a number", url, name, value));
      }
      return absl::OkStatus();
    };
    absl::Status s;
    if (name == "context") {
      context = value;
    } else if (name == "namespace") {
      ns = value;
    } else if (name == "serviceaccount_dir") {
      sa_dir = value;
    } else if (name == "timeout_ms") {
      s = number(timeout_ms);
    } else if (name == "max_retries") {
      s = number(max_retries);
    } else if (name == "lease_sweep_ms") {
      s = number(sweep_ms);
    } else if (name == "qps") {
      s = number(qps);
    } else if (name == "burst") {
      s = number(burst);
    } else {
      return absl::InvalidArgumentError(
          fmt::format("datastore URL \"{}\": unknown option \"{}\"", url, name));
    }
    if (!s.ok()) return s;
  }
  absl::StatusOr<ClientConfig> config;
  if (path.empty()) {
    const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* kubeconfig = std::getenv("KUBECONFIG");
    const char* home = std::getenv("HOME");
    if (host != nullptr && *host != '\0') {
      config = loadInClusterConfig(sa_dir);
    } else if (kubeconfig != nullptr && *kubeconfig != '\0') {
      config = loadKubeconfig(std::string(split(kubeconfig, ':', true).front()), context);
    } else if (home != nullptr) {
      config = loadKubeconfig(std::string(home) + "/.kube/config", context);
    } else {
      return absl::FailedPreconditionError(
          "datastore kubernetes: not in a cluster (no KUBERNETES_SERVICE_HOST), no KUBECONFIG "
          "and no HOME");
    }
  } else {
    config = loadKubeconfig(path, context);
  }
  if (!config.ok()) return config.status();
  if (!ns.empty()) config->namespace_ = ns;
  if (timeout_ms) config->timeout = std::chrono::milliseconds(*timeout_ms);
  if (max_retries) config->max_retries = *max_retries;
  if (sweep_ms) config->lease_sweep = std::chrono::milliseconds(*sweep_ms);
  if (qps) config->qps = *qps;
  if (burst) config->burst = std::max(1, *burst);
  return config;
}

}  // namespace coral::datastore::kubernetes
