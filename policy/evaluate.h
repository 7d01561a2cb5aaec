// Evaluation of the abstract rule program against one packet, the way the dataplane
// walks it: the same rules, the same set members. The trace evaluator (trace.h) is built on
// this, so a trace explains exactly what the renderers program.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/program.h"

namespace coral::policy {

// The first packet of a connection (conntrack state NEW).
struct Packet {
  common::IpAddress source;
  common::IpAddress destination;
  uint8_t protocol = kProtoTcp;
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  std::optional<int> icmp_type;
  std::optional<int> icmp_code;
};

bool matches(const Match& match, const Packet& packet, const MemberMap& members);

// The outcome of one endpoint chain, with the decisions that led to it, one line each.
struct ChainVerdict {
  bool allowed = false;
  std::vector<std::string> steps;
};

ChainVerdict evaluateChain(const Program& program, const EndpointChain& chain, const Packet& packet,
                           const MemberMap& members);

}  // namespace coral::policy
