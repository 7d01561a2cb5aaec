// Filter rule matching and actions.
#include "bgp/policy/filter.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/strings.h"

namespace coral::bgp {

absl::StatusOr<Community> parseCommunity(std::string_view text) {
  text = trim(text);
  if (text == "no-export") return Community{0xFFFFFF01u, std::nullopt};
  if (text == "no-advertise") return Community{0xFFFFFF02u, std::nullopt};
  if (text == "no-export-subconfed") return Community{0xFFFFFF03u, std::nullopt};
  const auto parts = split(text, ':');
  if (parts.size() == 2) {
    auto hi = parseInt<uint16_t>(parts[0]);
    auto lo = parseInt<uint16_t>(parts[1]);
    if (hi && lo) return Community{(uint32_t{*hi} << 16) | *lo, std::nullopt};
  } else if (parts.size() == 3) {
    auto a = parseInt<uint32_t>(parts[0]);
    auto b = parseInt<uint32_t>(parts[1]);
    auto c = parseInt<uint32_t>(parts[2]);
    if (a && b && c) return Community{std::nullopt, LargeCommunity{*a, *b, *c}};
  }
  return absl::InvalidArgumentError(fmt::format(
      "community \"{}\" is not aa:nn (16-bit each), aa:nn:mm (32-bit each) or a well-known name",
      text));
}

std::string formatCommunity(uint32_t c) { return fmt::format("{}:{}", c >> 16, c & 0xFFFF); }

std::string formatLargeCommunity(const LargeCommunity& c) {
  return fmt::format("{}:{}:{}", c.global_admin, c.local_data1, c.local_data2);
}

bool ruleMatches(const FilterRule& rule, const common::Prefix& prefix,
                 const PathAttributes& attrs) {
  if (rule.within) {
    if (rule.within->family() != prefix.family() || !rule.within->contains(prefix)) return false;
  }
  const int min_len = rule.min_length.value_or(rule.within ? rule.within->length() : 0);
  const int max_len = rule.max_length.value_or(prefix.address().bitLength());
  if (prefix.length() < min_len || prefix.length() > max_len) return false;
  if (rule.community) {
    if (rule.community->standard) {
      const auto& cs = attrs.communities;
      if (std::find(cs.begin(), cs.end(), *rule.community->standard) == cs.end()) return false;
    }
    if (rule.community->large) {
      const auto& cs = attrs.large_communities;
      if (std::find(cs.begin(), cs.end(), *rule.community->large) == cs.end()) return false;
    }
  }
  return true;
}

void prependAs(AsPath& path, uint32_t asn, int count) {
  if (count <= 0) return;
  if (path.segments.empty() || path.segments.front().type != AsSegmentType::kSequence ||
      path.segments.front().asns.size() + count > 255) {
    path.segments.insert(path.segments.begin(), AsSegment{AsSegmentType::kSequence, {}});
  }
  auto& asns = path.segments.front().asns;
  asns.insert(asns.begin(), static_cast<size_t>(count), asn);
}

FilterVerdict applyFilter(const Filter& filter, const common::Prefix& prefix,
                          const PathAttributes& attrs, uint32_t local_as,
                          PathAttributes& modified) {
  for (const FilterRule& rule : filter.rules) {
    if (!ruleMatches(rule, prefix, attrs)) continue;
    if (rule.action == FilterRule::Action::kReject) return FilterVerdict::kReject;
    if (rule.add_communities.empty() && rule.prepend_as_path == 0 && !rule.local_pref) {
      return FilterVerdict::kAccept;
    }
    modified = attrs;
    for (const Community& c : rule.add_communities) {
      if (c.standard && std::find(modified.communities.begin(), modified.communities.end(),
                                  *c.standard) == modified.communities.end()) {
        modified.communities.push_back(*c.standard);
      }
      if (c.large && std::find(modified.large_communities.begin(), modified.large_communities.end(),
                               *c.large) == modified.large_communities.end()) {
        modified.large_communities.push_back(*c.large);
      }
    }
    if (rule.prepend_as_path > 0) {
      if (!modified.as_path) modified.as_path = AsPath{};
      prependAs(*modified.as_path, local_as, rule.prepend_as_path);
    }
    if (rule.local_pref) modified.local_pref = *rule.local_pref;
    return FilterVerdict::kAcceptModified;
  }
  return filter.default_action == FilterRule::Action::kAccept ? FilterVerdict::kAccept
                                                              : FilterVerdict::kReject;
}

}  // namespace coral::bgp
