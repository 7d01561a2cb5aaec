#include "model/meta.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace coral::model {
namespace {

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

absl::Status validateObjectName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("must not be empty");
  if (name.size() > 253) return absl::InvalidArgumentError("is longer than 253 characters");
  for (std::string_view part : split(name, '.')) {
    if (part.empty() || !isLowerAlnum(part.front()) || !isLowerAlnum(part.back())) {
      return absl::InvalidArgumentError(fmt::format(
          "\"{}\" is not a valid name: lowercase letters, digits, '-' and '.', starting and "
          "ending with a letter or digit",
          name));
    }
    for (char c : part) {
      if (!isLowerAlnum(c) && c != '-') {
        return absl::InvalidArgumentError(fmt::format(
            "\"{}\" is not a valid name: character '{}' is not allowed (lowercase letters, "
            "digits, '-' and '.')",
            name, c));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status validateNamespaceName(std::string_view name) {
  if (name.size() > 63) return absl::InvalidArgumentError("is longer than 63 characters");
  if (name.find('.') != std::string_view::npos) {
    return absl::InvalidArgumentError(fmt::format("\"{}\" must not contain '.'", name));
  }
  return validateObjectName(name);
}

void ObjectMeta::validate(Validation& v) const {
  if (auto s = validateObjectName(name); !s.ok()) v.at("name").error(errorMessage(s));
  if (!namespace_.empty()) {
    if (auto s = validateNamespaceName(namespace_); !s.ok()) {
      v.at("namespace").error(errorMessage(s));
    }
  }
  for (const auto& [key, value] : labels) {
    auto s = common::validateLabelKey(key);
    if (s.ok()) s = common::validateLabelValue(value);
    if (!s.ok()) v.at("labels").at(key).error(errorMessage(s));
  }
}

std::string Resource::displayName() const {
  if (metadata.namespace_.empty()) return fmt::format("{} \"{}\"", kind, metadata.name);
  return fmt::format("{} \"{}/{}\"", kind, metadata.namespace_, metadata.name);
}

}  // namespace coral::model
