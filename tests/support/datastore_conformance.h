// The datastore backend conformance suite: the semantics of datastore/backend.h that every
// backend (file, etcd, ...) must share, as a GoogleTest typed, parameterised suite.
//
// To run it against a backend, write a Factory with static methods:
//
//   struct MyFactory {
//     // A fresh, empty store (each call a new one), or nullptr with a test failure.
//     static coral::datastore::BackendPtr open();
//     // A second client of the store that the last open() made, as another process
//     // would have (own connection / own file handles).
//     static coral::datastore::BackendPtr openAnother();
//     // The URL of that store, which coral-datastore-writer (tests/support/datastore_url.h,
//     // openTestBackend) can open in a child process.
//     static std::string url();
//     // Optional: stop and start the server behind the store, keeping its data
//     // (etcd restart); when present the suite checks that data survives it.
//     static void restart();
//   };
//
// then, in exactly one .cc file of a test binary:
//
//   #include "tests/support/datastore_conformance.h"
//   namespace coral::datastore {
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, DatastoreConformanceTest, ::testing::Types<MyFactory>);
//   }
//
// and in its CMakeLists.txt:
//
//   include(${CMAKE_SOURCE_DIR}/tests/support/datastore.cmake)
//   coral_add_test(<name> LABEL ... SOURCES <file>.cc LIBS <your backend>
//   coral_datastore_conformance)
//
// The suite uses keys under "/conformance/", only relative revisions (never assumes a store
// starts at revision 0), TTLs of 2 s with bounded polling, and spawns 4 writer processes.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "datastore/backend.h"
#include "tests/support/child_process.h"
#include "tests/support/datastore_test_util.h"

namespace coral::datastore {

// The suite's bodies use 2s / 200ms literals (harmless in a test-only header).
using namespace std::chrono_literals;

template <typename Factory>
class DatastoreConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = Factory::open();
    ASSERT_NE(backend_, nullptr) << "Factory::open() failed";
  }
  Backend& db() { return *backend_; }
  Revision mustPut(const std::string& key, const std::string& value, LeaseId lease = 0) {
    auto rev = backend_->put(key, value, lease);
    EXPECT_TRUE(rev.ok()) << key << ": " << rev.status();
    return rev.ok() ? *rev : 0;
  }

  BackendPtr backend_;
};

TYPED_TEST_SUITE_P(DatastoreConformanceTest);

TYPED_TEST_P(DatastoreConformanceTest, GetMissingKeyIsNotFound) {
  EXPECT_EQ(this->db().get("/conformance/missing").status().code(), absl::StatusCode::kNotFound);
}

TYPED_TEST_P(DatastoreConformanceTest, CreateThenGetReturnsValueAndRevisions) {
  const std::string value("bin\0ary\xff", 8);
  auto rev = this->db().create("/conformance/a", value);
  ASSERT_TRUE(rev.ok()) << rev.status();
  auto kv = this->db().get("/conformance/a");
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->key, "/conformance/a");
  EXPECT_EQ(kv->value, value);
  EXPECT_EQ(kv->create_revision, *rev);
  EXPECT_EQ(kv->mod_revision, *rev);
  EXPECT_EQ(kv->lease, 0);
  EXPECT_EQ(this->db().create("/conformance/a", "again").status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(this->db().get("/conformance/a")->value, value) << "failed create changed the key";
}

TYPED_TEST_P(DatastoreConformanceTest, UpdateIsCompareAndSwapOnModRevision) {
  auto created = this->db().create("/conformance/u", "1");
  ASSERT_TRUE(created.ok()) << created.status();
  auto updated = this->db().update("/conformance/u", "2", *created);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_GT(*updated, *created);
  auto stale = this->db().update("/conformance/u", "3", *created);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted) << stale.status();
  auto kv = this->db().get("/conformance/u");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->value, "2");
  EXPECT_EQ(kv->mod_revision, *updated);
  EXPECT_EQ(kv->create_revision, *created);
  EXPECT_EQ(this->db().update("/conformance/none", "x", *updated).status().code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST_P(DatastoreConformanceTest, PutCreatesAndReplacesKeepingCreateRevision) {
  const Revision first = this->mustPut("/conformance/p", "1");
  const Revision second = this->mustPut("/conformance/p", "2");
  EXPECT_GT(second, first);
  auto kv = this->db().get("/conformance/p");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->value, "2");
  EXPECT_EQ(kv->create_revision, first);
  EXPECT_EQ(kv->mod_revision, second);
}

