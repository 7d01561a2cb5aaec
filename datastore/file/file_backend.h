// The embedded file datastore: a directory holding a snapshot and an append-only log,
// shared by every process on the machine that opens it (flock for writes, log tailing for
// reads and watches). Implements datastore::Backend; the on-disk format is in README.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "datastore/backend.h"

namespace coral::datastore {

struct FileBackendOptions {
  // Wall clock for lease expiry (shared by all processes on the machine); the system clock
  // when null. Must outlive the backend.
  const common::Clock* clock = nullptr;
  // A write that leaves the log longer than this compacts it, keeping roughly the last
  // quarter as watch history. 0 disables automatic compaction.
  uint64_t auto_compact_bytes = 32u << 20;
  // How often a waiting watch looks for changes made by other processes.
  std::chrono::milliseconds poll_interval{10};
  // False for readers (coralctl get): a directory without a store is kNotFound instead of
  // becoming a new store, and when the lock file is not writable (another user's store)
  // the store opens read-only: no lock is needed to read, writes fail with
  // kPermissionDenied, and keys of expired leases stay visible until a writer sweeps them.
  bool create_if_missing = true;
};

// Opens the store in `directory` (creating it if missing, unless told not to).
absl::StatusOr<BackendPtr> openFileBackend(std::string_view directory);
absl::StatusOr<BackendPtr> openFileBackend(std::string_view directory,
                                           const FileBackendOptions& options);
// "file:///var/lib/coral?compactBytes=N": the directory, and options from the query
// (compactBytes sets auto_compact_bytes; tests use small values to compact often).
absl::StatusOr<BackendPtr> openFileBackendUrl(std::string_view url,
                                              FileBackendOptions options = {});

}  // namespace coral::datastore
