// SharedIndex<T>: a 4-byte number for each distinct shared_ptr<const T> (by pointer) while
// something refers to it, so that million-entry tables (Loc-RIB, Adj-RIB-Out) store 4 bytes
// per route instead of a 16-byte shared_ptr with its atomic reference count. The numbers
// are reference-counted: ref() on store, unref() on removal; a number is reused once free.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace coral::bgp {

template <typename T>
class SharedIndex {
 public:
  using Ptr = std::shared_ptr<const T>;

  // One more reference to `ptr` (not null); returns its number.
  uint32_t ref(const Ptr& ptr) {
    uint32_t id;
    if (ptr.get() == last_) {
      id = last_id_;
    } else if (auto it = ids_.find(ptr.get()); it != ids_.end()) {
      id = it->second;
    } else {
      if (!free_.empty()) {
        id = free_.back();
        free_.pop_back();
        slots_[id].ptr = ptr;
      } else {
        id = static_cast<uint32_t>(slots_.size());
        slots_.push_back({ptr, 0});
      }
      ids_.emplace(ptr.get(), id);
    }
    last_ = ptr.get();
    last_id_ = id;
    ++slots_[id].refs;
    return id;
  }
  void unref(uint32_t id) {
    Slot& s = slots_[id];
    if (--s.refs > 0) return;
    ids_.erase(s.ptr.get());
    if (last_ == s.ptr.get()) last_ = nullptr;
    s.ptr.reset();
    free_.push_back(id);
  }
  const Ptr& get(uint32_t id) const { return slots_[id].ptr; }
  // Distinct objects referred to.
  size_t size() const { return ids_.size(); }
  void clear() {
    slots_.clear();
    free_.clear();
    ids_.clear();
    last_ = nullptr;
  }

 private:
  struct Slot {
    Ptr ptr;
    uint32_t refs = 0;
  };
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::unordered_map<const T*, uint32_t> ids_;
  const T* last_ = nullptr;
  uint32_t last_id_ = 0;
};

}  // namespace coral::bgp
