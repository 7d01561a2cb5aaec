// JSON reader and writer for described structs (see field.h).
//
// Reading checks types, required fields, enum values, integer ranges and unknown
// fields, and reports every problem with its field path ("spec.ports[1].port: ...").
// Writing omits empty values (absent optionals, empty strings, lists and maps, false,
// zero) unless the field is required, so read(write(x)) == x.
#pragma once

#include <fmt/format.h>

#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "model/field.h"

namespace coral::model {

using Json = nlohmann::json;

std::string_view jsonTypeName(const Json& j);

// Structs that keep fields they do not know (Kubernetes objects Coral only reads part of)
// declare `static constexpr bool kAllowUnknownFields = true;`.
template <typename T>
constexpr bool allowsUnknownFields() {
  if constexpr (requires { T::kAllowUnknownFields; }) {
    return T::kAllowUnknownFields;
  } else {
    return false;
  }
}

template <typename T>
void readValue(const Json& j, T& out, Validation& v, const FieldInfo& info);

namespace detail {

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};
template <typename T>
struct IsStringMap : std::false_type {};
template <typename T>
struct IsStringMap<std::map<std::string, T>> : std::true_type {};

class ObjectReader {
 public:
  ObjectReader(const Json& j, Validation& v) : j_(j), v_(v) {}

  template <typename T>
  void operator()(std::string_view name, T& member, const FieldInfo& info = {}) {
    seen_.insert(std::string(name));
    auto it = j_.find(std::string(name));
    if (it == j_.end()) {
      if (info.required) v_.at(name).error("required field is missing");
      return;
    }
    Validation child = v_.at(name);
    readValue(*it, member, child, info);
  }

  void checkUnknown() {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!seen_.contains(it.key())) v_.at(it.key()).error("unknown field");
    }
  }

 private:
  const Json& j_;
  Validation& v_;
  std::set<std::string> seen_;
};

class ObjectWriter {
 public:
  explicit ObjectWriter(Json& out) : out_(out) {}
  template <typename T>
  void operator()(std::string_view name, T& member, const FieldInfo& info = {});

 private:
  Json& out_;
};

}  // namespace detail

template <typename T>
void readValue(const Json& j, T& out, Validation& v, const FieldInfo& info) {
  using detail::IsOptional, detail::IsVector, detail::IsStringMap;
  if constexpr (IsOptional<T>::value) {
    if (j.is_null()) {
      out.reset();
      return;
    }
    out.emplace();
    readValue(j, *out, v, info);
  } else if constexpr (std::is_same_v<T, Json>) {
    out = j;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) {
      v.error(fmt::format("expected a string, got {}", jsonTypeName(j)));
      return;
    }
    out = j.get<std::string>();
    if (info.enum_values.size() != 0) {
      bool found = false;
      std::string allowed;
      for (const char* e : info.enum_values) {
        if (out == e) found = true;
        allowed += allowed.empty() ? e : fmt::format(", {}", e);
      }
      if (!found) v.error(fmt::format("\"{}\" is not one of: {}", out, allowed));
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) {
      v.error(fmt::format("expected true or false, got {}", jsonTypeName(j)));
      return;
    }
    out = j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!j.is_number_integer()) {
      v.error(fmt::format("expected an integer, got {}", jsonTypeName(j)));
      return;
    }
    int64_t value = 0;
    if (j.is_number_unsigned()) {
      const uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        v.error(fmt::format("{} is too large", u));
        return;
      }
      value = static_cast<int64_t>(u);
    } else {
      value = j.get<int64_t>();
    }
    int64_t lo = std::is_signed_v<T> ? static_cast<int64_t>(std::numeric_limits<T>::min()) : 0;
    int64_t hi =
        std::numeric_limits<T>::max() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
            ? std::numeric_limits<int64_t>::max()
            : static_cast<int64_t>(std::numeric_limits<T>::max());
    if (info.minimum) lo = std::max(lo, *info.minimum);
    if (info.maximum) hi = std::min(hi, *info.maximum);
    if (value < lo || value > hi) {
      v.error(fmt::format("{} is out of range ({}-{})", value, lo, hi));
      return;
    }
    out = static_cast<T>(value);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number()) {
      v.error(fmt::format("expected a number, got {}", jsonTypeName(j)));
      return;
    }
    out = j.get<T>();
  } else if constexpr (std::is_same_v<T, IntOrString>) {
    if (j.is_number_integer()) {
      out = IntOrString(j.get<int64_t>());
    } else if (j.is_string()) {
      out = IntOrString(j.get<std::string>());
    } else {
      v.error(fmt::format("expected an integer or a string, got {}", jsonTypeName(j)));
    }
  } else if constexpr (IsVector<T>::value) {
    if (!j.is_array()) {
      v.error(fmt::format("expected a list, got {}", jsonTypeName(j)));
      return;
    }
    out.clear();
    out.resize(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
      Validation child = v.at(i);
      readValue(j[i], out[i], child, FieldInfo{.enum_values = info.enum_values});
    }
  } else if constexpr (IsStringMap<T>::value) {
    if (!j.is_object()) {
      v.error(fmt::format("expected a map, got {}", jsonTypeName(j)));
      return;
    }
    out.clear();
    for (auto it = j.begin(); it != j.end(); ++it) {
      Validation child = v.at(it.key());
      readValue(it.value(), out[it.key()], child, FieldInfo{});
    }
  } else {
    static_assert(Described<T>, "field type is not supported by the model codec");
    if (!j.is_object()) {
      v.error(fmt::format("expected an object, got {}", jsonTypeName(j)));
      return;
    }
    out = T{};
    detail::ObjectReader reader(j, v);
    out.describe(reader);
    if constexpr (!allowsUnknownFields<T>()) reader.checkUnknown();
    if constexpr (SelfValidating<T>) {
      if (v.ok()) out.validate(v);
    }
  }
}

