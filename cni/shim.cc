// The shim's flow: parse, call the agent, format per version.
//
// Choices the spec leaves open, written down once here:
// - DEL when corald is down answers 11 (try again later) rather than success: corald holds
//   the address and the veth, so a DEL that "succeeds" without it would leak both; the
//   runtime retries DEL until it succeeds. DEL of a container corald no longer knows is
//   corald's to answer with success (DEL is idempotent there), with or without a netns.
// - ADD with a prevResult: corald gets it (normalised to 1.0.0) and answers only what it
//   added; the shim prints the prevResult with that appended (mergeResults), as the spec
//   asks of a plugin that adds to a chain. An empty answer passes the prevResult on.
// - GC against a corald without the Gc rpc succeeds as a no-op: corald reconciles its
//   endpoints against the datastore by itself, so nothing is lost by skipping.
// - STATUS is success only when corald answers Status; any failure to reach it is 50.
#include "cni/shim.h"

#include <fmt/format.h>

#include "cni/version.h"
#include "common/log.h"

namespace coral::cni {

Result mergeResults(const Result& prev, const Result& added) {
  Result out = prev;
  const int offset = static_cast<int>(prev.interfaces.size());
  out.interfaces.insert(out.interfaces.end(), added.interfaces.begin(), added.interfaces.end());
  for (IpConfig ip : added.ips) {
    if (ip.interface) *ip.interface += offset;
    out.ips.push_back(std::move(ip));
  }
  out.routes.insert(out.routes.end(), added.routes.begin(), added.routes.end());
  if (!added.dns.empty()) out.dns = added.dns;
  return out;
}
namespace {

ShimOutput errorOutput(const CniError& error, std::string_view version) {
  return {formatError(error, version) + "\n", 1};
}

std::string_view rpcName(Command command) {
  switch (command) {
    case Command::kAdd:
      return "Add";
    case Command::kDel:
      return "Del";
    case Command::kCheck:
      return "Check";
    case Command::kStatus:
      return "Status";
    case Command::kGc:
      return "Gc";
    case Command::kVersion:
      break;
  }
  return "?";
}

// A result corald sent must survive the same checks a chained plugin applies to it.
std::optional<CniError> checkAgentResult(const Result& result) {
  auto reparsed = parseResult(formatResult(result, "1.0.0"), "1.0.0");
  if (reparsed.ok()) return std::nullopt;
  return makeError(kBadAgentAnswer, "corald answered an invalid result", reparsed.error().details);
}

}  // namespace

CniError agentFailureError(const Request& request, const AgentFailure& failure) {
  using Kind = AgentFailure::Kind;
  const std::string_view rpc = rpcName(request.command);
  if (request.command == Command::kStatus) {
    return makeError(kPluginNotAvailable, "plugin not available: corald is not ready",
                     failure.details);
  }
  switch (failure.kind) {
    case Kind::kUnreachable:
      return makeError(kTryAgainLater,
                       fmt::format("corald is not reachable on {}", request.socket_path),
                       failure.details);
    case Kind::kTimeout:
      return makeError(
          kTryAgainLater,
          fmt::format("timeout: corald did not answer {} within {} ms", rpc, request.timeout_ms),
          failure.details);
    case Kind::kUnimplemented:
      return makeError(kBadAgentAnswer, fmt::format("corald does not serve Cni.{}", rpc),
                       failure.details);
    case Kind::kOther:
      break;
  }
  return makeError(kTryAgainLater, fmt::format("corald failed to answer {}", rpc), failure.details);
}

ShimOutput runShim(const Environment& env, std::string_view stdin_text, Agent& agent) {
  auto parsed = parseRequest(env, stdin_text);
  if (!parsed.ok()) return errorOutput(parsed.error(), replyVersion(stdin_text));
  const Request& request = parsed.value();
  if (request.command == Command::kVersion) {
    return {formatVersionInfo(request.cni_version) + "\n", 0};
  }
  if (!request.log_level.empty()) {
    log::Level level;
    if (log::parseLevel(request.log_level, &level)) log::setLevel(level);
  }
  log::debug("cni request", {{"command", commandName(request.command)},
                             {"container", request.container_id},
                             {"netns", request.netns},
                             {"ifname", request.ifname},
                             {"cniVersion", request.cni_version}});

  const AgentAnswer answer = agent.call(request);
  if (const auto* failure = std::get_if<AgentFailure>(&answer)) {
    if (request.command == Command::kGc && failure->kind == AgentFailure::Kind::kUnimplemented) {
      log::info("GC skipped: corald has no Gc rpc; it garbage-collects by reconciling itself");
      return {"", 0};
    }
    const CniError error = agentFailureError(request, *failure);
    log::warn("corald call failed", {{"command", commandName(request.command)},
                                     {"error", error.msg},
                                     {"details", error.details}});
    return errorOutput(error, request.cni_version);
  }
  if (const auto* error = std::get_if<CniError>(&answer)) {
    return errorOutput(*error, request.cni_version);
  }
  const Result& result = std::get<Result>(answer);
  if (request.command != Command::kAdd) return {"", 0};
  if (auto bad = checkAgentResult(result)) return errorOutput(*bad, request.cni_version);
  if (request.prev_result) {
    return {formatResult(mergeResults(*request.prev_result, result), request.cni_version) + "\n",
            0};
  }
  return {formatResult(result, request.cni_version) + "\n", 0};
}

}  // namespace coral::cni
