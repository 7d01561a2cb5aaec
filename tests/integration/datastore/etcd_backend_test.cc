// The etcd backend against a real etcd (tests/support/etcd_process.h): URL parsing,
// CRUD and compare-and-swap, lists, watch ordering and resume across an etcd restart,
// compaction, leases, failover between endpoints.
#include "datastore/etcd/etcd_backend.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "datastore/etcd/etcd_url.h"
#include "tests/support/etcd_process.h"

namespace coral::datastore {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(CORAL_TEST_CONCAT_(sor_, __LINE__), lhs, expr)
#define CORAL_TEST_CONCAT_INNER_(a, b) a##b
#define CORAL_TEST_CONCAT_(a, b) CORAL_TEST_CONCAT_INNER_(a, b)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  ASSERT_TRUE(tmp.ok()) << tmp.status();           \
  lhs = std::move(tmp).value()

std::string message(const absl::Status& s) { return std::string(s.message()); }

// Collects events until `count` arrived or `limit` passed.
std::vector<WatchEvent> collect(Watch& watch, size_t count, std::chrono::milliseconds limit = 10s) {
  std::vector<WatchEvent> out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto events = watch.next(100ms);
    EXPECT_TRUE(events.ok()) << events.status();
    if (!events.ok()) break;
    out.insert(out.end(), events->begin(), events->end());
  }
  return out;
}

// ---- URL parsing: no etcd needed --------------------------------------------------

TEST(EtcdUrl, BadUrlsNameTheWrongPart) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://127.0.0.1:2379", "scheme"},
      {"etcd://", "no host"},
      {"etcd://127.0.0.1:0", "port \"0\""},
      {"etcd://127.0.0.1:70000", "port \"70000\""},
      {"etcd://127.0.0.1:abc", "port \"abc\""},
      {"etcd://127.0.0.1:", "empty port"},
      {"etcd://a:1,,b:2", "empty host"},
      {"etcd://[::1:2379", "'[' without ']'"},
      {"etcd://ho st:1", "bad character"},
      {"etcd://u:p@h:1", "username"},
      {"etcd://h:1/coral", "path \"/coral\""},
      {"etcd://h:1?timeout_ms=0", "timeout_ms \"0\""},
      {"etcd://h:1?timeout_ms=x", "timeout_ms \"x\""},
      {"etcd://h:1?colour=red", "unknown option \"colour\""},
      {"etcd://h:1?cert=/a.pem", "cert and key"},
      {"etcd://h:1?username=u", "username without password"},
      {"etcd://h:1?password=p", "password without username"},
      {"etcd://h:1?timeout_ms=1&timeout_ms=2", "timeout_ms is given twice"},
      {"etcd://h:1?password=%zz&username=u", "%-escape"},
      {"etcd://h:1?cacert", "no '=value'"},
      {"etcd+unix://", "absolute socket path"},
      {"etcd+unix://relative/etcd.sock", "absolute socket path"},
      {"etcd+unix:///run/", "absolute socket path"},
      {"etcd+unix:///run/etcd.sock?colour=red", "unknown option \"colour\""},
  };
  for (const auto& [url, part] : cases) {
    auto backend = openEtcdBackend(url);
    ASSERT_FALSE(backend.ok()) << url;
    EXPECT_EQ(backend.status().code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(message(backend.status()), HasSubstr(part)) << url;
    EXPECT_THAT(message(backend.status()), HasSubstr(url)) << url;
  }
}

