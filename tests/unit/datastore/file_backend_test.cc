// File-backend specific tests: the record and snapshot codecs, reopen, compaction (explicit
// and automatic, seen from a second client), lease expiry on a fake clock, repair of a torn
// log tail, refusal of mid-log corruption, and crash safety under SIGKILL of a writer process.
#include "datastore/file/file_backend.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "datastore/file/record.h"
#include "tests/support/child_process.h"
#include "tests/support/datastore_test_util.h"

namespace coral::datastore {
namespace {

using namespace std::chrono_literals;
using coral::testing::ChildProcess;
using coral::testing::TempDir;

BackendPtr mustOpen(const std::string& dir, const FileBackendOptions& options = {}) {
  auto backend = openFileBackend(dir, options);
  EXPECT_TRUE(backend.ok()) << backend.status();
  return backend.ok() ? std::move(*backend) : nullptr;
}

// The newest log segment of a store directory.
std::string currentLog(const std::string& dir) {
  std::string best;
  long best_gen = -1;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename();
    if (name.rfind("log.", 0) != 0 || name.find(".tmp") != std::string::npos) continue;
    const long gen = std::stol(name.substr(4));
    if (gen > best_gen) {
      best_gen = gen;
      best = entry.path();
    }
  }
  return best;
}

TEST(FileRecordTest, RecordRoundTripAndTornFramesAreDetected) {
  file::Record r{file::RecordOp::kPut, 7, 5, 3, 2, 0, 0, "/k", std::string("v\0\xff", 3)};
  std::string bytes;
  file::encodeRecord(r, &bytes);
  file::Record back;
  size_t consumed = 0;
  ASSERT_EQ(file::decodeRecord(bytes, &back, &consumed), file::DecodeResult::kOk);
  EXPECT_EQ(back, r);
  EXPECT_EQ(consumed, bytes.size());
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_EQ(file::decodeRecord(std::string_view(bytes).substr(0, cut), &back, &consumed),
              file::DecodeResult::kIncomplete)
        << cut;
  }
  std::string flipped = bytes;
  flipped.back() ^= 1;
  EXPECT_EQ(file::decodeRecord(flipped, &back, &consumed), file::DecodeResult::kCorrupt);
}

TEST(FileRecordTest, SnapshotRoundTripAndCorruptionIsDataLoss) {
  file::Snapshot s;
  s.revision = 10;
  s.compact_revision = 8;
  s.seq = 12;
  s.next_lease_id = 4;
  s.kvs["/a"] = KeyValue{"/a", "1", 2, 9, 3};
  s.leases[3] = file::LeaseState{2000, 123456};
  const std::string bytes = file::encodeSnapshot(s);
  auto back = file::decodeSnapshot(bytes, "snap");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
  std::string bad = bytes;
  bad[bad.size() - 3] ^= 0x40;
  EXPECT_EQ(file::decodeSnapshot(bad, "snap").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE(file::decodeSnapshot(bytes.substr(0, bytes.size() - 1), "snap").ok());
}

TEST(FileBackendTest, ReopenAfterCloseKeepsEverything) {
  TempDir dir;
  Revision first = 0;
  Revision last = 0;
  {
    auto db = mustOpen(dir.path() + "/nested/store");  // created if missing
    ASSERT_NE(db, nullptr);
    first = *db->put("/a", "1");
    ASSERT_TRUE(db->put("/b", "2").ok());
    ASSERT_TRUE(db->remove("/a").ok());
    auto lease = db->grantLease(600s);
    ASSERT_TRUE(lease.ok());
    last = *db->put("/c", "3", *lease);
  }
  auto db = mustOpen(dir.path() + "/nested/store");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(*db->currentRevision(), last);
  auto list = db->list("/");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->kvs.size(), 2u);
  EXPECT_EQ(list->kvs[0].key, "/b");
  EXPECT_NE(list->kvs[1].lease, 0);
  auto watch = db->watch("/", first);
  ASSERT_TRUE(watch.ok());
  auto events = conformance::collect(**watch, 4);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 4u) << conformance::describe(*events);
  EXPECT_TRUE(db->keepAlive(list->kvs[1].lease).ok()) << "lease lost on reopen";
  auto lease2 = db->grantLease(5s);
  ASSERT_TRUE(lease2.ok());
  EXPECT_GT(*lease2, list->kvs[1].lease) << "lease id reused";
}

