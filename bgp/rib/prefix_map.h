// PrefixMap: the RIBs' prefix-keyed tables, built for a million routes. Entries live in a
// dense array (chunked, so growing never copies the whole table nor leaves it half empty)
// and a separate open-addressing index (linear probing, 8-byte slots: entry number + 32
// bits of the hash, so a probe rarely touches an entry) finds them; an erase moves the
// last entry into the hole. IPv4 prefixes are kept as a compact 8-byte key (address +
// length) with a multiplicative hash; IPv6 prefixes as common::Prefix. About 8 + value
// bytes per IPv4 entry plus 11-21 bytes of index, against ~80 for a node-based
// std::unordered_map<Prefix, ...>. Pointers to values are invalidated by any insert or
// erase. Not thread-safe.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "common/ip.h"

namespace coral::bgp {

// An IPv4 prefix in 8 bytes.
struct V4Key {
  uint32_t address = 0;  // host order, host bits clear
  uint8_t length = 0;
  friend bool operator==(const V4Key&, const V4Key&) = default;
};

inline V4Key v4Key(const common::Prefix& p) {
  return {p.address().v4Value(), static_cast<uint8_t>(p.length())};
}
common::Prefix prefixOf(const V4Key& key);

// MurmurHash3's 64-bit finalizer: prefixes differ in their middle bits (a /24 table is
// addresses 256 apart), which a bare multiplication clusters badly.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

struct V4KeyHash {
  uint64_t operator()(const V4Key& k) const { return mix64((uint64_t{k.address} << 8) | k.length); }
};

struct V6KeyHash {
  uint64_t operator()(const common::Prefix& p) const {
    const auto bytes = p.address().bytes();
    uint64_t hi = 0, lo = 0;
    std::memcpy(&hi, bytes.data(), 8);
    std::memcpy(&lo, bytes.data() + 8, 8);
    return mix64(mix64(hi ^ uint64_t(p.length())) ^ lo);
  }
};

// GCC 12 drops a __builtin_prefetch under a condition in some member functions (seen
// here: no prefetch instruction emitted at all); the asm cannot be dropped.
inline void prefetchLine(const void* address) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(address)));
#else
  __builtin_prefetch(address);
#endif
}

// The probing index's memory: large arrays are 2 MiB aligned and asked to be backed by
// transparent huge pages (madvise), since every lookup lands on a random slot and 4 KiB
// pages would make nearly each one a TLB miss.
class SlotArray {
 public:
  SlotArray() = default;
  SlotArray(size_t size, uint64_t fill);
  SlotArray(SlotArray&& other) noexcept { swap(other); }
  SlotArray& operator=(SlotArray&& other) noexcept {
    SlotArray(std::move(other)).swap(*this);
    return *this;
  }
  ~SlotArray();
  void swap(SlotArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }
  uint64_t& operator[](size_t i) { return data_[i]; }
  const uint64_t& operator[](size_t i) const { return data_[i]; }
  uint64_t* data() { return data_; }
  const uint64_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { SlotArray().swap(*this); }

 private:
  uint64_t* data_ = nullptr;
  size_t size_ = 0;
};

// The dense table behind PrefixMap; `Hash` must spread its result into the high bits.
template <typename K, typename V, typename Hash>
class DenseTable {
 public:
  struct Entry {
    K key;
    V value;
  };

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  V* find(const K& key) {
    if (size_ == 0) return nullptr;
    const uint64_t* slot = findSlot(key, Hash{}(key));
    return slot ? &at(indexOf(*slot)).value : nullptr;
  }
  const V* find(const K& key) const { return const_cast<DenseTable*>(this)->find(key); }

  // Starts loading the index slot of `key`: a caller about to touch many keys prefetches
  // a few ahead, so the cache misses of a large table overlap.
  void prefetch(const K& key) const {
    if (!slots_.empty()) prefetchLine(slots_.data() + home(Hash{}(key)));
  }

