// Kernel route installation through agent/dataplane's Netlink.
#include "bgp/bgpd/kernel.h"

#include "agent/dataplane/netlink.h"
#include "common/log.h"
#include "common/strings.h"

namespace coral::bgp {

KernelRoutes::KernelRoutes(std::unique_ptr<agent::Netlink> nl, uint8_t protocol)
    : nl_(std::move(nl)), protocol_(protocol) {}
KernelRoutes::~KernelRoutes() = default;

absl::StatusOr<std::unique_ptr<KernelRoutes>> KernelRoutes::open(uint8_t protocol) {
  auto nl = agent::Netlink::open();
  if (!nl.ok()) return nl.status();
  return std::unique_ptr<KernelRoutes>(new KernelRoutes(std::move(*nl), protocol));
}

size_t KernelRoutes::leftoverRoutes() {
  auto routes = nl_->routes(protocol_);
  return routes.ok() ? routes->size() : 0;
}

void KernelRoutes::apply(const std::vector<BestPathChange>& changes) {
  for (const BestPathChange& c : changes) {
    agent::Route route;
    route.dst = c.prefix;
    route.protocol = protocol_;
    absl::Status s;
    if (c.withdrawn || c.local || c.next_hops.empty()) {
      s = nl_->deleteRoute(route);
      if (absl::IsNotFound(s)) s = absl::OkStatus();
    } else {
      route.gateway = c.next_hops.front();
      s = nl_->replaceRoute(route);
    }
    if (!s.ok()) {
      log::warn("coral-bgpd: kernel route",
                {{"prefix", c.prefix.toString()}, {"error", errorMessage(s)}});
    }
  }
}

void KernelRoutes::flush() {
  auto routes = nl_->routes(protocol_);
  if (!routes.ok()) return;
  for (const agent::Route& r : *routes) (void)nl_->deleteRoute(r);
}

}  // namespace coral::bgp
