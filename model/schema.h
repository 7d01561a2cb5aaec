// OpenAPI v3 schemas of described structs (field.h), in the structural form Kubernetes
// requires of a CustomResourceDefinition: a type at every level, properties or
// additionalProperties (never both), x-kubernetes-int-or-string for IntOrString and
// x-kubernetes-preserve-unknown-fields for free-form JSON and for structs that keep
// fields they do not know. The same describe() list that the reader checks produces the
// schema, so required fields, enums and integer ranges cannot drift apart; what only
// validate() knows (CIDR arithmetic, selector syntax, cross-field rules) is Coral's to
// check and not in the schema.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "model/codec.h"
#include "model/field.h"

namespace coral::model {

template <typename T>
Json schemaOf(const FieldInfo& info = {});

namespace detail {

class SchemaBuilder {
 public:
  explicit SchemaBuilder(Json& properties, Json& required)
      : properties_(properties), required_(required) {}

  template <typename T>
  void operator()(std::string_view name, T&, const FieldInfo& info = {}) {
    properties_[std::string(name)] = schemaOf<T>(info);
    if (info.required) required_.push_back(std::string(name));
  }

 private:
  Json& properties_;
  Json& required_;
};

// Adds what FieldInfo says about a scalar: enum, pattern, default, description.
inline void addFieldFacts(Json& schema, const FieldInfo& info) {
  if (info.enum_values.size() != 0) {
    Json values = Json::array();
    for (const char* e : info.enum_values) values.push_back(e);
    schema["enum"] = std::move(values);
  }
  if (info.pattern != nullptr) schema["pattern"] = info.pattern;
}

}  // namespace detail

template <typename T>
Json schemaOf(const FieldInfo& info) {
  using detail::IsOptional, detail::IsVector, detail::IsStringMap;
  Json schema = Json::object();
  if constexpr (IsOptional<T>::value) {
    return schemaOf<typename T::value_type>(info);
  } else if constexpr (std::is_same_v<T, Json>) {
    schema["x-kubernetes-preserve-unknown-fields"] = true;
  } else if constexpr (std::is_same_v<T, std::string>) {
    schema["type"] = "string";
    detail::addFieldFacts(schema, info);
  } else if constexpr (std::is_same_v<T, bool>) {
    schema["type"] = "boolean";
  } else if constexpr (std::is_integral_v<T>) {
    schema["type"] = "integer";
    schema["format"] = sizeof(T) <= 4 && std::is_signed_v<T> ? "int32" : "int64";
    // The same bounds the reader applies: the C++ type's range narrowed by FieldInfo.
    int64_t lo = std::is_signed_v<T> ? static_cast<int64_t>(std::numeric_limits<T>::min()) : 0;
    std::optional<int64_t> hi;
    if (std::numeric_limits<T>::max() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      hi = static_cast<int64_t>(std::numeric_limits<T>::max());
    if (info.minimum) lo = std::max(lo, *info.minimum);
    if (info.maximum) hi = hi ? std::min(*hi, *info.maximum) : *info.maximum;
    // An int64's natural range needs no bound (the API server's integers are int64).
    if (lo != std::numeric_limits<int64_t>::min()) schema["minimum"] = lo;
    if (hi && *hi != std::numeric_limits<int64_t>::max()) schema["maximum"] = *hi;
  } else if constexpr (std::is_floating_point_v<T>) {
    schema["type"] = "number";
  } else if constexpr (std::is_same_v<T, IntOrString>) {
    schema["x-kubernetes-int-or-string"] = true;
    schema["anyOf"] = Json::array({{{"type", "integer"}}, {{"type", "string"}}});
  } else if constexpr (IsVector<T>::value) {
    schema["type"] = "array";
    // Items inherit the enum, as the reader checks each item against it.
    schema["items"] = schemaOf<typename T::value_type>(
        FieldInfo{.enum_values = info.enum_values, .pattern = info.pattern});
  } else if constexpr (IsStringMap<T>::value) {
    schema["type"] = "object";
    schema["additionalProperties"] = schemaOf<typename T::mapped_type>();
  } else {
    static_assert(Described<T>, "field type is not supported by the schema generator");
    schema["type"] = "object";
    Json properties = Json::object();
    Json required = Json::array();
    detail::SchemaBuilder builder(properties, required);
    T probe{};
    probe.describe(builder);
    if (!properties.empty()) schema["properties"] = std::move(properties);
    if (!required.empty()) schema["required"] = std::move(required);
    if constexpr (allowsUnknownFields<T>()) schema["x-kubernetes-preserve-unknown-fields"] = true;
  }
  if (info.doc != nullptr && info.doc[0] != '\0') schema["description"] = info.doc;
  if (info.default_json != nullptr) schema["default"] = Json::parse(info.default_json);
  return schema;
}

}  // namespace coral::model
