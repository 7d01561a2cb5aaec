#include "agent/sync/resource_cache.h"

#include <chrono>

#include "common/log.h"
#include "common/strings.h"

namespace coral::agent {
namespace {

std::string keyOf(const model::Resource& r) {
  return r.metadata.namespace_ + "/" + r.metadata.name;
}

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ResourceCache::ResourceCache(datastore::ResourceStore& store, const model::KindInfo& kind,
                             std::function<void()> on_change)
    : store_(store), kind_(kind), on_change_(std::move(on_change)) {}

ResourceCache::~ResourceCache() { stop(); }

void ResourceCache::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void ResourceCache::requestStop() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
}

void ResourceCache::stop() {
  requestStop();
  if (thread_.joinable()) thread_.join();
}

void ResourceCache::sleepUnlessStopping(std::chrono::milliseconds duration) {
  std::unique_lock lock(stop_mu_);
  stop_cv_.wait_for(lock, duration, [this] { return stop_.load(); });
}

std::vector<model::Resource> ResourceCache::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<model::Resource> out;
  out.reserve(items_.size());
  for (const auto& [k, r] : items_) out.push_back(r);
  return out;
}

double ResourceCache::secondsSinceContact() const {
  const int64_t last = last_contact_ms_.load();
  return last == 0 ? -1.0 : (nowMs() - last) / 1000.0;
}

absl::Status ResourceCache::relist(datastore::Revision* revision) {
  auto list = store_.list(kind_);
  if (!list.ok()) return list.status();
  std::map<std::string, model::Resource> fresh;
  for (auto& r : list->items) fresh.emplace(keyOf(r), std::move(r));
  {
    std::lock_guard lock(mu_);
    items_ = std::move(fresh);
  }
  *revision = list->revision;
  last_contact_ms_ = nowMs();
  synced_ = true;
  return absl::OkStatus();
}

void ResourceCache::run() {
  auto backoff = std::chrono::milliseconds(100);
  while (!stop_) {
    datastore::Revision revision = 0;
    if (auto s = relist(&revision); !s.ok()) {
      log::warn("list failed; retrying", {{"kind", kind_.kind}, {"error", errorMessage(s)}});
      sleepUnlessStopping(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    on_change_();
    auto watch = store_.watch(kind_, std::nullopt, revision + 1);
    if (!watch.ok()) {
      log::warn("watch failed; relisting",
                {{"kind", kind_.kind}, {"error", errorMessage(watch.status())}});
      sleepUnlessStopping(backoff);
      continue;
    }
    while (!stop_) {
      auto events = watch->next(std::chrono::milliseconds(200));
      if (!events.ok()) {
        if (!datastore::isCompacted(events.status())) {
          log::warn("watch broke; relisting",
                    {{"kind", kind_.kind}, {"error", errorMessage(events.status())}});
        }
        break;
      }
      // A watch that is reconnecting has no news, which is not the same as "no change".
      if (watch->connected() || !events->empty()) last_contact_ms_ = nowMs();
      if (events->empty()) continue;
      {
        std::lock_guard lock(mu_);
        for (auto& e : *events) {
          if (e.type == datastore::ResourceEventType::kDeleted) {
            items_.erase(keyOf(e.resource));
          } else {
            items_[keyOf(e.resource)] = std::move(e.resource);
          }
        }
      }
      on_change_();
    }
  }
}

}  // namespace coral::agent
