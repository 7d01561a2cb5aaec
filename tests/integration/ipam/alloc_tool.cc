// coral-ipam-alloc: a test tool that allocates addresses for one node, the way corald does
// for pods: autoAssign, then write the pod's WorkloadEndpoint. Prints "<handle> <address>"
// per allocation (flushed), so a test can kill it at any point and know what it got.
//
//   coral-ipam-alloc URL NODE PREFIX COUNT THREADS [DIE_AFTER]
//
// Handles are PREFIX-<i>; with DIE_AFTER=k the process SIGKILLs itself right after the k-th
// allocation, before its WorkloadEndpoint is written (a crash between two writes).
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "datastore/backend.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"

int main(int argc, char** argv) {
  using namespace coral;
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s URL NODE PREFIX COUNT THREADS [DIE_AFTER]\n", argv[0]);
    return 2;
  }
  const std::string url = argv[1], node = argv[2], prefix = argv[3];
  const int count = parseInt<int>(argv[4]).value_or(0);
  const int threads = parseInt<int>(argv[5]).value_or(1);
  const int die_after = argc > 6 ? parseInt<int>(argv[6]).value_or(0) : 0;
  auto backend = datastore::openBackend(url);
  if (!backend.ok()) {
    std::fprintf(stderr, "%s\n", std::string(errorMessage(backend.status())).c_str());
    return 1;
  }
  datastore::ResourceStore store(**backend);
  std::atomic<int> next{0}, done{0}, failed{0};
  std::mutex out_mu;
  auto worker = [&]() {
    ipam::Ipam ipam(store);
    for (int i = next++; i < count; i = next++) {
      const std::string handle = fmt::format("{}-{}", prefix, i);
      ipam::AssignRequest req{
          .handle_id = handle,
          .node = node,
          .attributes = {{ipam::kAttrNamespace, "default"}, {ipam::kAttrPod, handle}}};
      auto r = ipam.autoAssign(req);
      if (!r.ok()) {
        std::fprintf(stderr, "%s: %s\n", handle.c_str(),
                     std::string(errorMessage(r.status())).c_str());
        ++failed;
        continue;
      }
      {
        std::lock_guard lock(out_mu);
        std::printf("%s %s\n", handle.c_str(), r->ipv4->address.toString().c_str());
        std::fflush(stdout);
      }
      if (die_after > 0 && ++done == die_after) ::kill(::getpid(), SIGKILL);
      model::WorkloadEndpoint wep;
      wep.metadata.name = handle;
      wep.metadata.namespace_ = "default";
      wep.spec.node = node;
      wep.spec.pod = handle;
      wep.spec.interface_name = "cor" + std::to_string(i);
      wep.spec.ip_networks = {r->ipv4->address.toString() + "/32"};
      if (auto w = store.create(wep); !w.ok()) {
        std::fprintf(stderr, "%s: %s\n", handle.c_str(),
                     std::string(errorMessage(w.status())).c_str());
        ++failed;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return failed ? 1 : 0;
}
