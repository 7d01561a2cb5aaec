// Store: keeping a process's index in step with the store directory, appending records
// under the write lock, repairing a torn tail, and compaction (see store.h, README.md).
#include "datastore/file/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "fmt/format.h"

namespace coral::datastore::file {
namespace {

constexpr std::string_view kLockName = "lock";

bool isKvOp(RecordOp op) { return op == RecordOp::kPut || op == RecordOp::kDelete; }

}  // namespace

Record& Batch::add(RecordOp op) {
  Record& r = records_.emplace_back();
  r.op = op;
  r.seq = ++seq_;
  if (isKvOp(op)) ++revision_;
  r.revision = revision_;
  return r;
}

// flock(LOCK_EX) on the directory's lock file for the lifetime of the object.
class Store::WriteLock {
 public:
  WriteLock(int fd, const std::string& dir) : fd_(fd) {
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      status_ = errnoStatus("flock", joinPath(dir, kLockName));
      return;
    }
    locked_ = true;
  }
  ~WriteLock() {
    if (locked_) ::flock(fd_, LOCK_UN);
  }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;
  const absl::Status& status() const { return status_; }

 private:
  int fd_;
  bool locked_ = false;
  absl::Status status_;
};

absl::StatusOr<std::shared_ptr<Store>> Store::open(std::string directory,
                                                   const FileBackendOptions& options) {
  if (directory.empty()) return absl::InvalidArgumentError("file datastore: empty directory");
  while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
  const std::string lock_path = joinPath(directory, kLockName);
  if (options.create_if_missing) {
    CORAL_RETURN_IF_ERROR(makeDirectories(directory));
  } else {
    // A reader must not leave a store behind where there was none.
    auto gens = listGenerations(directory);
    if (!gens.ok() && !isNotFound(gens.status())) return gens.status();
    if (!gens.ok() || gens->empty()) {
      return absl::NotFoundError(
          fmt::format("no Coral datastore at {} (nothing has been written there yet)", directory));
    }
  }
  std::shared_ptr<Store> store(new Store(directory, options));
  store->lock_fd_ = Fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!store->lock_fd_.valid() && (errno == EACCES || errno == EROFS || errno == EPERM)) {
    if (options.create_if_missing) {
      return absl::PermissionDeniedError(
          fmt::format("open {}: {}: writing to the file datastore needs write access to {}",
                      lock_path, std::strerror(errno), directory));
    }
    // Someone else's store: read it without the lock (readers never need it).
    store->lock_fd_ = Fd(::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC));
    store->read_only_ = true;
  }
  if (!store->lock_fd_.valid()) return errnoStatus("open", lock_path);
  std::lock_guard guard(store->mu_);
  if (!store->read_only_) {
    WriteLock lock(store->lock_fd_.get(), directory);
    CORAL_RETURN_IF_ERROR(lock.status());
    CORAL_RETURN_IF_ERROR(store->initializeLocked());
  }
  CORAL_RETURN_IF_ERROR(store->loadCurrentGeneration(/*reset=*/true));
  CORAL_RETURN_IF_ERROR(store->catchUp());
  return store;
}

