#include "datastore/resource_store.h"

#include <fmt/format.h>

#include <random>

#include "common/status.h"
#include "common/strings.h"
#include "model/yaml.h"

namespace coral::datastore {
namespace {

constexpr int kApplyAttempts = 8;

std::string newUid() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  const uint64_t a = rng();
  const uint64_t b = rng();
  // RFC 4122 version 4 layout.
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", static_cast<uint32_t>(a >> 32),
                     static_cast<uint32_t>((a >> 16) & 0xffff), static_cast<uint32_t>(a & 0xfff),
                     static_cast<uint32_t>(0x8000 | ((b >> 48) & 0x3fff)), b & 0xffffffffffffULL);
}

// IPPool "blue", NetworkPolicy "shop/allow-web".
std::string describe(const model::KindInfo& kind, std::string_view ns, std::string_view name) {
  return ns.empty() || !kind.namespaced ? fmt::format("{} \"{}\"", kind.kind, name)
                                        : fmt::format("{} \"{}/{}\"", kind.kind, ns, name);
}

absl::Status withName(const absl::Status& s, const model::KindInfo& kind, std::string_view ns,
                      std::string_view name) {
  const std::string who = describe(kind, ns, name);
  switch (s.code()) {
    case absl::StatusCode::kNotFound:
      return absl::NotFoundError(fmt::format("{} not found", who));
    case absl::StatusCode::kAlreadyExists:
      return absl::AlreadyExistsError(fmt::format("{} already exists", who));
    case absl::StatusCode::kAborted:
      return absl::AbortedError(fmt::format(
          "{} was changed by someone else (resourceVersion conflict): read it again and retry",
          who));
    default:
      return annotate(s, who);
  }
}

const model::KindInfo* kindOfResource(const model::Resource& r) {
  return model::findKind(r.api_version, r.kind);
}

bool sameContent(const model::Resource& a, const model::Resource& b) {
  return a.spec == b.spec && a.status == b.status && a.metadata.labels == b.metadata.labels &&
         a.metadata.annotations == b.metadata.annotations;
}

}  // namespace

absl::Status ResourceStore::admit(const model::Resource& resource) {
  // Rules that need other stored objects. IPPools must not overlap (model::checkPoolOverlap).
  if (resource.api_version != model::kApiGroupVersion || resource.kind != model::IPPool::kKind) {
    return absl::OkStatus();
  }
  CORAL_ASSIGN_OR_RETURN(auto candidate, model::fromResource<model::IPPool>(resource));
  CORAL_ASSIGN_OR_RETURN(auto pools, list<model::IPPool>());
  return model::checkPoolOverlap(candidate, pools);
}

std::string resourceKey(const model::KindInfo& kind, std::string_view ns, std::string_view name) {
  return fmt::format("/coral/v1/{}/{}/{}", kind.storage_name,
                     kind.namespaced && !ns.empty() ? ns : "_", name);
}

std::string kindPrefix(const model::KindInfo& kind, std::optional<std::string_view> ns) {
  if (kind.namespaced && ns && !ns->empty()) {
    return fmt::format("/coral/v1/{}/{}/", kind.storage_name, *ns);
  }
  return fmt::format("/coral/v1/{}/", kind.storage_name);
}

std::string_view applyResultName(ApplyResult result) {
  switch (result) {
    case ApplyResult::kCreated:
      return "created";
    case ApplyResult::kConfigured:
      return "configured";
    case ApplyResult::kUnchanged:
      return "unchanged";
  }
  return "?";
}

absl::StatusOr<Revision> parseResourceVersion(std::string_view rv) {
  auto value = parseInt<Revision>(rv);
  if (!value || *value <= 0) {
    return absl::InvalidArgumentError(
        fmt::format("metadata.resourceVersion \"{}\" is not a revision number", rv));
  }
  return *value;
}

std::string ResourceStore::encode(const model::Resource& resource) const {
  model::Resource stored = resource;
  stored.metadata.resource_version.clear();  // derived from the store's revision
  return model::resourceToJson(stored).dump();
}

absl::StatusOr<model::Resource> ResourceStore::decode(const KeyValue& kv) const {
  model::Json json = model::Json::parse(kv.value, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::DataLossError(fmt::format("{}: stored value is not JSON", kv.key));
  }
  auto r = model::resourceFromJson(json);
  if (!r.ok()) return annotate(r.status(), kv.key);
  r->metadata.resource_version = std::to_string(kv.mod_revision);
  return r;
}

