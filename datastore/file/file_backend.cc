// FileBackend and FileWatch: the datastore::Backend operations over a Store (see
// file_backend.h). Each operation locks the store, catches up with other processes'
// writes, and either answers from the index or appends records under the write lock.
#include "datastore/file/file_backend.h"

#include "common/status.h"
#include "common/strings.h"
#include "datastore/file/store.h"
#include "fmt/format.h"

namespace coral::datastore {
namespace {

using file::Batch;
using file::RecordOp;
using file::Store;
using file::StoreState;

absl::Status validateKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("file datastore: empty key");
  return absl::OkStatus();
}

absl::Status keyNotFound(std::string_view key) {
  return absl::NotFoundError(fmt::format("key {}: not found", key));
}

absl::Status checkLease(const StoreState& state, LeaseId lease) {
  if (lease != 0 && state.lease(lease) == nullptr) {
    return absl::NotFoundError(fmt::format("lease {}: not found (expired or revoked)", lease));
  }
  return absl::OkStatus();
}

// Adds a put of key=value to the batch; returns its revision.
Revision addPut(Batch& batch, const KeyValue* existing, std::string_view key,
                std::string_view value, LeaseId lease) {
  auto& r = batch.add(RecordOp::kPut);
  r.key = key;
  r.value = value;
  r.lease = lease;
  r.create_revision = existing ? existing->create_revision : r.revision;
  return r.revision;
}

class FileWatch final : public Watch {
 public:
  FileWatch(std::shared_ptr<Store> store, std::string prefix, Revision next)
      : store_(std::move(store)), prefix_(std::move(prefix)), next_(next) {}

  absl::StatusOr<std::vector<WatchEvent>> next(std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(store_->mu());
    for (;;) {
      CORAL_RETURN_IF_ERROR(store_->catchUp());
      CORAL_RETURN_IF_ERROR(store_->sweepExpiredLeases());
      const StoreState& state = store_->state();
      if (next_ < state.compactRevision()) {
        return absl::OutOfRangeError(
            fmt::format("watch {}: revision {} was compacted (history starts at {})", prefix_,
                        next_, state.compactRevision()));
      }
      std::vector<WatchEvent> events = state.eventsFrom(next_, prefix_);
      // Nothing under our prefix up to the store's revision: move past it, so a later
      // compaction of unrelated history does not fail this watch.
      next_ = std::max(next_, state.revision() + 1);
      if (!events.empty()) return events;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return events;
      store_->changed().wait_until(lock, std::min(deadline, now + store_->options().poll_interval));
    }
  }

 private:
  std::shared_ptr<Store> store_;
  const std::string prefix_;
  Revision next_;
};

class FileBackend final : public Backend {
 public:
  explicit FileBackend(std::shared_ptr<Store> store) : store_(std::move(store)) {}

  absl::StatusOr<KeyValue> get(std::string_view key) override {
    CORAL_RETURN_IF_ERROR(validateKey(key));
    std::lock_guard lock(store_->mu());
    CORAL_RETURN_IF_ERROR(readyToRead());
    const KeyValue* kv = store_->state().find(key);
    if (kv == nullptr) return keyNotFound(key);
    return *kv;
  }

  absl::StatusOr<ListResult> list(std::string_view prefix) override {
    std::lock_guard lock(store_->mu());
    CORAL_RETURN_IF_ERROR(readyToRead());
    return ListResult{store_->state().list(prefix), store_->state().revision()};
  }

  absl::StatusOr<Revision> create(std::string_view key, std::string_view value,
                                  LeaseId lease) override {
    CORAL_RETURN_IF_ERROR(validateKey(key));
    return writeKey([&](const StoreState& state, Batch& batch) -> absl::StatusOr<Revision> {
      if (state.find(key) != nullptr) {
        return absl::AlreadyExistsError(fmt::format("key {}: already exists", key));
      }
      CORAL_RETURN_IF_ERROR(checkLease(state, lease));
      return addPut(batch, nullptr, key, value, lease);
    });
  }

  absl::StatusOr<Revision> update(std::string_view key, std::string_view value, Revision expected,
                                  LeaseId lease) override {
    CORAL_RETURN_IF_ERROR(validateKey(key));
    return writeKey([&](const StoreState& state, Batch& batch) -> absl::StatusOr<Revision> {
      const KeyValue* existing = state.find(key);
      if (existing == nullptr) return keyNotFound(key);
      CORAL_RETURN_IF_ERROR(checkRevision(*existing, expected));
      CORAL_RETURN_IF_ERROR(checkLease(state, lease));
      return addPut(batch, existing, key, value, lease);
    });
  }

  absl::StatusOr<Revision> put(std::string_view key, std::string_view value,
                               LeaseId lease) override {
    CORAL_RETURN_IF_ERROR(validateKey(key));
    return writeKey([&](const StoreState& state, Batch& batch) -> absl::StatusOr<Revision> {
      CORAL_RETURN_IF_ERROR(checkLease(state, lease));
      return addPut(batch, state.find(key), key, value, lease);
    });
  }

  absl::StatusOr<Revision> remove(std::string_view key, std::optional<Revision> expected) override {
    CORAL_RETURN_IF_ERROR(validateKey(key));
    return writeKey([&](const StoreState& state, Batch& batch) -> absl::StatusOr<Revision> {
      const KeyValue* existing = state.find(key);
      if (existing == nullptr) return keyNotFound(key);
      if (expected) CORAL_RETURN_IF_ERROR(checkRevision(*existing, *expected));
      auto& r = batch.add(RecordOp::kDelete);
      r.key = key;
      return r.revision;
    });
  }

