// Speaker: Coral's BGP speaker as a library — the host interface corald and coral-bgpd
// use. It runs one Boost.Asio event loop on its own thread; that thread owns every
// session, the RIBs and the config. The methods here post to it (and, for queries and
// reconfiguration, wait for the answer), so they may be called from any thread except
// from inside the best-path callback, which runs on the speaker's thread.
//
//   auto speaker = bgp::Speaker::start(config, [](const auto& changes) { install(changes); });
//   (*speaker)->originate(prefix, {});      // our own route, exported to every peer
//   (*speaker)->withdraw(prefix);
//
// Asio stays out of this header.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bgp/speaker/config.h"
#include "bgp/speaker/status.h"
#include "bgp/wire/attributes.h"
#include "common/ip.h"

namespace coral::bgp {

using BestPathCallback = std::function<void(const std::vector<BestPathChange>&)>;

class Speaker {
 public:
  // Binds the listener (when config.listen) and starts every peer. Errors: the config is
  // invalid or the listener cannot bind.
  static absl::StatusOr<std::unique_ptr<Speaker>> start(SpeakerConfig config,
                                                        BestPathCallback on_best_path = {});
  // Stops every session (Cease) and the event loop.
  ~Speaker();
  Speaker(const Speaker&) = delete;
  Speaker& operator=(const Speaker&) = delete;

  // Originates `prefix` with `attrs` (ORIGIN defaults to IGP, the AS_PATH to empty; the
  // next hop is always "self" on export). Replaces an earlier origination.
  void originate(const common::Prefix& prefix, PathAttributes attrs = {});
  void withdraw(const common::Prefix& prefix);

  // Applies a new config in place: added peers start, removed peers stop, peers whose
  // session parameters changed restart, peers whose policy changed are re-filtered from
  // their Adj-RIB-In and re-exported without a reset; others are untouched.
  absl::Status reconfigure(SpeakerConfig config);

  // Stops every session with Cease/Administrative Shutdown and `message` (RFC 9003).
  void shutdown(std::string_view message);

  std::vector<PeerStatus> peers();
  // Every route, or those equal to / inside `prefix`.
  std::vector<RouteStatus> routes(std::optional<common::Prefix> prefix = std::nullopt);
  // The port the listener bound (useful with listen_port 0).
  uint16_t listenPort() const;

  class Impl;

 private:
  explicit Speaker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coral::bgp
