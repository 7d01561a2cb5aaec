// libFuzzer target for the selector parser (selectors come from users' resources).
// Beyond "no crash", it checks properties on every input that parses:
//   - the canonical form parses back to the same canonical form and tree;
//   - normalization keeps meaning: the normalized selector and the raw syntax tree agree
//     on label maps built from the selector's own keys and values;
// and on every input that does not parse, that the error names a position inside the text.
// tests/unit/policy/selector_corpus_test.cc runs the seed corpus through this function.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/labels.h"
#include "common/strings.h"
#include "policy/selector/parser.h"
#include "policy/selector/selector.h"

namespace {

using coral::common::Labels;
using coral::policy::Selector;
using coral::policy::SelectorNode;
using coral::policy::SelectorOp;

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

// A straightforward evaluator over the raw (unnormalized) syntax tree: the reference.
bool referenceMatches(const SelectorNode& node, const Labels& labels) {
  const auto it = node.key.empty() ? labels.end() : labels.find(node.key);
  const bool has = it != labels.end();
  switch (node.op) {
    case SelectorOp::kAll:
    case SelectorOp::kGlobal:
      return true;
    case SelectorOp::kHas:
      return has;
    case SelectorOp::kEquals:
      return has && it->second == node.values[0];
    case SelectorOp::kIn:
      for (const std::string& v : node.values) {
        if (has && it->second == v) return true;
      }
      return false;
    case SelectorOp::kContains:
      return has && it->second.find(node.values[0]) != std::string::npos;
    case SelectorOp::kStartsWith:
      return has && it->second.rfind(node.values[0], 0) == 0;
    case SelectorOp::kEndsWith:
      return has && it->second.size() >= node.values[0].size() &&
             it->second.compare(it->second.size() - node.values[0].size(), node.values[0].size(),
                                node.values[0]) == 0;
    case SelectorOp::kNot:
      return !referenceMatches(node.children[0], labels);
    case SelectorOp::kAnd:
      for (const SelectorNode& c : node.children) {
        if (!referenceMatches(c, labels)) return false;
      }
      return true;
    case SelectorOp::kOr:
      for (const SelectorNode& c : node.children) {
        if (referenceMatches(c, labels)) return true;
      }
      return false;
  }
  return false;
}

void collectValues(const SelectorNode& node, std::vector<std::string>& values) {
  for (const std::string& v : node.values) values.push_back(v);
  for (const SelectorNode& c : node.children) collectValues(c, values);
}

// Label maps over the selector's keys whose values make its terms true and false.
std::vector<Labels> probeLabels(const Selector& selector, uint64_t seed) {
  std::vector<std::string> values = {"", "x"};
  collectValues(selector.root(), values);
  const std::vector<std::string>& keys = selector.labelKeys();
  std::vector<Labels> out;
  out.push_back({});
  for (int round = 0; round < 16; ++round) {
    Labels labels;
    for (const std::string& key : keys) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      const uint64_t pick = seed >> 33;
      if (pick % 4 == 0) continue;  // absent
      std::string value = values[(pick / 4) % values.size()];
      if (pick % 7 == 0) value += "z";
      if (pick % 11 == 0) value = "a" + value;
      labels[key] = value;
    }
    out.push_back(std::move(labels));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Selector> selector = Selector::parse(text);
  absl::StatusOr<SelectorNode> raw = coral::policy::internal::parseSelectorTree(text);
  FUZZ_CHECK(selector.ok() == raw.ok());
  if (!selector.ok()) {
    const std::string_view message = coral::errorMessage(selector.status());
    // selector "<text with \" and \\ escaped>": position N: reason
    FUZZ_CHECK(message.starts_with("selector \""));
    size_t at = 10;
    while (at < message.size() && message[at] != '"') at += message[at] == '\\' ? 2 : 1;
    FUZZ_CHECK(at < message.size());
    FUZZ_CHECK(message.substr(at).starts_with("\": position "));
    const std::string_view rest = message.substr(at + 12);
    const auto position = coral::parseInt<size_t>(rest.substr(0, rest.find(':')));
    FUZZ_CHECK(position.has_value());
    FUZZ_CHECK(*position <= size);
    return 0;
  }
  FUZZ_CHECK(size <= Selector::kMaxLength);

  absl::StatusOr<Selector> again = Selector::parse(selector->canonical());
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->canonical() == selector->canonical());
  FUZZ_CHECK(again->root() == selector->root());
  FUZZ_CHECK(again->fingerprint() == selector->fingerprint());

  uint64_t seed = selector->fingerprint();
  for (const Labels& labels : probeLabels(*selector, seed)) {
    const bool expected = referenceMatches(*raw, labels);
    FUZZ_CHECK(selector->matches(labels) == expected);
    FUZZ_CHECK(again->matches(labels) == expected);
  }
  return 0;
}
