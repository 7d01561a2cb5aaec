// Release: by handle (CNI DEL), by address (coralctl, GC), whole blocks and nodes, and the
// handle bookkeeping. Write order: the block drops the allocation first (CAS), then the
// handle drops its count; a crash in between leaves a stale handle count, which a second
// release or GC removes. See README.md.
#include <fmt/format.h>

#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "ipam/block.h"
#include "ipam/ipam.h"

namespace coral::ipam {

absl::Status Ipam::adjustHandle(std::string_view handle_id, const common::Prefix& block,
                                int delta) {
  const std::string name = handleName(handle_id);
  const std::string key = block.toString();
  for (int attempt = 0; attempt <= options_.max_conflicts; ++attempt) {
    auto h = store_.get<model::IPAMHandle>(name);
    if (datastore::isNotFound(h.status())) {
      if (delta <= 0) return absl::OkStatus();
      model::IPAMHandle fresh;
      fresh.metadata.name = name;
      fresh.spec.handle_id = std::string(handle_id);
      fresh.spec.blocks[key] = delta;
      auto created = store_.create(fresh);
      if (created.ok() || !datastore::isAlreadyExists(created.status())) return created.status();
      continue;
    }
    if (!h.ok()) return h.status();
    if (h->spec.handle_id != handle_id) {
      return absl::InternalError(
          fmt::format("IPAMHandle \"{}\" belongs to handle id \"{}\", not \"{}\"", name,
                      h->spec.handle_id, handle_id));
    }
    int64_t& count = h->spec.blocks[key];
    count += delta;
    if (count <= 0) h->spec.blocks.erase(key);
    absl::Status s;
    if (h->spec.blocks.empty()) {
      s = store_.remove(model::kindOf<model::IPAMHandle>(), "", name, h->metadata.resource_version)
              .status();
      if (datastore::isNotFound(s)) return absl::OkStatus();
    } else {
      s = store_.update(*h).status();
    }
    if (s.ok() || !(datastore::isConflict(s) || datastore::isNotFound(s))) return s;
  }
  return absl::AbortedError(fmt::format("IPAMHandle \"{}\": too many conflicts", name));
}

absl::StatusOr<bool> Ipam::removeFromBlock(const common::Prefix& cidr, std::string_view handle_id,
                                           std::optional<int64_t> ordinal, int* removed) {
  *removed = 0;
  for (int attempt = 0; attempt <= options_.max_conflicts; ++attempt) {
    auto block = store_.get<model::IPAMBlock>(blockName(cidr));
    if (datastore::isNotFound(block.status())) return false;
    if (!block.ok()) return block.status();
    int n = 0;
    std::string held;
    if (ordinal) {
      auto h = removeOrdinal(*block, *ordinal, handle_id);
      if (h) {
        n = 1;
        held = *h;
      }
    } else {
      n = removeHandle(*block, handle_id);
    }
    if (n == 0) return false;
    auto written = store_.update(*block);
    if (written.ok()) {
      *removed = n;
      return true;
    }
    if (datastore::isNotFound(written.status())) return false;
    if (!datastore::isConflict(written.status())) return written.status();
  }
  return absl::AbortedError(
      fmt::format("IPAMBlock {}: release gave up after too many conflicts", cidr.toString()));
}

absl::StatusOr<std::vector<Assignment>> Ipam::addressesOf(std::string_view handle_id) {
  std::vector<Assignment> out;
  auto h = store_.get<model::IPAMHandle>(handleName(handle_id));
  if (datastore::isNotFound(h.status())) return out;
  if (!h.ok()) return h.status();
  std::optional<std::vector<Pool>> pools;
  for (const auto& [cidr_text, count] : h->spec.blocks) {
    auto cidr = common::Prefix::parse(cidr_text);
    if (!cidr.ok()) continue;
    auto block = store_.get<model::IPAMBlock>(blockName(*cidr));
    if (datastore::isNotFound(block.status())) continue;
    if (!block.ok()) return block.status();
    for (const auto& a : block->spec.allocations) {
      if (a.handle_id != handle_id) continue;
      if (!pools) {
        CORAL_ASSIGN_OR_RETURN(pools, this->pools());
      }
      const Pool* pool = poolContaining(*pools, *cidr);
      auto it = a.attributes.find(kAttrNode);
      const bool borrowed =
          it != a.attributes.end() && block->spec.affinity != hostAffinity(it->second);
      out.push_back(Assignment{.address = *cidr->addressAt(a.ordinal),
                               .block = *cidr,
                               .pool = pool ? pool->name : "",
                               .pool_cidr = pool ? pool->cidr : *cidr,
                               .borrowed = borrowed});
    }
  }
  return out;
}

absl::Status Ipam::releaseHandle(std::string_view handle_id) {
  const std::string name = handleName(handle_id);
  for (int attempt = 0; attempt <= options_.max_conflicts; ++attempt) {
    auto h = store_.get<model::IPAMHandle>(name);
    if (datastore::isNotFound(h.status())) return absl::OkStatus();
    if (!h.ok()) return h.status();
    for (const auto& [cidr_text, count] : h->spec.blocks) {
      auto cidr = common::Prefix::parse(cidr_text);
      if (!cidr.ok()) continue;
      int removed = 0;
      CORAL_RETURN_IF_ERROR(removeFromBlock(*cidr, handle_id, std::nullopt, &removed).status());
      if (removed > 0) {
        log::debug("handle released in block",
                   {{"handle", std::string(handle_id)}, {"block", cidr_text}, {"count", removed}});
      }
    }
    // Only the version we emptied: if an allocation raced in, go round again.
    auto gone =
        store_.remove(model::kindOf<model::IPAMHandle>(), "", name, h->metadata.resource_version);
    if (gone.ok() || datastore::isNotFound(gone.status())) return absl::OkStatus();
    if (!datastore::isConflict(gone.status())) return gone.status();
  }
  return absl::AbortedError(
      fmt::format("release of handle \"{}\" gave up after too many conflicts", handle_id));
}

absl::StatusOr<bool> Ipam::releaseAddress(const common::IpAddress& address,
                                          std::string_view handle_id) {
  CORAL_ASSIGN_OR_RETURN(auto all_pools, pools());
  std::optional<common::Prefix> cidr;
  if (const Pool* pool = poolContaining(all_pools, address)) {
    auto guess = pool->blockOf(address);
    if (store_.get<model::IPAMBlock>(blockName(guess)).ok()) cidr = guess;
  }
  if (!cidr) {
    // The pool is gone or its block size changed: find the block that holds the address.
    CORAL_ASSIGN_OR_RETURN(auto blocks, store_.list<model::IPAMBlock>());
    for (const auto& b : blocks) {
      if (blockCidr(b).contains(address)) cidr = blockCidr(b);
    }
  }
  if (!cidr) return false;
  const int64_t ordinal = static_cast<int64_t>(*cidr->indexOf(address));
  // Which handle to uncount: the caller's, or whoever holds the address now.
  std::string holder(handle_id);
  if (holder.empty()) {
    auto block = store_.get<model::IPAMBlock>(blockName(*cidr));
    if (datastore::isNotFound(block.status())) return false;
    if (!block.ok()) return block.status();
    const auto* a = findOrdinal(*block, ordinal);
    if (a == nullptr) return false;
    holder = a->handle_id;
  }
  int removed = 0;
  CORAL_ASSIGN_OR_RETURN(bool done, removeFromBlock(*cidr, holder, ordinal, &removed));
  if (!done) return false;
  CORAL_RETURN_IF_ERROR(adjustHandle(holder, *cidr, -1));
  log::info("address released", {{"address", address.toString()}, {"handle", holder}});
  return true;
}

absl::StatusOr<bool> Ipam::releaseBlockIfEmpty(const common::Prefix& cidr) {
  auto block = store_.get<model::IPAMBlock>(blockName(cidr));
  if (datastore::isNotFound(block.status())) return false;
  if (!block.ok()) return block.status();
  if (!block->spec.allocations.empty()) return false;
  // CAS on the empty version: an allocation that lands first makes this a no-op.
  auto gone = store_.remove(model::kindOf<model::IPAMBlock>(), "", block->metadata.name,
                            block->metadata.resource_version);
  if (datastore::isConflict(gone.status()) || datastore::isNotFound(gone.status())) return false;
  if (!gone.ok()) return gone.status();
  const std::string node(affinityNode(block->spec.affinity));
  if (!node.empty()) {
    auto aff = store_.remove(model::kindOf<model::BlockAffinity>(), "", affinityName(node, cidr));
    if (!aff.ok() && !datastore::isNotFound(aff.status())) return aff.status();
    {
      std::lock_guard lock(cache_mu_);
      std::erase(node_blocks_cache_[node], cidr);
    }
    // The same node may have re-claimed the block between our two deletes: its claim found
    // our affinity (AlreadyExists), created the block again and, seeing "confirmed", wrote
    // nothing, so the delete above took its affinity. If the block is back and the node's,
    // write the affinity again (a claim that creates the block after this read re-creates
    // the missing affinity itself in confirmAffinity).
    auto again = store_.get<model::IPAMBlock>(blockName(cidr));
    if (again.ok() && again->spec.affinity == hostAffinity(node)) {
      CORAL_RETURN_IF_ERROR(confirmAffinity(node, cidr));
    } else if (!again.ok() && !datastore::isNotFound(again.status())) {
      return again.status();
    }
  }
  log::info("empty block released", {{"block", cidr.toString()}, {"node", node}});
  return true;
}

absl::Status Ipam::releaseNode(std::string_view node) {
  CORAL_ASSIGN_OR_RETURN(auto affs, affinitiesOf(node));
  for (const auto& aff : affs) {
    auto cidr = common::Prefix::parse(aff.spec.cidr);
    if (!cidr.ok()) continue;
    for (int attempt = 0; attempt <= options_.max_conflicts; ++attempt) {
      auto block = store_.get<model::IPAMBlock>(blockName(*cidr));
      if (datastore::isNotFound(block.status())) break;
      if (!block.ok()) return block.status();
      if (block->spec.affinity != hostAffinity(node)) break;
      absl::Status s;
      if (block->spec.allocations.empty()) {
        s = store_
                .remove(model::kindOf<model::IPAMBlock>(), "", block->metadata.name,
                        block->metadata.resource_version)
                .status();
      } else {
        // Its addresses stay allocated until released or collected; the block is no
        // longer anyone's, so no node claims or advertises it as its own.
        block->spec.affinity.clear();
        s = store_.update(*block).status();
      }
      if (s.ok() || datastore::isNotFound(s)) break;
      if (!datastore::isConflict(s)) return s;
    }
    auto gone = store_.remove(model::kindOf<model::BlockAffinity>(), "", aff.metadata.name);
    if (!gone.ok() && !datastore::isNotFound(gone.status())) return gone.status();
  }
  std::lock_guard lock(cache_mu_);
  node_blocks_cache_.erase(std::string(node));
  return absl::OkStatus();
}

}  // namespace coral::ipam