TYPED_TEST_P(DatastoreConformanceTest, RemoveSemanticsAndCas) {
  EXPECT_EQ(this->db().remove("/conformance/none").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(this->db().remove("/conformance/none", 5).status().code(), absl::StatusCode::kNotFound);
  const Revision rev = this->mustPut("/conformance/r", "1");
  auto wrong = this->db().remove("/conformance/r", rev - 1);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kAborted) << wrong.status();
  EXPECT_TRUE(this->db().get("/conformance/r").ok()) << "failed CAS remove deleted the key";
  auto removed = this->db().remove("/conformance/r", rev);
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_GT(*removed, rev);
  EXPECT_TRUE(isNotFound(this->db().get("/conformance/r").status()));
  this->mustPut("/conformance/r2", "1");
  EXPECT_TRUE(this->db().remove("/conformance/r2").ok());
  EXPECT_TRUE(isNotFound(this->db().get("/conformance/r2").status()));
  // A removed key can be created again, with a new create revision.
  auto again = this->db().create("/conformance/r", "new");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(this->db().get("/conformance/r")->create_revision, *again);
}

TYPED_TEST_P(DatastoreConformanceTest, ListReturnsExactlyThePrefixSortedByKey) {
  for (const char* key :
       {"/conformance/l/b/c", "/conformance/l/a", "/conformance/l/b", "/conformance/l/bc",
        "/conformance/l/b/", "/conformance/l/b0", "/conformance/l/c", "/conformance/la"}) {
    this->mustPut(key, "v");
  }
  auto keys = [&](const std::string& prefix) {
    std::vector<std::string> out;
    auto list = this->db().list(prefix);
    EXPECT_TRUE(list.ok()) << list.status();
    if (list.ok()) {
      for (const KeyValue& kv : list->kvs) out.push_back(kv.key);
    }
    return out;
  };
  EXPECT_EQ(keys("/conformance/l/b/"),
            (std::vector<std::string>{"/conformance/l/b/", "/conformance/l/b/c"}));
  EXPECT_EQ(keys("/conformance/l/b"),
            (std::vector<std::string>{"/conformance/l/b", "/conformance/l/b/", "/conformance/l/b/c",
                                      "/conformance/l/b0", "/conformance/l/bc"}));
  EXPECT_EQ(keys("/conformance/l/").size(), 7u);
  EXPECT_TRUE(keys("/conformance/l/d").empty());
  // A prefix ending in 0xff: the range end cannot be "increment the last byte".
  this->mustPut("/conformance/m\xff", "v");
  this->mustPut("/conformance/m\xff\xff", "v");
  this->mustPut("/conformance/m\xfe", "v");
  this->mustPut("/conformance/n", "v");
  EXPECT_EQ(keys("/conformance/m\xff"),
            (std::vector<std::string>{"/conformance/m\xff", "/conformance/m\xff\xff"}));
}

TYPED_TEST_P(DatastoreConformanceTest, RevisionIsGlobalAndMonotonic) {
  std::vector<Revision> revs;
  for (int i = 0; i < 6; ++i)
    revs.push_back(this->mustPut("/conformance/k" + std::to_string(i % 3), "v"));
  for (size_t i = 1; i < revs.size(); ++i) EXPECT_GT(revs[i], revs[i - 1]);
  auto current = this->db().currentRevision();
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(*current, revs.back());
  auto list = this->db().list("/conformance/");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->revision, revs.back());
  auto other = TypeParam::openAnother();
  ASSERT_NE(other, nullptr);
  const Revision from_other = *other->put("/conformance/k9", "v");
  EXPECT_GT(from_other, revs.back());
  EXPECT_EQ(*this->db().currentRevision(), from_other) << "revision not shared across clients";
}

