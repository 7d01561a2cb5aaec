// libFuzzer target for the BGP message decoder: any bytes, under each session flavour,
// must decode without crashing or reading out of bounds. Whatever decodes cleanly must
// survive a round trip: encode, decode again, and get the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "bgp/wire/message.h"

namespace {

using namespace coral::bgp;

void check(bool ok) {
  if (!ok) std::abort();
}

void roundTrip(const Message& message, const SessionContext& ctx) {
  std::vector<uint8_t> out;
  if (const auto* update = std::get_if<Update>(&message)) {
    // IPv4 routes received in MP_REACH come back in the classic fields: not comparable.
    if (!update->announced_v4.empty() && update->attributes.mp_next_hop) return;
    // An UPDATE that carried only attributes decodes to nothing, which encodes as End-of-RIB.
    if (!update->announces() && update->withdrawn_v4.empty() && update->withdrawn_v6.empty() &&
        !update->end_of_rib) {
      return;
    }
    if (!encodeUpdate(*update, ctx, out).ok()) return;  // e.g. no next hop, too big
  } else if (const auto* open = std::get_if<Open>(&message)) {
    encodeOpen(*open, out);
  } else if (const auto* n = std::get_if<Notification>(&message)) {
    encodeNotification(*n, out);
  } else if (const auto* rr = std::get_if<RouteRefresh>(&message)) {
    encodeRouteRefresh(*rr, out);
  } else {
    encodeKeepalive(out);
  }
  const MessageDecodeResult again = decodeMessage(out, ctx);
  check(again.errors.empty());
  check(again.message.has_value() && *again.message == message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  for (const SessionContext ctx :
       {SessionContext{true, true, 65000, 65001}, SessionContext{false, true, 65000, 65001},
        SessionContext{true, false, 65000, 65000}}) {
    // Stream framing as the session would do it.
    std::span<const uint8_t> stream = bytes;
    while (size_t n = nextMessageSize(stream)) {
      if (n > stream.size()) break;
      const MessageDecodeResult result = decodeMessage(stream.first(n), ctx);
      if (result.message && result.errors.empty()) roundTrip(*result.message, ctx);
      stream = stream.subspan(n);
    }
  }
  return 0;
}
