// ipam_bench: allocations per second of Coral IPAM with 1 and 8 concurrent allocators on
// the file store and on a real etcd, side by side with the reference host-local CNI plugin
// doing the same number of allocations (one exec per allocation, as a runtime would).
// Two kinds of Coral rows: `coral-ipam` exec'd per allocation exactly like host-local (the
// like-for-like comparison: process start, config parse, datastore connect, allocate), and
// the allocator called in-process (what corald does, no exec).
//
//   ipam_bench [N]     N allocations per run (default 1000)
//
// coral-ipam is found next to this binary (<build>/ipam/coral-ipam) or in $CORAL_IPAM_PLUGIN.
//
// Every run starts from an empty store (a fresh directory, a fresh etcd). Not a test: it
// prints a table; ratios are Coral / host-local at the same concurrency.
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/strings.h"
#include "datastore/backend.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"
#include "tests/support/child_process.h"
#include "tests/support/etcd_process.h"

extern char** environ;

namespace {

using namespace coral;
using Clock = std::chrono::steady_clock;

// Runs `work(i)` for i in [0, n) on `threads` threads; returns seconds, or -1 on a failure.
double timed(int n, int threads, const std::function<bool(int, int)>& work) {
  std::atomic<int> next{0};
  std::atomic<bool> ok{true};
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t]() {
      for (int i = next++; i < n && ok; i = next++) {
        if (!work(t, i)) ok = false;
      }
    });
  }
  for (auto& th : pool) th.join();
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  return ok ? s : -1;
}

// The pool every Coral row allocates from (the store is fresh for each row).
bool createBenchPool(datastore::ResourceStore& store) {
  model::IPPool pool;
  pool.metadata.name = "bench";
  pool.spec.cidr = "10.200.0.0/16";
  pool.spec.block_size = 26;
  return store.create(pool).ok();
}

double runCoral(const std::string& url, int n, int threads) {
  auto backend = datastore::openBackend(url);
  if (!backend.ok()) {
    std::fprintf(stderr, "%s: %s\n", url.c_str(),
                 std::string(errorMessage(backend.status())).c_str());
    return -1;
  }
  datastore::ResourceStore store(**backend);
  if (!createBenchPool(store)) return -1;
  std::vector<std::unique_ptr<ipam::Ipam>> allocators;
  for (int t = 0; t < threads; ++t) allocators.push_back(std::make_unique<ipam::Ipam>(store));
  return timed(n, threads, [&](int t, int i) {
    auto r = allocators[t]->autoAssign(
        {.handle_id = fmt::format("bench-{}.eth0", i), .node = "bench-node"});
    if (!r.ok()) std::fprintf(stderr, "%s\n", std::string(errorMessage(r.status())).c_str());
    return r.ok();
  });
}

// One exec of a CNI plugin's ADD with the config on stdin; true on exit 0.
bool execAdd(const std::string& plugin, const std::string& conf_path, int i) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, conf_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  const std::string cid = fmt::format("CNI_CONTAINERID=c{}", i);
  std::vector<std::string> env = {"CNI_COMMAND=ADD", cid, "CNI_NETNS=/var/run/netns/none",
                                  "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni"};
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string arg0 = plugin;
  char* argv[] = {arg0.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, arg0.c_str(), &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return false;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

double runHostLocal(int n, int threads) {
  coral::testing::TempDir dir;
  const std::string conf = dir.path() + "/conf.json";
  std::ofstream(conf) << fmt::format(
      R"({{"cniVersion":"1.0.0","name":"bench","type":"bridge","ipam":{{"type":"host-local",)"
      R"("ranges":[[{{"subnet":"10.200.0.0/16"}}]],"dataDir":"{}/data"}}}})",
      dir.path());
  return timed(n, threads, [&](int, int i) { return execAdd("/usr/lib/cni/host-local", conf, i); });
}

// coral-ipam exec'd per allocation against `url`, as a runtime runs it for a bridge pod.
double runCoralIpam(const std::string& plugin, const std::string& url, int n, int threads) {
  auto backend = datastore::openBackend(url);
  if (!backend.ok()) return -1;
  datastore::ResourceStore store(**backend);
  if (!createBenchPool(store)) return -1;
  coral::testing::TempDir dir;
  const std::string conf = dir.path() + "/conf.json";
  std::ofstream(conf) << fmt::format(
      R"({{"cniVersion":"1.0.0","name":"bench","type":"bridge","ipam":{{"type":"coral-ipam",)"
      R"("datastore":"{}","nodename":"bench-node"}}}})",
      url);
  return timed(n, threads, [&](int, int i) { return execAdd(plugin, conf, i); });
}

std::string findCoralIpam() {
  if (const char* env = std::getenv("CORAL_IPAM_PLUGIN")) return env;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "coral-ipam" : (self.parent_path().parent_path() / "ipam" / "coral-ipam").string();
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? coral::parseInt<int>(argv[1]).value_or(1000) : 1000;
  coral::log::setLevel(coral::log::Level::kWarn);
  struct Row {
    std::string store;
    int threads;
    double seconds;
  };
  std::vector<Row> rows;
  const std::string coral_ipam = findCoralIpam();
  // A fresh etcd per run: every run starts from an empty store.
  auto withEtcd = [&](const std::function<double(const std::string&)>& run) {
    auto etcd = coral::testing::EtcdProcess::launch();
    if (!etcd.ok()) {
      std::fprintf(stderr, "etcd: %s\n", std::string(coral::errorMessage(etcd.status())).c_str());
      return -1.0;
    }
    return run((*etcd)->url());
  };
  for (int threads : {1, 8}) {
    rows.push_back({"host-local exec", threads, runHostLocal(n, threads)});
    {
      coral::testing::TempDir dir;
      rows.push_back({"coral-ipam exec, file", threads,
                      runCoralIpam(coral_ipam, "file://" + dir.path(), n, threads)});
    }
    rows.push_back({"coral-ipam exec, etcd", threads, withEtcd([&](const std::string& url) {
                      return runCoralIpam(coral_ipam, url, n, threads);
                    })});
    {
      coral::testing::TempDir dir;
      rows.push_back({"in-process, file", threads, runCoral("file://" + dir.path(), n, threads)});
    }
    rows.push_back({"in-process, etcd", threads,
                    withEtcd([&](const std::string& url) { return runCoral(url, n, threads); })});
  }
  std::printf("%d allocations per run; coral-ipam: %s\n\n", n, coral_ipam.c_str());
  std::printf("%-22s %10s %10s %14s %20s\n", "ALLOCATOR", "ALLOCATORS", "SECONDS", "ALLOCATIONS/S",
              "VS HOST-LOCAL EXEC");
  for (const auto& r : rows) {
    double base = -1;
    for (const auto& b : rows) {
      if (b.store == "host-local exec" && b.threads == r.threads) base = b.seconds;
    }
    if (r.seconds < 0) {
      std::printf("%-22s %10d %10s %14s %20s\n", r.store.c_str(), r.threads, "failed", "-", "-");
      continue;
    }
    const double rate = n / r.seconds;
    const std::string ratio = base > 0 ? fmt::format("{:.2f}x", base / r.seconds) : "-";
    std::printf("%-22s %10d %10.2f %14.0f %20s\n", r.store.c_str(), r.threads, r.seconds, rate,
                ratio.c_str());
  }
  return 0;
}