TYPED_TEST_P(DatastoreConformanceTest, CasConflictBetweenTwoClients) {
  auto other = TypeParam::openAnother();
  ASSERT_NE(other, nullptr);
  const Revision rev = this->mustPut("/conformance/cas", "0");
  auto seen_by_other = other->get("/conformance/cas");
  ASSERT_TRUE(seen_by_other.ok()) << seen_by_other.status();
  EXPECT_EQ(seen_by_other->mod_revision, rev);
  ASSERT_TRUE(this->db().update("/conformance/cas", "mine", rev).ok());
  auto theirs = other->update("/conformance/cas", "theirs", seen_by_other->mod_revision);
  EXPECT_EQ(theirs.status().code(), absl::StatusCode::kAborted) << theirs.status();
  EXPECT_EQ(other->get("/conformance/cas")->value, "mine");
  EXPECT_EQ(this->db().get("/conformance/cas")->value, "mine");
  EXPECT_EQ(other->remove("/conformance/cas", rev).status().code(), absl::StatusCode::kAborted);
}

TYPED_TEST_P(DatastoreConformanceTest, WatchDeliversChangesInOrder) {
  auto watch = this->db().watch("/conformance/w/", 0);
  ASSERT_TRUE(watch.ok()) << watch.status();
  const Revision r1 = this->mustPut("/conformance/w/a", "1");
  this->mustPut("/conformance/other", "not watched");
  const Revision r2 = this->mustPut("/conformance/w/b", "2");
  const Revision r3 = this->mustPut("/conformance/w/a", "3");
  auto r4 = this->db().remove("/conformance/w/b");
  ASSERT_TRUE(r4.ok());
  auto events = conformance::collect(**watch, 4);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 4u) << conformance::describe(*events);
  const std::vector<std::pair<EventType, Revision>> want = {{EventType::kPut, r1},
                                                            {EventType::kPut, r2},
                                                            {EventType::kPut, r3},
                                                            {EventType::kDelete, *r4}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*events)[i].type, want[i].first) << i;
    EXPECT_EQ((*events)[i].kv.mod_revision, want[i].second) << i;
  }
  EXPECT_EQ((*events)[2].kv.value, "3");
  EXPECT_EQ((*events)[2].kv.create_revision, r1);
  EXPECT_EQ((*events)[3].kv.key, "/conformance/w/b");
  auto none = (*watch)->next(200ms);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty()) << conformance::describe(*none);
}

TYPED_TEST_P(DatastoreConformanceTest, WatchSeesWritesOfAnotherClient) {
  auto other = TypeParam::openAnother();
  ASSERT_NE(other, nullptr);
  auto watch = this->db().watch("/conformance/x/", 0);
  ASSERT_TRUE(watch.ok()) << watch.status();
  const auto start = std::chrono::steady_clock::now();
  const Revision rev = *other->put("/conformance/x/1", "from other");
  auto events = conformance::collect(**watch, 1);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kv.value, "from other");
  EXPECT_EQ((*events)[0].kv.mod_revision, rev);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "watch latency too high";
}

TYPED_TEST_P(DatastoreConformanceTest, WatchFromOldRevisionReplaysHistory) {
  const Revision first = this->mustPut("/conformance/h/a", "1");
  this->mustPut("/conformance/h/b", "2");
  ASSERT_TRUE(this->db().remove("/conformance/h/a").ok());
  this->mustPut("/conformance/h/a", "3");
  auto watch = this->db().watch("/conformance/h/", first);
  ASSERT_TRUE(watch.ok()) << watch.status();
  auto events = conformance::collect(**watch, 4);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 4u) << conformance::describe(*events);
  EXPECT_EQ((*events)[0].kv.mod_revision, first);
  EXPECT_EQ((*events)[2].type, EventType::kDelete);
  EXPECT_EQ((*events)[3].kv.value, "3");
  for (size_t i = 1; i < events->size(); ++i) {
    EXPECT_GT((*events)[i].kv.mod_revision, (*events)[i - 1].kv.mod_revision);
  }
}

TYPED_TEST_P(DatastoreConformanceTest, WatchResumesFromLastRevisionWithoutGapsOrRepeats) {
  auto watch = this->db().watch("/conformance/res/", 0);
  ASSERT_TRUE(watch.ok());
  for (int i = 0; i < 3; ++i) this->mustPut("/conformance/res/" + std::to_string(i), "a");
  auto seen = conformance::collect(**watch, 3);
  ASSERT_TRUE(seen.ok() && seen->size() == 3u);
  const Revision last = seen->back().kv.mod_revision;
  watch->reset();  // the client goes away
  std::vector<Revision> missed;
  for (int i = 0; i < 4; ++i) {
    missed.push_back(this->mustPut("/conformance/res/" + std::to_string(i), "b"));
  }
  ASSERT_TRUE(this->db().remove("/conformance/res/0").ok());
  missed.push_back(*this->db().currentRevision());
  auto resumed = this->db().watch("/conformance/res/", last + 1);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  auto events = conformance::collect(**resumed, missed.size());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), missed.size()) << conformance::describe(*events);
  for (size_t i = 0; i < missed.size(); ++i) EXPECT_EQ((*events)[i].kv.mod_revision, missed[i]);
  EXPECT_EQ(events->back().type, EventType::kDelete);
  auto extra = (*resumed)->next(200ms);
  ASSERT_TRUE(extra.ok());
  EXPECT_TRUE(extra->empty()) << conformance::describe(*extra);
}

