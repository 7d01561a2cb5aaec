// libFuzzer target for the BGP message decoder: any bytes, under each session flavour,
// must decode without crashing or reading out of bounds; whatever decodes without a
// session reset must re-encode, and the re-encoding must decode again.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bgp/wire/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coral::bgp;
  const std::span<const uint8_t> bytes(data, size);
  for (const SessionContext ctx :
       {SessionContext{true, true, 65000, 65001}, SessionContext{false, true, 65000, 65001},
        SessionContext{true, false, 65000, 65000}}) {
    // Stream framing as the session would do it.
    std::span<const uint8_t> stream = bytes;
    while (size_t n = nextMessageSize(stream)) {
      if (n > stream.size()) break;
      const MessageDecodeResult result = decodeMessage(stream.first(n), ctx);
      if (result.message && result.action() < ErrorAction::kAfiSafiDisable) {
        std::vector<uint8_t> out;
        if (const auto* update = std::get_if<Update>(&*result.message)) {
          if (encodeUpdate(*update, ctx, out).ok()) decodeMessage(out, ctx);
        } else if (const auto* open = std::get_if<Open>(&*result.message)) {
          encodeOpen(*open, out);
          decodeMessage(out, ctx);
        }
      }
      stream = stream.subspan(n);
    }
  }
  return 0;
}
