#include "model/field.h"

#include <fmt/format.h>

#include "model/codec.h"

namespace coral::model {

Validation Validation::at(std::string_view field) const {
  // Keys with dots or slashes (label keys) are quoted so the path stays unambiguous.
  const bool plain = field.find_first_of("./[]\" ") == std::string_view::npos && !field.empty();
  std::string path = plain
                         ? (path_.empty() ? std::string(field) : fmt::format("{}.{}", path_, field))
                         : fmt::format("{}[\"{}\"]", path_, field);
  return Validation(std::move(path), errors_);
}

Validation Validation::at(size_t index) const {
  return Validation(fmt::format("{}[{}]", path_, index), errors_);
}

void Validation::error(std::string_view message) {
  if (path_.empty()) {
    errors_->emplace_back(message);
  } else if (!message.empty() && message.front() == '"') {
    errors_->push_back(fmt::format("{} {}", path_, message));
  } else {
    errors_->push_back(fmt::format("{}: {}", path_, message));
  }
}

std::string_view jsonTypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "a list";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a number";
    default:
      return "an unsupported value";
  }
}

}  // namespace coral::model
