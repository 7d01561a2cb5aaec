#include "model/kinds/ipam.h"

#include <fmt/format.h>

#include <set>

#include "model/validators.h"

namespace coral::model {

void IPPoolSpec::validate(Validation& v) const {
  auto pool = checkCidr(v.at("cidr"), cidr);
  checkSelector(v.at("nodeSelector"), node_selector);
  if (!pool || !block_size) return;
  const int max = pool->address().bitLength();
  if (*block_size > max) {
    v.at("blockSize").error(fmt::format("{} is larger than /{}", *block_size, max));
  } else if (*block_size < pool->length()) {
    v.at("blockSize")
        .error(fmt::format("{} is shorter than the pool's /{}: a block must fit in "
                           "the pool",
                           *block_size, pool->length()));
  } else if (pool->isV4() && *block_size < 20) {
    v.at("blockSize").error(fmt::format("{} is out of range for IPv4 (20-32)", *block_size));
  } else if (pool->isV6() && *block_size < 116) {
    v.at("blockSize").error(fmt::format("{} is out of range for IPv6 (116-128)", *block_size));
  }
  if (pool->isV4() && pool->length() > 30 && !block_size) {
    v.at("cidr").error("an IPv4 pool needs at least 4 addresses");
  }
}

void IPPool::applyDefaults(IPPool& pool) {
  if (pool.spec.encapsulation.empty()) pool.spec.encapsulation = "None";
  if (pool.spec.node_selector.empty()) pool.spec.node_selector = "all()";
  if (!pool.spec.block_size) {
    auto prefix = common::Prefix::parse(pool.spec.cidr);
    if (prefix.ok()) {
      // A pool smaller than the default block is one block.
      const int def = prefix->isV4() ? 26 : 122;
      pool.spec.block_size = std::max(def, prefix->length());
    }
  }
}

absl::Status checkPoolOverlap(const IPPool& candidate, const std::vector<IPPool>& pools) {
  auto mine = common::Prefix::parse(candidate.spec.cidr);
  if (!mine.ok()) return absl::OkStatus();  // validation reports a bad CIDR
  for (const auto& other : pools) {
    if (other.metadata.name == candidate.metadata.name) continue;
    auto theirs = common::Prefix::parse(other.spec.cidr);
    if (!theirs.ok() || !mine->overlaps(*theirs)) continue;
    return absl::InvalidArgumentError(fmt::format(
        "IPPool \"{}\": spec.cidr {} overlaps IPPool \"{}\" ({}): pools must not share addresses",
        candidate.metadata.name, mine->toString(), other.metadata.name, theirs->toString()));
  }
  return absl::OkStatus();
}

void IPAMConfiguration::applyDefaults(IPAMConfiguration& config) {
  if (!config.spec.auto_allocate_blocks) config.spec.auto_allocate_blocks = true;
}

void IPAMConfiguration::validateObject(const IPAMConfiguration& config, Validation& v) {
  if (config.metadata.name != "default") {
    v.at("metadata")
        .at("name")
        .error(fmt::format("\"{}\": there is one IPAMConfiguration and its name is \"default\"",
                           config.metadata.name));
  }
}

void IPAMBlockSpec::validate(Validation& v) const {
  auto block = checkCidr(v.at("cidr"), cidr);
  if (!affinity.empty() && affinity.rfind("host:", 0) != 0) {
    v.at("affinity").error(fmt::format("\"{}\" must be \"host:<node name>\"", affinity));
  }
  if (!block) return;
  std::set<int64_t> seen;
  for (size_t i = 0; i < allocations.size(); ++i) {
    const auto& a = allocations[i];
    if (static_cast<uint64_t>(a.ordinal) >= block->numAddresses()) {
      v.at("allocations")
          .at(i)
          .at("ordinal")
          .error(fmt::format("{} is outside the block {}", a.ordinal, cidr));
    } else if (!seen.insert(a.ordinal).second) {
      v.at("allocations")
          .at(i)
          .at("ordinal")
          .error(fmt::format("{} is allocated twice", a.ordinal));
    }
  }
}

void BlockAffinitySpec::validate(Validation& v) const { checkCidr(v.at("cidr"), cidr); }

void BlockAffinity::applyDefaults(BlockAffinity& affinity) {
  if (affinity.spec.state.empty()) affinity.spec.state = "confirmed";
}

}  // namespace coral::model
