// Selector: normalization of the parsed tree, the canonical text form, and evaluation.
#include "policy/selector/selector.h"

#include <algorithm>
#include <utility>

#include "policy/selector/parser.h"

namespace coral::policy {
namespace {

void appendQuoted(const std::string& value, std::string& out) {
  // Strings have no escapes, so a value holding '"' can only have been single-quoted.
  const char quote = value.find('"') == std::string::npos ? '"' : '\'';
  out += quote;
  out += value;
  out += quote;
}

void appendSet(const std::vector<std::string>& values, std::string& out) {
  out += '{';
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    appendQuoted(values[i], out);
  }
  out += '}';
}

bool isChain(const SelectorNode& node) {
  return node.op == SelectorOp::kAnd || node.op == SelectorOp::kOr;
}

void render(const SelectorNode& node, std::string& out) {
  switch (node.op) {
    case SelectorOp::kAll:
      out += "all()";
      return;
    case SelectorOp::kGlobal:
      out += "global()";
      return;
    case SelectorOp::kHas:
      out += "has(" + node.key + ")";
      return;
    case SelectorOp::kEquals:
      out += node.key + " == ";
      appendQuoted(node.values[0], out);
      return;
    case SelectorOp::kIn:
      out += node.key + " in ";
      appendSet(node.values, out);
      return;
    case SelectorOp::kContains:
      out += node.key + " contains ";
      appendQuoted(node.values[0], out);
      return;
    case SelectorOp::kStartsWith:
      out += node.key + " starts with ";
      appendQuoted(node.values[0], out);
      return;
    case SelectorOp::kEndsWith:
      out += node.key + " ends with ";
      appendQuoted(node.values[0], out);
      return;
    case SelectorOp::kNot: {
      const SelectorNode& child = node.children[0];
      switch (child.op) {
        case SelectorOp::kEquals:
          out += child.key + " != ";
          appendQuoted(child.values[0], out);
          return;
        case SelectorOp::kIn:
          out += child.key + " not in ";
          appendSet(child.values, out);
          return;
        case SelectorOp::kAll:
        case SelectorOp::kGlobal:
        case SelectorOp::kHas:
          out += '!';
          render(child, out);
          return;
        default:
          out += "!(";
          render(child, out);
          out += ')';
          return;
      }
    }
    case SelectorOp::kAnd:
    case SelectorOp::kOr: {
      const char* separator = node.op == SelectorOp::kAnd ? " && " : " || ";
      for (size_t i = 0; i < node.children.size(); ++i) {
        if (i > 0) out += separator;
        const bool parens = isChain(node.children[i]);
        if (parens) out += '(';
        render(node.children[i], out);
        if (parens) out += ')';
      }
      return;
    }
  }
}

std::string renderToString(const SelectorNode& node) {
  std::string out;
  render(node, out);
  return out;
}

// The in-set that a term of an || (k == v, k in {..}) or of an && (k != v, k not in {..})
// contributes, or nullptr when the term is of another kind.
SelectorNode* mergeableSet(SelectorNode& term, bool in_and) {
  SelectorNode* set = &term;
  if (in_and) {
    if (term.op != SelectorOp::kNot) return nullptr;
    set = &term.children[0];
  }
  return set->op == SelectorOp::kEquals || set->op == SelectorOp::kIn ? set : nullptr;
}

// Terms on the same key merge into one set: `k == "a" || k in {"b"}` is `k in {"a", "b"}`
// and `k != "a" && k not in {"b"}` is `k not in {"a", "b"}` (both also when k is absent).
void mergeSets(std::vector<SelectorNode>& operands, bool in_and) {
  std::vector<std::pair<std::string_view, SelectorNode*>> first_by_key;
  std::vector<bool> merged(operands.size(), false);
  for (size_t i = 0; i < operands.size(); ++i) {
    SelectorNode* set = mergeableSet(operands[i], in_and);
    if (set == nullptr) continue;
    auto it = std::find_if(first_by_key.begin(), first_by_key.end(),
                           [&](const auto& entry) { return entry.first == set->key; });
    if (it == first_by_key.end()) {
      first_by_key.emplace_back(set->key, set);
      continue;
    }
    SelectorNode& target = *it->second;
    target.op = SelectorOp::kIn;
    for (std::string& value : set->values) target.values.push_back(std::move(value));
    merged[i] = true;
  }
  if (std::find(merged.begin(), merged.end(), true) == merged.end()) return;
  for (auto& [key, set] : first_by_key) {
    std::sort(set->values.begin(), set->values.end());
    set->values.erase(std::unique(set->values.begin(), set->values.end()), set->values.end());
    set->op = set->values.size() == 1 ? SelectorOp::kEquals : SelectorOp::kIn;
  }
  std::vector<SelectorNode> kept;
  for (size_t i = 0; i < operands.size(); ++i) {
    if (!merged[i]) kept.push_back(std::move(operands[i]));
  }
  operands = std::move(kept);
}

// Rewrites `node` into normal form (see SelectorNode). Recursion depth is bounded by the
// parser's nesting limit.
void normalize(SelectorNode& node) {
  switch (node.op) {
    case SelectorOp::kIn: {
      std::sort(node.values.begin(), node.values.end());
      node.values.erase(std::unique(node.values.begin(), node.values.end()), node.values.end());
      if (node.values.size() == 1) node.op = SelectorOp::kEquals;
      return;
    }
    case SelectorOp::kNot: {
      normalize(node.children[0]);
      if (node.children[0].op == SelectorOp::kNot) {
        SelectorNode inner = std::move(node.children[0].children[0]);
        node = std::move(inner);
      }
      return;
    }
    case SelectorOp::kAnd:
    case SelectorOp::kOr: {
      const bool is_and = node.op == SelectorOp::kAnd;
      std::vector<SelectorNode> operands;
      for (SelectorNode& child : node.children) {
        normalize(child);
        if (child.op == node.op) {
          for (SelectorNode& grandchild : child.children) operands.push_back(std::move(grandchild));
        } else {
          operands.push_back(std::move(child));
        }
      }
      // all() is the identity of && and absorbs ||.
      const auto is_all = [](const SelectorNode& n) { return n.op == SelectorOp::kAll; };
      if (!is_and && std::any_of(operands.begin(), operands.end(), is_all)) {
        node = SelectorNode{};
        return;
      }
      std::erase_if(operands, is_all);
      mergeSets(operands, is_and);
      std::vector<std::pair<std::string, SelectorNode>> keyed;
      keyed.reserve(operands.size());
      for (SelectorNode& operand : operands) {
        std::string text = renderToString(operand);
        keyed.emplace_back(std::move(text), std::move(operand));
      }
      std::sort(keyed.begin(), keyed.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      keyed.erase(std::unique(keyed.begin(), keyed.end(),
                              [](const auto& a, const auto& b) { return a.first == b.first; }),
                  keyed.end());
      if (keyed.empty()) {
        node = SelectorNode{};
      } else if (keyed.size() == 1) {
        SelectorNode only = std::move(keyed[0].second);
        node = std::move(only);
      } else {
        node.children.clear();
        for (auto& [text, operand] : keyed) node.children.push_back(std::move(operand));
      }
      return;
    }
    default:
      return;
  }
}

bool evaluate(const SelectorNode& node, const common::Labels& labels) {
  switch (node.op) {
    case SelectorOp::kAll:
    case SelectorOp::kGlobal:
      return true;
    case SelectorOp::kHas:
      return labels.find(node.key) != labels.end();
    case SelectorOp::kEquals: {
      const auto it = labels.find(node.key);
      return it != labels.end() && it->second == node.values[0];
    }
    case SelectorOp::kIn: {
      const auto it = labels.find(node.key);
      return it != labels.end() &&
             std::binary_search(node.values.begin(), node.values.end(), it->second);
    }
    case SelectorOp::kContains: {
      const auto it = labels.find(node.key);
      return it != labels.end() && it->second.find(node.values[0]) != std::string::npos;
    }
    case SelectorOp::kStartsWith: {
      const auto it = labels.find(node.key);
      return it != labels.end() && it->second.starts_with(node.values[0]);
    }
    case SelectorOp::kEndsWith: {
      const auto it = labels.find(node.key);
      return it != labels.end() && it->second.ends_with(node.values[0]);
    }
    case SelectorOp::kNot:
      return !evaluate(node.children[0], labels);
    case SelectorOp::kAnd:
      for (const SelectorNode& child : node.children) {
        if (!evaluate(child, labels)) return false;
      }
      return true;
    case SelectorOp::kOr:
      for (const SelectorNode& child : node.children) {
        if (evaluate(child, labels)) return true;
      }
      return false;
  }
  return false;
}

void collect(const SelectorNode& node, std::vector<std::string>& keys, bool& uses_global) {
  if (node.op == SelectorOp::kGlobal) uses_global = true;
  if (!node.key.empty()) keys.push_back(node.key);
  for (const SelectorNode& child : node.children) collect(child, keys, uses_global);
}

uint64_t fnv1a64(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

}  // namespace

struct Selector::Impl {
  SelectorNode root;
  std::string canonical;
  uint64_t fingerprint = 0;
  std::vector<std::string> keys;
  bool uses_global = false;

  static std::shared_ptr<const Impl> make(SelectorNode root) {
    auto impl = std::make_shared<Impl>();
    normalize(root);
    impl->root = std::move(root);
    impl->canonical = renderToString(impl->root);
    impl->fingerprint = fnv1a64(impl->canonical);
    collect(impl->root, impl->keys, impl->uses_global);
    std::sort(impl->keys.begin(), impl->keys.end());
    impl->keys.erase(std::unique(impl->keys.begin(), impl->keys.end()), impl->keys.end());
    return impl;
  }
};

Selector::Selector() {
  static const std::shared_ptr<const Impl> kAll = Impl::make(SelectorNode{});
  impl_ = kAll;
}

absl::StatusOr<Selector> Selector::parse(std::string_view text) {
  absl::StatusOr<SelectorNode> tree = internal::parseSelectorTree(text);
  if (!tree.ok()) return tree.status();
  return Selector(Impl::make(std::move(tree).value()));
}

bool Selector::matches(const common::Labels& labels) const { return evaluate(impl_->root, labels); }
const std::string& Selector::canonical() const { return impl_->canonical; }
uint64_t Selector::fingerprint() const { return impl_->fingerprint; }
const SelectorNode& Selector::root() const { return impl_->root; }
const std::vector<std::string>& Selector::labelKeys() const { return impl_->keys; }
bool Selector::selectsAll() const { return impl_->root.op == SelectorOp::kAll; }
bool Selector::usesGlobal() const { return impl_->uses_global; }

}  // namespace coral::policy