absl::StatusOr<model::Resource> ResourceStore::get(const model::KindInfo& kind, std::string_view ns,
                                                   std::string_view name) {
  auto kv = backend_.get(resourceKey(kind, ns, name));
  if (!kv.ok()) return withName(kv.status(), kind, ns, name);
  return decode(*kv);
}

absl::StatusOr<ResourceList> ResourceStore::list(const model::KindInfo& kind,
                                                 std::optional<std::string_view> ns,
                                                 const common::LabelSelector& selector) {
  CORAL_ASSIGN_OR_RETURN(ListResult raw, backend_.list(kindPrefix(kind, ns)));
  ResourceList out;
  out.revision = raw.revision;
  for (const auto& kv : raw.kvs) {
    CORAL_ASSIGN_OR_RETURN(model::Resource r, decode(kv));
    if (selector.matches(r.metadata.labels)) out.items.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<model::Resource> ResourceStore::create(model::Resource resource, LeaseId lease) {
  CORAL_RETURN_IF_ERROR(model::normalize(resource));
  CORAL_RETURN_IF_ERROR(admit(resource));
  const model::KindInfo& kind = *kindOfResource(resource);
  resource.metadata.uid = newUid();
  resource.metadata.creation_timestamp = common::formatRfc3339(clock_.wallNow());
  const std::string key = resourceKey(kind, resource.metadata.namespace_, resource.metadata.name);
  auto rev = backend_.create(key, encode(resource), lease);
  if (!rev.ok()) {
    return withName(rev.status(), kind, resource.metadata.namespace_, resource.metadata.name);
  }
  resource.metadata.resource_version = std::to_string(*rev);
  return resource;
}

absl::StatusOr<model::Resource> ResourceStore::update(model::Resource resource, LeaseId lease) {
  CORAL_RETURN_IF_ERROR(model::normalize(resource));
  CORAL_RETURN_IF_ERROR(admit(resource));
  const model::KindInfo& kind = *kindOfResource(resource);
  const auto& ns = resource.metadata.namespace_;
  const auto& name = resource.metadata.name;
  const std::string key = resourceKey(kind, ns, name);
  auto current = backend_.get(key);
  if (!current.ok()) return withName(current.status(), kind, ns, name);
  Revision expected = current->mod_revision;
  if (!resource.metadata.resource_version.empty()) {
    CORAL_ASSIGN_OR_RETURN(expected, parseResourceVersion(resource.metadata.resource_version));
    if (expected != current->mod_revision) {
      return withName(absl::AbortedError(""), kind, ns, name);
    }
  }
  CORAL_ASSIGN_OR_RETURN(model::Resource stored, decode(*current));
  resource.metadata.uid = stored.metadata.uid;
  resource.metadata.creation_timestamp = stored.metadata.creation_timestamp;
  auto rev = backend_.update(key, encode(resource), expected, lease);
  if (!rev.ok()) return withName(rev.status(), kind, ns, name);
  resource.metadata.resource_version = std::to_string(*rev);
  return resource;
}

absl::StatusOr<std::pair<model::Resource, ApplyResult>> ResourceStore::apply(
    model::Resource resource) {
  CORAL_RETURN_IF_ERROR(model::normalize(resource));
  const model::KindInfo& kind = *kindOfResource(resource);
  const auto& ns = resource.metadata.namespace_;
  const auto& name = resource.metadata.name;
  // An input that carries a resourceVersion was read from the store (get -o yaml): apply
  // it only over that version, as kubectl does, so a change made since is not lost.
  if (!resource.metadata.resource_version.empty()) {
    CORAL_ASSIGN_OR_RETURN(Revision expected,
                           parseResourceVersion(resource.metadata.resource_version));
    auto existing = get(kind, ns, name);
    if (isNotFound(existing.status())) {
      return absl::AbortedError(fmt::format(
          "{}: the input has metadata.resourceVersion {} but it no longer exists (deleted "
          "since it was read); remove metadata.resourceVersion to create it again",
          describe(kind, ns, name), expected));
    }
    if (!existing.ok()) return existing.status();
    auto conflict = [&](std::string_view current) {
      return absl::AbortedError(fmt::format(
          "{}: resourceVersion conflict: the input has resourceVersion {} but the stored "
          "object is at {} (someone else changed it since it was read); get it again and "
          "re-apply your change",
          describe(kind, ns, name), expected, current));
    };
    if (existing->metadata.resource_version != std::to_string(expected)) {
      return conflict(existing->metadata.resource_version);
    }
    if (sameContent(*existing, resource)) return std::make_pair(*existing, ApplyResult::kUnchanged);
    auto updated = update(resource);
    if (updated.ok()) return std::make_pair(*updated, ApplyResult::kConfigured);
    if (isConflict(updated.status())) {
      auto now = get(kind, ns, name);
      return conflict(now.ok() ? now->metadata.resource_version : std::string("?"));
    }
    return updated.status();
  }
  absl::Status last;
  for (int attempt = 0; attempt < kApplyAttempts; ++attempt) {
    auto existing = get(kind, ns, name);
    if (isNotFound(existing.status())) {
      auto created = create(resource);
      if (created.ok()) return std::make_pair(*created, ApplyResult::kCreated);
      last = created.status();
      if (!isAlreadyExists(last)) return last;
      continue;
    }
    if (!existing.ok()) return existing.status();
    if (sameContent(*existing, resource)) return std::make_pair(*existing, ApplyResult::kUnchanged);
    model::Resource next = resource;
    next.metadata.resource_version = existing->metadata.resource_version;
    auto updated = update(next);
    if (updated.ok()) return std::make_pair(*updated, ApplyResult::kConfigured);
    last = updated.status();
    if (!isConflict(last) && !isNotFound(last)) return last;
  }
  return annotate(last, fmt::format("gave up after {} attempts", kApplyAttempts));
}

absl::StatusOr<Revision> ResourceStore::remove(const model::KindInfo& kind, std::string_view ns,
                                               std::string_view name,
                                               std::optional<std::string> resource_version) {
  std::optional<Revision> expected;
  if (resource_version && !resource_version->empty()) {
    CORAL_ASSIGN_OR_RETURN(expected, parseResourceVersion(*resource_version));
  }
  auto rev = backend_.remove(resourceKey(kind, ns, name), expected);
  if (!rev.ok()) return withName(rev.status(), kind, ns, name);
  return *rev;
}

absl::StatusOr<ResourceWatch> ResourceStore::watch(const model::KindInfo& kind,
                                                   std::optional<std::string_view> ns,
                                                   Revision from_revision) {
  CORAL_ASSIGN_OR_RETURN(WatchPtr w, backend_.watch(kindPrefix(kind, ns), from_revision));
  return ResourceWatch(std::move(w));
}

absl::StatusOr<std::vector<ResourceEvent>> ResourceWatch::next(std::chrono::milliseconds timeout) {
  CORAL_ASSIGN_OR_RETURN(std::vector<WatchEvent> raw, watch_->next(timeout));
  std::vector<ResourceEvent> out;
  out.reserve(raw.size());
  for (const auto& ev : raw) {
    ResourceEvent event;
    event.revision = ev.kv.mod_revision;
    if (ev.type == EventType::kDelete) {
      event.type = ResourceEventType::kDeleted;
      // Key: /coral/v1/<kind>/<ns or _>/<name>
      auto parts = split(ev.kv.key, '/');
      if (parts.size() >= 6) {
        if (const auto* kind = model::findKindByName(parts[3])) {
          event.resource.api_version = kind->api_version;
          event.resource.kind = kind->kind;
        }
        if (parts[4] != "_") event.resource.metadata.namespace_ = std::string(parts[4]);
        event.resource.metadata.name = std::string(parts[5]);
      }
      if (!ev.kv.value.empty()) {
        auto json = model::Json::parse(ev.kv.value, nullptr, false);
        if (!json.is_discarded()) {
          if (auto r = model::resourceFromJson(json); r.ok()) event.resource = std::move(*r);
        }
      }
      event.resource.metadata.resource_version = std::to_string(ev.kv.mod_revision);
    } else {
      event.type = ev.kv.create_revision == ev.kv.mod_revision ? ResourceEventType::kAdded
                                                               : ResourceEventType::kModified;
      auto json = model::Json::parse(ev.kv.value, nullptr, false);
      if (json.is_discarded()) continue;  // not ours to interpret; never crash on it
      auto r = model::resourceFromJson(json);
      if (!r.ok()) continue;
      r->metadata.resource_version = std::to_string(ev.kv.mod_revision);
      event.resource = std::move(*r);
    }
    out.push_back(std::move(event));
  }
  return out;
}

}  // namespace coral::datastore
