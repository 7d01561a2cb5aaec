// StoreState: applying records to the in-memory index (see store_state.h).
#include "datastore/file/store_state.h"

#include <algorithm>

namespace coral::datastore::file {

void StoreState::reset(Snapshot snapshot) {
  state_ = std::move(snapshot);
  history_.clear();
  lease_keys_.clear();
  for (const auto& [key, kv] : state_.kvs) {
    if (kv.lease != 0) attach(key, kv.lease);
  }
}

void StoreState::attach(const std::string& key, LeaseId lease) {
  if (lease != 0) lease_keys_[lease].insert(key);
}

void StoreState::detach(const std::string& key, LeaseId lease) {
  if (lease == 0) return;
  auto it = lease_keys_.find(lease);
  if (it == lease_keys_.end()) return;
  it->second.erase(key);
  if (it->second.empty()) lease_keys_.erase(it);
}

void StoreState::apply(const Record& r) {
  state_.seq = r.seq;
  switch (r.op) {
    case RecordOp::kPut: {
      KeyValue kv{r.key, r.value, r.create_revision, r.revision, r.lease};
      auto it = state_.kvs.find(r.key);
      if (it != state_.kvs.end()) {
        detach(r.key, it->second.lease);
        it->second = kv;
      } else {
        state_.kvs.emplace(r.key, kv);
      }
      attach(r.key, r.lease);
      state_.revision = r.revision;
      if (keep_history_) history_.push_back(WatchEvent{EventType::kPut, std::move(kv)});
      break;
    }
    case RecordOp::kDelete: {
      KeyValue gone{r.key, "", 0, r.revision, 0};
      auto it = state_.kvs.find(r.key);
      if (it != state_.kvs.end()) {
        gone.value = std::move(it->second.value);
        gone.create_revision = it->second.create_revision;
        gone.lease = it->second.lease;
        detach(r.key, it->second.lease);
        state_.kvs.erase(it);
      }
      state_.revision = r.revision;
      if (keep_history_) history_.push_back(WatchEvent{EventType::kDelete, std::move(gone)});
      break;
    }
    case RecordOp::kLeaseGrant:
      state_.leases[r.lease] = LeaseState{r.ttl_ms, r.expiry_unix_ms};
      state_.next_lease_id = std::max(state_.next_lease_id, r.lease + 1);
      break;
    case RecordOp::kLeaseKeepAlive: {
      auto it = state_.leases.find(r.lease);
      if (it != state_.leases.end()) it->second.expiry_unix_ms = r.expiry_unix_ms;
      break;
    }
    case RecordOp::kLeaseRevoke:
      state_.leases.erase(r.lease);
      break;
  }
}

void StoreState::compactHistory(Revision compact_revision) {
  if (compact_revision <= state_.compact_revision) return;
  state_.compact_revision = compact_revision;
  while (!history_.empty() && history_.front().kv.mod_revision < compact_revision) {
    history_.pop_front();
  }
}

const KeyValue* StoreState::find(std::string_view key) const {
  auto it = state_.kvs.find(key);
  return it == state_.kvs.end() ? nullptr : &it->second;
}

std::vector<KeyValue> StoreState::list(std::string_view prefix) const {
  std::vector<KeyValue> out;
  for (auto it = state_.kvs.lower_bound(prefix);
       it != state_.kvs.end() && std::string_view(it->first).starts_with(prefix); ++it) {
    out.push_back(it->second);
  }
  return out;
}

const LeaseState* StoreState::lease(LeaseId id) const {
  auto it = state_.leases.find(id);
  return it == state_.leases.end() ? nullptr : &it->second;
}

std::vector<std::string> StoreState::keysOfLease(LeaseId id) const {
  auto it = lease_keys_.find(id);
  if (it == lease_keys_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<LeaseId> StoreState::expiredLeases(int64_t now_unix_ms) const {
  std::vector<LeaseId> out;
  for (const auto& [id, lease] : state_.leases) {
    if (lease.expiry_unix_ms <= now_unix_ms) out.push_back(id);
  }
  return out;
}

bool StoreState::anyLeaseExpired(int64_t now_unix_ms) const {
  for (const auto& [id, lease] : state_.leases) {
    if (lease.expiry_unix_ms <= now_unix_ms) return true;
  }
  return false;
}

std::vector<WatchEvent> StoreState::eventsFrom(Revision from, std::string_view prefix) const {
  std::vector<WatchEvent> out;
  auto it = std::lower_bound(history_.begin(), history_.end(), from,
                             [](const WatchEvent& e, Revision r) { return e.kv.mod_revision < r; });
  for (; it != history_.end(); ++it) {
    if (std::string_view(it->kv.key).starts_with(prefix)) out.push_back(*it);
  }
  return out;
}

}  // namespace coral::datastore::file
