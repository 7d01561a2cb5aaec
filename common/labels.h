// Label maps (Kubernetes metadata.labels) and Kubernetes-style label selectors
// ("app=web,tier!=db,env in (a,b),!legacy") used to filter datastore lists.
// The richer Calico selector language lives in policy/selector.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace coral::common {

using Labels = std::map<std::string, std::string>;

// Kubernetes rules: key = [prefix/]name, name ≤ 63 chars of [A-Za-z0-9._-] beginning and
// ending alphanumeric, prefix a DNS subdomain ≤ 253; value ≤ 63 chars, same charset, may be empty.
absl::Status validateLabelKey(std::string_view key);
absl::Status validateLabelValue(std::string_view value);
absl::Status validateLabels(const Labels& labels);

// "a=1,b=2" → {a:1, b:2}. Used by command-line flags (--labels).
absl::StatusOr<Labels> parseLabelList(std::string_view text);

class LabelSelector {
 public:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kNotExists };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
    bool operator==(const Requirement&) const = default;
  };

  // Empty text selects everything.
  static absl::StatusOr<LabelSelector> parse(std::string_view text);
  static LabelSelector everything() { return LabelSelector(); }

  bool matches(const Labels& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  std::string toString() const;

  bool operator==(const LabelSelector&) const = default;

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace coral::common