  absl::StatusOr<WatchPtr> watch(std::string_view prefix, Revision from_revision) override {
    std::lock_guard lock(store_->mu());
    CORAL_RETURN_IF_ERROR(store_->catchUp());
    const StoreState& state = store_->state();
    if (from_revision != 0 && from_revision < state.compactRevision()) {
      return absl::OutOfRangeError(
          fmt::format("watch {} from revision {}: compacted (history starts at {})", prefix,
                      from_revision, state.compactRevision()));
    }
    const Revision next = from_revision == 0 ? state.revision() + 1 : from_revision;
    return std::make_unique<FileWatch>(store_, std::string(prefix), next);
  }

  absl::StatusOr<LeaseId> grantLease(std::chrono::seconds ttl) override {
    if (ttl.count() <= 0) {
      return absl::InvalidArgumentError(
          fmt::format("grant lease: TTL {}s is not positive", ttl.count()));
    }
    LeaseId id = 0;
    std::lock_guard lock(store_->mu());
    const int64_t now = store_->nowUnixMs();
    CORAL_RETURN_IF_ERROR(store_->write([&](const StoreState& state, Batch& batch) {
      auto& r = batch.add(RecordOp::kLeaseGrant);
      r.lease = id = state.nextLeaseId();
      r.ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
      r.expiry_unix_ms = now + r.ttl_ms;
      return absl::OkStatus();
    }));
    return id;
  }

  absl::Status keepAlive(LeaseId lease) override {
    std::lock_guard lock(store_->mu());
    return store_->write([&](const StoreState& state, Batch& batch) {
      CORAL_RETURN_IF_ERROR(checkLease(state, lease));
      auto& r = batch.add(RecordOp::kLeaseKeepAlive);
      r.lease = lease;
      r.expiry_unix_ms = store_->nowUnixMs() + state.lease(lease)->ttl_ms;
      return absl::OkStatus();
    });
  }

  absl::Status revokeLease(LeaseId lease) override {
    std::lock_guard lock(store_->mu());
    return store_->write([&](const StoreState& state, Batch& batch) {
      CORAL_RETURN_IF_ERROR(checkLease(state, lease));
      for (const std::string& key : state.keysOfLease(lease)) {
        batch.add(RecordOp::kDelete).key = key;
      }
      batch.add(RecordOp::kLeaseRevoke).lease = lease;
      return absl::OkStatus();
    });
  }

  absl::StatusOr<Revision> currentRevision() override {
    std::lock_guard lock(store_->mu());
    CORAL_RETURN_IF_ERROR(readyToRead());
    return store_->state().revision();
  }

  absl::Status compact(Revision revision) override {
    std::lock_guard lock(store_->mu());
    return store_->compact(revision);
  }

 private:
  absl::Status readyToRead() {
    CORAL_RETURN_IF_ERROR(store_->catchUp());
    return store_->sweepExpiredLeases();
  }

  static absl::Status checkRevision(const KeyValue& kv, Revision expected) {
    if (kv.mod_revision == expected) return absl::OkStatus();
    return absl::AbortedError(fmt::format("key {}: changed (revision {}, expected {})", kv.key,
                                          kv.mod_revision, expected));
  }

  template <typename Decide>
  absl::StatusOr<Revision> writeKey(Decide decide) {
    Revision revision = 0;
    std::lock_guard lock(store_->mu());
    CORAL_RETURN_IF_ERROR(store_->write([&](const StoreState& state, Batch& batch) {
      absl::StatusOr<Revision> r = decide(state, batch);
      if (!r.ok()) return r.status();
      revision = *r;
      return absl::OkStatus();
    }));
    return revision;
  }

  std::shared_ptr<Store> store_;
};

}  // namespace

absl::StatusOr<BackendPtr> openFileBackend(std::string_view directory) {
  return openFileBackend(directory, FileBackendOptions{});
}

absl::StatusOr<BackendPtr> openFileBackend(std::string_view directory,
                                           const FileBackendOptions& options) {
  CORAL_ASSIGN_OR_RETURN(std::shared_ptr<Store> store,
                         Store::open(std::string(directory), options));
  return std::make_unique<FileBackend>(std::move(store));
}

absl::StatusOr<BackendPtr> openFileBackendUrl(std::string_view url, FileBackendOptions options) {
  std::string_view rest = url;
  if (rest.starts_with("file://")) rest.remove_prefix(7);
  const size_t question = rest.find('?');
  const std::string_view directory = rest.substr(0, question);
  if (question != std::string_view::npos) {
    for (std::string_view param : split(rest.substr(question + 1), '&')) {
      if (param.empty()) continue;
      const size_t eq = param.find('=');
      const std::string_view name = param.substr(0, eq);
      const std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
      if (name != "compactBytes") {
        return absl::InvalidArgumentError(fmt::format(
            "datastore URL \"{}\": unknown option \"{}\" (a file store takes compactBytes=N)", url,
            name));
      }
      auto bytes = parseInt<uint64_t>(value);
      if (!bytes) {
        return absl::InvalidArgumentError(fmt::format(
            "datastore URL \"{}\": compactBytes \"{}\" is not a byte count", url, value));
      }
      options.auto_compact_bytes = *bytes;
    }
  }
  return openFileBackend(directory, options);
}

}  // namespace coral::datastore
