// Helpers for datastore tests, shared by the conformance suite and backend-specific tests:
// where the coral-datastore-writer tool is, collecting watch events with a deadline,
// waiting for a key to vanish, and printing events in assertion messages.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "datastore/backend.h"

namespace coral::datastore {
namespace conformance {

using namespace std::chrono_literals;

// Where coral-datastore-writer was built (the compile definition the
// coral_datastore_conformance target sets, else under $CORAL_BUILD_DIR).
inline std::string writerPath() {
#ifdef CORAL_DATASTORE_WRITER_PATH
  return CORAL_DATASTORE_WRITER_PATH;
#else
  const char* build = std::getenv("CORAL_BUILD_DIR");
  return std::string(build ? build : ".") + "/tests/support/coral-datastore-writer";
#endif
}

// Calls next() until `count` events arrived or `timeout` passed; stops at an error.
inline absl::StatusOr<std::vector<WatchEvent>> collect(Watch& watch, size_t count,
                                                       std::chrono::milliseconds timeout = 5s) {
  std::vector<WatchEvent> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) break;
    auto events = watch.next(std::min<std::chrono::milliseconds>(left, 500ms));
    if (!events.ok()) return events.status();
    out.insert(out.end(), events->begin(), events->end());
  }
  return out;
}

// Polls get(key) until it is NotFound or `timeout` passes; true when the key is gone.
inline bool waitUntilGone(Backend& backend, const std::string& key,
                          std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (isNotFound(backend.get(key).status())) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Events compared by type, key, mod revision and (for puts) value.
inline std::string describe(const std::vector<WatchEvent>& events) {
  std::string out;
  for (const WatchEvent& e : events) {
    out += (e.type == EventType::kPut ? "PUT " : "DEL ") + e.kv.key + "@" +
           std::to_string(e.kv.mod_revision) + (e.type == EventType::kPut ? "=" + e.kv.value : "") +
           "\n";
  }
  return out;
}

}  // namespace conformance

}  // namespace coral::datastore
