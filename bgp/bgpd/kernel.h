// Installs coral-bgpd's best paths into the kernel's main table with its own route
// protocol number, so it never touches a route it does not own. Runs on the speaker's
// thread (the best-path callback).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "bgp/speaker/status.h"

namespace coral::agent {
class Netlink;
}

namespace coral::bgp {

class KernelRoutes {
 public:
  static absl::StatusOr<std::unique_ptr<KernelRoutes>> open(uint8_t protocol);
  ~KernelRoutes();
  // Routes with our protocol left by an earlier run (e.g. before a crash).
  size_t leftoverRoutes();
  void apply(const std::vector<BestPathChange>& changes);
  // Deletes every route with our protocol.
  void flush();

 private:
  KernelRoutes(std::unique_ptr<agent::Netlink> nl, uint8_t protocol);
  std::unique_ptr<agent::Netlink> nl_;
  uint8_t protocol_;
};

}  // namespace coral::bgp
