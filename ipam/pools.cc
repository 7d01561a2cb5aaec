// Pool parsing, overlap rule and node selection; see pools.h.
#include "ipam/pools.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"

namespace coral::ipam {

common::Prefix Pool::blockOf(const common::IpAddress& address) const {
  return *common::Prefix::make(address, block_size);
}

absl::StatusOr<Pool> parsePool(const model::IPPool& pool) {
  Pool out;
  out.name = pool.metadata.name;
  auto cidr = common::Prefix::parse(pool.spec.cidr);
  if (!cidr.ok()) {
    return absl::InvalidArgumentError(fmt::format("IPPool \"{}\": spec.cidr \"{}\": {}", out.name,
                                                  pool.spec.cidr, errorMessage(cidr.status())));
  }
  out.cidr = *cidr;
  out.block_size = pool.spec.block_size.value_or(cidr->isV4() ? 26 : 122);
  if (out.block_size < cidr->length() || out.block_size > cidr->address().bitLength()) {
    return absl::InvalidArgumentError(
        fmt::format("IPPool \"{}\": spec.blockSize {} does not fit the pool {}", out.name,
                    out.block_size, pool.spec.cidr));
  }
  out.disabled = pool.spec.disabled;
  auto selector = policy::Selector::parse(pool.spec.node_selector);
  if (!selector.ok()) {
    return absl::InvalidArgumentError(fmt::format("IPPool \"{}\": spec.nodeSelector: {}", out.name,
                                                  errorMessage(selector.status())));
  }
  out.node_selector = std::move(*selector);
  return out;
}

absl::Status checkNoOverlap(const std::vector<Pool>& pools) {
  for (size_t i = 0; i < pools.size(); ++i) {
    for (size_t j = i + 1; j < pools.size(); ++j) {
      if (pools[i].cidr.overlaps(pools[j].cidr)) {
        return absl::InvalidArgumentError(fmt::format(
            "IPPool \"{}\" ({}) overlaps IPPool \"{}\" ({}): pools must not share addresses",
            pools[i].name, pools[i].cidr.toString(), pools[j].name, pools[j].cidr.toString()));
      }
    }
  }
  return absl::OkStatus();
}

std::vector<const Pool*> poolsForNode(const std::vector<Pool>& pools, common::Family family,
                                      const common::Labels& node_labels) {
  std::vector<const Pool*> out;
  for (const auto& p : pools) {
    if (p.family() == family && !p.disabled && p.node_selector.matches(node_labels)) {
      out.push_back(&p);
    }
  }
  std::sort(out.begin(), out.end(), [](const Pool* a, const Pool* b) { return a->cidr < b->cidr; });
  return out;
}

const Pool* poolContaining(const std::vector<Pool>& pools, const common::IpAddress& address) {
  for (const auto& p : pools) {
    if (p.cidr.contains(address)) return &p;
  }
  return nullptr;
}

const Pool* poolContaining(const std::vector<Pool>& pools, const common::Prefix& block) {
  for (const auto& p : pools) {
    if (p.cidr.contains(block)) return &p;
  }
  return nullptr;
}

}  // namespace coral::ipam
