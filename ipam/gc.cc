// Garbage collection with grace periods and re-checks; see gc.h.
#include "ipam/gc.h"

#include <fmt/format.h>

#include "common/log.h"
#include "common/status.h"
#include "common/strings.h"
#include "ipam/block.h"

namespace coral::ipam {

bool GarbageCollector::ripe(const std::string& key, std::chrono::seconds grace) {
  const auto now = clock_.now();
  auto it = first_seen_.find(key);
  const auto since = it == first_seen_.end() ? now : it->second;
  seen_this_round_[key] = since;
  return now - since >= grace && it != first_seen_.end();
}

absl::StatusOr<bool> stillLeaked(datastore::ResourceStore& store, const AllocationRef& ref) {
  auto ip = common::IpAddress::parse(ref.ip);
  auto cidr = common::Prefix::parse(ref.block);
  if (!ip.ok() || !cidr.ok()) return false;
  auto block = store.get<model::IPAMBlock>(blockName(*cidr));
  if (datastore::isNotFound(block.status())) return false;
  if (!block.ok()) return block.status();
  const auto* a = findOrdinal(*block, static_cast<int64_t>(*cidr->indexOf(*ip)));
  if (a == nullptr || a->handle_id != ref.handle) return false;  // already gone or reused
  // Re-read exactly the workloads this allocation could belong to.
  Snapshot fresh;
  auto get_attr = [&](const char* k) {
    auto it = a->attributes.find(k);
    return it == a->attributes.end() ? std::string() : it->second;
  };
  const std::string ns = get_attr(kAttrNamespace).empty() ? "default" : get_attr(kAttrNamespace);
  const std::string pod = get_attr(kAttrPod);
  const std::string node = get_attr(kAttrNode);
  if (!pod.empty()) {
    auto p = store.get<model::Pod>(ns, pod);
    if (p.ok())
      addPod(fresh, *p);
    else if (!datastore::isNotFound(p.status()))
      return p.status();
  }
  CORAL_ASSIGN_OR_RETURN(auto weps, store.list<model::WorkloadEndpoint>(ns));
  for (const auto& w : weps) addEndpoint(fresh, w);
  if (!node.empty()) {
    auto n = store.get<model::Node>(node);
    if (n.ok())
      fresh.nodes.insert(node);
    else if (!datastore::isNotFound(n.status()))
      return n.status();
  }
  return !workloadExists(fresh, a->attributes, ref.ip);
}

absl::StatusOr<bool> GarbageCollector::removeDanglingAffinity(const BlockRef& ref) {
  auto& store = ipam_.store();
  auto cidr = common::Prefix::parse(ref.block);
  if (!cidr.ok()) return false;
  const std::string name = affinityName(ref.node, *cidr);
  auto aff = store.get<model::BlockAffinity>(name);
  if (datastore::isNotFound(aff.status())) return false;
  if (!aff.ok()) return aff.status();
  auto block = store.get<model::IPAMBlock>(blockName(*cidr));
  if (block.ok() && block->spec.affinity == hostAffinity(ref.node)) return false;  // healed
  if (!block.ok() && !datastore::isNotFound(block.status())) return block.status();
  auto gone =
      store.remove(model::kindOf<model::BlockAffinity>(), "", name, aff->metadata.resource_version);
  if (gone.ok()) return true;
  if (datastore::isConflict(gone.status()) || datastore::isNotFound(gone.status())) return false;
  return gone.status();
}

absl::StatusOr<bool> GarbageCollector::repairHandle(const std::string& handle_id) {
  auto& store = ipam_.store();
  auto h = store.get<model::IPAMHandle>(handleName(handle_id));
  if (datastore::isNotFound(h.status())) return false;
  if (!h.ok()) return h.status();
  std::map<std::string, int64_t> real;
  for (const auto& [cidr_text, count] : h->spec.blocks) {
    auto cidr = common::Prefix::parse(cidr_text);
    if (!cidr.ok()) continue;
    auto block = store.get<model::IPAMBlock>(blockName(*cidr));
    if (datastore::isNotFound(block.status())) continue;
    if (!block.ok()) return block.status();
    int64_t n = 0;
    for (const auto& a : block->spec.allocations) n += a.handle_id == handle_id;
    if (n > 0) real[cidr_text] = n;
  }
  if (real == h->spec.blocks) return false;
  absl::Status s;
  if (real.empty()) {
    s = store
            .remove(model::kindOf<model::IPAMHandle>(), "", h->metadata.name,
                    h->metadata.resource_version)
            .status();
  } else {
    h->spec.blocks = real;
    s = store.update(*h).status();
  }
  if (s.ok()) return true;
  if (datastore::isConflict(s) || datastore::isNotFound(s)) return false;
  return s;
}

absl::StatusOr<GcRound> GarbageCollector::runOnce() {
  GcRound round;
  CORAL_ASSIGN_OR_RETURN(Snapshot snap, readSnapshot(ipam_.store()));
  round.report = analyze(snap);
  seen_this_round_.clear();
  const auto& r = round.report;

  for (const auto& leak : r.leaks) {
    if (!ripe("leak|" + leak.ip + "|" + leak.handle, options_.leak_grace)) {
      ++round.waiting;
      continue;
    }
    if (options_.before_recheck) options_.before_recheck(leak);
    CORAL_ASSIGN_OR_RETURN(bool leaked, stillLeaked(ipam_.store(), leak));
    if (!leaked) {
      round.spared.push_back(leak);
      continue;
    }
    auto ip = common::IpAddress::parse(leak.ip);
    CORAL_ASSIGN_OR_RETURN(bool released, ipam_.releaseAddress(*ip, leak.handle));
    if (released) {
      log::info("leaked address released",
                {{"address", leak.ip}, {"handle", leak.handle}, {"pod", leak.ns + "/" + leak.pod}});
      round.released.push_back(leak);
    }
  }

  std::set<std::string> gone_nodes;
  for (const auto& b : r.orphaned_blocks) gone_nodes.insert(b.node);
  for (const auto& a : snap.affinities) {
    if (!snap.nodes.count(a.spec.node)) gone_nodes.insert(a.spec.node);
  }
  for (const auto& node : gone_nodes) {
    if (!ripe("node|" + node, options_.block_grace)) {
      ++round.waiting;
      continue;
    }
    auto n = ipam_.store().get<model::Node>(node);  // re-check: it may be back
    if (n.ok()) continue;
    if (!datastore::isNotFound(n.status())) return n.status();
    CORAL_RETURN_IF_ERROR(ipam_.releaseNode(node));
    round.released_nodes.push_back(node);
  }

  for (const auto& d : r.dangling_affinities) {
    if (!ripe("affinity|" + d.node + "|" + d.block, options_.block_grace)) {
      ++round.waiting;
      continue;
    }
    CORAL_ASSIGN_OR_RETURN(bool removed, removeDanglingAffinity(d));
    if (removed) round.removed_affinities.push_back(d.node + " " + d.block);
  }

  if (options_.release_empty_blocks) {
    for (const auto& b : snap.blocks) {
      if (!b.spec.allocations.empty()) continue;
      if (!ripe("empty|" + b.spec.cidr, options_.block_grace)) {
        ++round.waiting;
        continue;
      }
      CORAL_ASSIGN_OR_RETURN(bool released, ipam_.releaseBlockIfEmpty(blockCidr(b)));
      if (released) round.released_blocks.push_back(b.spec.cidr);
    }
  }

  for (const auto& h : r.stale_handles) {
    if (!ripe("handle|" + h, options_.block_grace)) {
      ++round.waiting;
      continue;
    }
    CORAL_ASSIGN_OR_RETURN(bool repaired, repairHandle(h));
    if (repaired) round.repaired_handles.push_back(h);
  }

  // Candidates not seen this round are no longer candidates: their clock restarts.
  first_seen_ = std::move(seen_this_round_);
  seen_this_round_.clear();
  return round;
}

}  // namespace coral::ipam
