// Selector: Calico's label-selector language, parsed once into a normalized tree that is
// evaluated against label maps, with a canonical text form so that equal selectors share
// one IP set.
//
//   app == "web" && tier in {"a", "b"} && !has(legacy)
//
// Terms:  k == "v"   k != "v"   k in {"a", "b"}   k not in {"a"}   has(k)   !has(k)
//         k contains "s"   k starts with "s"   k ends with "s"   all()   global()
// Combinators, tightest first: `!`, `&&`, `||`; parentheses group. Strings are single- or
// double-quoted without escapes. Keys follow Kubernetes label-key rules ([prefix/]name).
//
// Semantics follow Calico: `k != "v"` and `k not in {..}` are true when k is absent;
// `contains`, `starts with`, `ends with` are false when k is absent. `global()` evaluates as
// true over labels (it marks a namespaceSelector that selects non-namespaced resources; the
// policy layer interprets it via usesGlobal()). Empty or all-whitespace text parses as all(),
// as Calico does for an empty `selector`; the policy model decides what an *absent* field
// means before it calls parse().
//
// This library depends only on common/. The resource model (model/) uses it to validate
// selectors, policy/ to compile them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/labels.h"

namespace coral::policy {

enum class SelectorOp : uint8_t {
  kAll,         // all()
  kGlobal,      // global()
  kHas,         // has(key)
  kEquals,      // key == values[0]
  kIn,          // key in {values...}; sorted, unique, never exactly one (that is kEquals)
  kContains,    // key contains values[0]
  kStartsWith,  // key starts with values[0]
  kEndsWith,    // key ends with values[0]
  kNot,         // !children[0]; `k != v` is Not(Equals), `k not in` is Not(In)
  kAnd,         // children[0] && children[1] && ...; at least two, sorted by canonical text
  kOr,          // children[0] || children[1] || ...; at least two, sorted by canonical text
};

// One node of a normalized selector tree. Normalized means: nested && / || flattened,
// operands sorted and deduplicated, `!!x` is x, all() dropped from && and absorbing ||,
// in-sets sorted and deduplicated, terms on one key merged into one in-set (k == a || k == b
// is k in {a, b}; k != a && k != b is k not in {a, b}). Exposed for the policy compiler.
struct SelectorNode {
  SelectorOp op = SelectorOp::kAll;
  std::string key;                     // kHas .. kEndsWith
  std::vector<std::string> values;     // kEquals .. kEndsWith
  std::vector<SelectorNode> children;  // kNot, kAnd, kOr

  bool operator==(const SelectorNode&) const = default;
};

class Selector {
 public:
  static constexpr size_t kMaxLength = 4096;  // bytes of selector text
  static constexpr int kMaxDepth = 100;       // nested parentheses and `!`

  // all()
  Selector();

  // Errors are InvalidArgument and read
  //   selector "app == ": position 7: expected a quoted string
  // with the 0-based byte position of the problem.
  static absl::StatusOr<Selector> parse(std::string_view text);
  static Selector all() { return Selector(); }

  // True when the labels satisfy the selector. Allocation-free.
  bool matches(const common::Labels& labels) const;

  // A stable text form, itself a valid selector: equal for selectors that differ only in
  // whitespace, quote style, redundant parentheses, `!!`, the order of && / || operands
  // or of in-set values, `k in {"v"}` vs `k == "v"`, `!(k == "v")` vs `k != "v"`,
  // `k == "a" || k == "b"` vs `k in {"a", "b"}`.
  const std::string& canonical() const;
  // FNV-1a 64 of canonical(): identical across processes and builds, so it can name
  // dataplane objects (IP sets) for the selector.
  uint64_t fingerprint() const;
  size_t hash() const { return static_cast<size_t>(fingerprint()); }

  // The normalized tree.
  const SelectorNode& root() const;
  // The label keys the selector reads, sorted and unique; a label change on any other key
  // cannot change matches().
  const std::vector<std::string>& labelKeys() const;
  // True when the selector is all() after normalization (matches every label map).
  bool selectsAll() const;
  // True when global() appears anywhere.
  bool usesGlobal() const;

  friend bool operator==(const Selector& a, const Selector& b) {
    return a.canonical() == b.canonical();
  }

 private:
  struct Impl;
  explicit Selector(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;  // immutable, so copies share it
};

}  // namespace coral::policy

template <>
struct std::hash<coral::policy::Selector> {
  size_t operator()(const coral::policy::Selector& s) const noexcept { return s.hash(); }
};