int64_t Store::nowUnixMs() const {
  const auto now = options_.clock ? options_.clock->wallNow() : std::chrono::system_clock::now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

absl::Status Store::initializeLocked() {
  CORAL_ASSIGN_OR_RETURN(std::vector<uint64_t> gens, listGenerations(dir_));
  if (gens.empty()) {
    // A new store: an empty log, then the snapshot that makes generation 0 exist.
    const std::string log_path = joinPath(dir_, logName(0));
    Fd fd(::open(log_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return errnoStatus("create", log_path);
    if (::fsync(fd.get()) != 0) return errnoStatus("fsync", log_path);
    CORAL_RETURN_IF_ERROR(replaceFileAtomically(dir_, snapshotName(0), encodeSnapshot({})));
    return absl::OkStatus();
  }
  // Remove what an interrupted compaction or an older generation left behind.
  const uint64_t current = gens.back();
  for (uint64_t gen : gens) {
    if (gen < current) ::unlink(joinPath(dir_, snapshotName(gen)).c_str());
  }
  for (uint64_t gen = current + 1; fileExists(joinPath(dir_, logName(gen))); ++gen) {
    ::unlink(joinPath(dir_, logName(gen)).c_str());
  }
  for (uint64_t gen = current; gen-- > 0 && fileExists(joinPath(dir_, logName(gen)));) {
    ::unlink(joinPath(dir_, logName(gen)).c_str());
  }
  ::unlink(joinPath(dir_, logName(current + 1) + ".tmp").c_str());
  ::unlink(joinPath(dir_, snapshotName(current + 1) + ".tmp").c_str());
  return absl::OkStatus();
}

absl::Status Store::loadCurrentGeneration(bool reset) {
  // Another process may compact again while we look: retry until a pair is consistent.
  absl::Status last = absl::OkStatus();
  for (int attempt = 0; attempt < 100; ++attempt) {
    CORAL_ASSIGN_OR_RETURN(std::vector<uint64_t> gens, listGenerations(dir_));
    if (gens.empty()) return absl::DataLossError(fmt::format("{}: no snapshot file", dir_));
    const uint64_t gen = gens.back();
    auto bytes = readWholeFile(joinPath(dir_, snapshotName(gen)));
    if (!bytes.ok()) {
      last = bytes.status();
      if (isNotFound(last)) continue;
      return last;
    }
    CORAL_ASSIGN_OR_RETURN(Snapshot snapshot, decodeSnapshot(*bytes, snapshotName(gen)));
    const std::string log_path = joinPath(dir_, logName(gen));
    Fd fd(::open(log_path.c_str(), (read_only_ ? O_RDONLY : O_RDWR) | O_CLOEXEC));
    if (!fd.valid()) {
      last = errnoStatus("open", log_path);
      if (isNotFound(last)) continue;
      return last;
    }
    generation_ = gen;
    log_fd_ = std::move(fd);
    log_offset_ = 0;
    if (reset || state_.seq() < snapshot.seq) {
      state_.reset(std::move(snapshot));
      changed_.notify_all();
    } else {
      // We already applied everything the snapshot holds; only the history shrinks.
      state_.compactHistory(snapshot.compact_revision);
    }
    return absl::OkStatus();
  }
  return annotate(last, fmt::format("{}: the store kept changing while loading", dir_));
}

absl::StatusOr<Store::Tail> Store::readNewRecords() {
  const std::string log_path = joinPath(dir_, logName(generation_));
  struct stat st {};
  if (::fstat(log_fd_.get(), &st) != 0) return errnoStatus("stat", log_path);
  const uint64_t size = st.st_size;
  if (size <= log_offset_) return Tail::kClean;
  CORAL_ASSIGN_OR_RETURN(std::string bytes,
                         readRange(log_fd_.get(), log_offset_, size - log_offset_, log_path));
  const std::string_view view = bytes;
  size_t pos = 0;
  bool applied = false;
  DecodeResult result = DecodeResult::kOk;
  Record record;
  while (pos < view.size()) {
    size_t consumed = 0;
    result = decodeRecord(view.substr(pos), &record, &consumed);
    if (result != DecodeResult::kOk) break;
    if (record.seq > state_.seq()) {
      state_.apply(record);
      applied = true;
    }
    pos += consumed;
  }
  log_offset_ += pos;
  if (applied) changed_.notify_all();
  if (pos == view.size()) return Tail::kClean;
  return result == DecodeResult::kIncomplete ? Tail::kIncomplete : Tail::kCorrupt;
}

absl::StatusOr<bool> Store::generationIsStale() {
  struct stat st {};
  if (::fstat(log_fd_.get(), &st) != 0) {
    return errnoStatus("stat", joinPath(dir_, logName(generation_)));
  }
  return st.st_nlink == 0 || fileExists(joinPath(dir_, snapshotName(generation_ + 1)));
}

absl::Status Store::catchUp() {
  for (;;) {
    CORAL_RETURN_IF_ERROR(readNewRecords().status());
    CORAL_ASSIGN_OR_RETURN(bool stale, generationIsStale());
    if (!stale) return absl::OkStatus();
    // A compaction happened, so the old log is final: finish it, then move on.
    CORAL_RETURN_IF_ERROR(readNewRecords().status());
    CORAL_RETURN_IF_ERROR(loadCurrentGeneration(/*reset=*/false));
  }
}

absl::Status Store::catchUpForWrite() {
  CORAL_RETURN_IF_ERROR(catchUp());
  CORAL_ASSIGN_OR_RETURN(Tail tail, readNewRecords());
  if (tail == Tail::kClean) return absl::OkStatus();
  // We hold the write lock, so nobody is appending: the bytes after the last valid record
  // are a write that was interrupted (kill -9) before its call returned. Refuse to cut
  // them if a valid later record hides behind them: that is corruption, not a torn tail.
  const std::string log_path = joinPath(dir_, logName(generation_));
  struct stat st {};
  if (::fstat(log_fd_.get(), &st) != 0) return errnoStatus("stat", log_path);
  CORAL_ASSIGN_OR_RETURN(std::string rest,
                         readRange(log_fd_.get(), log_offset_, st.st_size - log_offset_, log_path));
  for (size_t off = 1; off < rest.size(); ++off) {
    Record record;
    size_t consumed = 0;
    if (decodeRecord(std::string_view(rest).substr(off), &record, &consumed) == DecodeResult::kOk &&
        record.seq > state_.seq()) {
      return absl::DataLossError(fmt::format(
          "{}: corrupt record at offset {} followed by valid records", log_path, log_offset_));
    }
  }
  log::warn("file datastore: truncating a torn log tail",
            {{"log", log_path}, {"offset", log_offset_}, {"bytes", rest.size()}});
  if (::ftruncate(log_fd_.get(), log_offset_) != 0) return errnoStatus("truncate", log_path);
  if (::fdatasync(log_fd_.get()) != 0) return errnoStatus("fsync", log_path);
  return absl::OkStatus();
}

absl::Status Store::appendBatch(const Batch& batch) {
  std::string bytes;
  for (const Record& record : batch.records()) encodeRecord(record, &bytes);
  const std::string log_path = joinPath(dir_, logName(generation_));
  absl::Status status = writeAll(log_fd_.get(), log_offset_, bytes, log_path);
  if (status.ok() && ::fdatasync(log_fd_.get()) != 0) status = errnoStatus("fsync", log_path);
  if (!status.ok()) {
    if (::ftruncate(log_fd_.get(), log_offset_) == 0) ::fdatasync(log_fd_.get());
    return status;
  }
  const uint64_t end = log_offset_ + bytes.size();
  CORAL_RETURN_IF_ERROR(readNewRecords().status());
  if (log_offset_ != end) {
    return absl::InternalError(
        fmt::format("{}: appended records did not read back at offset {}", log_path, log_offset_));
  }
  return absl::OkStatus();
}

void Store::addExpiredLeaseRecords(int64_t now_unix_ms, Batch& batch) const {
  for (LeaseId id : state_.expiredLeases(now_unix_ms)) {
    for (const std::string& key : state_.keysOfLease(id)) batch.add(RecordOp::kDelete).key = key;
    batch.add(RecordOp::kLeaseRevoke).lease = id;
  }
}

absl::Status Store::sweepExpiredLeases() {
  if (read_only_ || !state_.anyLeaseExpired(nowUnixMs())) return absl::OkStatus();
  return write([](const StoreState&, Batch&) { return absl::OkStatus(); });
}

absl::Status Store::write(const std::function<absl::Status(const StoreState&, Batch&)>& decide) {
  CORAL_RETURN_IF_ERROR(checkWritable());
  WriteLock lock(lock_fd_.get(), dir_);
  CORAL_RETURN_IF_ERROR(lock.status());
  CORAL_RETURN_IF_ERROR(catchUpForWrite());
  const int64_t now = nowUnixMs();
  if (state_.anyLeaseExpired(now)) {
    Batch sweep(state_.seq(), state_.revision());
    addExpiredLeaseRecords(now, sweep);
    CORAL_RETURN_IF_ERROR(appendBatch(sweep));
  }
  Batch batch(state_.seq(), state_.revision());
  absl::Status status = decide(state_, batch);
  if (status.ok() && !batch.records().empty()) CORAL_RETURN_IF_ERROR(appendBatch(batch));
  maybeAutoCompact();
  return status;
}

absl::Status Store::checkWritable() const {
  if (!read_only_) return absl::OkStatus();
  return absl::PermissionDeniedError(
      fmt::format("{}: opened read-only (no write access to {}): writing needs write access", dir_,
                  joinPath(dir_, kLockName)));
}

absl::Status Store::compact(Revision revision) {
  CORAL_RETURN_IF_ERROR(checkWritable());
  WriteLock lock(lock_fd_.get(), dir_);
  CORAL_RETURN_IF_ERROR(lock.status());
  CORAL_RETURN_IF_ERROR(catchUpForWrite());
  if (revision <= state_.compactRevision()) return absl::OkStatus();
  if (revision > state_.revision()) {
    return absl::OutOfRangeError(
        fmt::format("compact to revision {}: in the future (the store is at revision {})", revision,
                    state_.revision()));
  }
  return compactLocked(revision);
}

void Store::maybeAutoCompact() {
  if (options_.auto_compact_bytes == 0 || log_offset_ <= options_.auto_compact_bytes) return;
  if (absl::Status s = compactLocked(std::nullopt); !s.ok()) {
    log::warn("file datastore: automatic compaction failed",
              {{"dir", dir_}, {"error", std::string(errorMessage(s))}});
  }
}

absl::Status Store::compactLocked(std::optional<Revision> revision) {
  CORAL_ASSIGN_OR_RETURN(std::string snapshot_bytes,
                         readWholeFile(joinPath(dir_, snapshotName(generation_))));
  CORAL_ASSIGN_OR_RETURN(Snapshot base, decodeSnapshot(snapshot_bytes, snapshotName(generation_)));
  const std::string log_path = joinPath(dir_, logName(generation_));
  CORAL_ASSIGN_OR_RETURN(std::string log_bytes, readRange(log_fd_.get(), 0, log_offset_, log_path));
  std::vector<std::pair<size_t, Record>> records;
  for (size_t pos = 0; pos < log_bytes.size();) {
    Record record;
    size_t consumed = 0;
    if (decodeRecord(std::string_view(log_bytes).substr(pos), &record, &consumed) !=
        DecodeResult::kOk) {
      return absl::DataLossError(fmt::format("{}: bad record at offset {}", log_path, pos));
    }
    records.emplace_back(pos, std::move(record));
    pos += consumed;
  }
  // Records [0, split) go into the snapshot; the rest stay in the new log as history.
  size_t split = 0;
  Revision compact_revision = state_.compactRevision();
  if (revision) {
    while (split < records.size() &&
           !(isKvOp(records[split].second.op) && records[split].second.revision >= *revision)) {
      ++split;
    }
    compact_revision = *revision;
  } else {
    const uint64_t keep_from = log_offset_ - options_.auto_compact_bytes / 4;
    while (split < records.size() && records[split].first < keep_from) {
      if (isKvOp(records[split].second.op)) {
        compact_revision = std::max(compact_revision, records[split].second.revision + 1);
      }
      ++split;
    }
    if (split == 0) return absl::OkStatus();
  }
  StoreState folded(/*keep_history=*/false);
  folded.reset(std::move(base));
  for (size_t i = 0; i < split; ++i) folded.apply(records[i].second);
  Snapshot snapshot = folded.snapshot();
  snapshot.compact_revision = compact_revision;

  const uint64_t next = generation_ + 1;
  const size_t split_offset = split < records.size() ? records[split].first : log_bytes.size();
  const std::string_view kept = std::string_view(log_bytes).substr(split_offset);
  CORAL_RETURN_IF_ERROR(replaceFileAtomically(dir_, logName(next), kept));
  // The rename of the snapshot is the commit point of the compaction.
  CORAL_RETURN_IF_ERROR(replaceFileAtomically(dir_, snapshotName(next), encodeSnapshot(snapshot)));
  const std::string next_log = joinPath(dir_, logName(next));
  Fd fd(::open(next_log.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return errnoStatus("open", next_log);
  ::unlink(joinPath(dir_, snapshotName(generation_)).c_str());
  ::unlink(log_path.c_str());
  (void)syncDirectory(dir_);
  generation_ = next;
  log_fd_ = std::move(fd);
  log_offset_ = kept.size();
  state_.compactHistory(compact_revision);
  log::debug("file datastore: compacted",
             {{"dir", dir_}, {"generation", next}, {"compact_revision", compact_revision}});
  return absl::OkStatus();
}

}  // namespace coral::datastore::file
