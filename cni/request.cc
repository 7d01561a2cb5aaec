// Parsing and validation of the CNI environment and network configuration.
#include "cni/request.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

#include "cni/version.h"
#include "common/strings.h"

namespace coral::cni {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 6> kKnownArgs = {
    "IgnoreUnknown", "K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_INFRA_CONTAINER_ID",
    "K8S_POD_UID",   "K8S_POD_RUNTIME"};

constexpr std::array<std::string_view, 2> kPluginTypes = {"coral", "coral-cni"};
constexpr std::array<std::string_view, 5> kLogLevels = {"debug", "info", "warn", "error", "off"};

CniError badEnv(std::string msg, std::string details = {}) {
  return makeError(kInvalidEnvironment, std::move(msg), std::move(details));
}
CniError badConfig(std::string msg, std::string details = {}) {
  return makeError(kInvalidNetworkConfig, std::move(msg), std::move(details));
}

std::optional<std::string_view> lookup(const Environment& env, std::string_view name) {
  const auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return std::string_view(it->second);
}

CniOr<Command> parseCommand(const Environment& env) {
  const auto text = lookup(env, "CNI_COMMAND");
  if (!text || text->empty()) return badEnv("CNI_COMMAND is not set");
  static constexpr std::pair<std::string_view, Command> kCommands[] = {
      {"ADD", Command::kAdd},         {"DEL", Command::kDel},       {"CHECK", Command::kCheck},
      {"VERSION", Command::kVersion}, {"STATUS", Command::kStatus}, {"GC", Command::kGc}};
  for (const auto& [name, command] : kCommands) {
    if (*text == name) return command;
  }
  return badEnv(fmt::format("CNI_COMMAND \"{}\" is unknown", *text),
                "expected ADD, DEL, CHECK, VERSION, STATUS or GC");
}

bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

// The network name rule of the spec, which is also the container id rule.
bool isValidName(std::string_view s) {
  return !s.empty() && std::isalnum(static_cast<unsigned char>(s.front())) &&
         std::all_of(s.begin(), s.end(), isNameChar);
}

// Environment checks per command: which variables must be present and well formed.
CniOr<bool> readEnvironment(const Environment& env, Request& request) {
  const bool needs_container = request.command == Command::kAdd ||
                               request.command == Command::kDel ||
                               request.command == Command::kCheck;
  const bool needs_netns = request.command == Command::kAdd || request.command == Command::kCheck;
  std::vector<std::string_view> missing;
  auto read = [&](std::string_view name, bool required, std::string& into) {
    const auto value = lookup(env, name);
    if (value && !value->empty()) {
      into = std::string(*value);
    } else if (required) {
      missing.push_back(name);
    }
  };
  read("CNI_CONTAINERID", needs_container, request.container_id);
  read("CNI_NETNS", needs_netns, request.netns);
  read("CNI_IFNAME", needs_container, request.ifname);
  read("CNI_PATH", false, request.cni_path);
  if (!missing.empty()) {
    return badEnv(fmt::format("{} {} not set for {}", join(missing, ", "),
                              missing.size() == 1 ? "is" : "are", commandName(request.command)));
  }
  if (!request.container_id.empty() && !isValidContainerId(request.container_id)) {
    return badEnv("CNI_CONTAINERID has invalid characters",
                  fmt::format("CNI_CONTAINERID \"{}\": expected [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                              request.container_id));
  }
  if (!request.ifname.empty() && !isValidInterfaceName(request.ifname)) {
    return badEnv("CNI_IFNAME is not a valid interface name",
                  fmt::format("CNI_IFNAME \"{}\": 1 to 15 bytes, not . or .., no '/', ':' or "
                              "spaces",
                              request.ifname));
  }
  const auto args_text = lookup(env, "CNI_ARGS");
  if (args_text) {
    auto args = parseCniArgs(*args_text);
    if (!args.ok()) return args.error();
    request.args = std::move(args).value();
  }
  request.pod_namespace = "default";
  request.pod_name = request.container_id;
  for (const auto& [key, value] : request.args) {
    if (key == "K8S_POD_NAMESPACE" && !value.empty()) request.pod_namespace = value;
    if (key == "K8S_POD_NAME" && !value.empty()) request.pod_name = value;
  }
  return true;
}

// Optional Coral keys and their types. Unknown keys are left for corald (it gets the
// whole configuration).
CniOr<bool> readCoralKeys(const Json& doc, Request& request) {
  request.socket_path = std::string(kDefaultSocket);
  request.timeout_ms = request.command == Command::kAdd ? kDefaultAddTimeoutMs : kDefaultTimeoutMs;
  if (const auto it = doc.find("socket"); it != doc.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
        it->get_ref<const std::string&>().front() != '/') {
      return badConfig(
          "socket must be an absolute path",
          fmt::format("socket: {}",
                      it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
    request.socket_path = it->get<std::string>();
  }
  if (const auto it = doc.find("timeout_ms"); it != doc.end()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() == 0 ||
        it->get<uint64_t>() > kMaxTimeoutMs) {
      return badConfig(
          fmt::format("timeout_ms must be an integer 1..{}", kMaxTimeoutMs),
          fmt::format("timeout_ms: {}",
                      it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
    request.timeout_ms = it->get<uint32_t>();
  }
  if (const auto it = doc.find("log_level"); it != doc.end()) {
    if (!it->is_string() || std::find(kLogLevels.begin(), kLogLevels.end(),
                                      it->get_ref<const std::string&>()) == kLogLevels.end()) {
      return badConfig(
          "log_level must be one of debug, info, warn, error, off",
          fmt::format("log_level: {}",
                      it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
    request.log_level = it->get<std::string>();
  }
  if (const auto it = doc.find("mtu"); it != doc.end()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() > 65535) {
      return badConfig("mtu must be an integer 0..65535 (0: detect)",
                       fmt::format("mtu: {}", it->dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace)));
    }
    request.mtu = it->get<uint32_t>();
  }
  return true;
}

CniOr<std::vector<Attachment>> readValidAttachments(const Json& doc) {
  std::vector<Attachment> out;
  const auto it = doc.find("cni.dev/valid-attachments");
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_array()) return badConfig("cni.dev/valid-attachments must be an array");
  for (const Json& item : *it) {
    const auto id = item.is_object() ? item.find("containerID") : item.end();
    const auto ifname = item.is_object() ? item.find("ifname") : item.end();
    if (!item.is_object() || id == item.end() || !id->is_string() || ifname == item.end() ||
        !ifname->is_string()) {
      return badConfig("cni.dev/valid-attachments[] must be {\"containerID\", \"ifname\"}",
                       item.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    out.push_back({id->get<std::string>(), ifname->get<std::string>()});
  }
  return out;
}

CniOr<bool> readConfig(std::string_view stdin_text, Request& request) {
  Json doc = Json::parse(stdin_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return makeError(kDecodingFailure, "the network configuration on stdin is not valid JSON");
  }
  if (!doc.is_object()) return badConfig("the network configuration must be a JSON object");
  request.config_json = std::string(stdin_text);

  const auto version = doc.find("cniVersion");
  if (version == doc.end() || !version->is_string() ||
      version->get_ref<const std::string&>().empty()) {
    return badConfig("cniVersion is missing from the network configuration");
  }
  request.cni_version = version->get<std::string>();
  if (!isSupportedVersion(request.cni_version)) {
    return makeError(kIncompatibleVersion,
                     fmt::format("cniVersion \"{}\" is not supported", request.cni_version),
                     fmt::format("coral-cni supports {}", join(supportedVersions(), ", ")));
  }
  if (request.command == Command::kCheck && !supportsCheck(request.cni_version)) {
    return makeError(
        kIncompatibleVersion,
        fmt::format("CHECK needs cniVersion 0.4.0 or later, got \"{}\"", request.cni_version));
  }
  if ((request.command == Command::kStatus || request.command == Command::kGc) &&
      !supportsStatusAndGc(request.cni_version)) {
    return makeError(kIncompatibleVersion,
                     fmt::format("{} needs cniVersion 1.1.0 or later, got \"{}\"",
                                 commandName(request.command), request.cni_version));
  }

  const auto name = doc.find("name");
  if (name == doc.end() || !name->is_string()) {
    return badConfig("name is missing from the network configuration");
  }
  request.network_name = name->get<std::string>();
  if (!isValidName(request.network_name)) {
    return badConfig(fmt::format("network name \"{}\" is invalid", request.network_name),
                     "expected [a-zA-Z0-9][a-zA-Z0-9_.-]*");
  }
  const auto type = doc.find("type");
  if (type == doc.end() || !type->is_string()) {
    return badConfig("type is missing from the network configuration");
  }
  if (std::find(kPluginTypes.begin(), kPluginTypes.end(), type->get_ref<const std::string&>()) ==
      kPluginTypes.end()) {
    return badConfig(fmt::format("type \"{}\" is not coral-cni's", type->get<std::string>()),
                     "expected \"coral\" (or \"coral-cni\")");
  }
  auto keys = readCoralKeys(doc, request);
  if (!keys.ok()) return keys.error();

  if (const auto prev = doc.find("prevResult"); prev != doc.end() && !prev->is_null()) {
    auto result = parseResult(prev->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                              request.cni_version);
    if (!result.ok()) return result.error();
    request.prev_result = std::move(result).value();
  }
  if (request.command == Command::kGc) {
    auto attachments = readValidAttachments(doc);
    if (!attachments.ok()) return attachments.error();
    request.valid_attachments = std::move(attachments).value();
  }
  return true;
}

}  // namespace

std::string_view commandName(Command command) {
  switch (command) {
    case Command::kAdd:
      return "ADD";
    case Command::kDel:
      return "DEL";
    case Command::kCheck:
      return "CHECK";
    case Command::kVersion:
      return "VERSION";
    case Command::kStatus:
      return "STATUS";
    case Command::kGc:
      return "GC";
  }
  return "?";
}

bool isValidContainerId(std::string_view id) { return isValidName(id); }

bool isValidInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || c == '\0';
  });
}

CniOr<std::vector<std::pair<std::string, std::string>>> parseCniArgs(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> args;
  bool ignore_unknown = false;
  for (std::string_view piece : split(text, ';', /*skip_empty=*/true)) {
    const auto eq = piece.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return badEnv("CNI_ARGS is malformed",
                    fmt::format("CNI_ARGS piece \"{}\" is not KEY=VALUE", piece));
    }
    std::string key(piece.substr(0, eq)), value(piece.substr(eq + 1));
    if (key == "IgnoreUnknown") {
      if (value == "1" || value == "true" || value == "True") {
        ignore_unknown = true;
      } else if (!(value == "0" || value == "false" || value == "False")) {
        return badEnv("CNI_ARGS is malformed",
                      fmt::format("IgnoreUnknown \"{}\" is not a boolean", value));
      }
    }
    args.emplace_back(std::move(key), std::move(value));
  }
  if (!ignore_unknown) {
    for (const auto& [key, value] : args) {
      if (std::find(kKnownArgs.begin(), kKnownArgs.end(), key) == kKnownArgs.end()) {
        return badEnv(fmt::format("CNI_ARGS has unknown key \"{}\"", key),
                      "set IgnoreUnknown=1 to pass keys coral-cni does not know");
      }
    }
  }
  return args;
}

std::string replyVersion(std::string_view stdin_text) {
  Json doc = Json::parse(stdin_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object()) {
    const auto version = doc.find("cniVersion");
    if (version != doc.end() && version->is_string() &&
        isSupportedVersion(version->get_ref<const std::string&>())) {
      return version->get<std::string>();
    }
  }
  return std::string(latestVersion());
}

CniOr<Request> parseRequest(const Environment& env, std::string_view stdin_text) {
  Request request;
  auto command = parseCommand(env);
  if (!command.ok()) return command.error();
  request.command = command.value();
  if (request.command == Command::kVersion) {
    request.cni_version = replyVersion(stdin_text);
    return request;
  }
  auto env_ok = readEnvironment(env, request);
  if (!env_ok.ok()) return env_ok.error();
  auto config_ok = readConfig(stdin_text, request);
  if (!config_ok.ok()) return config_ok.error();
  return request;
}

}  // namespace coral::cni
