// StoreState: the in-memory index every process keeps of a file store — the keys, the
// leases, and the watch history since the compact revision — built from a snapshot and
// the log records that follow it. Not thread-safe; the backend guards it with its mutex.
#pragma once

#include <deque>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "datastore/backend.h"
#include "datastore/file/record.h"

namespace coral::datastore::file {

class StoreState {
 public:
  explicit StoreState(bool keep_history = true) : keep_history_(keep_history) {}

  // Replaces everything with the snapshot; the history starts empty.
  void reset(Snapshot snapshot);
  // Applies one log record (records must come in sequence order).
  void apply(const Record& record);
  // Drops history before `compact_revision` and remembers it as the compact revision.
  void compactHistory(Revision compact_revision);

  const Snapshot& snapshot() const { return state_; }
  Revision revision() const { return state_.revision; }
  Revision compactRevision() const { return state_.compact_revision; }
  uint64_t seq() const { return state_.seq; }
  LeaseId nextLeaseId() const { return state_.next_lease_id; }

  const KeyValue* find(std::string_view key) const;
  std::vector<KeyValue> list(std::string_view prefix) const;
  const LeaseState* lease(LeaseId id) const;
  std::vector<std::string> keysOfLease(LeaseId id) const;
  std::vector<LeaseId> expiredLeases(int64_t now_unix_ms) const;
  bool anyLeaseExpired(int64_t now_unix_ms) const;

  // Events with revision >= from whose key starts with prefix, in revision order.
  std::vector<WatchEvent> eventsFrom(Revision from, std::string_view prefix) const;

 private:
  void attach(const std::string& key, LeaseId lease);
  void detach(const std::string& key, LeaseId lease);

  bool keep_history_;
  Snapshot state_;
  std::deque<WatchEvent> history_;  // revision order, all >= compact_revision
  std::map<LeaseId, std::set<std::string>> lease_keys_;
};

}  // namespace coral::datastore::file
