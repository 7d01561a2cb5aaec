// The consistency check and usage numbers over one snapshot; see check.h.
#include "ipam/check.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/status.h"
#include "common/strings.h"
#include "ipam/block.h"
#include "ipam/ipam.h"

namespace coral::ipam {
namespace {

std::string attr(const std::map<std::string, std::string>& attrs, const char* key) {
  auto it = attrs.find(key);
  return it == attrs.end() ? "" : it->second;
}

AllocationRef refOf(const model::IPAMBlock& b, const model::BlockAllocation& a) {
  const common::Prefix cidr = blockCidr(b);
  auto ip = cidr.addressAt(a.ordinal);
  return AllocationRef{.ip = ip ? ip->toString() : "?",
                       .handle = a.handle_id,
                       .block = b.spec.cidr,
                       .ns = attr(a.attributes, kAttrNamespace),
                       .pod = attr(a.attributes, kAttrPod),
                       .node = attr(a.attributes, kAttrNode)};
}

}  // namespace

absl::StatusOr<Snapshot> readSnapshot(datastore::ResourceStore& store) {
  Snapshot s;
  // Workloads are read LAST: a pod created during the read is then seen, so a fresh
  // allocation is never reported as a leak because its workload was read too early.
  CORAL_ASSIGN_OR_RETURN(s.pool_resources, store.list<model::IPPool>());
  for (const auto& p : s.pool_resources) {
    if (auto pool = parsePool(p); pool.ok()) s.pools.push_back(std::move(*pool));
  }
  CORAL_ASSIGN_OR_RETURN(s.handles, store.list<model::IPAMHandle>());
  CORAL_ASSIGN_OR_RETURN(s.blocks, store.list<model::IPAMBlock>());
  CORAL_ASSIGN_OR_RETURN(s.affinities, store.list<model::BlockAffinity>());
  CORAL_ASSIGN_OR_RETURN(auto nodes, store.list<model::Node>());
  for (const auto& n : nodes) s.nodes.insert(n.metadata.name);
  CORAL_ASSIGN_OR_RETURN(auto pods, store.list<model::Pod>());
  for (const auto& p : pods) addPod(s, p);
  CORAL_ASSIGN_OR_RETURN(auto weps, store.list<model::WorkloadEndpoint>());
  for (const auto& w : weps) addEndpoint(s, w);
  return s;
}

void addPod(Snapshot& s, const model::Pod& pod) {
  auto& ips = s.pods[{pod.metadata.namespace_, pod.metadata.name}];
  if (!pod.status.pod_ip.empty()) ips.push_back(pod.status.pod_ip);
  for (const auto& p : pod.status.pod_ips) ips.push_back(p.ip);
}

void addEndpoint(Snapshot& s, const model::WorkloadEndpoint& w) {
  Snapshot::Endpoint e{.container_id = w.spec.container_id, .ips = {}};
  for (const auto& net : w.spec.ip_networks) {
    // The address before the length, as written ("10.9.0.2/24" is 10.9.0.2).
    auto address = common::IpAddress::parse(std::string_view(net).substr(0, net.find('/')));
    e.ips.push_back(address.ok() ? address->toString() : net);
  }
  s.endpoints[{w.metadata.namespace_, w.spec.pod.empty() ? w.metadata.name : w.spec.pod}].push_back(
      std::move(e));
  if (!w.spec.container_id.empty()) s.container_ids.insert(w.spec.container_id);
}

bool workloadExists(const Snapshot& snapshot, const std::map<std::string, std::string>& attrs,
                    const std::string& ip) {
  const std::string cid = attr(attrs, kAttrContainerId);
  if (!cid.empty() && snapshot.container_ids.count(cid)) return true;
  const std::string node = attr(attrs, kAttrNode);
  const bool node_alive = node.empty() || snapshot.nodes.count(node) > 0;
  // coral-ipam's pods have no WorkloadEndpoint, and a Pod record (if the store has one at
  // all) cannot tell us that the runtime has let go of the sandbox: alive while the node is.
  if (attr(attrs, kAttrOwner) == kOwnerCoralIpam && node_alive) return true;
  const std::string ns = attr(attrs, kAttrNamespace);
  const std::string pod = attr(attrs, kAttrPod);
  if (pod.empty()) return node_alive;  // nothing else to look for
  const std::pair<std::string, std::string> key{ns.empty() ? "default" : ns, pod};
  auto uses = [&](const std::vector<std::string>& ips) {
    return std::find(ips.begin(), ips.end(), ip) != ips.end();
  };
  if (auto it = snapshot.endpoints.find(key); it != snapshot.endpoints.end()) {
    for (const auto& e : it->second) {
      // Same container, a container we cannot tell, or our address: alive.
      if (cid.empty() || e.container_id.empty() || e.container_id == cid || uses(e.ips)) {
        return true;
      }
    }
    // Every endpoint of the pod is another container's with other addresses: this is an
    // earlier incarnation's allocation (a StatefulSet pod re-created under its name).
    // A Pod whose status lists the address still keeps it.
    auto p = snapshot.pods.find(key);
    return p != snapshot.pods.end() && uses(p->second);
  }
  return snapshot.pods.count(key) > 0;
}

bool CheckReport::clean() const {
  return leaks.empty() && orphaned_blocks.empty() && dangling_affinities.empty() &&
         duplicates.empty() && out_of_pool.empty() && stale_handles.empty() && untracked.empty() &&
         overlapping_pools.empty();
}

CheckReport analyze(const Snapshot& s) {
  CheckReport r;
  // Pools that overlap each other, pairwise.
  for (size_t i = 0; i < s.pools.size(); ++i) {
    for (size_t j = i + 1; j < s.pools.size(); ++j) {
      if (auto st = checkNoOverlap({s.pools[i], s.pools[j]}); !st.ok()) {
        r.overlapping_pools.emplace_back(errorMessage(st));
      }
    }
  }
  std::map<std::string, std::map<std::string, int64_t>> held;  // handle → block → count
  std::map<std::string, std::vector<AllocationRef>> by_ip;
  std::set<std::string> block_cidrs;
  for (const auto& b : s.blocks) {
    ++r.blocks;
    const common::Prefix cidr = blockCidr(b);
    block_cidrs.insert(b.spec.cidr);
    const std::string owner(affinityNode(b.spec.affinity));
    if (!owner.empty() && !s.nodes.count(owner)) {
      r.orphaned_blocks.push_back({b.spec.cidr, owner, "node does not exist"});
    }
    const bool in_pool = poolContaining(s.pools, cidr) != nullptr;
    for (const auto& a : b.spec.allocations) {
      ++r.allocations;
      AllocationRef ref = refOf(b, a);
      by_ip[ref.ip].push_back(ref);
      held[a.handle_id][b.spec.cidr]++;
      if (!in_pool) r.out_of_pool.push_back(ref);
      if (attr(a.attributes, kAttrOwner) == kOwnerCoralIpam) ++r.coral_ipam;
      if (!workloadExists(s, a.attributes, ref.ip)) r.leaks.push_back(ref);
    }
  }
  for (auto& [ip, refs] : by_ip) {
    if (refs.size() > 1) r.duplicates.insert(r.duplicates.end(), refs.begin(), refs.end());
  }
  for (const auto& a : s.affinities) {
    auto cidr = common::Prefix::parse(a.spec.cidr);
    const model::IPAMBlock* block = nullptr;
    for (const auto& b : s.blocks) {
      if (b.spec.cidr == a.spec.cidr) block = &b;
    }
    if (block == nullptr) {
      r.dangling_affinities.push_back(
          {a.spec.cidr, a.spec.node, fmt::format("{} affinity without a block", a.spec.state)});
    } else if (block->spec.affinity != hostAffinity(a.spec.node)) {
      r.dangling_affinities.push_back(
          {a.spec.cidr, a.spec.node,
           fmt::format("block's affinity is \"{}\"", block->spec.affinity)});
    } else if (!s.nodes.count(a.spec.node)) {
      // Already reported as an orphaned block.
    }
  }
  std::set<std::string> handle_ids;
  for (const auto& h : s.handles) {
    handle_ids.insert(h.spec.handle_id);
    auto it = held.find(h.spec.handle_id);
    bool stale = false;
    for (const auto& [cidr, count] : h.spec.blocks) {
      const int64_t real =
          it == held.end() ? 0 : (it->second.count(cidr) ? it->second.at(cidr) : 0);
      if (real < count) stale = true;
    }
    if (stale) r.stale_handles.push_back(h.spec.handle_id);
  }
  for (const auto& b : s.blocks) {
    for (const auto& a : b.spec.allocations) {
      bool counted = false;
      for (const auto& h : s.handles) {
        if (h.spec.handle_id == a.handle_id && h.spec.blocks.count(b.spec.cidr)) counted = true;
      }
      if (!counted) r.untracked.push_back(refOf(b, a));
    }
  }
  return r;
}

namespace {

model::Json refJson(const AllocationRef& a) {
  return {{"ip", a.ip},        {"handle", a.handle}, {"block", a.block},
          {"namespace", a.ns}, {"pod", a.pod},       {"node", a.node}};
}
model::Json refsJson(const std::vector<AllocationRef>& v) {
  model::Json out = model::Json::array();
  for (const auto& a : v) out.push_back(refJson(a));
  return out;
}
model::Json blocksJson(const std::vector<BlockRef>& v) {
  model::Json out = model::Json::array();
  for (const auto& b : v)
    out.push_back({{"block", b.block}, {"node", b.node}, {"reason", b.reason}});
  return out;
}

absl::Status readRefs(const model::Json& json, const char* key, std::vector<AllocationRef>& out) {
  if (!json.contains(key)) return absl::OkStatus();
  if (!json[key].is_array()) {
    return absl::InvalidArgumentError(fmt::format("report: \"{}\" is not a list", key));
  }
  for (const auto& item : json[key]) {
    if (!item.is_object() || !item.contains("ip") || !item["ip"].is_string() ||
        !item.contains("handle") || !item["handle"].is_string()) {
      return absl::InvalidArgumentError(
          fmt::format("report: every entry of \"{}\" needs \"ip\" and \"handle\" strings", key));
    }
    AllocationRef a;
    a.ip = item["ip"];
    a.handle = item["handle"];
    a.block = item.value("block", "");
    a.ns = item.value("namespace", "");
    a.pod = item.value("pod", "");
    a.node = item.value("node", "");
    out.push_back(std::move(a));
  }
  return absl::OkStatus();
}

}  // namespace

model::Json reportToJson(const CheckReport& r) {
  return {{"kind", "IPAMCheckReport"},
          {"clean", r.clean()},
          {"allocations", r.allocations},
          {"blocks", r.blocks},
          {"coralIpam", r.coral_ipam},
          {"leaks", refsJson(r.leaks)},
          {"orphanedBlocks", blocksJson(r.orphaned_blocks)},
          {"danglingAffinities", blocksJson(r.dangling_affinities)},
          {"duplicates", refsJson(r.duplicates)},
          {"outOfPool", refsJson(r.out_of_pool)},
          {"staleHandles", r.stale_handles},
          {"untracked", refsJson(r.untracked)},
          {"overlappingPools", r.overlapping_pools}};
}

absl::StatusOr<CheckReport> reportFromJson(const model::Json& json) {
  if (!json.is_object() || json.value("kind", "") != "IPAMCheckReport") {
    return absl::InvalidArgumentError(
        "not an IPAM check report (expected the output of `coralctl ipam check -o json`)");
  }
  CheckReport r;
  CORAL_RETURN_IF_ERROR(readRefs(json, "leaks", r.leaks));
  CORAL_RETURN_IF_ERROR(readRefs(json, "outOfPool", r.out_of_pool));
  CORAL_RETURN_IF_ERROR(readRefs(json, "duplicates", r.duplicates));
  return r;
}

std::string formatReport(const CheckReport& r) {
  std::string out = fmt::format("{} allocations in {} blocks\n", r.allocations, r.blocks);
  if (r.coral_ipam > 0) {
    out += fmt::format(
        "{} of them by coral-ipam: alive while their node exists, released by CNI DEL\n",
        r.coral_ipam);
  }
  auto refs = [&](const char* title, const std::vector<AllocationRef>& v) {
    if (v.empty()) return;
    out += fmt::format("{} ({}):\n", title, v.size());
    for (const auto& a : v) {
      out += fmt::format("  {}  handle={} block={}{}{}\n", a.ip, a.handle, a.block,
                         a.pod.empty() ? "" : fmt::format(" pod={}/{}", a.ns, a.pod),
                         a.node.empty() ? "" : fmt::format(" node={}", a.node));
    }
  };
  auto blocks = [&](const char* title, const std::vector<BlockRef>& v) {
    if (v.empty()) return;
    out += fmt::format("{} ({}):\n", title, v.size());
    for (const auto& b : v) out += fmt::format("  {}  node={}: {}\n", b.block, b.node, b.reason);
  };
  refs("Leaked allocations (no Pod or WorkloadEndpoint)", r.leaks);
  blocks("Orphaned blocks", r.orphaned_blocks);
  blocks("Dangling block affinities", r.dangling_affinities);
  refs("Duplicate addresses", r.duplicates);
  refs("Allocations outside every pool", r.out_of_pool);
  refs("Allocations their handle does not count", r.untracked);
  if (!r.stale_handles.empty()) {
    out += fmt::format("Stale handles ({}):\n", r.stale_handles.size());
    for (const auto& h : r.stale_handles) out += fmt::format("  {}\n", h);
  }
  for (const auto& p : r.overlapping_pools) out += fmt::format("Overlapping pools: {}\n", p);
  out += r.clean() ? "IPAM is consistent.\n" : "";
  return out;
}

Usage usage(const Snapshot& s) {
  Usage u;
  for (const auto& p : s.pools) {
    u.pools.push_back(PoolUsage{.name = p.name,
                                .cidr = p.cidr.toString(),
                                .disabled = p.disabled,
                                .total = p.cidr.numAddresses(),
                                .host_bits = p.cidr.address().bitLength() - p.cidr.length()});
  }
  std::vector<const model::IPAMBlock*> sorted;
  for (const auto& b : s.blocks) sorted.push_back(&b);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return blockCidr(*a) < blockCidr(*b); });
  for (const auto* b : sorted) {
    const common::Prefix cidr = blockCidr(*b);
    const Pool* pool = poolContaining(s.pools, cidr);
    BlockUsage bu{.cidr = b->spec.cidr,
                  .pool = pool ? pool->name : "",
                  .owner = std::string(affinityNode(b->spec.affinity)),
                  .size = cidr.numAddresses(),
                  .host_bits = cidr.address().bitLength() - cidr.length(),
                  .in_use = b->spec.allocations.size()};
    for (auto& pu : u.pools) {
      if (pool && pu.name == pool->name) {
        pu.in_use += bu.in_use;
        ++pu.blocks;
      }
    }
    u.blocks.push_back(std::move(bu));
  }
  return u;
}

}  // namespace coral::ipam
