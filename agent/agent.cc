#include "agent/agent.h"

#include <fmt/format.h>

#include "agent/bgp_control.h"
#include "agent/cni_handler.h"
#include "agent/dataplane/netlink.h"
#include "agent/encap_control.h"
#include "agent/grpc_services.h"
#include "agent/http_server.h"
#include "agent/policy/iptables_dataplane.h"
#include "agent/policy/snapshot_builder.h"
#include "agent/routes/route_reconciler.h"
#include "agent/sync/resource_cache.h"
#include "bgp/speaker/speaker.h"
#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "coral/api/v1/status.pb.h"
#include "datastore/backend.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"
#include "policy/convert.h"

namespace coral::agent {

// Pods staged by CNI ADD (policy/staging.h) get their own chains this long after, batched.
constexpr std::chrono::milliseconds kConsolidateStagedAfter{500};
// After a restart with routes from BGP, the routes learned before it are kept at most this
// long (the graceful restart time peers get by default) ...
constexpr std::chrono::seconds kStaleBgpRoutesHold{120};
// ... or until every session is up and the learned routes were quiet for this long.
constexpr std::chrono::seconds kBgpQuietAfterRestart{2};

struct Agent::Impl {
  datastore::BackendPtr backend;
  std::unique_ptr<datastore::ResourceStore> store;
  std::unique_ptr<ipam::Ipam> ipam;
  std::unique_ptr<Netlink> netlink;  // owned by the reconcile thread after start
  Underlay underlay;
  std::unique_ptr<ResourceCache> blocks, nodes, endpoints, pools, bgp_configs, bgp_peers;
  // Encapsulation (VXLAN devices, tunnel addresses, VTEPs) and NAT outgoing; the pod MTU
  // it implies, read by the CNI handler.
  std::unique_ptr<EncapControl> encap;
  std::atomic<uint32_t> pod_mtu{0};
  std::chrono::steady_clock::time_point last_encap_resync = std::chrono::steady_clock::now();
  std::unique_ptr<BgpControl> bgp;
  // Policy: the dataplane, the caches only it needs, and the snapshot last applied (the
  // CNI ADD protects a new pod against it).
  PolicyDataplanePtr policy;
  std::unique_ptr<ResourceCache> namespaces, pods, netpols, gnps, knps;
  std::mutex policy_mu;
  policy::Snapshot policy_snapshot;
  std::chrono::steady_clock::time_point last_policy_resync = std::chrono::steady_clock::now();
  bool restarting = false;  // Coral's routes were already in the kernel at start
  // With routes from BGP, a restarted corald learns nothing until its sessions are back
  // and the peers resent their routes: the kernel's protocol-77 routes with a next hop
  // found at start are kept, stale, until then (RFC 4724's receiving speaker), instead of
  // being deleted by the first reconcile and added again seconds later. Reconcile thread
  // only after start.
  std::map<common::Prefix, Route> stale_bgp_routes;
  std::chrono::steady_clock::time_point stale_since;
  std::unique_ptr<CniHandler> cni;
  std::unique_ptr<GrpcServer> grpc;
  std::unique_ptr<HttpServer> http;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::mutex routes_mu;
  DesiredRoutes last_routes;
  // Routes: incremental rounds against what was last programmed; a full resync (kernel
  // listed) at start, after an error, and every resync interval (reconcile thread only).
  std::unique_ptr<RouteReconciler> route_reconciler;
  std::chrono::steady_clock::time_point last_route_resync{};
  // Remote blocks left to BGP because their node is beyond the underlay's subnets, as
  // last logged (reconcile thread only): each is logged once per change, not per round.
  std::map<common::Prefix, OffSubnetRoute> off_subnet;
};

namespace {

// The subnets directly connected on the underlay interface (the kernel's own connected
// routes), read each round so an address added later counts; the addresses found at
// start when the interface cannot be read.
std::vector<common::Prefix> connectedSubnets(Netlink& netlink, const Underlay& underlay) {
  std::vector<InterfaceAddress> addresses;
  if (auto read = netlink.addresses(underlay.interface); read.ok()) {
    addresses = std::move(*read);
  } else {
    for (const auto& a : {underlay.ipv4, underlay.ipv6}) {
      if (a) addresses.push_back(*a);
    }
  }
  std::vector<common::Prefix> out;
  for (const auto& a : addresses) {
    auto subnet = common::Prefix::make(a.ip, a.prefix_len);
    if (subnet.ok() && !subnet->isHost()) out.push_back(*subnet);
  }
  return out;
}

}  // namespace

Agent::Agent(AgentConfig config) : config_(std::move(config)), impl_(std::make_unique<Impl>()) {
  metrics_.describe("coral_endpoints", "gauge", "Workload endpoints on this node");
  metrics_.describe("coral_routes_programmed", "gauge", "Routes Coral owns in the kernel");
  metrics_.describe("coral_route_reconcile_seconds", "gauge",
                    "Duration of the last route reconcile");
  metrics_.describe("coral_route_reconciles_total", "counter", "Route reconciles run");
  metrics_.describe("coral_route_resyncs_total", "counter",
                    "Route reconciles that listed the kernel (start, errors, resync interval)");
  metrics_.describe("coral_errors_total", "counter", "Errors by component");
  metrics_.describe("coral_datastore_watch_lag_seconds", "gauge",
                    "Seconds since the datastore last answered a watch, per kind");
  metrics_.describe("coral_bgp_sessions", "gauge", "BGP sessions by state");
  metrics_.describe("coral_ready", "gauge",
                    "1 when the datastore is synced and the dataplane programmed");
}

Agent::~Agent() { stop(); }

bool Agent::ready() const {
  if (!programmed_.load() || !impl_->blocks) return false;
  return cachesSynced();
}

std::vector<ResourceCache*> Agent::caches() const {
  return {impl_->blocks.get(),     impl_->nodes.get(),       impl_->endpoints.get(),
          impl_->pools.get(),      impl_->bgp_configs.get(), impl_->bgp_peers.get(),
          impl_->namespaces.get(), impl_->pods.get(),        impl_->netpols.get(),
          impl_->gnps.get(),       impl_->knps.get()};
}

bool Agent::cachesSynced() const {
  for (auto* c : caches()) {
    if (c && !c->synced()) return false;
  }
  return true;
}

void Agent::requestReconcile() {
  {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  cv_.notify_one();
}

absl::Status Agent::start() {
  log::setGlobalField("node", config_.node_name);
  log::info("corald starting", {{"datastore", config_.datastore}, {"socket", config_.cni_socket}});
  CORAL_ASSIGN_OR_RETURN(impl_->backend, datastore::openBackend(config_.datastore));
  impl_->store = std::make_unique<datastore::ResourceStore>(*impl_->backend);
  impl_->ipam = std::make_unique<ipam::Ipam>(*impl_->store);
  CORAL_ASSIGN_OR_RETURN(impl_->netlink, Netlink::open());

  // Forwarding: a node routes for its pods.
  CORAL_RETURN_IF_ERROR(writeSysctl("net/ipv4/ip_forward", "1"));
  (void)writeSysctl("net/ipv6/conf/all/forwarding", "1");

  // Register this node with its underlay addresses, keeping whatever else is in it.
  CORAL_ASSIGN_OR_RETURN(impl_->underlay, detectUnderlay(*impl_->netlink, config_));
  if (config_.underlay_interface.empty()) config_.underlay_interface = impl_->underlay.interface;
  common::Labels node_labels;
  for (int attempt = 0;; ++attempt) {
    model::Node node;
    auto existing = impl_->store->get<model::Node>(config_.node_name);
    if (existing.ok()) {
      node = *existing;
    } else if (!datastore::isNotFound(existing.status())) {
      return annotate(existing.status(), "reading this node's Node resource");
    }
    node.metadata.name = config_.node_name;
    node.spec.ipv4_address = impl_->underlay.ipv4 ? impl_->underlay.ipv4->toString() : "";
    node.spec.ipv6_address = impl_->underlay.ipv6 ? impl_->underlay.ipv6->toString() : "";
    node.spec.addresses.clear();
    for (const auto& a : {impl_->underlay.ipv4, impl_->underlay.ipv6}) {
      if (a) node.spec.addresses.push_back({a->ip.toString(), "InternalIP"});
    }
    node_labels = node.metadata.labels;
    auto written = existing.ok() ? impl_->store->update(node) : impl_->store->create(node);
    if (written.ok()) break;
    if (attempt >= 5 || !(datastore::isConflict(written.status()) ||
                          datastore::isAlreadyExists(written.status()))) {
      return annotate(written.status(), "registering this node");
    }
  }
  // The pod MTU until the first reconcile: from the pools as they are now.
  {
    std::vector<PoolView> views;
    if (auto pools = impl_->store->list<model::IPPool>(); pools.ok()) {
      views = poolViews(*pools, node_labels);
    }
    impl_->pod_mtu = podMtu(static_cast<uint32_t>(config_.mtu), impl_->underlay.mtu,
                            vxlanNeeded(views, {}, common::Family::kV4),
                            vxlanNeeded(views, {}, common::Family::kV6));
  }
  impl_->encap = std::make_unique<EncapControl>(config_, impl_->underlay, *impl_->store,
                                                *impl_->ipam, *impl_->netlink);
  log::info("node registered",
            {{"underlay", impl_->underlay.interface},
             {"ipv4", impl_->underlay.ipv4 ? impl_->underlay.ipv4->toString() : std::string("-")},
             {"pod_mtu", impl_->pod_mtu.load()}});

  auto changed = [this] { requestReconcile(); };
  impl_->blocks =
      std::make_unique<ResourceCache>(*impl_->store, model::kindOf<model::IPAMBlock>(), changed);
  impl_->nodes =
      std::make_unique<ResourceCache>(*impl_->store, model::kindOf<model::Node>(), changed);
  impl_->endpoints = std::make_unique<ResourceCache>(
      *impl_->store, model::kindOf<model::WorkloadEndpoint>(), changed);
  impl_->pools =
      std::make_unique<ResourceCache>(*impl_->store, model::kindOf<model::IPPool>(), changed);
  impl_->blocks->start();
  impl_->nodes->start();
  impl_->endpoints->start();
  impl_->pools->start();
  if (config_.bgp == "enabled") {
    // A corald that finds its own routes in the kernel restarted: tell BGP peers so they
    // keep our routes (graceful restart) instead of withdrawing them.
    if (auto existing = impl_->netlink->routes(); existing.ok()) {
      impl_->restarting = !existing->empty();
      if (config_.route_source == "bgp") {
        impl_->stale_bgp_routes = staleRoutesOf(*existing);
        impl_->stale_since = std::chrono::steady_clock::now();
        if (!impl_->stale_bgp_routes.empty()) {
          log::info("restarted: keeping the routes learned from BGP until the peers resent them",
                    {{"routes", impl_->stale_bgp_routes.size()}});
        }
      }
    }
    impl_->bgp_configs = std::make_unique<ResourceCache>(
        *impl_->store, model::kindOf<model::BGPConfiguration>(), changed);
    impl_->bgp_peers =
        std::make_unique<ResourceCache>(*impl_->store, model::kindOf<model::BGPPeer>(), changed);
    impl_->bgp_configs->start();
    impl_->bgp_peers->start();
    impl_->bgp = std::make_unique<BgpControl>(changed);
  }
  PolicyHooks hooks;
  if (config_.policy_backend != "disabled") {
    CORAL_ASSIGN_OR_RETURN(impl_->policy,
                           makePolicyDataplane(config_.policy_backend, config_.node_name));
    auto cache = [&](const model::KindInfo& kind) {
      auto c = std::make_unique<ResourceCache>(*impl_->store, kind, changed);
      c->start();
      return c;
    };
    impl_->namespaces = cache(model::kindOf<model::Namespace>());
    impl_->pods = cache(model::kindOf<model::Pod>());
    impl_->netpols = cache(model::kindOf<model::NetworkPolicy>());
    impl_->gnps = cache(model::kindOf<model::GlobalNetworkPolicy>());
    impl_->knps = cache(model::kindOf<model::KubernetesNetworkPolicy>());
    hooks.protect = [this](const model::WorkloadEndpoint& wep) -> absl::Status {
      auto endpoint = policy::fromWorkloadEndpoint(wep);
      if (!endpoint.ok()) return endpoint.status();
      std::lock_guard lock(impl_->policy_mu);
      return impl_->policy->ensureEndpoint(impl_->policy_snapshot, *endpoint);
    };
    hooks.forget = [this](const model::WorkloadEndpoint& wep) {
      if (auto endpoint = policy::fromWorkloadEndpoint(wep); endpoint.ok()) {
        impl_->policy->forgetEndpoint(endpoint->id());
      }
    };
  }
  reconcile_thread_ = std::thread([this] { reconcileLoop(); });

  impl_->cni = std::make_unique<CniHandler>(config_, *impl_->store, *impl_->ipam, changed, hooks,
                                            [this] { return impl_->pod_mtu.load(); });
  impl_->grpc = std::make_unique<GrpcServer>(
      *impl_->cni, [this] { return ready(); },
      [this] {
        api::v1::StatusResponse s;
        s.set_node(config_.node_name);
        s.set_ready(ready());
        s.set_version(CORAL_VERSION);
        s.set_uptime_s(std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - impl_->started)
                           .count());
        for (const auto& w : impl_->endpoints->typed<model::WorkloadEndpoint>()) {
          if (w.spec.node != config_.node_name) continue;
          auto* e = s.add_endpoints();
          e->set_namespace_(w.metadata.namespace_);
          e->set_pod(w.spec.pod);
          e->set_interface_name(w.spec.interface_name);
          for (const auto& n : w.spec.ip_networks) e->add_addresses(n);
        }
        if (impl_->bgp) {
          for (const auto& p : impl_->bgp->peers()) {
            auto* out = s.add_peers();
            out->set_address(p.address);
            out->set_as_number(p.peer_as);
            out->set_state(p.state);
            out->set_uptime_s(static_cast<uint64_t>(p.uptime_s));
            out->set_prefixes_received(p.prefixes_received);
            out->set_prefixes_accepted(p.prefixes_accepted);
            out->set_prefixes_advertised(p.prefixes_advertised);
            out->set_last_error(p.last_error);
          }
        }
        std::lock_guard lock(impl_->routes_mu);
        for (const auto& [dst, r] : impl_->last_routes) {
          auto* out = s.add_routes();
          out->set_prefix(dst.toString());
          out->set_via(r.gateway ? r.gateway->toString() : "");
          out->set_device(r.device);
          out->set_kind(std::string(routeKindName(r.kind)));
          if (r.kind == RouteKind::kLocalBlock) s.add_blocks(dst.toString());
        }
        return s.SerializeAsString();
      });
  CORAL_RETURN_IF_ERROR(impl_->grpc->start(config_.cni_socket));

  if (config_.http_port > 0) {
    impl_->http = std::make_unique<HttpServer>(
        config_.http_address, config_.http_port, [this](const std::string& path) -> HttpResponse {
          if (path == "/livez") return {200, "text/plain; charset=utf-8", "ok\n"};
          if (path == "/readyz") {
            return ready() ? HttpResponse{200, "text/plain; charset=utf-8", "ready\n"}
                           : HttpResponse{503, "text/plain; charset=utf-8", "not ready\n"};
          }
          if (path == "/metrics") {
            metrics_.set("coral_ready", ready() ? 1 : 0);
            if (impl_->policy) {
              uint64_t denied = 0;
              if (auto counters = impl_->policy->counters(); counters.ok()) {
                for (const auto& c : *counters) {
                  if (c.verdict == "drop") denied += c.packets;
                }
              }
              metrics_.set("coral_policy_denied_packets_total", static_cast<double>(denied));
            }
            metrics_.set("coral_datastore_watch_lag_seconds{kind=\"IPAMBlock\"}",
                         impl_->blocks->secondsSinceContact());
            metrics_.set("coral_datastore_watch_lag_seconds{kind=\"Node\"}",
                         impl_->nodes->secondsSinceContact());
            metrics_.set("coral_datastore_watch_lag_seconds{kind=\"WorkloadEndpoint\"}",
                         impl_->endpoints->secondsSinceContact());
            return {200, "text/plain; version=0.0.4", metrics_.render()};
          }
          return {404, "text/plain; charset=utf-8", "not found\n"};
        });
    CORAL_RETURN_IF_ERROR(impl_->http->start());
  }
  log::info("corald serving", {{"socket", config_.cni_socket}, {"http_port", config_.http_port}});
  return absl::OkStatus();
}

void Agent::stop() {
  const auto t0 = std::chrono::steady_clock::now();
  {
    // Under the lock: the reconcile thread is either before its predicate check (and sees
    // stop_) or waiting (and gets the notify), never in between for a whole resync.
    std::lock_guard lock(mu_);
    if (stop_.exchange(true)) return;
  }
  cv_.notify_all();
  const bool started = reconcile_thread_.joinable();
  // Every cache winds down at once (each ends within one watch poll); joined last.
  for (auto* c : caches()) {
    if (c) c->requestStop();
  }
  if (impl_->grpc) impl_->grpc->stop();
  if (impl_->http) impl_->http->stop();
  if (reconcile_thread_.joinable()) reconcile_thread_.join();
  if (impl_->bgp) impl_->bgp->stop();  // Cease to every peer; kernel routes stay
  for (auto* c : caches()) {
    if (c) c->stop();
  }
  if (!started) return;
  log::info("corald stopped", {{"ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - t0)
                                          .count()}});
}

absl::Status Agent::reconcileOnce() {
  RouteInputs in;
  in.self = config_.node_name;
  in.blocks = impl_->blocks->typed<model::IPAMBlock>();
  in.nodes = impl_->nodes->typed<model::Node>();
  size_t endpoints = 0;
  for (const auto& w : impl_->endpoints->typed<model::WorkloadEndpoint>()) {
    if (w.spec.node != config_.node_name) continue;
    ++endpoints;
    LocalWorkload lw;
    lw.host_ifname = w.spec.interface_name;
    for (const auto& n : w.spec.ip_networks) {
      if (auto p = common::Prefix::parse(n); p.ok()) lw.addresses.push_back(p->address());
    }
    in.workloads.push_back(std::move(lw));
  }
  if (impl_->bgp) {
    BgpInputs b;
    b.self = config_.node_name;
    b.nodes = in.nodes;
    b.configs = impl_->bgp_configs->typed<model::BGPConfiguration>();
    b.peers = impl_->bgp_peers->typed<model::BGPPeer>();
    b.restarting = impl_->restarting;
    // Originate this node's blocks, and the addresses its pods borrowed from other blocks.
    std::vector<common::Prefix> own;
    for (const auto& block : in.blocks) {
      if (affinityNode(block.spec.affinity) != config_.node_name || block.spec.deleted) continue;
      if (auto p = common::Prefix::parse(block.spec.cidr); p.ok()) own.push_back(*p);
    }
    b.originate = own;
    for (const auto& w : in.workloads) {
      for (const auto& ip : w.addresses) {
        const bool inside =
            std::any_of(own.begin(), own.end(), [&](const auto& p) { return p.contains(ip); });
        if (!inside) b.originate.push_back(common::Prefix::host(ip));
      }
    }
    if (auto s = impl_->bgp->sync(b); !s.ok()) {
      metrics_.add("coral_errors_total{component=\"bgp\"}");
      log::warn("BGP configuration", {{"error", errorMessage(s)}});
    }
    in.routes_from_bgp = config_.route_source == "bgp";
    in.learned = impl_->bgp->learnedRoutes();
    std::map<std::string, int> by_state;
    for (const auto& p : impl_->bgp->peers()) ++by_state[p.state];
    for (const char* st : {"Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"}) {
      metrics_.set(fmt::format("coral_bgp_sessions{{state=\"{}\"}}", st), by_state[st]);
    }
  }
  // Encapsulation first: routes through a VXLAN device need the device.
  {
    common::Labels self_labels;
    for (const auto& n : in.nodes) {
      if (n.metadata.name == config_.node_name) self_labels = n.metadata.labels;
    }
    EncapInputs e;
    e.pools = poolViews(impl_->pools->typed<model::IPPool>(), self_labels);
    e.nodes = in.nodes;
    e.blocks = in.blocks;
    const auto now = std::chrono::steady_clock::now();
    if (now - impl_->last_encap_resync > std::chrono::seconds(config_.resync_interval_s)) {
      impl_->last_encap_resync = now;
      e.force = true;
    }
    EncapResult encap;
    if (auto s = impl_->encap->sync(e, encap); !s.ok()) {
      metrics_.add("coral_errors_total{component=\"encapsulation\"}");
      log::warn("encapsulation", {{"error", errorMessage(s)}});
    }
    if (encap.pod_mtu > 0) impl_->pod_mtu = encap.pod_mtu;
    in.pools = std::move(e.pools);
    in.vxlan_v4 = encap.vxlan_ready_v4;
    in.vxlan_v6 = encap.vxlan_ready_v6;
  }
  if (!in.routes_from_bgp) in.connected = connectedSubnets(*impl_->netlink, impl_->underlay);
  std::vector<OffSubnetRoute> off_subnet;
  DesiredRoutes desired = computeRoutes(in, &off_subnet);
  {
    std::map<common::Prefix, OffSubnetRoute> now;
    for (auto& r : off_subnet) {
      auto it = impl_->off_subnet.find(r.dst);
      if (it == impl_->off_subnet.end() || !(it->second == r)) {
        log::info("route left to BGP: its node is not on a connected subnet",
                  {{"route", r.dst.toString()}, {"node", r.node}, {"via", r.via.toString()}});
      }
      now.emplace(r.dst, std::move(r));
    }
    impl_->off_subnet = std::move(now);
  }
  // After a restart: BGP-learned routes of before are kept until BGP has them again.
  if (!impl_->stale_bgp_routes.empty() && impl_->bgp) {
    const auto now = std::chrono::steady_clock::now();
    const bool expired = now - impl_->stale_since >= kStaleBgpRoutesHold;
    if (expired || impl_->bgp->converged(now, kBgpQuietAfterRestart)) {
      size_t dropped = 0;
      for (const auto& [dst, r] : impl_->stale_bgp_routes) dropped += desired.contains(dst) ? 0 : 1;
      log::info("BGP converged after the restart: stale routes are no longer kept",
                {{"reason", expired ? "restart time passed" : "every session up and quiet"},
                 {"not_relearned", dropped}});
      impl_->stale_bgp_routes.clear();
    } else {
      keepStaleRoutes(desired, impl_->stale_bgp_routes);
    }
  }
  if (!impl_->route_reconciler) {
    impl_->route_reconciler = std::make_unique<RouteReconciler>(*impl_->netlink);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const bool resync_due =
      t0 - impl_->last_route_resync > std::chrono::seconds(config_.resync_interval_s);
  auto stats = resync_due ? impl_->route_reconciler->resync(desired)
                          : impl_->route_reconciler->reconcile(desired);
  if (stats.ok() && stats->full) impl_->last_route_resync = t0;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!stats.ok()) {
    metrics_.add("coral_errors_total{component=\"routes\"}");
    return stats.status();
  }
  metrics_.set("coral_endpoints", static_cast<double>(endpoints));
  metrics_.set("coral_routes_programmed", static_cast<double>(stats->desired - stats->skipped));
  metrics_.set("coral_route_reconcile_seconds", secs);
  metrics_.add("coral_route_reconciles_total");
  if (stats->full) metrics_.add("coral_route_resyncs_total");
  if (stats->errors) metrics_.add("coral_errors_total{component=\"routes\"}", stats->errors);
  if (stats->added || stats->removed) {
    log::info("routes reconciled", {{"desired", stats->desired},
                                    {"added", stats->added},
                                    {"removed", stats->removed},
                                    {"skipped", stats->skipped},
                                    {"kernel_listed", stats->full}});
  }
  {
    std::lock_guard lock(impl_->routes_mu);
    impl_->last_routes = std::move(desired);
  }
  return reconcilePolicy();
}

absl::Status Agent::reconcilePolicy() {
  if (!impl_->policy) return absl::OkStatus();
  std::vector<model::Resource> resources;
  for (auto* c :
       {impl_->namespaces.get(), impl_->nodes.get(), impl_->pods.get(), impl_->endpoints.get(),
        impl_->netpols.get(), impl_->gnps.get(), impl_->knps.get()}) {
    auto items = c->snapshot();
    resources.insert(resources.end(), std::make_move_iterator(items.begin()),
                     std::make_move_iterator(items.end()));
  }
  SnapshotBuild build = buildPolicySnapshot(resources);
  for (const auto& e : build.errors) log::warn("policy input skipped", {{"error", e}});
  std::lock_guard lock(impl_->policy_mu);
  if (auto s = impl_->policy->apply(build.snapshot); !s.ok()) {
    metrics_.add("coral_errors_total{component=\"policy\"}");
    return annotate(s, "policy");
  }
  impl_->policy_snapshot = std::move(build.snapshot);
  // Pods added on this node were staged by CNI ADD (set elements only); here, off the CNI
  // path and batched, they get their own chains.
  if (auto s = impl_->policy->consolidate(kConsolidateStagedAfter); !s.ok()) {
    metrics_.add("coral_errors_total{component=\"policy\"}");
    return annotate(s, "policy consolidate");
  }
  // A periodic full check repairs what another program changed in our table.
  const auto now = std::chrono::steady_clock::now();
  if (now - impl_->last_policy_resync > std::chrono::seconds(config_.resync_interval_s)) {
    impl_->last_policy_resync = now;
    auto repaired = impl_->policy->resync();
    if (repaired.ok() && *repaired) {
      log::warn("policy table drifted and was rewritten");
      metrics_.add("coral_policy_repairs_total");
    }
  }
  return absl::OkStatus();
}

void Agent::reconcileLoop() {
  const auto resync = std::chrono::seconds(config_.resync_interval_s);
  while (!stop_) {
    {
      // Staged pods are consolidated by the next round once they are old enough.
      const bool staged = impl_->policy && impl_->policy->staged() > 0;
      std::unique_lock lock(mu_);
      std::chrono::milliseconds wait =
          staged ? std::min<std::chrono::milliseconds>(resync, kConsolidateStagedAfter) : resync;
      // Stale BGP routes are dropped soon after the sessions settle, not at the next resync.
      if (!impl_->stale_bgp_routes.empty()) {
        wait = std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(1));
      }
      cv_.wait_for(lock, wait, [this] { return dirty_ || stop_.load(); });
      if (stop_) return;
      dirty_ = false;
    }
    // Reconcile only from a complete view: routes computed from a half-loaded cache
    // would delete other nodes' routes at start.
    if (!cachesSynced()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      requestReconcile();
      continue;
    }
    if (auto s = reconcileOnce(); !s.ok()) {
      log::error("route reconcile failed", {{"error", errorMessage(s)}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      requestReconcile();
      continue;
    }
    programmed_ = true;
  }
}

}  // namespace coral::agent
