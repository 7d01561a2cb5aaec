// PrefixMap helpers that need common::Prefix's factory.
#include "bgp/rib/prefix_map.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <new>

namespace coral::bgp {
namespace {

constexpr size_t kHugePage = 2 << 20;

}  // namespace

SlotArray::SlotArray(size_t size, uint64_t fill) : size_(size) {
  const size_t bytes = size * sizeof(uint64_t);
  if (bytes >= kHugePage) {
    data_ = static_cast<uint64_t*>(std::aligned_alloc(kHugePage, bytes));
    if (data_ != nullptr) madvise(data_, bytes, MADV_HUGEPAGE);  // a hint: failure is fine
  } else {
    data_ = static_cast<uint64_t*>(std::malloc(bytes));
  }
  if (data_ == nullptr) throw std::bad_alloc();
  std::fill(data_, data_ + size, fill);
}

SlotArray::~SlotArray() { std::free(data_); }

common::Prefix prefixOf(const V4Key& key) {
  // The key was made from a valid prefix: the length is in range, host bits are clear.
  return *common::Prefix::make(common::IpAddress::v4(key.address), key.length);
}

}  // namespace coral::bgp
