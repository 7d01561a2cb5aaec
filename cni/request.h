// The CNI request: the environment (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME,
// CNI_ARGS, CNI_PATH) and the network configuration on stdin, parsed and validated into one
// value. Pure: no I/O, so it is table-tested and fuzzed. Errors carry the spec's codes:
// 4 invalid environment, 6 stdin is not JSON, 7 invalid network configuration,
// 1 unsupported cniVersion (or a command the version does not have).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cni/error.h"
#include "cni/result.h"

namespace coral::cni {

enum class Command { kAdd, kDel, kCheck, kVersion, kStatus, kGc };

// "ADD", "DEL", ...
std::string_view commandName(Command command);

// The environment as name → value (main copies the CNI_* variables of the process).
using Environment = std::map<std::string, std::string, std::less<>>;

inline constexpr std::string_view kDefaultSocket = "/var/run/coral/cni.sock";
inline constexpr uint32_t kDefaultAddTimeoutMs = 30000;
inline constexpr uint32_t kDefaultTimeoutMs = 10000;  // every command but ADD
inline constexpr uint32_t kMaxTimeoutMs = 3600000;

// One (container, interface) the runtime still uses; GC's cni.dev/valid-attachments.
struct Attachment {
  std::string container_id;
  std::string ifname;

  friend bool operator==(const Attachment&, const Attachment&) = default;
};

struct Request {
  Command command = Command::kVersion;
  std::string container_id;  // CNI_CONTAINERID
  std::string netns;         // CNI_NETNS; may be empty on DEL (the namespace is gone)
  std::string ifname;        // CNI_IFNAME
  std::string cni_path;      // CNI_PATH (passed on, unused: the shim delegates nothing)
  std::vector<std::pair<std::string, std::string>> args;  // CNI_ARGS, in order
  std::string pod_namespace;  // K8S_POD_NAMESPACE, "default" when absent
  std::string pod_name;       // K8S_POD_NAME, the container id when absent

  // From the network configuration.
  std::string cni_version;
  std::string network_name;
  std::string config_json;  // stdin exactly as given
  std::optional<Result> prev_result;
  std::string socket_path;
  uint32_t timeout_ms = 0;
  std::string log_level;                      // empty: the shim's default
  std::optional<uint32_t> mtu;                // passed to corald inside config_json; checked here
  std::vector<Attachment> valid_attachments;  // GC only
};

// Parses and validates. VERSION never fails (its stdin may be anything); for the other
// commands the checks run environment first, then stdin, as the reference plugins do.
CniOr<Request> parseRequest(const Environment& env, std::string_view stdin_text);

// The version to tag an error or VERSION answer with: the configuration's cniVersion when
// it is readable and supported, otherwise latestVersion().
std::string replyVersion(std::string_view stdin_text);

// CNI_ARGS: "K=V;K2=V2". Empty pieces are skipped; a piece without '=' or with an empty
// key is an error (code 4), as is a key other than the ones Coral knows unless
// IgnoreUnknown is 1/true.
CniOr<std::vector<std::pair<std::string, std::string>>> parseCniArgs(std::string_view text);

// CNI_CONTAINERID: alphanumerics first, then alphanumerics, '_', '.', '-'.
bool isValidContainerId(std::string_view id);
// CNI_IFNAME: 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
bool isValidInterfaceName(std::string_view name);

}  // namespace coral::cni
