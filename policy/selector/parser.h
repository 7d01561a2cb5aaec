// The selector lexer and recursive-descent parser: text → syntax tree (not yet
// normalized). Internal to coral_selector; callers use Selector::parse.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "policy/selector/selector.h"

namespace coral::policy::internal {

// `k != v` comes back as Not(Equals), `k not in {..}` as Not(In), an empty text as all().
// Keys are validated against Kubernetes label-key rules; in-set values are not yet sorted.
absl::StatusOr<SelectorNode> parseSelectorTree(std::string_view text);

}  // namespace coral::policy::internal