TEST(EtcdUrl, GoodUrlsParse) {
  auto o = etcd::parseEtcdUrl(
      "etcds://a.example:2379,10.0.0.2,[fd00::1]:2380/?cacert=/ca.pem&cert=/c.pem&key=/k.pem"
      "&username=coral&password=p%26ss&timeout_ms=250");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoints,
            (std::vector<std::string>{"a.example:2379", "10.0.0.2:2379", "[fd00::1]:2380"}));
  EXPECT_TRUE(o->tls);
  EXPECT_EQ(o->cacert_path, "/ca.pem");
  EXPECT_EQ(o->cert_path, "/c.pem");
  EXPECT_EQ(o->key_path, "/k.pem");
  EXPECT_EQ(o->username, "coral");
  EXPECT_EQ(o->password, "p&ss");
  EXPECT_EQ(o->timeout, 250ms);

  auto unix_socket = etcd::parseEtcdUrl("etcd+unix:///var/run/lab/etcd.sock:2379?timeout_ms=99");
  ASSERT_TRUE(unix_socket.ok()) << unix_socket.status();
  EXPECT_EQ(unix_socket->endpoints, (std::vector<std::string>{"unix:/var/run/lab/etcd.sock:2379"}));
  EXPECT_FALSE(unix_socket->tls);
  EXPECT_EQ(unix_socket->timeout, 99ms);

  auto plain = etcd::parseEtcdUrl("etcd://127.0.0.1:2379");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->tls);
  EXPECT_EQ(plain->timeout, 5000ms);
}

TEST(EtcdUrl, MissingTlsFileIsInvalidArgumentNamingTheOption) {
  auto backend = openEtcdBackend("etcd://127.0.0.1:2379?cacert=/nonexistent/ca.pem");
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message(backend.status()), HasSubstr("cacert"));
  EXPECT_THAT(message(backend.status()), HasSubstr("/nonexistent/ca.pem"));
}

TEST(EtcdUrl, PrefixRangeEnd) {
  EXPECT_EQ(etcd::prefixRangeEnd("/coral/"), "/coral0");
  EXPECT_EQ(etcd::prefixRangeEnd("a\xff"), "b");
  EXPECT_EQ(etcd::prefixRangeEnd("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(etcd::prefixRangeEnd(""), std::string(1, '\0'));
}

// ---- Against one etcd shared by the suite; each test writes under its own prefix ----

class EtcdBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto etcd = coral::testing::EtcdProcess::launch();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = std::move(etcd).value().release();
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(etcd_, nullptr) << "etcd did not start";
    auto backend = openEtcdBackend(etcd_->url());
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = std::move(backend).value();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = fmt::format("/test/{}/", info->name());
  }
  std::string key(std::string_view name) const { return prefix_ + std::string(name); }

  static coral::testing::EtcdProcess* etcd_;
  BackendPtr backend_;
  std::string prefix_;
};
coral::testing::EtcdProcess* EtcdBackendTest::etcd_ = nullptr;

