// etcd away under a running client: frozen with SIGSTOP (it holds its connections and
// answers nothing, so only deadlines end a call) and killed then restarted on the same
// data (connections refused). Every call fails within its deadline with kUnavailable and
// a message naming etcd and the reason; watches wait quietly and resume; the agent's
// ResourceCache keeps what it had (nothing may be flushed because the datastore is away)
// and picks up what changed once etcd is back; a CNI ADD fails with CNI's "try again
// later" and a message naming the pod and the datastore.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "agent/cni_handler.h"
#include "agent/config.h"
#include "agent/sync/resource_cache.h"
#include "common/strings.h"
#include "datastore/backend.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"
#include "model/registry.h"
#include "tests/support/etcd_process.h"

namespace coral {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr int kTimeoutMs = 1000;

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

std::string message(const absl::Status& s) { return std::string(errorMessage(s)); }

// SIGSTOP for the scope; SIGCONT on every way out, so no test leaves a stopped etcd.
class Frozen {
 public:
  // Returns once every thread of `pid` is stopped (SIGSTOP is not synchronous).
  explicit Frozen(pid_t pid) : pid_(pid) {
    ::kill(pid_, SIGSTOP);
    eventually(
        [&] {
          std::ifstream in(fmt::format("/proc/{}/stat", pid_));
          std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
          const auto paren = stat.rfind(')');
          return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'T';
        },
        2s);
  }
  ~Frozen() { thaw(); }
  void thaw() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

class EtcdOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto etcd = testing::EtcdProcess::launch();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = std::move(*etcd);
    auto backend =
        datastore::openBackend(etcd_->url() + "?timeout_ms=" + std::to_string(kTimeoutMs));
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(*backend);
    store_ = std::make_unique<datastore::ResourceStore>(*backend_);
  }

  // A call that must fail within its deadline (plus slack), unavailable, naming etcd.
  template <typename Call>
  absl::Status failsInTime(Call call) {
    const auto t = Clock::now();
    const absl::Status s = call();
    EXPECT_LT(Clock::now() - t, std::chrono::milliseconds(kTimeoutMs) + 1500ms) << s;
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_THAT(message(s), HasSubstr("etcd " + etcd_->endpoint()));
    return s;
  }

  std::unique_ptr<testing::EtcdProcess> etcd_;
  datastore::BackendPtr backend_;
  std::unique_ptr<datastore::ResourceStore> store_;
};

TEST_F(EtcdOutageTest, FrozenEtcdFailsEveryCallWithinTheDeadlineAndTheWatchResumes) {
  ASSERT_TRUE(backend_->put("/o/a", "1").ok());
  auto watch = backend_->watch("/o/", 0);
  ASSERT_TRUE(watch.ok()) << watch.status();
  {
    Frozen frozen(etcd_->pid());
    const auto get = failsInTime([&] { return backend_->get("/o/a").status(); });
    EXPECT_THAT(message(get),
                HasSubstr(fmt::format("no answer within {} ms (deadline exceeded)", kTimeoutMs)));
    (void)failsInTime([&] { return backend_->list("/o/").status(); });
    (void)failsInTime([&] { return backend_->put("/o/b", "2").status(); });
    (void)failsInTime([&] { return backend_->create("/o/c", "3").status(); });
    // A client that connects only now (a new coral-cni, coralctl) fails just as fast.
    auto fresh = datastore::openBackend(etcd_->url() + "?timeout_ms=" + std::to_string(kTimeoutMs));
    ASSERT_TRUE(fresh.ok());
    (void)failsInTime([&] { return (*fresh)->get("/o/a").status(); });
    // The watch has nothing to say, and no error: its caller keeps what it has.
    for (int i = 0; i < 5; ++i) {
      auto none = (*watch)->next(200ms);
      ASSERT_TRUE(none.ok()) << none.status();
      EXPECT_TRUE(none->empty());
    }
  }
  // Back: calls work again, and the watch delivers a change made after the outage.
  absl::StatusOr<datastore::Revision> put;
  ASSERT_TRUE(eventually([&] { return (put = backend_->put("/o/d", "after")).ok(); }))
      << put.status();
  // The writes that timed out may or may not have been applied when etcd continued; the
  // watch delivers whatever was, in order, and then /o/d.
  bool saw_d = false;
  ASSERT_TRUE(eventually([&] {
    auto got = (*watch)->next(100ms);
    EXPECT_TRUE(got.ok()) << got.status();
    if (got.ok()) {
      for (const auto& e : *got) saw_d = saw_d || e.kv.key == "/o/d";
    }
    return saw_d;
  }));
}

