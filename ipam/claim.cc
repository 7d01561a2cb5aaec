// Block claiming and affinities. A node claims a block in three writes:
//   1. create BlockAffinity <node>-<block> in state "pending"
//   2. create IPAMBlock <block> with affinity host:<node>  ← the arbiter: one creator wins
//   3. mark the affinity "confirmed"
// The loser of step 2 deletes its pending affinity and tries the next block. A crash
// after 1 leaves a pending affinity without a block (check reports it, GC deletes it); a
// crash after 2 leaves a pending affinity of an owned block (the next claim or GC
// confirms it). Neither can give an address to two pods.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "ipam/block.h"
#include "ipam/ipam.h"

namespace coral::ipam {

absl::StatusOr<std::vector<model::BlockAffinity>> Ipam::affinitiesOf(std::string_view node) {
  CORAL_ASSIGN_OR_RETURN(auto all, store_.list<model::BlockAffinity>());
  std::vector<model::BlockAffinity> out;
  for (auto& a : all) {
    if (a.spec.node == node && !a.spec.deleted) out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    auto pa = common::Prefix::parse(a.spec.cidr);
    auto pb = common::Prefix::parse(b.spec.cidr);
    return pa.ok() && pb.ok() ? *pa < *pb : a.spec.cidr < b.spec.cidr;
  });
  return out;
}

absl::StatusOr<std::vector<common::Prefix>> Ipam::nodeBlocks(std::string_view node) {
  CORAL_ASSIGN_OR_RETURN(auto affs, affinitiesOf(node));
  std::vector<common::Prefix> out;
  for (const auto& a : affs) {
    auto cidr = common::Prefix::parse(a.spec.cidr);
    if (!cidr.ok()) continue;
    auto block = store_.get<model::IPAMBlock>(blockName(*cidr));
    if (datastore::isNotFound(block.status())) continue;  // a claim in flight, or a leftover
    if (!block.ok()) return block.status();
    if (block->spec.affinity == hostAffinity(node)) out.push_back(*cidr);
  }
  return out;
}

absl::Status Ipam::confirmAffinity(std::string_view node, const common::Prefix& block) {
  const std::string name = affinityName(node, block);
  for (int attempt = 0; attempt <= options_.max_conflicts; ++attempt) {
    auto aff = store_.get<model::BlockAffinity>(name);
    if (datastore::isNotFound(aff.status())) {
      // GC removed a pending affinity while we were claiming: write it again.
      model::BlockAffinity fresh;
      fresh.metadata.name = name;
      fresh.spec = {.node = std::string(node), .cidr = block.toString(), .state = "confirmed"};
      auto created = store_.create(fresh);
      if (created.ok() || !datastore::isAlreadyExists(created.status())) return created.status();
      continue;
    }
    if (!aff.ok()) return aff.status();
    if (aff->spec.state == "confirmed") return absl::OkStatus();
    aff->spec.state = "confirmed";
    auto updated = store_.update(*aff);
    if (updated.ok() || !datastore::isConflict(updated.status())) return updated.status();
  }
  return absl::AbortedError(fmt::format("BlockAffinity \"{}\": too many conflicts", name));
}

absl::StatusOr<std::optional<common::Prefix>> Ipam::claimBlock(
    std::string_view node, const std::vector<const Pool*>& pools, int max_blocks, bool* at_limit) {
  *at_limit = false;
  CORAL_ASSIGN_OR_RETURN(auto affs, store_.list<model::BlockAffinity>());
  std::set<common::Prefix> claimed;
  for (const auto& a : affs) {
    if (auto p = common::Prefix::parse(a.spec.cidr); p.ok()) claimed.insert(*p);
  }
  for (const Pool* pool : pools) {
    const uint64_t n = pool->numBlocks();
    for (uint64_t i = 0; i < n; ++i) {
      auto cidr = pool->cidr.subPrefixAt(pool->block_size, i);
      if (!cidr || claimed.count(*cidr)) continue;
      const std::string aff_name = affinityName(node, *cidr);
      model::BlockAffinity aff;
      aff.metadata.name = aff_name;
      aff.spec = {.node = std::string(node), .cidr = cidr->toString(), .state = "pending"};
      auto a = store_.create(aff);
      if (!a.ok() && !datastore::isAlreadyExists(a.status())) return a.status();
      auto dropPending = [&](const char* why) {
        auto removed = store_.remove(model::kindOf<model::BlockAffinity>(), "", aff_name);
        if (!removed.ok() && !datastore::isNotFound(removed.status())) {
          log::warn(
              fmt::format("could not delete a pending affinity {}", why),
              {{"affinity", aff_name}, {"error", std::string(errorMessage(removed.status()))}});
        }
      };
      if (max_blocks > 0) {
        // maxBlocksPerHost: threads of one node can all count "one block left" and claim
        // at once. Each counts again AFTER writing its pending affinity and backs off when
        // over the limit; the last of racing writers sees every earlier one, so the
        // blocks that get created never exceed the limit (racers may all back off: they
        // retry, never over-claim). A block is only usable once created (step 2).
        CORAL_ASSIGN_OR_RETURN(auto mine, affinitiesOf(node));
        const auto count = std::count_if(mine.begin(), mine.end(), [&](const auto& m) {
          auto p = common::Prefix::parse(m.spec.cidr);
          return p.ok() && p->family() == cidr->family();
        });
        if (count > max_blocks) {
          // Only our own: the same affinity written by another thread of this node (same
          // block, AlreadyExists above) is that thread's claim.
          if (a.ok()) dropPending("after reaching maxBlocksPerHost");
          *at_limit = true;
          return std::optional<common::Prefix>();
        }
      }

      model::IPAMBlock block;
      block.metadata.name = blockName(*cidr);
      block.spec.cidr = cidr->toString();
      block.spec.affinity = hostAffinity(node);
      auto b = store_.create(block);
      bool ours = b.ok();
      if (!b.ok()) {
        if (!datastore::isAlreadyExists(b.status())) return b.status();
        // Lost the race, unless the block is ours from an earlier, interrupted claim.
        auto existing = store_.get<model::IPAMBlock>(block.metadata.name);
        ours = existing.ok() && existing->spec.affinity == hostAffinity(node);
      }
      if (!ours) {
        dropPending("after losing a block race");
        continue;
      }
      CORAL_RETURN_IF_ERROR(confirmAffinity(node, *cidr));
      log::info("block claimed", {{"node", std::string(node)}, {"block", cidr->toString()}});
      return std::optional<common::Prefix>(*cidr);
    }
  }
  return std::optional<common::Prefix>();
}

}  // namespace coral::ipam