TEST(FileBackendTest, CompactionWritesSnapshotAndKeepsData) {
  TempDir dir;
  auto db = mustOpen(dir.path());
  ASSERT_NE(db, nullptr);
  std::vector<Revision> revs;
  for (int i = 0; i < 20; ++i)
    revs.push_back(*db->put("/k" + std::to_string(i % 5), std::to_string(i)));
  ASSERT_TRUE(db->remove("/k0").ok());
  const Revision compact_at = revs[12];
  ASSERT_TRUE(db->compact(compact_at).ok());
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/snapshot.1"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/log.0"));
  EXPECT_EQ(db->compact(*db->currentRevision() + 5).code(), absl::StatusCode::kOutOfRange);
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1) db = mustOpen(dir.path());  // and again from the files alone
    ASSERT_NE(db, nullptr);
    auto list = db->list("/k");
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->kvs.size(), 4u) << pass;
    EXPECT_EQ(list->kvs[0].key, "/k1");
    EXPECT_EQ(list->kvs[0].value, "16");
    EXPECT_EQ(list->kvs[0].create_revision, revs[1]);
    EXPECT_EQ(db->watch("/", compact_at - 1).status().code(), absl::StatusCode::kOutOfRange);
    auto watch = db->watch("/", compact_at);
    ASSERT_TRUE(watch.ok()) << watch.status();
    auto events = conformance::collect(**watch, 9);  // revs[12..19] and the delete
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->size(), 9u) << conformance::describe(*events);
    EXPECT_EQ(events->front().kv.mod_revision, compact_at);
  }
}

TEST(FileBackendTest, OldWatchFailsAfterCompaction) {
  TempDir dir;
  auto db = mustOpen(dir.path());
  const Revision old = *db->put("/a", "1");
  auto watch = db->watch("/", old);
  ASSERT_TRUE(watch.ok());
  db->put("/a", "2").IgnoreError();
  ASSERT_TRUE(db->compact(*db->currentRevision()).ok());
  EXPECT_EQ((*watch)->next(100ms).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(FileBackendTest, AutoCompactionBoundsTheLogAndOtherClientsFollow) {
  TempDir dir;
  FileBackendOptions options;
  options.auto_compact_bytes = 64 << 10;
  auto writer = mustOpen(dir.path(), options);
  auto reader = mustOpen(dir.path(), options);
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  auto watch = reader->watch("/", 0);
  ASSERT_TRUE(watch.ok());
  const std::string value(100, 'x');
  size_t seen = 0;
  for (int i = 0; i < 1200; ++i) {
    ASSERT_TRUE(writer->put("/k" + std::to_string(i % 300), value + std::to_string(i)).ok());
    if (i % 20 == 19) {
      auto events = (*watch)->next(0ms);
      ASSERT_TRUE(events.ok()) << i << ": " << events.status();
      for (const WatchEvent& e : *events)
        EXPECT_EQ(e.kv.mod_revision, static_cast<Revision>(++seen));
    }
  }
  EXPECT_EQ(seen, 1200u);
  EXPECT_LT(std::filesystem::file_size(currentLog(dir.path())), 64u << 10);
  auto list = reader->list("/k");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->kvs.size(), 300u);
  EXPECT_EQ(*reader->currentRevision(), 1200);
  auto fresh = mustOpen(dir.path());
  EXPECT_EQ(fresh->get("/k299")->value, value + "1199");
  EXPECT_EQ(fresh->get("/k0")->value, value + "900");
}

TEST(FileBackendTest, LeasesExpireOnTheInjectedClock) {
  TempDir dir;
  common::FakeClock clock;
  FileBackendOptions options;
  options.clock = &clock;
  auto db = mustOpen(dir.path(), options);
  auto other = mustOpen(dir.path(), options);
  auto lease = db->grantLease(10s);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(db->put("/l", "1", *lease).ok());
  clock.advance(9s);
  ASSERT_TRUE(db->keepAlive(*lease).ok());
  clock.advance(9s);
  EXPECT_TRUE(other->get("/l").ok()) << "keepalive did not extend the lease";
  clock.advance(2s);
  EXPECT_TRUE(isNotFound(other->get("/l").status()));
  EXPECT_TRUE(isNotFound(db->get("/l").status()));
  EXPECT_EQ(db->keepAlive(*lease).code(), absl::StatusCode::kNotFound);
}

TEST(FileBackendTest, TornTailIsRepairedByTheNextWriter) {
  TempDir dir;
  {
    auto db = mustOpen(dir.path());
    ASSERT_TRUE(db->put("/a", "1").ok());
    ASSERT_TRUE(db->put("/b", "2").ok());
    ASSERT_TRUE(db->put("/c", "3").ok());
  }
  const std::string log = currentLog(dir.path());
  // A write cut short: the last record loses its final bytes.
  std::filesystem::resize_file(log, std::filesystem::file_size(log) - 3);
  {
    auto db = mustOpen(dir.path());
    ASSERT_NE(db, nullptr);
    EXPECT_TRUE(isNotFound(db->get("/c").status()));
    EXPECT_EQ(db->get("/b")->value, "2");
    auto rev = db->put("/d", "4");
    ASSERT_TRUE(rev.ok()) << rev.status();
    EXPECT_EQ(*rev, 3);
  }
  // Garbage after the last record (a frame header that promises more than follows).
  {
    std::ofstream out(log, std::ios::app | std::ios::binary);
    out << std::string("\x30\x00\x00\x00garbage", 11);
  }
  auto reader = mustOpen(dir.path());
  auto db = mustOpen(dir.path());
  ASSERT_TRUE(db->put("/e", "5").ok());
  auto list = reader->list("/");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->kvs.size(), 4u);
  EXPECT_EQ(list->kvs.back().key, "/e");
  EXPECT_EQ(mustOpen(dir.path())->get("/e")->mod_revision, 4);
}

