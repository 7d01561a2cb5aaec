// The route reflectors of a `bgp: rr` lab (see reflector.h).
#include "ctl/lab/reflector.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "ctl/lab/shell.h"

namespace coral::lab {

std::string reflectorConfig(const LabState& state, const LabReflector& rr, const DataCenter& dc) {
  return fmt::format(
      "# coral-bgpd for lab {} route reflector {} (AS {}), written by coralctl lab.\n"
      "routerID: {}\n"
      "clusterID: {}\n"
      "asNumber: {}\n"
      "statusSocket: {}\n"
      "kernel: {{install: false}}\n"
      "dynamicNeighbours:\n"
      "  - {{prefix: {}, asNumber: {}, routeReflectorClient: true}}\n",
      state.name, rr.name, rr.as, rr.address, rr.address, rr.as, rr.socket, dc.underlay, rr.as);
}

absl::Status startReflector(LabState& state, const DataCenter& dc, const std::string& coral_bgpd,
                            Progress& progress) {
  const LabRouter* router = nullptr;
  for (const auto& r : state.routers) {
    if (r.dc == dc.name) router = &r;
  }
  if (router == nullptr) return absl::NotFoundError("no router for data center " + dc.name);
  auto underlay = common::Prefix::parse(dc.underlay);
  if (!underlay.ok()) return underlay.status();
  LabReflector rr;
  rr.name = dc.name + "-rr";
  rr.dc = dc.name;
  rr.as = dc.node_as;
  rr.address = underlay->addressAt(kReflectorHost)->toString();
  rr.socket = state.dir + "/run/" + rr.name + ".bgpd.sock";
  int length_v6 = 0;
  if (!router->address_v6.empty()) {
    auto underlay_v6 = common::Prefix::parse(dc.underlay_v6);
    if (!underlay_v6.ok()) return underlay_v6.status();
    rr.address_v6 = underlay_v6->addressAt(kReflectorHost)->toString();
    length_v6 = underlay_v6->length();
  }
  progress.step(fmt::format("route reflector {} (coral-bgpd, AS {}) on {} ({})", rr.name, rr.as,
                            dc.underlay, rr.address));
  auto ns = addNetns(state, rr.name);
  if (!ns.ok()) return ns.status();
  rr.netns = *ns;
  state.reflectors.push_back(rr);
  (void)state.save();
  if (auto s = attachToUnderlay(*router, rr.netns, "rr", rr.address, underlay->length(),
                                rr.address_v6, length_v6);
      !s.ok()) {
    return s;
  }
  std::filesystem::create_directories(state.dir + "/rr");
  const std::string conf = state.dir + "/rr/" + dc.name + ".yaml";
  std::ofstream(conf) << reflectorConfig(state, rr, dc);
  if (auto check = run(fmt::format("{} -c {} --check", coral_bgpd, conf)); !check.ok()) {
    return absl::InternalError("coral-bgpd rejects " + conf + ": " + check.output);
  }
  auto pid = spawnInNetns(rr.netns, fmt::format("{} -c {}", coral_bgpd, conf),
                          state.dir + "/logs/" + rr.name + ".bgpd.log");
  if (!pid.ok()) return pid.status();
  state.reflectors.back().pid = *pid;
  (void)state.save();
  const bool ready =
      waitFor([&] { return std::filesystem::exists(rr.socket); }, std::chrono::seconds(10));
  if (!ready) {
    return absl::DeadlineExceededError(
        fmt::format("coral-bgpd on {} does not answer on {} after 10 s; see {}/logs/{}.bgpd.log",
                    rr.name, rr.socket, state.dir, rr.name));
  }
  return absl::OkStatus();
}

}  // namespace coral::lab