TYPED_TEST_P(DatastoreConformanceTest, CompactionFailsWatchesFromBeforeIt) {
  const Revision old = this->mustPut("/conformance/c/a", "1");
  auto lagging = this->db().watch("/conformance/c/", old);
  ASSERT_TRUE(lagging.ok()) << lagging.status();
  for (int i = 0; i < 3; ++i) this->mustPut("/conformance/c/a", std::to_string(i));
  const Revision compact_at = this->mustPut("/conformance/c/b", "x");
  const Revision after = this->mustPut("/conformance/c/c", "y");
  ASSERT_TRUE(this->db().compact(compact_at).ok());

  // A new watch from before the compaction: kOutOfRange from watch() or its first next().
  auto fresh = this->db().watch("/conformance/c/", old);
  absl::Status fresh_status = fresh.status();
  if (fresh.ok()) fresh_status = (*fresh)->next(2s).status();
  EXPECT_EQ(fresh_status.code(), absl::StatusCode::kOutOfRange) << fresh_status;

  // The watch made before the compaction may already hold its events (etcd streams them
  // eagerly); what it must never do is skip any: kOutOfRange, or every event from `old` on.
  auto events = conformance::collect(**lagging, 6, 3s);
  if (events.ok()) {
    ASSERT_FALSE(events->empty());
    EXPECT_EQ(events->front().kv.mod_revision, old) << conformance::describe(*events);
    EXPECT_EQ(events->back().kv.mod_revision, after) << conformance::describe(*events);
  } else {
    EXPECT_EQ(events.status().code(), absl::StatusCode::kOutOfRange) << events.status();
  }

  // The data is intact and new watches work.
  EXPECT_EQ(this->db().get("/conformance/c/a")->value, "2");
  EXPECT_EQ(this->db().list("/conformance/c/")->kvs.size(), 3u);
  auto watch = this->db().watch("/conformance/c/", after);
  ASSERT_TRUE(watch.ok()) << watch.status();
  auto last = conformance::collect(**watch, 1);
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ((*last)[0].kv.key, "/conformance/c/c");
}

TYPED_TEST_P(DatastoreConformanceTest, LeasedKeysVanishAfterTtlWithoutKeepAlive) {
  auto lease = this->db().grantLease(2s);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_NE(*lease, 0);
  auto watch = this->db().watch("/conformance/lease/", 0);
  ASSERT_TRUE(watch.ok());
  this->mustPut("/conformance/lease/a", "1", *lease);
  this->mustPut("/conformance/lease/b", "2");
  EXPECT_EQ(this->db().get("/conformance/lease/a")->lease, *lease);
  ASSERT_TRUE(conformance::waitUntilGone(this->db(), "/conformance/lease/a", 12s));
  EXPECT_TRUE(this->db().get("/conformance/lease/b").ok()) << "key without lease vanished";
  auto events = conformance::collect(**watch, 3);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 3u) << conformance::describe(*events);
  EXPECT_EQ((*events)[2].type, EventType::kDelete);
  EXPECT_EQ((*events)[2].kv.key, "/conformance/lease/a");
  EXPECT_EQ(this->db().keepAlive(*lease).code(), absl::StatusCode::kNotFound);
}

TYPED_TEST_P(DatastoreConformanceTest, KeepAliveKeepsLeasedKeys) {
  auto lease = this->db().grantLease(2s);
  ASSERT_TRUE(lease.ok()) << lease.status();
  this->mustPut("/conformance/ka", "1", *lease);
  const auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(this->db().keepAlive(*lease).ok());
    std::this_thread::sleep_for(400ms);
    ASSERT_TRUE(this->db().get("/conformance/ka").ok()) << "leased key vanished despite keepalive";
  }
  ASSERT_TRUE(this->db().revokeLease(*lease).ok());
}