// True when the writer would omit this value.
template <typename T>
bool isEmptyValue(const T& value) {
  using detail::IsOptional, detail::IsVector, detail::IsStringMap;
  if constexpr (IsOptional<T>::value) {
    return !value.has_value();
  } else if constexpr (std::is_same_v<T, Json>) {
    return value.is_null();
  } else if constexpr (std::is_same_v<T, std::string> || IsVector<T>::value ||
                       IsStringMap<T>::value) {
    return value.empty();
  } else if constexpr (std::is_same_v<T, bool> || std::is_arithmetic_v<T>) {
    return value == T{};
  } else if constexpr (std::is_same_v<T, IntOrString>) {
    return false;
  } else {
    return false;  // nested objects are written when present; empty ones as {}
  }
}

template <typename T>
Json writeValue(const T& value) {
  using detail::IsOptional, detail::IsVector, detail::IsStringMap;
  if constexpr (IsOptional<T>::value) {
    return value ? writeValue(*value) : Json(nullptr);
  } else if constexpr (std::is_same_v<T, Json>) {
    return value;
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                       std::is_arithmetic_v<T>) {
    return Json(value);
  } else if constexpr (std::is_same_v<T, IntOrString>) {
    return value.isInt() ? Json(value.intValue()) : Json(value.stringValue());
  } else if constexpr (IsVector<T>::value) {
    Json out = Json::array();
    for (const auto& item : value) out.push_back(writeValue(item));
    return out;
  } else if constexpr (IsStringMap<T>::value) {
    Json out = Json::object();
    for (const auto& [k, item] : value) out[k] = writeValue(item);
    return out;
  } else {
    static_assert(Described<T>, "field type is not supported by the model codec");
    Json out = Json::object();
    detail::ObjectWriter writer(out);
    const_cast<T&>(value).describe(writer);  // the writer only reads
    return out;
  }
}

template <typename T>
void detail::ObjectWriter::operator()(std::string_view name, T& member, const FieldInfo& info) {
  if (!info.required && isEmptyValue(member)) return;
  out_[std::string(name)] = writeValue(member);
}

// Decodes a described struct; the errors name field paths under `path`.
template <typename T>
T readObject(const Json& j, Validation& v) {
  T out{};
  readValue(j, out, v, FieldInfo{});
  return out;
}

}  // namespace coral::model
