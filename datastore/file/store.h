// Store: one process's handle on a file store directory. It keeps the in-memory index
// (StoreState) in step with the files: catchUp() reads log records appended by anyone
// since the last call, write() appends records under the directory's flock after checking
// them against the caught-up state, compact() folds old records into a new snapshot.
// Every method expects mu() to be held by the caller.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "datastore/file/file_backend.h"
#include "datastore/file/files.h"
#include "datastore/file/store_state.h"

namespace coral::datastore::file {

// Records a write wants to append; seq and revision are assigned as they are added.
class Batch {
 public:
  Batch(uint64_t seq, Revision revision) : seq_(seq), revision_(revision) {}
  // Adds a record; put and delete get the next revision, lease records the current one.
  Record& add(RecordOp op);
  const std::vector<Record>& records() const { return records_; }
  Revision revision() const { return revision_; }

 private:
  uint64_t seq_;
  Revision revision_;
  std::vector<Record> records_;
};

class Store {
 public:
  static absl::StatusOr<std::shared_ptr<Store>> open(std::string directory,
                                                     const FileBackendOptions& options);

  std::mutex& mu() { return mu_; }
  std::condition_variable& changed() { return changed_; }
  const FileBackendOptions& options() const { return options_; }
  const StoreState& state() const { return state_; }
  int64_t nowUnixMs() const;

  // Applies what other processes appended since the last call.
  absl::Status catchUp();
  // Deletes the keys of expired leases if there are any (takes the write lock then).
  absl::Status sweepExpiredLeases();
  // Under the write lock: catches up, sweeps expired leases, calls `decide` to fill a batch
  // from the current state, appends and fsyncs the batch (also when decide fails, as long
  // as it added records), applies it. Returns decide's status.
  absl::Status write(const std::function<absl::Status(const StoreState&, Batch&)>& decide);
  // Forgets history before `revision` (kOutOfRange when it is in the future).
  absl::Status compact(Revision revision);

 private:
  Store(std::string directory, const FileBackendOptions& options)
      : dir_(std::move(directory)), options_(options) {}

  class WriteLock;
  enum class Tail { kClean, kIncomplete, kCorrupt };

  absl::Status checkWritable() const;              // kPermissionDenied when read-only
  absl::Status initializeLocked();                 // under the write lock
  absl::Status loadCurrentGeneration(bool reset);  // opens the newest snapshot + log
  absl::StatusOr<Tail> readNewRecords();
  absl::StatusOr<bool> generationIsStale();
  absl::Status catchUpForWrite();  // catchUp + repair of a torn tail; under the write lock
  absl::Status appendBatch(const Batch& batch);
  void addExpiredLeaseRecords(int64_t now_unix_ms, Batch& batch) const;
  // Folds log records [0, split) into a new snapshot whose history starts at compact_rev.
  absl::Status compactLocked(std::optional<Revision> revision);
  void maybeAutoCompact();

  const std::string dir_;
  const FileBackendOptions options_;
  std::mutex mu_;
  std::condition_variable changed_;
  Fd lock_fd_;
  bool read_only_ = false;  // no write access to the lock file (see FileBackendOptions)
  uint64_t generation_ = 0;
  Fd log_fd_;
  uint64_t log_offset_ = 0;  // end of the last record applied from log.<generation_>
  StoreState state_;
};

}  // namespace coral::datastore::file
