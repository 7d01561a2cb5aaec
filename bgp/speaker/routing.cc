// SpeakerCore routing: received UPDATEs through loop checks and import policy into the
// Loc-RIB; best-path diffs out to the host callback and to every established peer's
// Adj-RIB-Out through the export rules; graceful restart, route refresh, max-prefix.
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>

#include <fmt/format.h>

#include "bgp/speaker/core.h"
#include "common/log.h"

namespace coral::bgp {
namespace {

// How far ahead the big tables are prefetched when many prefixes are touched in a row.
constexpr size_t kPrefetch = 8;
// At most this many best-path changes wait for scheduleBatch's handler (~150 bytes each).
constexpr size_t kMaxBatch = 4096;

}  // namespace

LocalIdentity SpeakerCore::identity() const {
  return {config_.local_as, config_.router_id, config_.clusterId()};
}

ExportTarget SpeakerCore::targetOf(const Peer& peer) const {
  ExportTarget t;
  t.source_id = peer.sourceId();
  t.ebgp = peer.context().is_ebgp;
  t.rr_client = peer.config().rr_client;
  t.next_hop_mode = peer.config().next_hop_mode;
  t.ipv4 = peer.ipv4();
  t.ipv6 = peer.ipv6();
  t.filter = &peer.config().export_filter;
  t.self_v4 = peer.config().next_hop_self_v4;
  t.self_v6 = peer.config().next_hop_self_v6;
  if (auto local = peer.localAddress()) {
    if (local->isV4() && !t.self_v4) t.self_v4 = *local;
    if (local->isV6() && !t.self_v6) t.self_v6 = *local;
  }
  return t;
}

void SpeakerCore::originate(const common::Prefix& prefix, PathAttributes attrs) {
  if (!attrs.origin) attrs.origin = Origin::kIgp;
  if (!attrs.as_path) attrs.as_path = AsPath{};
  PathAttributesPtr interned = interner_.intern(attrs);
  originated_[prefix] = interned;
  RibChanges changes;
  rib_.update(prefix, Path{interned, localSource(), 0, false}, changes);
  propagate(changes);
}

void SpeakerCore::withdraw(const common::Prefix& prefix) {
  originated_.erase(prefix);
  RibChanges changes;
  rib_.withdraw(prefix, PathSource::kLocalId, changes);
  propagate(changes);
}

void SpeakerCore::importRoute(Peer& peer, const common::Prefix& prefix,
                              const PathAttributesPtr& attrs, bool loop, RibChanges& out) {
  const Filter& filter = peer.config().import_filter;
  PathAttributesPtr accepted;
  if (!loop) {
    if (filter.empty()) {
      accepted = attrs;
    } else {
      PathAttributes modified;
      switch (applyFilter(filter, prefix, *attrs, config_.local_as, modified)) {
        case FilterVerdict::kReject:
          break;
        case FilterVerdict::kAccept:
          accepted = attrs;
          break;
        case FilterVerdict::kAcceptModified:
          accepted = interner_.intern(modified);
          break;
      }
    }
  }
  if (peer.config().soft_reconfiguration_inbound) {
    peer.adjIn().set(prefix, attrs, accepted != nullptr);
  } else if (accepted) {
    peer.adjIn().erase(prefix);  // only the rejected prefixes are kept (to count them)
  } else {
    peer.adjIn().set(prefix, nullptr, false);
  }
  if (accepted) {
    rib_.update(prefix, Path{std::move(accepted), peer.source(), 0, false}, out);
  } else {
    rib_.withdraw(prefix, peer.sourceId(), out);
  }
}

size_t SpeakerCore::acceptedCount(const Peer& peer) const {
  if (peer.config().soft_reconfiguration_inbound) return peer.adjIn().acceptedCount();
  return rib_.freshCount(peer.sourceId());
}

size_t SpeakerCore::receivedCount(const Peer& peer) const {
  if (peer.config().soft_reconfiguration_inbound) return peer.adjIn().size();
  return rib_.freshCount(peer.sourceId()) + peer.adjIn().size();
}

void SpeakerCore::reimport(Peer& peer, RibChanges& out) {
  if (!peer.config().soft_reconfiguration_inbound) {
    // No Adj-RIB-In: the peer sends its routes again through the new policy.
    const auto& open = peer.peerOpen();
    if (open && open->capabilities.route_refresh) {
      log::info("bgp: import policy changed, asking for a route refresh",
                {{"peer", peer.config().displayName()}});
      if (peer.ipv4())
        peer.sendMessage(RouteRefresh{kAfiIpv4, RouteRefresh::kRequest, kSafiUnicast});
      if (peer.ipv6())
        peer.sendMessage(RouteRefresh{kAfiIpv6, RouteRefresh::kRequest, kSafiUnicast});
    } else {
      log::info("bgp: import policy changed and the peer cannot refresh, resetting",
                {{"peer", peer.config().displayName()}});
      peer.reset(Notification{err::kCease, err::kCeaseOtherConfigChange, {}},
                 "import policy changed (no route refresh, no soft reconfiguration)");
    }
    return;
  }
  std::vector<std::pair<common::Prefix, PathAttributesPtr>> all;
  peer.adjIn().forEach(
      [&](const common::Prefix& p, const AdjInEntry& e) { all.emplace_back(p, e.attrs); });
  for (const auto& [prefix, attrs] : all) importRoute(peer, prefix, attrs, false, out);
}

void SpeakerCore::peerUpdate(Peer& peer, const Update& update) {
  if (update.end_of_rib) {
    if (peer.stale) sweepStale(peer, *update.end_of_rib);
    peer.eor_received[*update.end_of_rib == common::Family::kV4 ? 0 : 1] = true;
    if (deferring_) maybeEndDeferral();
    return;
  }
  // The changes go straight into the batch (see scheduleBatch).
  RibChanges& changes = batch_;
  changes.reserve(changes.size() + update.withdrawn_v4.size() + update.withdrawn_v6.size() +
                  update.announced_v4.size() + update.announced_v6.size());
  for (const auto* list : {&update.withdrawn_v4, &update.withdrawn_v6}) {
    for (const common::Prefix& p : *list) {
      peer.adjIn().erase(p);
      rib_.withdraw(p, peer.sourceId(), changes);
    }
  }
  if (update.announces()) {
    const PathAttributes& a = update.attributes;
    bool loop = false;
    if (peer.context().is_ebgp) {
      loop = a.as_path && a.as_path->contains(config_.local_as);
    } else {
      // RFC 4456 8: our own reflected route, or one that passed our cluster already.
      loop = (a.originator_id && a.originator_id->isV4() &&
              a.originator_id->v4Value() == config_.router_id) ||
             std::find(a.cluster_list.begin(), a.cluster_list.end(), config_.clusterId()) !=
                 a.cluster_list.end();
    }
    const PathAttributesPtr attrs = interner_.intern(a);
    for (const auto* list : {&update.announced_v4, &update.announced_v6}) {
      for (size_t i = 0; i < list->size(); ++i) {
        if (i + kPrefetch < list->size()) rib_.prefetch((*list)[i + kPrefetch]);
        importRoute(peer, (*list)[i], attrs, loop, changes);
      }
    }
  }
  scheduleBatch();
  checkMaxPrefixes(peer);
}

void SpeakerCore::checkMaxPrefixes(Peer& peer) {
  const uint64_t limit = peer.config().max_prefixes;
  if (limit == 0 || acceptedCount(peer) <= limit) return;
  // RFC 4486: Cease / Maximum Number of Prefixes Reached, data AFI, SAFI, limit.
  Notification n{err::kCease, err::kCeaseMaxPrefixes, {0, kAfiIpv4, kSafiUnicast}};
  for (int shift = 24; shift >= 0; shift -= 8) n.data.push_back(uint8_t(limit >> shift));
  log::warn("bgp: max prefixes exceeded",
            {{"peer", peer.config().displayName()}, {"limit", limit}});
  peer.reset(n, fmt::format("maximum of {} prefixes exceeded", limit));
}

void SpeakerCore::peerRefresh(Peer& peer, const RouteRefresh& refresh) {
  if (refresh.subtype != RouteRefresh::kRequest) return;
  if (deferring_) return;  // the full table goes out when the deferral ends
  const auto family = familyOf({refresh.afi, refresh.safi});
  if (!family) return;
  log::info("bgp: route refresh",
            {{"peer", peer.config().displayName()}, {"family", familyName(*family)}});
  peer.adjOut().resendAll();
  flush(peer);
  std::vector<uint8_t> eor;
  encodeEndOfRib(*family, eor);
  peer.sendRaw({std::move(eor)});
}

void SpeakerCore::peerUp(Peer& peer) {
  if (peer.stale) {
    // RFC 4724 4.2: families the restarted peer no longer preserves are flushed now.
    const auto& gr = peer.peerOpen()->capabilities.graceful_restart;
    for (common::Family f : {common::Family::kV4, common::Family::kV6}) {
      bool kept = false;
      if (gr) {
        for (const auto& fam : gr->families)
          kept |= fam.afi_safi == unicastOf(f) && fam.forwarding_preserved;
      }
      if (!kept) sweepStale(peer, f);
    }
  }
  peer.adjOut().clear();
  peer.eor_received[0] = peer.eor_received[1] = false;
  if (deferring_) {
    maybeEndDeferral();  // a peer without graceful restart is not waited for
    return;
  }
  sendFullTable(peer);
}

void SpeakerCore::maybeEndDeferral() {
  if (!deferring_) return;
  for (const auto& [address, peer] : peers_) {
    if (peer->dynamic() || !peer->config().graceful_restart) continue;
    if (!peer->established()) return;
    const auto& gr = peer->peerOpen()->capabilities.graceful_restart;
    if (!gr || gr->restarting) continue;  // RFC 4724 4.1: not waited for
    if (peer->ipv4() && !peer->eor_received[0]) return;
    if (peer->ipv6() && !peer->eor_received[1]) return;
  }
  endDeferral("every peer sent End-of-RIB");
}

void SpeakerCore::endDeferral(std::string_view why) {
  if (!deferring_) return;
  propagate({});  // the host gets anything batched; peers get the full tables below
  deferring_ = false;
  if (deferral_timer_) deferral_timer_->cancel();
  log::info("bgp: selection deferral over, sending our routes", {{"reason", why}});
  for (auto& [address, peer] : peers_) {
    if (!peer->established()) continue;
    peer->adjOut().clear();
    sendFullTable(*peer);
  }
}

void SpeakerCore::peerDown(Peer& peer, const std::string& reason, bool graceful) {
  (void)reason;
  peer.adjOut().clear();
  peer.adjIn().clear();
  RibChanges changes;
  uint16_t restart_s = 0;
  if (graceful && peer.peerOpen() && peer.peerOpen()->capabilities.graceful_restart) {
    restart_s = peer.peerOpen()->capabilities.graceful_restart->restart_time_s;
  }
  if (restart_s > 0) {
    const size_t n = rib_.markStale(peer.sourceId());
    peer.stale = true;
    log::info(
        "bgp: keeping routes of a restarting peer",
        {{"peer", peer.config().displayName()}, {"routes", n}, {"restart_time_s", restart_s}});
    if (!peer.stale_timer) peer.stale_timer = std::make_unique<boost::asio::steady_timer>(io_);
    peer.stale_timer->expires_after(std::chrono::seconds(restart_s));
    std::weak_ptr<Peer> weak = peer.weak_from_this();
    peer.stale_timer->async_wait([this, weak](const boost::system::error_code& error) {
      if (error) return;
      if (auto p = weak.lock()) {
        log::info("bgp: restart time over, flushing stale routes",
                  {{"peer", p->config().displayName()}});
        sweepStale(*p, std::nullopt);
      }
    });
  } else {
    peer.stale = false;
    if (peer.stale_timer) peer.stale_timer->cancel();
    rib_.withdrawSource(peer.sourceId(), changes);
  }
  propagate(changes);
  if (peer.dynamic() && restart_s == 0) {
    // Not from inside the peer's own call stack.
    const common::IpAddress address = peer.config().address;
    const uint32_t id = peer.sourceId();
    boost::asio::post(io_, [this, address, id] {
      auto it = peers_.find(address);
      if (it != peers_.end() && it->second->sourceId() == id && !it->second->established()) {
        peers_.erase(it);
      }
    });
  }
}

void SpeakerCore::sweepStale(Peer& peer, std::optional<common::Family> family) {
  RibChanges changes;
  rib_.sweepStale(peer.sourceId(), family, changes);
  if (!family) {
    peer.stale = false;
    if (peer.stale_timer) peer.stale_timer->cancel();
  }
  propagate(changes);
}

void SpeakerCore::scheduleBatch() {
  if (batch_.empty()) return;
  if (batch_.size() >= kMaxBatch) {
    // Reads keep coming before the posted handler runs: bound the memory held.
    propagate({});
    return;
  }
  if (batch_posted_) return;
  batch_posted_ = true;
  boost::asio::post(io_, [this] {
    batch_posted_ = false;
    propagate({});
  });
}

void SpeakerCore::propagate(const RibChanges& changes) {
  if (!batch_.empty()) {
    // Earlier changes first, so every peer sees them in order.
    RibChanges earlier = std::move(batch_);
    batch_.clear();
    propagateNow(earlier);
  }
  propagateNow(changes);
}

void SpeakerCore::propagateNow(const RibChanges& changes) {
  if (changes.empty()) return;
  // While deferring (restarting), peers get nothing; endDeferral sends the full tables.
  if (on_best_path_) {
    std::vector<BestPathChange> host;
    host.reserve(changes.size());
    for (const RibChange& c : changes) {
      BestPathChange h;
      h.prefix = c.prefix;
      h.withdrawn = !c.new_best;
      if (c.new_best) {
        h.local = c.new_best->source->isLocal();
        h.attrs = c.new_best->attrs;
        for (const Path& p : c.multipath) {
          const auto& nh = c.prefix.isV4() ? p.attrs->next_hop : p.attrs->mp_next_hop;
          if (nh) h.next_hops.push_back(*nh);
        }
      }
      host.push_back(std::move(h));
    }
    on_best_path_(host);
  }
  if (deferring_) return;
  // Many prefixes share a best path's attributes (a whole UPDATE usually has one set):
  // group the changes by (attribute set, source, family) once, so each peer rewrites each
  // group once and a peer that exports none of them and has nothing to withdraw is skipped.
  constexpr uint32_t kUnchanged = UINT32_MAX, kWithdrawn = UINT32_MAX - 1;
  using GroupKey = std::tuple<const PathAttributes*, uint32_t, bool>;
  std::vector<const RibChange*> group_best;  // a change of each group, for its best path
  std::vector<uint32_t> group_of(changes.size());
  std::map<GroupKey, uint32_t> groups;
  GroupKey last_key{nullptr, 0, false};
  uint32_t last_group = kUnchanged;
  for (size_t i = 0; i < changes.size(); ++i) {
    const RibChange& c = changes[i];
    if (c.bestUnchanged()) {
      group_of[i] = kUnchanged;
      continue;
    }
    if (!c.new_best) {
      group_of[i] = kWithdrawn;
      continue;
    }
    const GroupKey key{c.new_best->attrs.get(), c.new_best->sourceId(), c.prefix.isV4()};
    if (last_group == kUnchanged || key != last_key) {
      auto [it, inserted] = groups.emplace(key, static_cast<uint32_t>(group_best.size()));
      if (inserted) group_best.push_back(&c);
      last_key = key;
      last_group = it->second;
    }
    group_of[i] = last_group;
  }

  const LocalIdentity me = identity();
  std::vector<PathAttributesPtr> exported;
  for (auto& [address, peer] : peers_) {
    if (!peer->established()) continue;
    const ExportTarget target = targetOf(*peer);
    AdjRibOut& out = peer->adjOut();
    const bool per_group = target.filter == nullptr || !target.filter->dependsOnPrefix();
    bool any_exported = !per_group;
    if (per_group) {
      exported.assign(group_best.size(), nullptr);
      for (size_t g = 0; g < group_best.size(); ++g) {
        const RibChange& c = *group_best[g];
        auto attrs = exportAttributes(*c.new_best, c.prefix, target, me);
        if (attrs) {
          exported[g] = interner_.intern(*attrs);
          any_exported = true;
        }
      }
    }
    // Nothing to announce, and nothing advertised that could need a withdrawal.
    if (!any_exported && out.empty()) continue;
    for (size_t i = 0; i < changes.size(); ++i) {
      if (i + kPrefetch < changes.size()) out.prefetch(changes[i + kPrefetch].prefix);
      const uint32_t g = group_of[i];
      if (g == kUnchanged) continue;
      const RibChange& c = changes[i];
      if (g == kWithdrawn) {
        out.set(c.prefix, nullptr);
      } else if (per_group) {
        out.set(c.prefix, exported[g]);
      } else {
        auto attrs = exportAttributes(*c.new_best, c.prefix, target, me);
        out.set(c.prefix, attrs ? interner_.intern(*attrs) : nullptr);
      }
    }
    flush(*peer);
  }
}

void SpeakerCore::sendFullTable(Peer& peer) {
  const ExportTarget target = targetOf(peer);
  const LocalIdentity me = identity();
  const bool cacheable = target.filter == nullptr || !target.filter->dependsOnPrefix();
  std::map<std::tuple<const PathAttributes*, uint32_t, bool>, PathAttributesPtr> cache;
  rib_.forEachBest([&](const common::Prefix& prefix, const Path& best) {
    const auto key = std::make_tuple(best.attrs.get(), best.sourceId(), prefix.isV4());
    if (cacheable) {
      if (auto it = cache.find(key); it != cache.end()) {
        peer.adjOut().set(prefix, it->second);
        if (peer.adjOut().pendingCount() >= kMaxBatch) flush(peer);
        return;
      }
    }
    auto attrs = exportAttributes(best, prefix, target, me);
    PathAttributesPtr out = attrs ? interner_.intern(*attrs) : nullptr;
    if (cacheable) cache.emplace(key, out);
    peer.adjOut().set(prefix, std::move(out));
    // Out in slices: a full table never sits whole in the pending queue.
    if (peer.adjOut().pendingCount() >= kMaxBatch) flush(peer);
  });
  flush(peer);
  EncodedMessages eor;
  for (common::Family f : {common::Family::kV4, common::Family::kV6}) {
    if (f == common::Family::kV4 ? !peer.ipv4() : !peer.ipv6()) continue;
    eor.emplace_back();
    encodeEndOfRib(f, eor.back());
  }
  peer.sendRaw(std::move(eor));
}

void SpeakerCore::flush(Peer& peer) {
  if (!peer.established() || !peer.adjOut().hasPending()) return;
  FlushResult r = peer.adjOut().flush(peer.context());
  for (const std::string& e : r.errors) {
    log::warn("bgp: cannot encode routes", {{"peer", peer.config().displayName()}, {"error", e}});
  }
  peer.sendRaw(std::move(r.messages));
}

}  // namespace coral::bgp