  // The value of `key`, value-initialized when new; second: whether it was inserted.
  std::pair<V*, bool> tryEmplace(const K& key) {
    const uint64_t hash = Hash{}(key);
    if (!slots_.empty()) {
      if (const uint64_t* slot = findSlot(key, hash)) return {&at(indexOf(*slot)).value, false};
    }
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    const uint32_t index = static_cast<uint32_t>(size_);
    if (chunks_.empty() || chunks_.back().size() == kChunk) {
      chunks_.emplace_back();
      chunks_.back().reserve(chunks_.size() == 1 ? 16 : kChunk);
    }
    chunks_.back().push_back(Entry{key, V{}});
    ++size_;
    slots_[emptySlotFor(hash)] = slotValue(hash, index);
    return {&chunks_.back().back().value, true};
  }

  bool erase(const K& key) {
    if (size_ == 0) return false;
    uint64_t* slot = findSlot(key, Hash{}(key));
    if (slot == nullptr) return false;
    const uint32_t index = indexOf(*slot);
    removeSlot(static_cast<size_t>(slot - slots_.data()));
    const uint32_t last = static_cast<uint32_t>(size_ - 1);
    if (index != last) {
      // The last entry moves into the hole; repoint its slot.
      Entry& moved = at(last);
      uint64_t* moved_slot = findSlot(moved.key, Hash{}(moved.key));
      *moved_slot = (*moved_slot & ~uint64_t{UINT32_MAX}) | index;
      at(index) = std::move(moved);
    }
    chunks_.back().pop_back();
    if (chunks_.back().empty() && chunks_.size() > 1) chunks_.pop_back();
    --size_;
    return true;
  }

  void clear() {
    chunks_.clear();
    slots_.clear();
    size_ = 0;
  }
  // Empties the table but keeps a small index and its first chunk for reuse (a queue
  // drained and refilled over and over); a large index (a full table went through) is
  // freed.
  void reset() {
    if (chunks_.size() > 1) chunks_.resize(1);
    if (!chunks_.empty()) chunks_.front().clear();
    if (slots_.size() > 2 * kChunk) {
      slots_.clear();
      shift_ = 64;
    } else {
      std::fill(slots_.data(), slots_.data() + slots_.size(), kEmpty);
    }
    size_ = 0;
  }

  // fn(K, V&) / fn(const K&, const V&) over every entry, in storage order.
  template <typename F>
  void forEach(F&& fn) {
    for (auto& chunk : chunks_) {
      for (Entry& e : chunk) fn(e.key, e.value);
    }
  }
  template <typename F>
  void forEach(F&& fn) const {
    for (const auto& chunk : chunks_) {
      for (const Entry& e : chunk) fn(e.key, e.value);
    }
  }

  // Moves the last stored entry's value out and erases it; false when empty.
  bool popLast(V& value) {
    if (size_ == 0) return false;
    Entry& e = last();
    value = std::move(e.value);
    const K key = e.key;
    erase(key);
    return true;
  }

  // The last stored entry (the cheapest to erase). Table not empty.
  Entry& last() { return chunks_.back().back(); }

 private:
  static constexpr size_t kChunk = 4096;
  // A slot: the hash's top 32 bits (compared before touching the entry) and the entry
  // number; all ones is empty (a real slot always has an index below UINT32_MAX).
  static constexpr uint64_t kEmpty = UINT64_MAX;

  static uint64_t slotValue(uint64_t hash, uint32_t index) {
    return (hash & ~uint64_t{UINT32_MAX}) | index;
  }
  static uint32_t indexOf(uint64_t slot) { return static_cast<uint32_t>(slot); }
  Entry& at(uint32_t index) { return chunks_[index / kChunk][index % kChunk]; }
  size_t home(uint64_t hash) const { return hash >> shift_; }
  size_t mask() const { return slots_.size() - 1; }