TYPED_TEST_P(DatastoreConformanceTest, RevokeDeletesLeasedKeys) {
  auto lease = this->db().grantLease(60s);
  ASSERT_TRUE(lease.ok()) << lease.status();
  this->mustPut("/conformance/rv/a", "1", *lease);
  this->mustPut("/conformance/rv/b", "2", *lease);
  this->mustPut("/conformance/rv/c", "3");
  ASSERT_TRUE(this->db().revokeLease(*lease).ok());
  EXPECT_TRUE(isNotFound(this->db().get("/conformance/rv/a").status()));
  EXPECT_TRUE(isNotFound(this->db().get("/conformance/rv/b").status()));
  EXPECT_TRUE(this->db().get("/conformance/rv/c").ok());
  EXPECT_EQ(this->db().keepAlive(*lease).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(this->db().revokeLease(*lease).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(this->db().put("/conformance/rv/d", "4", *lease).status().code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST_P(DatastoreConformanceTest, ConcurrentCasWritersInSeveralProcesses) {
  constexpr int kWriters = 4;
  constexpr int kIncrements = 100;
  coral::testing::TempDir out;
  ASSERT_FALSE(out.path().empty());
  const std::string key = "/conformance/counter";
  std::vector<std::unique_ptr<coral::testing::ChildProcess>> children;
  for (int i = 0; i < kWriters; ++i) {
    const int fd = coral::testing::openOutputFile(out.path() + "/" + std::to_string(i));
    ASSERT_GE(fd, 0);
    children.push_back(std::make_unique<coral::testing::ChildProcess>(
        std::vector<std::string>{conformance::writerPath(), TypeParam::url(), "increment", key,
                                 std::to_string(kIncrements)},
        fd));
    ::close(fd);
    ASSERT_GT(children.back()->pid(), 0) << "cannot spawn " << conformance::writerPath();
  }
  for (auto& child : children) {
    const int status = child->wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer status " << status;
  }
  std::set<Revision> revisions;
  size_t reported = 0;
  for (int i = 0; i < kWriters; ++i) {
    std::ifstream in(out.path() + "/" + std::to_string(i));
    for (Revision rev; in >> rev;) {
      revisions.insert(rev);
      ++reported;
    }
  }
  EXPECT_EQ(reported, static_cast<size_t>(kWriters * kIncrements));
  EXPECT_EQ(revisions.size(), reported) << "two writers got the same revision";
  auto kv = this->db().get(key);
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->value, std::to_string(kWriters * kIncrements));
  EXPECT_EQ(kv->mod_revision, *revisions.rbegin());
}

TYPED_TEST_P(DatastoreConformanceTest, DataSurvivesRestartAndReopen) {
  const Revision rev = this->mustPut("/conformance/keep", "1");
  if constexpr (requires { TypeParam::restart(); }) TypeParam::restart();
  auto other = TypeParam::openAnother();
  ASSERT_NE(other, nullptr);
  auto kv = other->get("/conformance/keep");
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->mod_revision, rev);
  auto current = other->currentRevision();
  ASSERT_TRUE(current.ok());
  EXPECT_GE(*current, rev);
  auto next = other->put("/conformance/keep", "2");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_GT(*next, rev);
}

REGISTER_TYPED_TEST_SUITE_P(
    DatastoreConformanceTest, GetMissingKeyIsNotFound, CreateThenGetReturnsValueAndRevisions,
    UpdateIsCompareAndSwapOnModRevision, PutCreatesAndReplacesKeepingCreateRevision,
    RemoveSemanticsAndCas, ListReturnsExactlyThePrefixSortedByKey, RevisionIsGlobalAndMonotonic,
    CasConflictBetweenTwoClients, WatchDeliversChangesInOrder, WatchSeesWritesOfAnotherClient,
    WatchFromOldRevisionReplaysHistory, WatchResumesFromLastRevisionWithoutGapsOrRepeats,
    CompactionFailsWatchesFromBeforeIt, LeasedKeysVanishAfterTtlWithoutKeepAlive,
    KeepAliveKeepsLeasedKeys, RevokeDeletesLeasedKeys, ConcurrentCasWritersInSeveralProcesses,
    DataSurvivesRestartAndReopen);

}  // namespace coral::datastore
