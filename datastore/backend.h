// The datastore's key-value seam: one interface, one implementation per storage
// (file/ for one machine, etcd/ for a cluster). Everything above it — the typed
// resource store, IPAM, the agent — talks to a Backend and never to a storage directly.
//
// Semantics follow etcd v3, which the file backend imitates:
//  * one global revision counter, incremented by every successful write;
//  * each key remembers the revision that created it and the one that last changed it;
//  * compare-and-swap on a key's mod revision (update/remove with expected revision);
//  * watches deliver every change under a prefix in revision order, from any revision
//    that has not been compacted away.
//
// Errors (absl::Status codes):
//  * kNotFound       — the key does not exist (get, update, remove)
//  * kAlreadyExists  — create of an existing key
//  * kAborted        — CAS conflict: the key changed since the expected revision
//  * kOutOfRange     — watch from a revision that was compacted: relist, then watch again
//  * kUnavailable    — the storage cannot be reached right now (retry later)
//  * kInvalidArgument — bad URL, key or argument
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace coral::datastore {

using Revision = int64_t;
using LeaseId = int64_t;

struct KeyValue {
  std::string key;
  std::string value;
  Revision create_revision = 0;
  Revision mod_revision = 0;
  LeaseId lease = 0;  // 0: no lease
  bool operator==(const KeyValue&) const = default;
};

struct ListResult {
  std::vector<KeyValue> kvs;  // sorted by key
  Revision revision = 0;      // the store's revision when the list was read: watch from +1
};

enum class EventType { kPut, kDelete };

struct WatchEvent {
  EventType type = EventType::kPut;
  // For kPut: the new key/value and its revisions. For kDelete: the key, the revision of
  // the deletion in mod_revision, and the last value before it when the backend has it.
  KeyValue kv;
  bool operator==(const WatchEvent&) const = default;
};

class Watch {
 public:
  virtual ~Watch() = default;
  // Waits up to `timeout` for events. Returns the events (possibly none on timeout),
  // in revision order. kOutOfRange when the watch's next revision was compacted: the
  // caller must relist and start a new watch. Other errors are transient only if the
  // backend cannot resume by itself (it tries to, from the last delivered revision).
  virtual absl::StatusOr<std::vector<WatchEvent>> next(std::chrono::milliseconds timeout) = 0;
  // False while the watch knows it is cut off from the store and reconnecting: an empty
  // next() then means "no news", not "nothing changed" (the agent's watch-lag metric).
  // Backends that cannot tell always say true.
  virtual bool connected() const { return true; }
};
using WatchPtr = std::unique_ptr<Watch>;

class Backend {
 public:
  virtual ~Backend() = default;

  virtual absl::StatusOr<KeyValue> get(std::string_view key) = 0;
  // All keys that start with `prefix`, sorted by key.
  virtual absl::StatusOr<ListResult> list(std::string_view prefix) = 0;
  // Fails with kAlreadyExists when the key exists. Returns the new revision.
  virtual absl::StatusOr<Revision> create(std::string_view key, std::string_view value,
                                          LeaseId lease = 0) = 0;
  // CAS: succeeds only if the key's mod_revision equals `expected`; kAborted otherwise,
  // kNotFound when the key is gone. Returns the new revision.
  virtual absl::StatusOr<Revision> update(std::string_view key, std::string_view value,
                                          Revision expected, LeaseId lease = 0) = 0;
  // Unconditional create-or-replace. Returns the new revision.
  virtual absl::StatusOr<Revision> put(std::string_view key, std::string_view value,
                                       LeaseId lease = 0) = 0;
  // Deletes the key; with `expected`, only if its mod_revision matches (kAborted otherwise).
  // Returns the revision of the deletion.
  virtual absl::StatusOr<Revision> remove(std::string_view key,
                                          std::optional<Revision> expected = std::nullopt) = 0;

  // Watches every key starting with `prefix`, delivering changes with revision >=
  // `from_revision` (0: only changes after the call).
  virtual absl::StatusOr<WatchPtr> watch(std::string_view prefix, Revision from_revision) = 0;

  // Leases: keys written with a lease are deleted when it expires or is revoked.
  virtual absl::StatusOr<LeaseId> grantLease(std::chrono::seconds ttl) = 0;
  virtual absl::Status keepAlive(LeaseId lease) = 0;
  virtual absl::Status revokeLease(LeaseId lease) = 0;

  // The store's current revision.
  virtual absl::StatusOr<Revision> currentRevision() = 0;
  // Forgets history before `revision`: watches from older revisions get kOutOfRange.
  virtual absl::Status compact(Revision revision) = 0;
};
using BackendPtr = std::unique_ptr<Backend>;

// Opens a backend from a URL:
//   file:///var/lib/coral           the embedded store in a directory (created if missing);
//     ?compactBytes=N compacts the log whenever a write leaves it longer than N bytes
//     (default 32 MiB, 0 never; small values are for tests)
//   etcd://host:port[,host:port]    etcd v3; options as query parameters:
//     ?cacert=PATH&cert=PATH&key=PATH (TLS), &username=U&password=P (auth),
//     &timeout_ms=N (per-request deadline, default 5000)
//   etcds://...                     as etcd:// with TLS required
//   kubernetes                      the API server: in-cluster, else $KUBECONFIG/~/.kube/config
//   kubernetes:///path/kubeconfig   that kubeconfig; ?context=&namespace=&timeout_ms=...
//                                   (datastore/kubernetes/kube_config.h)
// A bare path (no scheme) is a file store.
absl::StatusOr<BackendPtr> openBackend(std::string_view url);

struct OpenOptions {
  // False for read-only users (coralctl get): a file store that does not exist is
  // kNotFound rather than created, and one whose lock file is not writable opens
  // read-only (FileBackendOptions::create_if_missing). Other backends ignore it.
  bool create_if_missing = true;
};
absl::StatusOr<BackendPtr> openBackend(std::string_view url, const OpenOptions& options);

// The default URL when neither --datastore nor CORAL_DATASTORE says otherwise.
inline constexpr std::string_view kDefaultDatastoreUrl = "file:///var/lib/coral";

inline bool isConflict(const absl::Status& s) { return s.code() == absl::StatusCode::kAborted; }
inline bool isNotFound(const absl::Status& s) { return s.code() == absl::StatusCode::kNotFound; }
inline bool isAlreadyExists(const absl::Status& s) {
  return s.code() == absl::StatusCode::kAlreadyExists;
}
inline bool isCompacted(const absl::Status& s) { return s.code() == absl::StatusCode::kOutOfRange; }

}  // namespace coral::datastore
