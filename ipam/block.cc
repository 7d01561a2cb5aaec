// Allocation-table operations on one block; see block.h.
#include "ipam/block.h"

#include <algorithm>
#include <vector>

namespace coral::ipam {

common::Prefix blockCidr(const model::IPAMBlock& block) {
  auto p = common::Prefix::parse(block.spec.cidr);
  return p.ok() ? *p : common::Prefix();
}

uint64_t blockSize(const model::IPAMBlock& block) { return blockCidr(block).numAddresses(); }

std::optional<int64_t> lowestFreeOrdinal(const model::IPAMBlock& block,
                                         const std::function<bool(int64_t)>& skip) {
  const uint64_t size = blockSize(block);
  std::vector<bool> used(size, false);
  for (const auto& a : block.spec.allocations) {
    if (a.ordinal >= 0 && static_cast<uint64_t>(a.ordinal) < size) used[a.ordinal] = true;
  }
  for (uint64_t i = 0; i < size; ++i) {
    if (!used[i] && !(skip && skip(static_cast<int64_t>(i)))) return static_cast<int64_t>(i);
  }
  return std::nullopt;
}

size_t freeCount(const model::IPAMBlock& block) {
  const uint64_t size = blockSize(block);
  const size_t used = block.spec.allocations.size();
  return used >= size ? 0 : static_cast<size_t>(size - used);
}

void addAllocation(model::IPAMBlock& block, int64_t ordinal, std::string handle_id,
                   std::map<std::string, std::string> attributes) {
  model::BlockAllocation a;
  a.ordinal = ordinal;
  a.handle_id = std::move(handle_id);
  a.attributes = std::move(attributes);
  auto& all = block.spec.allocations;
  auto pos =
      std::lower_bound(all.begin(), all.end(), ordinal,
                       [](const model::BlockAllocation& x, int64_t o) { return x.ordinal < o; });
  all.insert(pos, std::move(a));
}

int removeHandle(model::IPAMBlock& block, std::string_view handle_id) {
  auto& all = block.spec.allocations;
  const auto before = all.size();
  std::erase_if(all, [&](const model::BlockAllocation& a) { return a.handle_id == handle_id; });
  return static_cast<int>(before - all.size());
}

std::optional<std::string> removeOrdinal(model::IPAMBlock& block, int64_t ordinal,
                                         std::string_view handle_id) {
  auto& all = block.spec.allocations;
  for (auto it = all.begin(); it != all.end(); ++it) {
    if (it->ordinal != ordinal) continue;
    if (!handle_id.empty() && it->handle_id != handle_id) return std::nullopt;
    std::string held = it->handle_id;
    all.erase(it);
    return held;
  }
  return std::nullopt;
}

const model::BlockAllocation* findOrdinal(const model::IPAMBlock& block, int64_t ordinal) {
  for (const auto& a : block.spec.allocations) {
    if (a.ordinal == ordinal) return &a;
  }
  return nullptr;
}

}  // namespace coral::ipam
