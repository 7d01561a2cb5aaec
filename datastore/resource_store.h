// ResourceStore: Coral resources on top of any Backend. It owns the key layout
// (/coral/v1/<kind>/<namespace or _>/<name>), validates and defaults every write through
// the model registry, maps resourceVersion to the backend's mod revision for
// compare-and-swap, stamps uid and creationTimestamp, and decodes watch events.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "datastore/backend.h"
#include "model/registry.h"

namespace coral::datastore {

// "/coral/v1/IPPool/_/blue", "/coral/v1/NetworkPolicy/shop/allow-web".
std::string resourceKey(const model::KindInfo& kind, std::string_view ns, std::string_view name);
// Prefix of every resource of a kind, or of a kind in one namespace.
std::string kindPrefix(const model::KindInfo& kind, std::optional<std::string_view> ns = {});

struct ResourceList {
  std::vector<model::Resource> items;
  Revision revision = 0;  // watch from revision + 1 to see every later change
};

enum class ResourceEventType { kAdded, kModified, kDeleted };

struct ResourceEvent {
  ResourceEventType type = ResourceEventType::kAdded;
  // For kDeleted: the last state when the backend knows it, else only kind/namespace/name.
  model::Resource resource;
  Revision revision = 0;
};

class ResourceWatch {
 public:
  explicit ResourceWatch(WatchPtr watch) : watch_(std::move(watch)) {}
  // Events in revision order; kOutOfRange (isCompacted) means: relist and watch again.
  absl::StatusOr<std::vector<ResourceEvent>> next(std::chrono::milliseconds timeout);
  // Watch::connected(): false while the backend is reconnecting to the store.
  bool connected() const { return watch_->connected(); }

 private:
  WatchPtr watch_;
};

enum class ApplyResult { kCreated, kConfigured, kUnchanged };
std::string_view applyResultName(ApplyResult result);

class ResourceStore {
 public:
  explicit ResourceStore(Backend& backend,
                         const common::Clock& clock = common::SystemClock::instance())
      : backend_(backend), clock_(clock) {}

  absl::StatusOr<model::Resource> get(const model::KindInfo& kind, std::string_view ns,
                                      std::string_view name);
  // ns: nullopt = every namespace (and cluster-scoped kinds ignore it).
  absl::StatusOr<ResourceList> list(
      const model::KindInfo& kind, std::optional<std::string_view> ns = std::nullopt,
      const common::LabelSelector& selector = common::LabelSelector::everything());
  // Fails with kAlreadyExists when it exists.
  absl::StatusOr<model::Resource> create(model::Resource resource, LeaseId lease = 0);
  // Replaces an existing resource. With metadata.resourceVersion set, only if it is still
  // that version (kAborted otherwise); without, unconditionally. uid and
  // creationTimestamp are kept from the stored object.
  absl::StatusOr<model::Resource> update(model::Resource resource, LeaseId lease = 0);
  // Create or update, retrying on races; says what happened. With
  // metadata.resourceVersion set (an object read from the store and edited), only over
  // that version: kAborted naming both versions when it changed or was deleted since, and
  // nothing is written. Without it, create or overwrite whatever is stored.
  absl::StatusOr<std::pair<model::Resource, ApplyResult>> apply(model::Resource resource);
  // With resource_version, only if it is still that version.
  absl::StatusOr<Revision> remove(const model::KindInfo& kind, std::string_view ns,
                                  std::string_view name,
                                  std::optional<std::string> resource_version = std::nullopt);
  absl::StatusOr<ResourceWatch> watch(const model::KindInfo& kind,
                                      std::optional<std::string_view> ns, Revision from_revision);

  // Typed conveniences.
  template <typename T>
  absl::StatusOr<T> get(std::string_view ns, std::string_view name) {
    auto r = get(model::kindOf<T>(), ns, name);
    if (!r.ok()) return r.status();
    return model::fromResource<T>(*r);
  }
  template <typename T>
  absl::StatusOr<T> get(std::string_view name) {
    return get<T>("", name);
  }
  template <typename T>
  absl::StatusOr<std::vector<T>> list(std::optional<std::string_view> ns = std::nullopt) {
    auto r = list(model::kindOf<T>(), ns);
    if (!r.ok()) return r.status();
    std::vector<T> out;
    for (const auto& item : r->items) {
      auto typed = model::fromResource<T>(item);
      if (!typed.ok()) return typed.status();
      out.push_back(std::move(*typed));
    }
    return out;
  }
  template <typename T>
  absl::StatusOr<T> create(const T& obj, LeaseId lease = 0) {
    auto r = create(model::toResource(obj), lease);
    if (!r.ok()) return r.status();
    return model::fromResource<T>(*r);
  }
  template <typename T>
  absl::StatusOr<T> update(const T& obj, LeaseId lease = 0) {
    auto r = update(model::toResource(obj), lease);
    if (!r.ok()) return r.status();
    return model::fromResource<T>(*r);
  }

  Backend& backend() { return backend_; }

 private:
  // Checks that need other stored resources (IPPools must not overlap).
  absl::Status admit(const model::Resource& resource);
  absl::StatusOr<model::Resource> decode(const KeyValue& kv) const;
  std::string encode(const model::Resource& resource) const;

  Backend& backend_;
  const common::Clock& clock_;
};

// Parses a resourceVersion ("123") into a revision.
absl::StatusOr<Revision> parseResourceVersion(std::string_view rv);

}  // namespace coral::datastore
