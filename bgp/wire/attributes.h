// PathAttributes: the decoded, immutable-by-convention value of an UPDATE's path
// attributes, with equality and a hash so the RIB can intern one copy per distinct set
// (AttributeInterner). AS numbers are always 4 octets here; the 2-octet wire forms and
// the AS4_PATH/AS4_AGGREGATOR dance live in the codec (as_path.h, attribute_table.cc).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/ip.h"

namespace coral::bgp {

enum class Origin : uint8_t { kIgp = 0, kEgp = 1, kIncomplete = 2 };

enum class AsSegmentType : uint8_t {
  kSet = 1,
  kSequence = 2,
  kConfedSequence = 3,  // RFC 5065
  kConfedSet = 4,
};

struct AsSegment {
  AsSegmentType type = AsSegmentType::kSequence;
  std::vector<uint32_t> asns;
  friend bool operator==(const AsSegment&, const AsSegment&) = default;
};

struct AsPath {
  std::vector<AsSegment> segments;

  // Path length for best-path selection: a sequence counts its ASes, a set counts 1,
  // confederation segments count 0 (RFC 4271 9.1.2.2, RFC 5065 5.3).
  size_t length() const;
  bool empty() const { return segments.empty(); }
  // The first AS of a leading AS_SEQUENCE, if any (the neighbour AS for eBGP).
  std::optional<uint32_t> firstAs() const;
  bool contains(uint32_t asn) const;
  // "65001 65002 {65003 65004} (65010)": sets in braces, confed sequence in parentheses,
  // confed set in brackets.
  std::string toString() const;
  friend bool operator==(const AsPath&, const AsPath&) = default;
};

struct Aggregator {
  uint32_t asn = 0;
  common::IpAddress address;  // IPv4
  friend bool operator==(const Aggregator&, const Aggregator&) = default;
};

// RFC 4360: 8 opaque octets (type, subtype, value).
struct ExtendedCommunity {
  std::array<uint8_t, 8> bytes{};
  friend bool operator==(const ExtendedCommunity&, const ExtendedCommunity&) = default;
  friend auto operator<=>(const ExtendedCommunity&, const ExtendedCommunity&) = default;
};

// RFC 8092.
struct LargeCommunity {
  uint32_t global_admin = 0;
  uint32_t local_data1 = 0;
  uint32_t local_data2 = 0;
  friend bool operator==(const LargeCommunity&, const LargeCommunity&) = default;
  friend auto operator<=>(const LargeCommunity&, const LargeCommunity&) = default;
};

// An optional transitive attribute we do not understand, passed on unchanged except
// for the Partial bit (RFC 4271 5).
struct UnknownAttribute {
  uint8_t flags = 0;  // as received plus Partial, without Extended Length
  uint8_t code = 0;
  std::vector<uint8_t> value;
  friend bool operator==(const UnknownAttribute&, const UnknownAttribute&) = default;
};

struct PathAttributes {
  std::optional<Origin> origin;
  std::optional<AsPath> as_path;
  std::optional<common::IpAddress> next_hop;  // NEXT_HOP (IPv4)
  std::optional<uint32_t> med;
  std::optional<uint32_t> local_pref;
  bool atomic_aggregate = false;
  std::optional<Aggregator> aggregator;
  std::vector<uint32_t> communities;
  std::optional<common::IpAddress> originator_id;
  std::vector<uint32_t> cluster_list;
  std::vector<ExtendedCommunity> extended_communities;
  std::vector<LargeCommunity> large_communities;
  // Next hop carried in MP_REACH_NLRI: the global address and, for IPv6 with a 32-byte
  // next hop, the link-local one.
  std::optional<common::IpAddress> mp_next_hop;
  std::optional<common::IpAddress> mp_link_local_next_hop;
  std::vector<UnknownAttribute> unknown;  // sorted by code

  friend bool operator==(const PathAttributes&, const PathAttributes&) = default;
};

size_t hashValue(const PathAttributes& attrs);

using PathAttributesPtr = std::shared_ptr<const PathAttributes>;

// One shared copy per distinct attribute set. Entries live while someone holds them;
// expired entries are swept as the table grows. Thread-safe.
class AttributeInterner {
 public:
  PathAttributesPtr intern(const PathAttributes& attrs);
  // Distinct sets currently alive.
  size_t size();

 private:
  void sweepLocked();
  std::mutex mu_;
  std::unordered_multimap<size_t, std::weak_ptr<const PathAttributes>> table_;
  size_t sweep_at_ = 1024;
};

}  // namespace coral::bgp

template <>
struct std::hash<coral::bgp::PathAttributes> {
  size_t operator()(const coral::bgp::PathAttributes& a) const noexcept {
    return coral::bgp::hashValue(a);
  }
};
