// libFuzzer target for coral-cni's request parser (cni/request.h): untrusted stdin and
// CNI_ARGS. Input layout: line 1 is CNI_COMMAND, line 2 CNI_ARGS, the rest is stdin.
// Properties beyond "no crash": errors carry a spec code and format as JSON; a parsed
// prevResult survives format → parse in the request's version (mtu aside before 1.1.0).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cni/request.h"
#include "cni/result.h"
#include "cni/version.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "request_fuzz property failed: %s\n", what);
    std::abort();
  }
}

std::string_view takeLine(std::string_view& rest) {
  const auto nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coral::cni;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view command = takeLine(rest);
  const std::string_view args = takeLine(rest);
  Environment env = {{"CNI_COMMAND", std::string(command)},
                     {"CNI_CONTAINERID", "c1"},
                     {"CNI_NETNS", "/var/run/netns/p"},
                     {"CNI_IFNAME", "eth0"},
                     {"CNI_ARGS", std::string(args)}};
  const auto parsed = parseRequest(env, rest);
  if (!parsed.ok()) {
    const uint32_t code = parsed.error().code;
    check(code == kIncompatibleVersion || code == kInvalidEnvironment || code == kDecodingFailure ||
              code == kInvalidNetworkConfig,
          "error code is one the parser gives");
    const std::string doc = formatError(parsed.error(), replyVersion(rest));
    check(!nlohmann::json::parse(doc, nullptr, false).is_discarded(), "error is JSON");
    return 0;
  }
  const Request& request = parsed.value();
  check(isSupportedVersion(request.cni_version), "version is supported");
  if (request.command != Command::kVersion) {
    check(!request.network_name.empty(), "name is set");
    check(request.timeout_ms > 0, "timeout is positive");
  }
  if (request.prev_result) {
    Result want = *request.prev_result;
    if (compareVersions(request.cni_version, "1.1.0") < 0) {
      for (Interface& iface : want.interfaces) iface.mtu.reset();
    }
    const std::string text = formatResult(*request.prev_result, request.cni_version);
    const auto again = parseResult(text, request.cni_version);
    check(again.ok(), "formatted prevResult parses");
    check(again.value() == want, "prevResult round-trips");
  }
  return 0;
}
