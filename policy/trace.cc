// Policy trace over the compiled program (see trace.h).
#include "policy/trace.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace coral::policy {
namespace {

struct End {
  common::IpAddress address;
  const Endpoint* endpoint = nullptr;
};

absl::StatusOr<End> resolve(const Snapshot& snapshot, const std::string& text, bool is_source) {
  const char* which = is_source ? "from" : "to";
  if (auto ip = common::IpAddress::parse(text); ip.ok()) {
    return End{*ip, snapshot.findEndpointByAddress(*ip)};
  }
  const Endpoint* e = snapshot.findEndpoint(text);
  if (e == nullptr) {
    return absl::NotFoundError(
        fmt::format("{} \"{}\": neither an IP address nor a known endpoint ns/pod", which, text));
  }
  if (e->addresses.empty()) {
    return absl::FailedPreconditionError(
        fmt::format("{} \"{}\": the endpoint has no address yet", which, text));
  }
  return End{e->addresses.front(), e};
}

std::string describeEnd(const End& end) {
  return end.endpoint ? fmt::format("{} ({})", end.address.toString(), end.endpoint->id())
                      : end.address.toString();
}

}  // namespace

absl::Status parsePortSpec(std::string_view text, TraceRequest& request) {
  auto parts = split(text, '/');
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("port \"{}\": {}", text, why));
  };
  if (auto proto = protocolNumber(parts[0]); proto && !parseInt<int>(parts[0])) {
    if (*proto != kProtoIcmp && *proto != kProtoIcmpV6) return bad("expected PORT/PROTOCOL");
    request.protocol = *proto;
    if (parts.size() > 3) return bad("expected icmp[/TYPE[/CODE]]");
    if (parts.size() > 1) request.icmp_type = parseInt<int>(parts[1]);
    if (parts.size() > 2) request.icmp_code = parseInt<int>(parts[2]);
    if ((parts.size() > 1 && !request.icmp_type) || (parts.size() > 2 && !request.icmp_code)) {
      return bad("ICMP type and code are numbers");
    }
    return absl::OkStatus();
  }
  auto port = parseInt<uint16_t>(parts[0]);
  if (!port || *port == 0) return bad("not a port number 1-65535");
  request.port = *port;
  request.protocol = kProtoTcp;
  if (parts.size() == 2) {
    auto proto = protocolNumber(parts[1]);
    if (!proto || !protocolHasPorts(*proto))
      return bad("protocol is not tcp, udp, sctp or udplite");
    request.protocol = *proto;
  } else if (parts.size() > 2) {
    return bad("expected PORT/PROTOCOL");
  }
  return absl::OkStatus();
}

const Tracer::NodeState& Tracer::node(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) {
    NodeState state;
    state.program = compile(snapshot_, name);
    state.members = computeMembers(state.program, snapshot_);
    it = nodes_.emplace(name, std::move(state)).first;
  }
  return it->second;
}

absl::StatusOr<TraceResult> Tracer::trace(const TraceRequest& request) {
  auto from = resolve(snapshot_, request.from, true);
  if (!from.ok()) return from.status();
  auto to = resolve(snapshot_, request.to, false);
  if (!to.ok()) return to.status();
  if (from->address.family() != to->address.family()) {
    return absl::InvalidArgumentError(fmt::format("from {} and to {} are different IP families",
                                                  from->address.toString(),
                                                  to->address.toString()));
  }
  Packet packet{from->address, to->address,       request.protocol, 0,
                request.port,  request.icmp_type, request.icmp_code};
  TraceResult result;
  result.summary = fmt::format("{} {} -> {}", protocolName(request.protocol), describeEnd(*from),
                               describeEnd(*to));
  if (protocolHasPorts(request.protocol)) {
    result.summary += fmt::format(" port {}", request.port);
  } else if (request.icmp_type) {
    result.summary += fmt::format(" type {}", *request.icmp_type);
    if (request.icmp_code) result.summary += fmt::format(" code {}", *request.icmp_code);
  }
  result.allowed = true;
  if (from->endpoint != nullptr && from->endpoint == to->endpoint) {
    result.note = "a pod talking to itself never leaves its network namespace: always allowed";
    return result;
  }
  auto hop = [&](const Endpoint& e, Direction dir) {
    const NodeState& state = node(e.node);
    const EndpointProgram* ep = state.program.findEndpoint(e.id());
    if (ep == nullptr) return;
    TraceHop h{e.id(), e.node, dir,
               evaluateChain(state.program, ep->chain(dir), packet, state.members)};
    result.allowed = result.allowed && h.verdict.allowed;
    result.hops.push_back(std::move(h));
  };
  if (from->endpoint) hop(*from->endpoint, Direction::kEgress);
  if (result.allowed && to->endpoint) hop(*to->endpoint, Direction::kIngress);
  return result;
}

std::string TraceResult::toString() const {
  std::string out = "trace " + summary + "\n";
  if (!note.empty()) {
    out += note + "\n";
  } else if (hops.empty()) {
    out += "neither end is a Coral endpoint: no policy applies\n";
  }
  for (const auto& h : hops) {
    out += fmt::format("{} of {} (node {}):\n", directionName(h.direction), h.endpoint, h.node);
    for (const auto& step : h.verdict.steps) out += "  " + step + "\n";
    out += fmt::format("  => {}\n", h.verdict.allowed ? "allowed" : "denied");
  }
  out += fmt::format("verdict: {}\n", allowed ? "ALLOW" : "DENY");
  return out;
}

}  // namespace coral::policy
