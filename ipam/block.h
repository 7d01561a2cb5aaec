// Pure operations on one IPAMBlock's allocation table: which ordinals are taken, the
// lowest free one, adding and removing allocations. No datastore access: the allocator
// reads a block, changes it with these, and writes it back with CAS.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/ip.h"
#include "model/kinds/ipam.h"

namespace coral::ipam {

// The block's CIDR (validated by the model when it was written).
common::Prefix blockCidr(const model::IPAMBlock& block);
uint64_t blockSize(const model::IPAMBlock& block);

// Reuse order: the lowest free ordinal, so a released address is the next one handed out
// in its block and every test can predict the allocator's choice.
// Ordinals for which `skip` is true are never chosen (reserved addresses).
std::optional<int64_t> lowestFreeOrdinal(const model::IPAMBlock& block,
                                         const std::function<bool(int64_t)>& skip = {});
size_t freeCount(const model::IPAMBlock& block);

// Adds an allocation; the table stays sorted by ordinal.
void addAllocation(model::IPAMBlock& block, int64_t ordinal, std::string handle_id,
                   std::map<std::string, std::string> attributes);
// Removes every allocation of `handle_id`; returns how many.
int removeHandle(model::IPAMBlock& block, std::string_view handle_id);
// Removes the allocation of `ordinal` (when `handle_id` is not empty, only if it holds
// that handle); returns the handle it held, or nullopt when nothing was removed.
std::optional<std::string> removeOrdinal(model::IPAMBlock& block, int64_t ordinal,
                                         std::string_view handle_id = {});
const model::BlockAllocation* findOrdinal(const model::IPAMBlock& block, int64_t ordinal);

}  // namespace coral::ipam
