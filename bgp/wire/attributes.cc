// PathAttributes helpers: AS path length and formatting, hashing, interning.
#include "bgp/wire/attributes.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/strings.h"

namespace coral::bgp {

size_t AsPath::length() const {
  size_t n = 0;
  for (const AsSegment& s : segments) {
    if (s.type == AsSegmentType::kSequence) n += s.asns.size();
    if (s.type == AsSegmentType::kSet) n += 1;
  }
  return n;
}

std::optional<uint32_t> AsPath::firstAs() const {
  if (segments.empty() || segments.front().type != AsSegmentType::kSequence ||
      segments.front().asns.empty()) {
    return std::nullopt;
  }
  return segments.front().asns.front();
}

bool AsPath::contains(uint32_t asn) const {
  return std::any_of(segments.begin(), segments.end(), [asn](const AsSegment& s) {
    return std::find(s.asns.begin(), s.asns.end(), asn) != s.asns.end();
  });
}

std::string AsPath::toString() const {
  std::vector<std::string> parts;
  for (const AsSegment& s : segments) {
    std::vector<std::string> asns;
    for (uint32_t a : s.asns) asns.push_back(std::to_string(a));
    const std::string inner = join(asns, " ");
    switch (s.type) {
      case AsSegmentType::kSequence:
        parts.push_back(inner);
        break;
      case AsSegmentType::kSet:
        parts.push_back("{" + inner + "}");
        break;
      case AsSegmentType::kConfedSequence:
        parts.push_back("(" + inner + ")");
        break;
      case AsSegmentType::kConfedSet:
        parts.push_back("[" + inner + "]");
        break;
    }
  }
  return join(parts, " ");
}

namespace {

void mix(size_t& h, size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); }

template <typename T>
void mixOpt(size_t& h, const std::optional<T>& v) {
  mix(h, v.has_value());
  if (v) mix(h, std::hash<T>{}(*v));
}

}  // namespace

size_t hashValue(const PathAttributes& a) {
  size_t h = 0;
  mix(h, a.origin ? static_cast<size_t>(*a.origin) + 1 : 0);
  if (a.as_path) {
    for (const AsSegment& s : a.as_path->segments) {
      mix(h, static_cast<size_t>(s.type));
      for (uint32_t asn : s.asns) mix(h, asn);
    }
  }
  mixOpt(h, a.next_hop);
  mixOpt(h, a.med);
  mixOpt(h, a.local_pref);
  mix(h, a.atomic_aggregate);
  if (a.aggregator) {
    mix(h, a.aggregator->asn);
    mix(h, std::hash<common::IpAddress>{}(a.aggregator->address));
  }
  for (uint32_t c : a.communities) mix(h, c);
  mixOpt(h, a.originator_id);
  for (uint32_t c : a.cluster_list) mix(h, c);
  for (const auto& c : a.extended_communities) {
    for (uint8_t b : c.bytes) mix(h, b);
  }
  for (const auto& c : a.large_communities) {
    mix(h, c.global_admin);
    mix(h, c.local_data1);
    mix(h, c.local_data2);
  }
  mixOpt(h, a.mp_next_hop);
  mixOpt(h, a.mp_link_local_next_hop);
  for (const auto& u : a.unknown) {
    mix(h, u.code);
    mix(h, u.flags);
    for (uint8_t b : u.value) mix(h, b);
  }
  return h;
}

PathAttributesPtr AttributeInterner::intern(const PathAttributes& attrs) {
  const size_t h = hashValue(attrs);
  std::lock_guard lock(mu_);
  auto [begin, end] = table_.equal_range(h);
  for (auto it = begin; it != end; ++it) {
    if (auto live = it->second.lock(); live && *live == attrs) return live;
  }
  auto fresh = std::make_shared<const PathAttributes>(attrs);
  table_.emplace(h, fresh);
  if (table_.size() >= sweep_at_) sweepLocked();
  return fresh;
}

size_t AttributeInterner::size() {
  std::lock_guard lock(mu_);
  sweepLocked();
  return table_.size();
}

void AttributeInterner::sweepLocked() {
  for (auto it = table_.begin(); it != table_.end();) {
    it = it->second.expired() ? table_.erase(it) : std::next(it);
  }
  sweep_at_ = std::max<size_t>(1024, table_.size() * 2);
}

}  // namespace coral::bgp