  uint64_t* findSlot(const K& key, uint64_t hash) {
    const uint64_t tag = hash & ~uint64_t{UINT32_MAX};
    for (size_t i = home(hash);; i = (i + 1) & mask()) {
      const uint64_t s = slots_[i];
      if (s == kEmpty) return nullptr;
      if ((s & ~uint64_t{UINT32_MAX}) == tag && at(indexOf(s)).key == key) return &slots_[i];
    }
  }
  size_t emptySlotFor(uint64_t hash) const {
    for (size_t i = home(hash);; i = (i + 1) & mask()) {
      if (slots_[i] == kEmpty) return i;
    }
  }
  // Backward-shift deletion: keeps every probe sequence unbroken without tombstones. The
  // slot's tag is the hash's top bits, so its home is known without touching the entry.
  void removeSlot(size_t hole) {
    for (size_t i = (hole + 1) & mask();; i = (i + 1) & mask()) {
      if (slots_[i] == kEmpty) break;
      const size_t h = home(slots_[i]);
      // Move slot i into the hole when its home is not in (hole, i] (cyclically).
      const bool stays = hole <= i ? (hole < h && h <= i) : (hole < h || h <= i);
      if (!stays) {
        slots_[hole] = slots_[i];
        hole = i;
      }
    }
    slots_[hole] = kEmpty;
  }
  void grow() {
    const size_t capacity = slots_.empty() ? 16 : slots_.size() * 2;
    SlotArray old = std::move(slots_);
    slots_ = SlotArray(capacity, kEmpty);
    shift_ = 64 - std::countr_zero(capacity);
    for (size_t i = 0; i < old.size(); ++i) {
      if (old[i] != kEmpty) slots_[emptySlotFor(old[i])] = old[i];
    }
  }

  std::vector<std::vector<Entry>> chunks_;
  SlotArray slots_;
  size_t size_ = 0;
  int shift_ = 64;
};

// Prefix → V for both families.
template <typename V>
class PrefixMap {
 public:
  size_t size() const { return v4_.size() + v6_.size(); }
  bool empty() const { return size() == 0; }

  V* find(const common::Prefix& p) { return p.isV4() ? v4_.find(v4Key(p)) : v6_.find(p); }
  const V* find(const common::Prefix& p) const {
    return p.isV4() ? v4_.find(v4Key(p)) : v6_.find(p);
  }
  std::pair<V*, bool> tryEmplace(const common::Prefix& p) {
    return p.isV4() ? v4_.tryEmplace(v4Key(p)) : v6_.tryEmplace(p);
  }
  void prefetch(const common::Prefix& p) const {
    p.isV4() ? v4_.prefetch(v4Key(p)) : v6_.prefetch(p);
  }
  bool erase(const common::Prefix& p) { return p.isV4() ? v4_.erase(v4Key(p)) : v6_.erase(p); }
  void clear() {
    v4_.clear();
    v6_.clear();
  }
  // Empties the map, keeping memory for reuse (see DenseTable::reset).
  void reset() {
    v4_.reset();
    v6_.reset();
  }

  // fn(const common::Prefix&, V&) over every entry: IPv4 first.
  template <typename F>
  void forEach(F&& fn) {
    v4_.forEach([&](const V4Key& k, V& v) { fn(prefixOf(k), v); });
    v6_.forEach([&](const common::Prefix& p, V& v) { fn(p, v); });
  }
  template <typename F>
  void forEach(F&& fn) const {
    v4_.forEach([&](const V4Key& k, const V& v) { fn(prefixOf(k), v); });
    v6_.forEach([&](const common::Prefix& p, const V& v) { fn(p, v); });
  }

  // fn(V&) over every value, without building the prefixes.
  template <typename F>
  void forEachValue(F&& fn) {
    v4_.forEach([&](const V4Key&, V& v) { fn(v); });
    v6_.forEach([&](const common::Prefix&, V& v) { fn(v); });
  }
  template <typename F>
  void forEachValue(F&& fn) const {
    v4_.forEach([&](const V4Key&, const V& v) { fn(v); });
    v6_.forEach([&](const common::Prefix&, const V& v) { fn(v); });
  }

  // Removes one entry (the cheapest) into `value`; false when empty.
  bool popValue(V& value) {
    if (!v6_.empty()) return v6_.popLast(value);
    return v4_.popLast(value);
  }
  // Removes one entry (the cheapest) into `prefix`/`value`; false when empty.
  bool pop(common::Prefix& prefix, V& value) {
    if (!v6_.empty()) {
      auto& e = v6_.last();
      prefix = e.key;
      value = std::move(e.value);
      v6_.erase(prefix);
      return true;
    }
    if (v4_.empty()) return false;
    auto& e = v4_.last();
    const V4Key key = e.key;
    prefix = prefixOf(key);
    value = std::move(e.value);
    v4_.erase(key);
    return true;
  }

 private:
  DenseTable<V4Key, V, V4KeyHash> v4_;
  DenseTable<common::Prefix, V, V6KeyHash> v6_;
};

}  // namespace coral::bgp
