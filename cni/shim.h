// The shim's whole flow without I/O: parse the request, ask the agent (corald) through the
// Agent seam, and turn the answer into what the plugin prints and its exit status.
// main.cc supplies the gRPC Agent; tests supply their own.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "cni/error.h"
#include "cni/request.h"
#include "cni/result.h"

namespace coral::cni {

// Why the agent gave no answer of its own.
struct AgentFailure {
  enum class Kind { kUnreachable, kTimeout, kUnimplemented, kOther };
  Kind kind = Kind::kOther;
  std::string details;  // e.g. the transport's message
};

// corald's answer: a result (empty for DEL, CHECK, STATUS, GC), corald's own CniError,
// or no answer at all.
using AgentAnswer = std::variant<Result, CniError, AgentFailure>;

// The seam to corald. One call per request; the command picks the rpc and the request
// carries the socket path and timeout.
class Agent {
 public:
  virtual ~Agent() = default;
  virtual AgentAnswer call(const Request& request) = 0;
};

struct ShimOutput {
  std::string stdout_text;  // empty or one JSON document followed by "\n"
  int exit_code = 0;

  friend bool operator==(const ShimOutput&, const ShimOutput&) = default;
};

// Runs one CNI invocation. Never throws; every failure becomes a CNI error on stdout and
// exit status 1. Applies the configuration's log_level to coral::log.
ShimOutput runShim(const Environment& env, std::string_view stdin_text, Agent& agent);

// How an agent failure reads for a command: 11 (try again later) for ADD/DEL/CHECK/GC,
// 50 (plugin not available) for STATUS, 100 when corald lacks the rpc.
CniError agentFailureError(const Request& request, const AgentFailure& failure);

// A chained ADD's output: the prevResult with what corald added appended (its interfaces
// after the earlier ones, its ips' interface indexes shifted to match, its routes; its DNS
// replaces the earlier one only when it has some).
Result mergeResults(const Result& prev, const Result& added);

// Coral's own code for "corald gave an answer the shim cannot use".
inline constexpr uint32_t kBadAgentAnswer = 100;

}  // namespace coral::cni
