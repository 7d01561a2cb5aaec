// coral-controller: the cluster-wide janitor. One replica leads (a coordination.k8s.io/v1
// Lease in Kubernetes mode, a datastore key otherwise) and, every --interval, cleans up
// nodes that left the cluster and runs an IPAM garbage-collection round.
//
//   coral-controller                       # CORAL_DATASTORE or --datastore; in a pod:
//                                          # CORAL_DATASTORE=kubernetes, POD_NAME, POD_NAMESPACE
#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <csignal>

#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "common/log.h"
#include "common/strings.h"
#include "controller/leader_election.h"
#include "controller/node_cleanup.h"
#include "datastore/backend.h"
#include "datastore/kubernetes/kube_client.h"
#include "datastore/kubernetes/kube_config.h"
#include "datastore/resource_store.h"

namespace {

std::mutex g_mu;
std::condition_variable g_cv;
volatile std::sig_atomic_t g_signalled = 0;

std::string envOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::move(fallback);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace coral;
  CLI::App app{"coral-controller: IPAM garbage collection and node cleanup, one leader at a time"};
  std::string datastore_url =
      envOr("CORAL_DATASTORE", std::string(datastore::kDefaultDatastoreUrl));
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  std::string identity = envOr("POD_NAME", host);
  std::string lease_name = "coral-controller";
  std::string lease_namespace = envOr("POD_NAMESPACE", "");
  int lease_duration_s = 15, renew_deadline_s = 10, retry_period_s = 2, interval_s = 30;
  int leak_grace_s = 900, block_grace_s = 300, node_grace_s = 60;
  bool once = false;
  std::string log_level = "info";
  app.add_option("--datastore", datastore_url, "Datastore URL (CORAL_DATASTORE)");
  app.add_option("--identity", identity, "Leader election identity (POD_NAME, host name)");
  app.add_option("--lease-name", lease_name, "Lease (or datastore key) name");
  app.add_option("--lease-namespace", lease_namespace,
                 "Lease namespace (POD_NAMESPACE, else the datastore's namespace)");
  app.add_option("--lease-duration", lease_duration_s, "Seconds");
  app.add_option("--renew-deadline", renew_deadline_s, "Seconds");
  app.add_option("--retry-period", retry_period_s, "Seconds");
  app.add_option("--interval", interval_s, "Seconds between rounds");
  app.add_option("--leak-grace", leak_grace_s, "Seconds before a leaked address is released");
  app.add_option("--block-grace", block_grace_s, "Seconds before an empty block is released");
  app.add_option("--node-grace", node_grace_s,
                 "Seconds a node must be gone from Kubernetes before cleanup");
  app.add_flag("--once", once, "One round without leader election, then exit");
  app.add_option("--log-level", log_level, "debug|info|warn|error");
  CLI11_PARSE(app, argc, argv);
  log::Level level;
  if (log::parseLevel(log_level, &level)) log::setLevel(level);
  log::setGlobalField("component", "coral-controller");

  auto backend = datastore::openBackend(datastore_url);
  if (!backend.ok()) {
    log::error(fmt::format("datastore {}: {}", datastore_url, errorMessage(backend.status())));
    return 1;
  }
  const bool kubernetes = datastore_url.starts_with("kubernetes");
  datastore::ResourceStore store(**backend);
  controller::ControllerOptions options;
  options.kubernetes_nodes = kubernetes;
  options.node_grace = std::chrono::seconds(node_grace_s);
  options.gc.leak_grace = std::chrono::seconds(leak_grace_s);
  options.gc.block_grace = std::chrono::seconds(block_grace_s);
  controller::Controller ctl(store, common::SystemClock::instance(), options);

  auto round = [&]() {
    auto report = ctl.runOnce();
    if (!report.ok()) {
      log::warn(fmt::format("round failed: {}", errorMessage(report.status())));
      return false;
    }
    log::info(fmt::format(
        "round: {} nodes cleaned up, {} peers removed, {} addresses and {} "
        "blocks released, {} candidates waiting",
        report->removed_nodes.size(), report->removed_peers.size(), report->gc.released.size(),
        report->gc.released_blocks.size(), report->gc.waiting));
    return true;
  };
  if (once) return round() ? 0 : 1;

  std::unique_ptr<datastore::kubernetes::KubeClient> kube;
  std::unique_ptr<controller::LeaderLock> lock;
  if (kubernetes) {
    auto config = datastore::kubernetes::configFromUrl(datastore_url);
    if (!config.ok()) {
      log::error(std::string(errorMessage(config.status())));
      return 1;
    }
    if (lease_namespace.empty()) lease_namespace = config->namespace_;
    auto client = datastore::kubernetes::KubeClient::create(*config);
    if (!client.ok()) {
      log::error(std::string(errorMessage(client.status())));
      return 1;
    }
    kube = std::move(*client);
    lock = controller::kubernetesLeaseLock(*kube, lease_namespace, lease_name);
  } else {
    lock = controller::datastoreLeaderLock(**backend, "/coral/leader/" + lease_name);
  }

  controller::ElectionOptions election;
  election.identity = identity;
  election.lease_duration = std::chrono::seconds(lease_duration_s);
  election.renew_deadline = std::chrono::seconds(renew_deadline_s);
  election.retry_period = std::chrono::seconds(retry_period_s);
  election.on_started_leading = [&](const std::atomic<bool>& stop) {
    while (!stop) {
      round();
      for (int i = 0; i < interval_s * 10 && !stop; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  };
  controller::LeaderElector elector(*lock, election);
  std::signal(SIGTERM, [](int) { g_signalled = 1; });
  std::signal(SIGINT, [](int) { g_signalled = 1; });
  log::info(fmt::format("coral-controller {} campaigning for {}", identity, lock->describe()));
  elector.start();
  while (!g_signalled) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  elector.stop(/*release=*/true);
  log::info("coral-controller: stopped (leadership released)");
  return 0;
}