TEST(FileBackendTest, CorruptionBeforeValidRecordsIsNotTruncated) {
  TempDir dir;
  {
    auto db = mustOpen(dir.path());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(db->put("/k" + std::to_string(i), "v").ok());
  }
  const std::string log = currentLog(dir.path());
  const auto size = std::filesystem::file_size(log);
  {
    std::fstream f(log, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);  // inside the first record's payload
    f.put('\x7f');
  }
  auto db = mustOpen(dir.path());
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->put("/x", "y").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(std::filesystem::file_size(log), size) << "valid records were cut";
}

TEST(FileBackendTest, WatchSeesWritesOfAnotherProcess) {
  TempDir dir;
  auto db = mustOpen(dir.path());
  auto watch = db->watch("/p/", 0);
  ASSERT_TRUE(watch.ok());
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  ChildProcess child({conformance::writerPath(), "file://" + dir.path(), "putloop", "/p/", "10"},
                     devnull);
  ::close(devnull);
  ASSERT_GT(child.pid(), 0);
  auto events = conformance::collect(**watch, 20, 10s);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_GE(events->size(), 20u);
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ((*events)[i].kv.key, "/p/" + std::to_string(i));
}

// Kills a writer process with SIGKILL at random points; every put whose call returned
// (reported on the pipe) must be in the store afterwards, and the store must stay writable.
TEST(FileBackendTest, SurvivesSigkillOfAWriterAtAnyPoint) {
  TempDir dir;
  const std::string url = "file://" + dir.path();
  std::srand(42);
  for (int round = 0; round < 12; ++round) {
    const std::string prefix = "/crash/" + std::to_string(round) + "/";
    // Large values make the kill land inside write() (a torn tail) in some rounds.
    const std::string value_bytes = round % 3 == 0 ? "200000" : "64";
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    std::map<std::string, Revision> committed;
    {
      ChildProcess child({conformance::writerPath(), url, "putloop", prefix, value_bytes},
                         pipe_fds[1]);
      ::close(pipe_fds[1]);
      ASSERT_GT(child.pid(), 0);
      FILE* in = ::fdopen(pipe_fds[0], "r");
      ASSERT_NE(in, nullptr);
      const int before_kill = 1 + std::rand() % 20;
      unsigned long long i = 0;
      long long rev = 0;
      int lines = 0;
      while (lines < before_kill && std::fscanf(in, "%llu %lld", &i, &rev) == 2) {
        committed[prefix + std::to_string(i)] = rev;
        ++lines;
      }
      ::usleep(std::rand() % 3000);
      child.kill(SIGKILL);
      child.wait();
      while (std::fscanf(in, "%llu %lld", &i, &rev) == 2)
        committed[prefix + std::to_string(i)] = rev;
      std::fclose(in);
    }
    ASSERT_FALSE(committed.empty()) << round;
    auto db = mustOpen(dir.path());
    ASSERT_NE(db, nullptr) << round;
    for (const auto& [key, rev] : committed) {
      auto kv = db->get(key);
      ASSERT_TRUE(kv.ok()) << "round " << round << ": committed " << key
                           << " lost: " << kv.status();
      EXPECT_EQ(kv->mod_revision, rev);
      EXPECT_EQ(kv->value.substr(0, kv->value.find(':')), key.substr(prefix.size()));
    }
    auto after = db->put(prefix + "after", "ok");
    ASSERT_TRUE(after.ok()) << "round " << round << ": " << after.status();
  }
  // Everything still reads back from the files alone.
  auto db = mustOpen(dir.path());
  for (int round = 0; round < 12; ++round) {
    EXPECT_TRUE(db->get("/crash/" + std::to_string(round) + "/after").ok()) << round;
  }
}

