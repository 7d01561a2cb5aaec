// Allocation: autoAssign and the steps it is made of — the node's own blocks first,
// then a newly claimed block, then (without strictAffinity) a borrowed address.
// Write order per address: the IPAMHandle counts the block first, then the block records
// the allocation with CAS. See README.md for why that order is crash-safe.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "ipam/block.h"
#include "ipam/ipam.h"

namespace coral::ipam {

struct Ipam::Context {
  const AssignRequest& request;
  IpamConfig config{};
  std::vector<Pool> pools{};
  common::Labels node_labels{};
  std::map<std::string, std::string> attributes{};
  mutable int conflicts = 0;
};

namespace {

std::string familyLabel(common::Family f) { return f == common::Family::kV4 ? "IPv4" : "IPv6"; }

// Must `address` (of `pool`) not be handed out to this request?
bool isReserved(const AssignRequest& req, const Pool& pool, const common::IpAddress& address) {
  if (req.skip_pool_edges) {
    const common::Prefix& subnet = pool.cidr;
    const int host_bits = subnet.address().bitLength() - subnet.length();
    // IPv4 /31 and IPv6 /127 are point-to-point links (RFC 3021, RFC 6164): no edges.
    if (host_bits >= 2) {
      if (address == subnet.address()) return true;  // network / subnet-router anycast
      if (subnet.isV4() && address == subnet.lastAddress()) return true;  // broadcast
    }
  }
  for (const auto& r : req.reserved) {
    if (r.contains(address)) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<IpamConfig> Ipam::config() {
  IpamConfig out;
  auto c = store_.get<model::IPAMConfiguration>("default");
  if (datastore::isNotFound(c.status())) return out;
  if (!c.ok()) return c.status();
  out.strict_affinity = c->spec.strict_affinity;
  out.max_blocks_per_host = c->spec.max_blocks_per_host;
  out.auto_allocate_blocks = c->spec.auto_allocate_blocks.value_or(true);
  return out;
}

absl::StatusOr<std::vector<Pool>> Ipam::pools() {
  CORAL_ASSIGN_OR_RETURN(auto stored, store_.list<model::IPPool>());
  std::vector<Pool> out;
  for (const auto& p : stored) {
    CORAL_ASSIGN_OR_RETURN(Pool pool, parsePool(p));
    out.push_back(std::move(pool));
  }
  return out;
}

absl::StatusOr<AssignResult> Ipam::autoAssign(const AssignRequest& request) {
  if (request.handle_id.empty()) return absl::InvalidArgumentError("autoAssign: empty handle id");
  if (request.node.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("autoAssign for handle \"{}\": empty node name", request.handle_id));
  }
  if (!request.ipv4 && !request.ipv6) {
    return absl::InvalidArgumentError(
        fmt::format("autoAssign for handle \"{}\": ask for IPv4, IPv6 or both", request.handle_id));
  }
  Context ctx{.request = request};
  CORAL_ASSIGN_OR_RETURN(ctx.config, config());
  CORAL_ASSIGN_OR_RETURN(ctx.pools, pools());
  if (auto s = checkNoOverlap(ctx.pools); !s.ok()) {
    return absl::FailedPreconditionError(fmt::format("refusing to allocate: {}", errorMessage(s)));
  }
  auto node = store_.get<model::Node>(request.node);
  if (node.ok()) {
    ctx.node_labels = node->metadata.labels;
  } else if (!datastore::isNotFound(node.status())) {
    return node.status();
  }
  ctx.attributes = request.attributes;
  ctx.attributes[kAttrNode] = request.node;

  // A retried ADD for the same handle gets the addresses it already holds.
  CORAL_ASSIGN_OR_RETURN(auto held, addressesOf(request.handle_id));
  auto heldOf = [&](common::Family f) -> std::optional<Assignment> {
    for (const auto& a : held) {
      if (a.address.family() == f) return a;
    }
    return std::nullopt;
  };

  AssignResult result;
  bool new_v4 = false;
  if (request.ipv4) {
    result.ipv4 = heldOf(common::Family::kV4);
    if (!result.ipv4) {
      CORAL_ASSIGN_OR_RETURN(result.ipv4, assignFamily(ctx, common::Family::kV4));
      new_v4 = true;
    }
  }
  if (request.ipv6) {
    result.ipv6 = heldOf(common::Family::kV6);
    if (!result.ipv6) {
      auto v6 = assignFamily(ctx, common::Family::kV6);
      if (!v6.ok()) {
        if (new_v4) {
          // All or nothing: give the IPv4 address back before failing.
          auto undo = releaseAddress(result.ipv4->address, request.handle_id);
          if (!undo.ok()) {
            log::warn("dual-stack rollback failed: the IPv4 address is left for GC",
                      {{"handle", request.handle_id},
                       {"address", result.ipv4->address.toString()},
                       {"error", std::string(errorMessage(undo.status()))}});
          }
        }
        return annotate(v6.status(), "dual-stack allocation failed, IPv4 released");
      }
      result.ipv6 = *v6;
    }
  }
  return result;
}

absl::StatusOr<std::optional<Assignment>> Ipam::assignFamily(const Context& ctx,
                                                             common::Family family) {
  const auto& req = ctx.request;
  std::vector<const Pool*> candidates = poolsForNode(ctx.pools, family, ctx.node_labels);
  const auto& wanted = family == common::Family::kV4 ? req.ipv4_pools : req.ipv6_pools;
  if (!wanted.empty()) {
    std::erase_if(candidates, [&](const Pool* p) {
      return std::find(wanted.begin(), wanted.end(), p->name) == wanted.end();
    });
  }
  if (candidates.empty()) {
    return absl::FailedPreconditionError(
        fmt::format("no enabled {} IPPool{} selects node \"{}\"", familyLabel(family),
                    wanted.empty() ? "" : fmt::format(" among {}", join(wanted, ", ")), req.node));
  }
  auto poolOf = [&](const common::Prefix& block) -> const Pool* {
    for (const Pool* p : candidates) {
      if (p->cidr.contains(block)) return p;
    }
    return nullptr;
  };

  // Claimed blocks can fill up under us (other allocators of this node): a few rounds.
  for (int round = 0; round < 4; ++round) {
    // 1. The node's own blocks: the cached list first, then a fresh one.
    size_t owned = 0;
    for (bool fresh : {false, true}) {
      std::vector<common::Prefix> blocks;
      if (fresh) {
        CORAL_ASSIGN_OR_RETURN(auto affs, affinitiesOf(req.node));
        for (const auto& a : affs) {
          if (auto p = common::Prefix::parse(a.spec.cidr); p.ok()) blocks.push_back(*p);
        }
        setCachedBlocks(req.node, blocks);
      } else {
        blocks = cachedBlocks(req.node);
      }
      for (const auto& block : blocks) {
        if (block.family() != family) continue;
        if (fresh) ++owned;
        const Pool* pool = poolOf(block);
        if (pool == nullptr) continue;
        CORAL_ASSIGN_OR_RETURN(auto got, allocateInBlock(ctx, block, *pool, /*borrow=*/false));
        if (got) return got;
      }
    }
    // 2. A new block, if the node may have one more.
    const int max = ctx.config.max_blocks_per_host;
    if (ctx.config.auto_allocate_blocks && (max == 0 || owned < static_cast<size_t>(max))) {
      if (options_.before_claim) options_.before_claim(req.node);
      bool at_limit = false;
      CORAL_ASSIGN_OR_RETURN(auto claimed, claimBlock(req.node, candidates, max, &at_limit));
      if (at_limit) continue;  // another allocator of this node claimed the last one: use it
      if (claimed) {
        auto blocks = cachedBlocks(req.node);
        blocks.push_back(*claimed);
        std::sort(blocks.begin(), blocks.end());
        setCachedBlocks(req.node, std::move(blocks));
        CORAL_ASSIGN_OR_RETURN(auto got,
                               allocateInBlock(ctx, *claimed, *poolOf(*claimed), /*borrow=*/false));
        if (got) return got;
        continue;  // filled by this node's other allocators already: look again
      }
    }
    // 3. Borrow one address from another node's block, lowest block first.
    if (!ctx.config.strict_affinity) {
      CORAL_ASSIGN_OR_RETURN(auto all, store_.list<model::IPAMBlock>());
      std::sort(all.begin(), all.end(), [](const model::IPAMBlock& a, const model::IPAMBlock& b) {
        return blockCidr(a) < blockCidr(b);
      });
      for (const auto& b : all) {
        const common::Prefix cidr = blockCidr(b);
        const Pool* pool = poolOf(cidr);
        if (pool == nullptr || b.spec.affinity == hostAffinity(req.node) || freeCount(b) == 0) {
          continue;
        }
        CORAL_ASSIGN_OR_RETURN(auto got, allocateInBlock(ctx, cidr, *pool, /*borrow=*/true));
        if (got) return got;
      }
    }
    break;
  }
  std::vector<std::string> names;
  for (const Pool* p : candidates)
    names.push_back(fmt::format("{} ({})", p->name, p->cidr.toString()));
  return absl::ResourceExhaustedError(fmt::format(
      "no free {} address for node \"{}\" in {}{}{}", familyLabel(family), req.node,
      join(names, ", "), ctx.config.strict_affinity ? "; strictAffinity forbids borrowing" : "",
      ctx.config.max_blocks_per_host > 0
          ? fmt::format("; maxBlocksPerHost is {}", ctx.config.max_blocks_per_host)
          : ""));
}

absl::StatusOr<std::optional<Assignment>> Ipam::allocateInBlock(const Context& ctx,
                                                                const common::Prefix& cidr,
                                                                const Pool& pool, bool borrow) {
  const auto& req = ctx.request;
  bool handle_counted = false;
  auto uncount = [&]() {
    if (!handle_counted) return;
    if (auto s = adjustHandle(req.handle_id, cidr, -1); !s.ok()) {
      log::warn("could not undo a handle count: check will report a stale handle",
                {{"handle", req.handle_id}, {"error", std::string(errorMessage(s))}});
    }
  };
  while (ctx.conflicts <= options_.max_conflicts) {
    auto block = store_.get<model::IPAMBlock>(blockName(cidr));
    if (datastore::isNotFound(block.status())) break;
    if (!block.ok()) {
      uncount();
      return block.status();
    }
    const bool mine = block->spec.affinity == hostAffinity(req.node);
    if (block->spec.deleted || mine == borrow) break;
    auto ordinal = lowestFreeOrdinal(*block, [&](int64_t i) {
      auto address = cidr.addressAt(static_cast<uint64_t>(i));
      return !address || isReserved(req, pool, *address);
    });
    if (!ordinal) break;
    if (!handle_counted) {
      // The handle learns of the block before the block records the address: a crash in
      // between leaves a stale count, never an allocation that release cannot find.
      CORAL_RETURN_IF_ERROR(adjustHandle(req.handle_id, cidr, +1));
      handle_counted = true;
    }
    addAllocation(*block, *ordinal, req.handle_id, ctx.attributes);
    auto written = store_.update(*block);
    if (written.ok()) {
      Assignment a{.address = *cidr.addressAt(*ordinal),
                   .block = cidr,
                   .pool = pool.name,
                   .pool_cidr = pool.cidr,
                   .borrowed = borrow};
      log::debug("address assigned", {{"handle", req.handle_id},
                                      {"address", a.address.toString()},
                                      {"block", cidr.toString()},
                                      {"borrowed", borrow}});
      return std::optional<Assignment>(a);
    }
    if (datastore::isConflict(written.status())) {
      ++ctx.conflicts;
      continue;
    }
    if (datastore::isNotFound(written.status())) break;
    uncount();
    return written.status();
  }
  uncount();
  if (ctx.conflicts > options_.max_conflicts) {
    return absl::AbortedError(
        fmt::format("allocation for handle \"{}\" gave up after {} datastore conflicts",
                    req.handle_id, ctx.conflicts));
  }
  return std::optional<Assignment>();
}

std::vector<common::Prefix> Ipam::cachedBlocks(const std::string& node) {
  std::lock_guard lock(cache_mu_);
  auto it = node_blocks_cache_.find(node);
  return it == node_blocks_cache_.end() ? std::vector<common::Prefix>{} : it->second;
}

void Ipam::setCachedBlocks(const std::string& node, std::vector<common::Prefix> blocks) {
  std::lock_guard lock(cache_mu_);
  node_blocks_cache_[node] = std::move(blocks);
}

}  // namespace coral::ipam