TEST_F(EtcdOutageTest, KilledEtcdIsUnavailableWithinTheDeadline) {
  ASSERT_TRUE(backend_->put("/k/a", "1").ok());
  ASSERT_TRUE(etcd_->stop().ok());
  // The first call may see the old connection close ("Socket closed"); then nobody listens.
  (void)failsInTime([&] { return backend_->get("/k/a").status(); });
  const auto s = failsInTime([&] { return backend_->get("/k/a").status(); });
  EXPECT_THAT(message(s), HasSubstr(fmt::format("cannot connect within {} ms", kTimeoutMs)));
  ASSERT_TRUE(etcd_->start().ok()) << etcd_->logTail();
  absl::StatusOr<datastore::KeyValue> kv;
  ASSERT_TRUE(eventually([&] { return (kv = backend_->get("/k/a")).ok(); })) << kv.status();
  EXPECT_EQ(kv->value, "1");
}

// The agent's sync layer keeps its view while etcd is frozen and catches up after.
TEST_F(EtcdOutageTest, ResourceCacheKeepsItsItemsThroughTheOutageAndCatchesUp) {
  model::Namespace ns;
  ns.metadata.name = "before";
  ASSERT_TRUE(store_->create(ns).ok());
  agent::ResourceCache cache(*store_, model::kindOf<model::Namespace>(), [] {});
  cache.start();
  ASSERT_TRUE(eventually([&] { return cache.synced() && cache.snapshot().size() == 1; }));
  {
    Frozen frozen(etcd_->pid());
    // Longer than gRPC's keepalive (10 s + 5 s): the stream is declared dead and retried.
    std::this_thread::sleep_for(18s);
    ASSERT_EQ(cache.snapshot().size(), 1u) << "the cache was flushed while etcd was away";
    EXPECT_EQ(cache.snapshot()[0].metadata.name, "before");
    // The watch-lag metric shows the outage (once keepalive has found the stream dead).
    EXPECT_GT(cache.secondsSinceContact(), 1.0);
  }
  ns.metadata.name = "after";
  absl::Status created;
  ASSERT_TRUE(eventually([&] { return (created = store_->create(ns).status()).ok(); })) << created;
  ASSERT_TRUE(eventually([&] { return cache.snapshot().size() == 2; }, 20s))
      << "the cache did not see a change made after the outage";
  EXPECT_LT(cache.secondsSinceContact(), 1.0);
  cache.stop();
}

TEST_F(EtcdOutageTest, CniAddFailsWithTryAgainLaterNamingThePodAndTheDatastore) {
  model::IPPool pool;
  pool.metadata.name = "pods";
  pool.spec.cidr = "10.128.0.0/16";
  pool.spec.block_size = 26;
  ASSERT_TRUE(store_->create(pool).ok());
  agent::AgentConfig config;
  config.node_name = "node-a";
  ipam::Ipam ipam(*store_);
  agent::CniHandler handler(config, *store_, ipam, [] {});
  agent::CniCall call;
  call.container_id = "0123456789abcdef";
  call.netns = "/proc/self/ns/net";  // exists; ADD fails before it would be touched
  call.pod_name = "x";
  Frozen frozen(etcd_->pid());
  const auto t = Clock::now();
  auto out = handler.add(call);
  EXPECT_LT(Clock::now() - t, std::chrono::milliseconds(kTimeoutMs) + 1500ms);
  auto* failure = std::get_if<agent::CniFailure>(&out);
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(failure->code, agent::kCniErrTryAgainLater);
  EXPECT_THAT(failure->msg, HasSubstr("IPAM for pod default/x: datastore unavailable: etcd " +
                                      etcd_->endpoint()));
  EXPECT_THAT(failure->msg, HasSubstr("deadline exceeded"));
  // DEL too: the runtime retries it until the datastore is back.
  auto del = handler.del(call);
  ASSERT_TRUE(del.has_value());
  EXPECT_EQ(del->code, agent::kCniErrTryAgainLater);
  EXPECT_THAT(del->msg, HasSubstr("pod default/x: datastore unavailable"));
}

}  // namespace
}  // namespace coral