// A reader (coralctl get) must not create a store where there is none.
TEST(FileBackendTest, OpenWithoutCreateFindsNoStoreAndCreatesNothing) {
  TempDir dir;
  FileBackendOptions options;
  options.create_if_missing = false;
  const std::string missing = dir.path() + "/missing";
  auto none = openFileBackend(missing, options);
  EXPECT_TRUE(isNotFound(none.status())) << none.status();
  EXPECT_NE(none.status().message().find("no Coral datastore at " + missing), std::string::npos)
      << none.status();
  EXPECT_FALSE(std::filesystem::exists(missing));
  EXPECT_TRUE(isNotFound(openFileBackend(dir.path(), options).status()));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  ASSERT_TRUE(mustOpen(dir.path())->put("/k", "v").ok());
  auto existing = openFileBackend(dir.path(), options);
  ASSERT_TRUE(existing.ok()) << existing.status();
  EXPECT_EQ((*existing)->get("/k")->value, "v");
}

TEST(FileBackendTest, CompactBytesUrlOptionCompactsOften) {
  TempDir dir;
  auto db = openFileBackendUrl("file://" + dir.path() + "?compactBytes=4096");
  ASSERT_TRUE(db.ok()) << db.status();
  for (int i = 0; i < 500; ++i) ASSERT_TRUE((*db)->put("/k" + std::to_string(i % 50), "v").ok());
  EXPECT_LT(std::filesystem::file_size(currentLog(dir.path())), 4096u);
  EXPECT_NE(currentLog(dir.path()), dir.path() + "/log.0");
  EXPECT_EQ((*db)->list("/k")->kvs.size(), 50u);
  EXPECT_EQ(openFileBackendUrl("file://" + dir.path() + "?compactBytes=x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(openFileBackendUrl("file://" + dir.path() + "?compact=1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// What a kill can leave behind in the middle of a compaction (store.cc compactLocked):
// a temp file, a new log without its snapshot, or two snapshots before the old is removed.
bool looksMidCompaction(const std::string& dir) {
  int snapshots = 0;
  int logs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename();
    if (name.ends_with(".tmp")) return true;
    if (name.starts_with("snapshot.")) ++snapshots;
    if (name.starts_with("log.")) ++logs;
  }
  return snapshots != 1 || logs != 1;
}

// As SurvivesSigkillOfAWriterAtAnyPoint, with compaction every few writes
// (?compactBytes=2048), a large snapshot and two writers at once, so kills land inside
// compactions (the test fails if none did): every
// put that returned must survive, the store must open cleanly and take writes again, and
// a leftover generation must be cleaned up by the next writer.
TEST(FileBackendTest, SurvivesSigkillOfWritersDuringCompaction) {
  TempDir dir;
  const std::string url = "file://" + dir.path() + "?compactBytes=2048";
  std::srand(7);
  std::map<std::string, Revision> committed;
  {
    // Bulk that every compaction rewrites into the snapshot (~400 KiB), so a compaction
    // takes long next to a 48-byte put and kills often land inside one.
    auto db = mustOpen(dir.path());
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 200; ++i) {
      const std::string key = fmt::format("/bulk/{}", i);
      auto rev = db->put(key, std::string(2048, 'b'));
      ASSERT_TRUE(rev.ok()) << rev.status();
      committed[key] = *rev;
    }
  }
  int mid_compaction_kills = 0;
  int round = 0;
  for (; round < 30; ++round) {
    struct Writer {
      std::string prefix;
      std::unique_ptr<ChildProcess> process;
      FILE* out = nullptr;
    };
    std::vector<Writer> writers;
    for (int w = 0; w < 2; ++w) {
      int pipe_fds[2];
      ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
      Writer writer;
      writer.prefix = fmt::format("/c/{}/{}/", round, w);
      writer.process = std::make_unique<ChildProcess>(
          std::vector<std::string>{conformance::writerPath(), url, "putloop", writer.prefix, "48"},
          pipe_fds[1]);
      ::close(pipe_fds[1]);
      ASSERT_GT(writer.process->pid(), 0);
      writer.out = ::fdopen(pipe_fds[0], "r");
      ASSERT_NE(writer.out, nullptr);
      writers.push_back(std::move(writer));
    }
    auto readLines = [&](Writer& writer, int limit) {
      unsigned long long i = 0;
      long long rev = 0;
      for (int n = 0; n < limit && std::fscanf(writer.out, "%llu %lld", &i, &rev) == 2; ++n) {
        committed[writer.prefix + std::to_string(i)] = rev;
      }
    };
    readLines(writers[0], 1 + std::rand() % 40);
    ::usleep(std::rand() % 2000);
    writers[0].process->kill(SIGKILL);
    if (round % 2 == 0) {
      readLines(writers[1], 1 + std::rand() % 10);
      ::usleep(std::rand() % 2000);
    } else {
      // Aim: wait until a compaction has started writing its files, then kill a little
      // later (its CPU-only first half leaves no trace, so random kills rarely show).
      const auto deadline = std::chrono::steady_clock::now() + 2s;
      while (!looksMidCompaction(dir.path()) && std::chrono::steady_clock::now() < deadline) {
      }
      ::usleep(std::rand() % 300);
    }
    writers[1].process->kill(SIGKILL);
    for (auto& writer : writers) {
      writer.process->wait();
      readLines(writer, INT_MAX);
      std::fclose(writer.out);
    }
    if (looksMidCompaction(dir.path())) ++mid_compaction_kills;
    // A reader sees every committed put, whatever state the files were left in.
    auto db = openFileBackendUrl(url);
    ASSERT_TRUE(db.ok()) << "round " << round << ": " << db.status();
    for (const auto& [key, rev] : committed) {
      auto kv = (*db)->get(key);
      ASSERT_TRUE(kv.ok()) << "round " << round << ": committed " << key
                           << " lost: " << kv.status();
      EXPECT_EQ(kv->mod_revision, rev) << key;
    }
    auto after = (*db)->put(fmt::format("/c/{}/after", round), "ok");
    ASSERT_TRUE(after.ok()) << "round " << round << ": " << after.status();
  }
  // Opening for writing removed what interrupted compactions left.
  auto db = mustOpen(dir.path());
  ASSERT_NE(db, nullptr);
  EXPECT_FALSE(looksMidCompaction(dir.path()));
  for (const auto& [key, rev] : committed) EXPECT_EQ(db->get(key)->mod_revision, rev) << key;
  std::printf("%d rounds, %d kills inside a compaction, %zu committed puts checked\n", round,
              mid_compaction_kills, committed.size());
  EXPECT_GE(mid_compaction_kills, 3) << "few kills landed inside a compaction in " << round
                                     << " rounds: the test no longer tests what it says";
}

}  // namespace
}  // namespace coral::datastore
