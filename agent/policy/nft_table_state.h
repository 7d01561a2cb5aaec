// What is in `table inet coral`, read two ways so they can be compared: from the kernel's
// JSON listing (libnftables `list table`) and from the text the renderer produced. The
// shape (chains with their rules' comments in order, element counts of sets and maps) is
// how resync tells that someone changed our table; the counters are what
// `coralctl policy counters` and the deny metrics read.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace coral::agent {

struct NftTableShape {
  // Interval sets merge adjacent prefixes in the kernel: their count is not compared.
  static constexpr size_t kUncounted = std::numeric_limits<size_t>::max();
  std::map<std::string, std::vector<std::string>> chains;  // chain → rule comments
  std::map<std::string, size_t> elements;                  // set or map → element count
  bool operator==(const NftTableShape&) const = default;
};

struct RuleCounter {
  std::string chain;
  std::string comment;
  std::string verdict;  // "drop", "accept", "return", "jump", "log", "vmap" or ""
  uint64_t packets = 0;
  uint64_t bytes = 0;
  bool operator==(const RuleCounter&) const = default;
};

absl::StatusOr<NftTableShape> shapeFromJson(std::string_view json);
// The shape of renderNftables() output.
NftTableShape shapeFromRendered(std::string_view text);
// The first difference, for the resync log line: `chain "wi-x.a": 3 rules, expected 7`.
std::string describeDifference(const NftTableShape& want, const NftTableShape& got);

absl::StatusOr<std::vector<RuleCounter>> countersFromJson(std::string_view json);

}  // namespace coral::agent
