// Import/export filters: an ordered list of rules, the first match decides. A rule matches
// on a prefix range (inside a CIDR, with a length range) and/or a community; it rejects,
// or accepts and may add communities, prepend our AS and set LOCAL_PREF. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bgp/wire/attributes.h"
#include "common/ip.h"

namespace coral::bgp {

// A standard (RFC 1997) or large (RFC 8092) community.
struct Community {
  std::optional<uint32_t> standard;
  std::optional<LargeCommunity> large;
  friend bool operator==(const Community&, const Community&) = default;
};

// "65000:100", "4200000000:1:2", or no-export / no-advertise / no-export-subconfed.
absl::StatusOr<Community> parseCommunity(std::string_view text);
std::string formatCommunity(uint32_t community);
std::string formatLargeCommunity(const LargeCommunity& community);

struct FilterRule {
  enum class Action : uint8_t { kAccept, kReject };
  Action action = Action::kAccept;
  std::optional<common::Prefix> within;  // match prefixes inside (or equal to) this
  std::optional<int> min_length;         // default: the length of `within` (or 0)
  std::optional<int> max_length;         // default: 32 / 128
  std::optional<Community> community;    // match routes carrying it
  std::vector<Community> add_communities;
  int prepend_as_path = 0;  // our AS this many times
  std::optional<uint32_t> local_pref;
  friend bool operator==(const FilterRule&, const FilterRule&) = default;
};

struct Filter {
  std::vector<FilterRule> rules;
  FilterRule::Action default_action = FilterRule::Action::kAccept;
  bool empty() const { return rules.empty() && default_action == FilterRule::Action::kAccept; }
  // Whether some rule matches on the prefix; if not, the verdict depends on the attributes
  // only and can be computed once per attribute set.
  bool dependsOnPrefix() const {
    for (const FilterRule& r : rules) {
      if (r.within || r.min_length || r.max_length) return true;
    }
    return false;
  }
  friend bool operator==(const Filter&, const Filter&) = default;
};

enum class FilterVerdict : uint8_t { kReject, kAccept, kAcceptModified };

bool ruleMatches(const FilterRule& rule, const common::Prefix& prefix, const PathAttributes& attrs);

// Runs the filter. On kAcceptModified, `modified` holds the changed attributes.
FilterVerdict applyFilter(const Filter& filter, const common::Prefix& prefix,
                          const PathAttributes& attrs, uint32_t local_as, PathAttributes& modified);

// Prepends `asn` `count` times to the leading AS_SEQUENCE (or a new one).
void prependAs(AsPath& path, uint32_t asn, int count);

}  // namespace coral::bgp
