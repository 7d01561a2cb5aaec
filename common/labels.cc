#include "common/labels.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "common/strings.h"

namespace coral::common {
namespace {

bool isAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

absl::Status validateName(std::string_view what, std::string_view name, bool allow_empty) {
  if (name.empty()) {
    if (allow_empty) return absl::OkStatus();
    return absl::InvalidArgumentError(fmt::format("{} must not be empty", what));
  }
  if (name.size() > 63) {
    return absl::InvalidArgumentError(
        fmt::format("{} \"{}\" is longer than 63 characters", what, name));
  }
  if (!isAlnum(name.front()) || !isAlnum(name.back())) {
    return absl::InvalidArgumentError(
        fmt::format("{} \"{}\" must begin and end with a letter or digit", what, name));
  }
  for (char c : name) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.') {
      return absl::InvalidArgumentError(fmt::format(
          "{} \"{}\" has invalid character '{}' (allowed: letters, digits, '-', '_', '.')", what,
          name, c));
    }
  }
  return absl::OkStatus();
}

absl::Status validateDnsSubdomain(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return absl::InvalidArgumentError(
        fmt::format("{} \"{}\" must be 1-253 characters", what, name));
  }
  for (std::string_view part : split(name, '.')) {
    if (part.empty() || !isAlnum(part.front()) || !isAlnum(part.back())) {
      return absl::InvalidArgumentError(
          fmt::format("{} \"{}\" is not a DNS subdomain", what, name));
    }
    for (char c : part) {
      if (!(std::islower(static_cast<unsigned char>(c)) ||
            std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
        return absl::InvalidArgumentError(fmt::format(
            "{} \"{}\" is not a DNS subdomain (lowercase, digits, '-', '.')", what, name));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status validateLabelKey(std::string_view key) {
  const size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    auto status = validateDnsSubdomain("label key prefix", key.substr(0, slash));
    if (!status.ok()) return status;
    return validateName("label key name", key.substr(slash + 1), false);
  }
  return validateName("label key", key, false);
}

absl::Status validateLabelValue(std::string_view value) {
  return validateName("label value", value, true);
}

absl::Status validateLabels(const Labels& labels) {
  for (const auto& [key, value] : labels) {
    auto status = validateLabelKey(key);
    if (status.ok()) status = validateLabelValue(value);
    if (!status.ok()) {
      return absl::InvalidArgumentError(fmt::format("label \"{}\": {}", key, errorMessage(status)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Labels> parseLabelList(std::string_view text) {
  Labels labels;
  for (std::string_view item : split(text, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          fmt::format("label \"{}\" must be written key=value", item));
    }
    std::string key(trim(item.substr(0, eq)));
    std::string value(trim(item.substr(eq + 1)));
    labels[key] = value;
  }
  auto status = validateLabels(labels);
  if (!status.ok()) return status;
  return labels;
}

absl::StatusOr<LabelSelector> LabelSelector::parse(std::string_view text) {
  LabelSelector selector;
  // Split on commas outside parentheses.
  std::vector<std::string_view> terms;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      terms.push_back(text.substr(start, i - start));
      start = i + 1;
    } else if (text[i] == '(') {
      ++depth;
    } else if (text[i] == ')') {
      --depth;
    }
  }
  auto bad = [&](std::string_view term, std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("label selector \"{}\": term \"{}\": {}", text, term, why));
  };
  for (std::string_view raw : terms) {
    std::string_view term = trim(raw);
    if (term.empty()) {
      if (terms.size() == 1) break;
      return bad(term, "empty term");
    }
    Requirement req;
    if (term.front() == '!') {
      req.op = Op::kNotExists;
      req.key = std::string(trim(term.substr(1)));
    } else if (size_t pos = term.find("!="); pos != std::string_view::npos) {
      req.op = Op::kNotEquals;
      req.key = std::string(trim(term.substr(0, pos)));
      req.values.emplace_back(trim(term.substr(pos + 2)));
    } else if (size_t pos = term.find('='); pos != std::string_view::npos) {
      req.op = Op::kEquals;
      size_t vstart = pos + 1;
      if (vstart < term.size() && term[vstart] == '=') ++vstart;
      req.key = std::string(trim(term.substr(0, pos)));
      req.values.emplace_back(trim(term.substr(vstart)));
    } else if (size_t paren = term.find('('); paren != std::string_view::npos) {
      if (term.back() != ')') return bad(term, "missing ')'");
      std::vector<std::string_view> words = split(trim(term.substr(0, paren)), ' ', true);
      if (words.size() != 2 || (words[1] != "in" && words[1] != "notin")) {
        return bad(term, "expected 'key in (...)' or 'key notin (...)'");
      }
      req.key = std::string(words[0]);
      req.op = words[1] == "in" ? Op::kIn : Op::kNotIn;
      std::string_view list = term.substr(paren + 1, term.size() - paren - 2);
      for (std::string_view v : split(list, ',')) {
        req.values.emplace_back(trim(v));
      }
    } else {
      req.op = Op::kExists;
      req.key = std::string(term);
    }
    if (auto status = validateLabelKey(req.key); !status.ok())
      return bad(term, errorMessage(status));
    for (const auto& v : req.values) {
      if (auto status = validateLabelValue(v); !status.ok()) return bad(term, errorMessage(status));
    }
    selector.requirements_.push_back(std::move(req));
  }
  return selector;
}

bool LabelSelector::matches(const Labels& labels) const {
  for (const auto& req : requirements_) {
    auto it = labels.find(req.key);
    const bool has = it != labels.end();
    auto in_values = [&] {
      return has && std::find(req.values.begin(), req.values.end(), it->second) != req.values.end();
    };
    bool ok = false;
    switch (req.op) {
      case Op::kEquals:
      case Op::kIn:
        ok = in_values();
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        ok = !in_values();
        break;
      case Op::kExists:
        ok = has;
        break;
      case Op::kNotExists:
        ok = !has;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

std::string LabelSelector::toString() const {
  std::vector<std::string> parts;
  for (const auto& req : requirements_) {
    switch (req.op) {
      case Op::kEquals:
        parts.push_back(fmt::format("{}={}", req.key, req.values[0]));
        break;
      case Op::kNotEquals:
        parts.push_back(fmt::format("{}!={}", req.key, req.values[0]));
        break;
      case Op::kIn:
        parts.push_back(fmt::format("{} in ({})", req.key, join(req.values, ",")));
        break;
      case Op::kNotIn:
        parts.push_back(fmt::format("{} notin ({})", req.key, join(req.values, ",")));
        break;
      case Op::kExists:
        parts.push_back(req.key);
        break;
      case Op::kNotExists:
        parts.push_back("!" + req.key);
        break;
    }
  }
  return join(parts, ",");
}

}  // namespace coral::common