TEST_F(EtcdBackendTest, CreateGetUpdateRemoveWithCas) {
  ASSERT_OK_AND_ASSIGN(const Revision created, backend_->create(key("a"), "v1"));
  auto again = backend_->create(key("a"), "v2");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();

  ASSERT_OK_AND_ASSIGN(KeyValue kv, backend_->get(key("a")));
  EXPECT_EQ(kv.value, "v1");
  EXPECT_EQ(kv.create_revision, created);
  EXPECT_EQ(kv.mod_revision, created);
  EXPECT_EQ(kv.lease, 0);

  ASSERT_OK_AND_ASSIGN(const Revision updated, backend_->update(key("a"), "v2", created));
  EXPECT_GT(updated, created);
  auto stale = backend_->update(key("a"), "v3", created);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted) << stale.status();
  EXPECT_THAT(message(stale.status()), HasSubstr(key("a")));
  ASSERT_OK_AND_ASSIGN(kv, backend_->get(key("a")));
  EXPECT_EQ(kv.value, "v2");
  EXPECT_EQ(kv.create_revision, created);
  EXPECT_EQ(kv.mod_revision, updated);

  auto missing = backend_->update(key("missing"), "x", 5);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  // mod_revision 0 is what etcd reports for an absent key: still not found, not created.
  auto zero = backend_->update(key("missing"), "x", 0);
  EXPECT_EQ(zero.status().code(), absl::StatusCode::kNotFound) << zero.status();
  EXPECT_EQ(backend_->get(key("missing")).status().code(), absl::StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(const Revision put, backend_->put(key("a"), "v4"));
  EXPECT_GT(put, updated);
  ASSERT_OK_AND_ASSIGN(const Revision put_new, backend_->put(key("b"), "b1"));
  EXPECT_GT(put_new, put);

  auto wrong = backend_->remove(key("a"), updated);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kAborted) << wrong.status();
  ASSERT_OK_AND_ASSIGN(const Revision removed, backend_->remove(key("a"), put));
  EXPECT_GT(removed, put_new);
  EXPECT_EQ(backend_->get(key("a")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(backend_->remove(key("a")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(backend_->remove(key("a"), put).status().code(), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(const Revision removed_b, backend_->remove(key("b")));
  EXPECT_GT(removed_b, removed);
  ASSERT_OK_AND_ASSIGN(const Revision now, backend_->currentRevision());
  EXPECT_EQ(now, removed_b);

  // A re-created key gets a new create revision.
  ASSERT_OK_AND_ASSIGN(const Revision recreated, backend_->create(key("a"), "again"));
  ASSERT_OK_AND_ASSIGN(kv, backend_->get(key("a")));
  EXPECT_EQ(kv.create_revision, recreated);

  EXPECT_EQ(backend_->get("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(EtcdBackendTest, ConcurrentCasHasOneWinner) {
  ASSERT_OK_AND_ASSIGN(const Revision rev, backend_->create(key("counter"), "0"));
  std::vector<std::thread> threads;
  std::atomic<int> wins{0};
  std::atomic<int> conflicts{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = backend_->update(key("counter"), std::to_string(i), rev);
      if (r.ok()) ++wins;
      if (isConflict(r.status())) ++conflicts;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(conflicts.load(), 7);
}

TEST_F(EtcdBackendTest, ListIsSortedAndBoundedByPrefix) {
  for (const char* name : {"c", "a", "b/x", "b", "\xff"}) {
    ASSERT_TRUE(backend_->put(key(name), name).ok());
  }
  // Neighbours that share all but the last byte of the prefix must not show up.
  const std::string sibling = prefix_.substr(0, prefix_.size() - 1) + "0";
  ASSERT_TRUE(backend_->put(sibling, "outside").ok());
  ASSERT_OK_AND_ASSIGN(ListResult list, backend_->list(prefix_));
  std::vector<std::string> keys;
  for (const auto& kv : list.kvs) keys.push_back(kv.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{key("a"), key("b"), key("b/x"), key("c"), key("\xff")}));
  ASSERT_OK_AND_ASSIGN(const Revision now, backend_->currentRevision());
  EXPECT_EQ(list.revision, now);

  ASSERT_OK_AND_ASSIGN(ListResult none, backend_->list(key("nothing-here/")));
  EXPECT_TRUE(none.kvs.empty());
  EXPECT_EQ(none.revision, now);

  // The all-0xff edge: a prefix with no range end lists every key from it on.
  ASSERT_TRUE(backend_->put("\xff\xff", "top").ok());
  ASSERT_TRUE(backend_->put("\xff\xff\x01", "top2").ok());
  ASSERT_OK_AND_ASSIGN(ListResult top, backend_->list("\xff\xff"));
  ASSERT_EQ(top.kvs.size(), 2u);
  EXPECT_EQ(top.kvs[1].value, "top2");
  ASSERT_OK_AND_ASSIGN(ListResult all, backend_->list(""));
  EXPECT_GE(all.kvs.size(), 8u);
  EXPECT_TRUE(std::is_sorted(all.kvs.begin(), all.kvs.end(),
                             [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; }));
  ASSERT_TRUE(backend_->remove("\xff\xff").ok());
  ASSERT_TRUE(backend_->remove("\xff\xff\x01").ok());
}

TEST_F(EtcdBackendTest, ListPagesThroughManyKeysAtOneRevision) {
  // More keys than one Range page (1000); written in parallel to keep the test short.
  constexpr int kKeys = 1100;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < kKeys; i += 4) {
        if (!backend_->put(key(fmt::format("k{:05d}", i)), std::string(100, 'x')).ok()) ++failures;
      }
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(ListResult list, backend_->list(prefix_));
  ASSERT_EQ(list.kvs.size(), static_cast<size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i) EXPECT_EQ(list.kvs[i].key, key(fmt::format("k{:05d}", i)));
  for (const auto& kv : list.kvs) EXPECT_LE(kv.mod_revision, list.revision);
}

TEST_F(EtcdBackendTest, WatchDeliversChangesInRevisionOrder) {
  ASSERT_OK_AND_ASSIGN(WatchPtr watch, backend_->watch(prefix_, 0));
  ASSERT_OK_AND_ASSIGN(const Revision r1, backend_->create(key("a"), "1"));
  ASSERT_OK_AND_ASSIGN(const Revision r2, backend_->update(key("a"), "2", r1));
  ASSERT_OK_AND_ASSIGN(const Revision r3, backend_->put(key("b"), "b"));
  ASSERT_TRUE(backend_->put("/elsewhere/x", "not watched").ok());
  ASSERT_OK_AND_ASSIGN(const Revision r4, backend_->remove(key("a")));

  std::vector<WatchEvent> events = collect(*watch, 4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, EventType::kPut);
  EXPECT_EQ(events[0].kv, (KeyValue{key("a"), "1", r1, r1, 0}));
  EXPECT_EQ(events[1].kv, (KeyValue{key("a"), "2", r1, r2, 0}));
  EXPECT_EQ(events[2].kv, (KeyValue{key("b"), "b", r3, r3, 0}));
  EXPECT_EQ(events[3].type, EventType::kDelete);
  EXPECT_EQ(events[3].kv.key, key("a"));
  EXPECT_EQ(events[3].kv.mod_revision, r4);
  EXPECT_EQ(events[3].kv.value, "2");  // the last value before the delete
  auto more = watch->next(200ms);
  ASSERT_TRUE(more.ok());
  EXPECT_TRUE(more->empty());

  // A watch from a past revision replays history from there.
  ASSERT_OK_AND_ASSIGN(WatchPtr replay, backend_->watch(prefix_, r2));
  events = collect(*replay, 3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kv.mod_revision, r2);
  EXPECT_EQ(events[1].kv.mod_revision, r3);
  EXPECT_EQ(events[2].kv.mod_revision, r4);
}

TEST_F(EtcdBackendTest, WatchOfManyWritesKeepsOrderAndCount) {
  ASSERT_OK_AND_ASSIGN(WatchPtr watch, backend_->watch(prefix_, 0));
  constexpr int kWrites = 300;
  for (int i = 0; i < kWrites; ++i) ASSERT_TRUE(backend_->put(key("k"), std::to_string(i)).ok());
  std::vector<WatchEvent> events = collect(*watch, kWrites);
  ASSERT_EQ(events.size(), static_cast<size_t>(kWrites));
  for (int i = 0; i < kWrites; ++i) {
    EXPECT_EQ(events[i].kv.value, std::to_string(i));
    if (i > 0) {
      EXPECT_GT(events[i].kv.mod_revision, events[i - 1].kv.mod_revision);
    }
  }
}

TEST_F(EtcdBackendTest, CompactedRevisionEndsWatchWithOutOfRange) {
  ASSERT_OK_AND_ASSIGN(const Revision first, backend_->put(key("a"), "1"));
  ASSERT_TRUE(backend_->put(key("a"), "2").ok());
  ASSERT_OK_AND_ASSIGN(const Revision last, backend_->put(key("a"), "3"));
  ASSERT_TRUE(backend_->compact(last).ok());
  EXPECT_EQ(backend_->compact(first).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(backend_->compact(last + 1000).code(), absl::StatusCode::kInvalidArgument);

  ASSERT_OK_AND_ASSIGN(WatchPtr watch, backend_->watch(prefix_, first));
  absl::StatusOr<std::vector<WatchEvent>> events;
  for (int i = 0; i < 50; ++i) {
    events = watch->next(100ms);
    if (!events.ok()) break;
  }
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.status().code(), absl::StatusCode::kOutOfRange) << events.status();
  EXPECT_TRUE(isCompacted(events.status()));
  // The current value is still there, and a watch from the compaction point works.
  ASSERT_OK_AND_ASSIGN(KeyValue kv, backend_->get(key("a")));
  EXPECT_EQ(kv.value, "3");
  ASSERT_OK_AND_ASSIGN(WatchPtr fresh, backend_->watch(prefix_, last));
  auto replayed = collect(*fresh, 1);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(replayed[0].kv.value, "3");
}

TEST_F(EtcdBackendTest, LeasedKeysVanishWhenTheLeaseExpiresOrIsRevoked) {
  EXPECT_EQ(backend_->grantLease(0s).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(const LeaseId lease, backend_->grantLease(1s));
  EXPECT_NE(lease, 0);
  ASSERT_OK_AND_ASSIGN(WatchPtr watch, backend_->watch(prefix_, 0));
  ASSERT_TRUE(backend_->create(key("ephemeral"), "here", lease).ok());
  ASSERT_OK_AND_ASSIGN(KeyValue kv, backend_->get(key("ephemeral")));
  EXPECT_EQ(kv.lease, lease);
  EXPECT_TRUE(backend_->keepAlive(lease).ok());

  // Expiry: the key is deleted and the watch sees the delete.
  std::vector<WatchEvent> events = collect(*watch, 2, 15s);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].type, EventType::kDelete);
  EXPECT_EQ(events[1].kv.key, key("ephemeral"));
  EXPECT_EQ(backend_->get(key("ephemeral")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(backend_->keepAlive(lease).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(backend_->revokeLease(lease).code(), absl::StatusCode::kNotFound);

  // Revocation deletes at once.
  ASSERT_OK_AND_ASSIGN(const LeaseId lease2, backend_->grantLease(60s));
  ASSERT_TRUE(backend_->put(key("held"), "x", lease2).ok());
  ASSERT_TRUE(backend_->revokeLease(lease2).ok());
  EXPECT_EQ(backend_->get(key("held")).status().code(), absl::StatusCode::kNotFound);
  // A write with an unknown lease is refused.
  EXPECT_FALSE(backend_->put(key("orphan"), "x", lease2).ok());
}

TEST_F(EtcdBackendTest, FailsOverToTheNextEndpoint) {
  ASSERT_OK_AND_ASSIGN(const int dead_port, coral::testing::freeLocalPort());
  ASSERT_OK_AND_ASSIGN(BackendPtr backend,
                       openEtcdBackend(fmt::format("etcd://127.0.0.1:{},{}?timeout_ms=2000",
                                                   dead_port, etcd_->endpoint())));
  ASSERT_TRUE(backend->put(key("x"), "1").ok());
  ASSERT_OK_AND_ASSIGN(KeyValue kv, backend->get(key("x")));
  EXPECT_EQ(kv.value, "1");
  ASSERT_OK_AND_ASSIGN(WatchPtr watch, backend->watch(prefix_, 0));
  ASSERT_TRUE(backend->put(key("x"), "2").ok());
  auto events = collect(*watch, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.value, "2");
}

TEST(EtcdBackendDown, UnreachableEtcdIsUnavailable) {
  ASSERT_OK_AND_ASSIGN(const int port, coral::testing::freeLocalPort());
  ASSERT_OK_AND_ASSIGN(BackendPtr backend,
                       openEtcdBackend(fmt::format("etcd://127.0.0.1:{}?timeout_ms=500", port)));
  const auto start = std::chrono::steady_clock::now();
  auto kv = backend->get("/coral/x");
  EXPECT_EQ(kv.status().code(), absl::StatusCode::kUnavailable) << kv.status();
  EXPECT_EQ(backend->put("/coral/x", "1").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(backend->watch("/coral/", 0).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

// ---- etcd+unix://: an etcd on a unix socket (the lab's datastore), reached from another
// network namespace through the filesystem alone ----

TEST(EtcdUnixSocket, KeyValueAndWatchOverTheSocket) {
  ASSERT_OK_AND_ASSIGN(auto etcd, coral::testing::EtcdProcess::launch({}, std::nullopt, true));
  ASSERT_OK_AND_ASSIGN(BackendPtr backend, openEtcdBackend(etcd->unixSocketUrl()));
  ASSERT_OK_AND_ASSIGN(auto watch, backend->watch("/unix/", 0));
  ASSERT_OK_AND_ASSIGN(const Revision created, backend->create("/unix/a", "v1"));
  ASSERT_OK_AND_ASSIGN(KeyValue kv, backend->get("/unix/a"));
  EXPECT_EQ(kv.value, "v1");
  EXPECT_EQ(kv.mod_revision, created);
  const auto events = collect(*watch, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.key, "/unix/a");
  // The same data over TCP: one etcd, two listeners.
  ASSERT_OK_AND_ASSIGN(BackendPtr tcp, openEtcdBackend(etcd->url()));
  ASSERT_OK_AND_ASSIGN(kv, tcp->get("/unix/a"));
  EXPECT_EQ(kv.value, "v1");
}

TEST(EtcdUnixSocket, MissingSocketIsUnavailableNamingIt) {
  ASSERT_OK_AND_ASSIGN(BackendPtr backend,
                       openEtcdBackend("etcd+unix:///nonexistent/etcd.sock?timeout_ms=500"));
  auto kv = backend->get("/coral/x");
  EXPECT_EQ(kv.status().code(), absl::StatusCode::kUnavailable) << kv.status();
  EXPECT_THAT(message(kv.status()), HasSubstr("/nonexistent/etcd.sock"));
}

// ---- etcd restarts under a watch: its own etcd, so the others are not disturbed ----

TEST(EtcdRestart, WatchResumesWithoutLossOrDuplicates) {
  auto launched = coral::testing::EtcdProcess::launch();
  ASSERT_TRUE(launched.ok()) << launched.status();
  auto& etcd = **launched;
  ASSERT_OK_AND_ASSIGN(BackendPtr backend, openEtcdBackend(etcd.url() + "?timeout_ms=1000"));
  ASSERT_OK_AND_ASSIGN(WatchPtr watch, backend->watch("/w/", 0));
  ASSERT_OK_AND_ASSIGN(const Revision r1, backend->put("/w/a", "before"));
  auto events = collect(*watch, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.mod_revision, r1);

  ASSERT_TRUE(etcd.stop().ok());
  // While etcd is down the watch just has nothing to say; it keeps retrying.
  for (int i = 0; i < 5; ++i) {
    auto none = watch->next(100ms);
    ASSERT_TRUE(none.ok()) << none.status();
    EXPECT_TRUE(none->empty());
  }
  EXPECT_EQ(backend->get("/w/a").status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(etcd.start().ok()) << etcd.logTail();

  // The first write after the restart can race the client's reconnect: retry it.
  absl::StatusOr<Revision> r2;
  for (int i = 0; i < 50; ++i) {
    r2 = backend->put("/w/b", "after");
    if (r2.ok()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(r2.ok()) << r2.status() << "\netcd log:\n" << etcd.logTail();
  ASSERT_OK_AND_ASSIGN(const Revision r3, backend->put("/w/a", "after too"));
  events = collect(*watch, 2, 15s);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kv.key, "/w/b");
  EXPECT_EQ(events[0].kv.mod_revision, *r2);
  EXPECT_EQ(events[1].kv.mod_revision, r3);
  auto extra = watch->next(300ms);
  ASSERT_TRUE(extra.ok());
  EXPECT_TRUE(extra->empty()) << "duplicate or stray events after the restart";
}

}  // namespace
}  // namespace coral::datastore
