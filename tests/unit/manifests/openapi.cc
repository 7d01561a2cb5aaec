#include "tests/unit/manifests/openapi.h"

#include <fmt/format.h>

#include <regex>
#include <set>

namespace coral::manifests_test {
namespace {

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

const std::set<std::string>& knownKeywords() {
  static const std::set<std::string> k = {"type",
                                          "format",
                                          "description",
                                          "properties",
                                          "required",
                                          "items",
                                          "additionalProperties",
                                          "enum",
                                          "minimum",
                                          "maximum",
                                          "pattern",
                                          "default",
                                          "anyOf",
                                          "allOf",
                                          "oneOf",
                                          "not",
                                          "minLength",
                                          "maxLength",
                                          "minItems",
                                          "maxItems",
                                          "nullable",
                                          "title",
                                          "example",
                                          "exclusiveMinimum",
                                          "exclusiveMaximum",
                                          "multipleOf",
                                          "minProperties",
                                          "maxProperties",
                                          "x-kubernetes-int-or-string",
                                          "x-kubernetes-preserve-unknown-fields",
                                          "x-kubernetes-embedded-resource",
                                          "x-kubernetes-list-type",
                                          "x-kubernetes-list-map-keys",
                                          "x-kubernetes-map-type",
                                          "x-kubernetes-validations"};
  return k;
}

bool isIntOrStringAnyOf(const Json& s) {
  return s == Json::parse(R"([{"type":"integer"},{"type":"string"}])");
}

void structural(const Json& s, const std::string& path, bool root,
                std::vector<std::string>& errors) {
  auto err = [&](const std::string& m) { errors.push_back(fmt::format("{}: {}", path, m)); };
  if (!s.is_object()) {
    err("a schema must be an object");
    return;
  }
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (!knownKeywords().contains(it.key())) err(fmt::format("unknown keyword {}", it.key()));
  }
  const bool int_or_string = s.value("x-kubernetes-int-or-string", false);
  const bool preserve = s.contains("x-kubernetes-preserve-unknown-fields");
  if (preserve && s["x-kubernetes-preserve-unknown-fields"] != true)
    err("x-kubernetes-preserve-unknown-fields must be true when present");
  if (s.contains("x-kubernetes-int-or-string") && !int_or_string)
    err("x-kubernetes-int-or-string must be true when present");
  if (int_or_string) {
    if (s.contains("type")) err("x-kubernetes-int-or-string forbids type");
    if (s.contains("anyOf") && !isIntOrStringAnyOf(s["anyOf"]))
      err("x-kubernetes-int-or-string allows only anyOf [integer, string]");
    if (s.contains("allOf") || s.contains("oneOf") || s.contains("not"))
      err("x-kubernetes-int-or-string allows no allOf/oneOf/not");
  } else {
    for (const char* k : {"anyOf", "allOf", "oneOf", "not"}) {
      if (s.contains(k))
        err(fmt::format("{} is only used here with x-kubernetes-int-or-string", k));
    }
    if (!s.contains("type") && !preserve) err("type is required (structural schema)");
  }
  std::string type = s.value("type", "");
  if (s.contains("type")) {
    static const std::set<std::string> types = {"object",  "array",  "string",
                                                "integer", "number", "boolean"};
    if (!s["type"].is_string() || !types.contains(type)) err("type must be one of the six");
  }
  if (s.contains("properties") && s.contains("additionalProperties"))
    err("properties and additionalProperties are mutually exclusive");
  if (s.contains("additionalProperties")) {
    if (!s["additionalProperties"].is_object())
      err("additionalProperties must be a schema (a boolean is not structural)");
    else
      structural(s["additionalProperties"], join(path, "additionalProperties"), false, errors);
  }
  if ((s.contains("properties") || s.contains("additionalProperties") || s.contains("required")) &&
      type != "object")
    err("properties/additionalProperties/required need type object");
  if (s.contains("items") != (type == "array")) err("items if and only if type array");
  if (s.contains("items")) {
    if (!s["items"].is_object())
      err("items must be one schema");
    else
      structural(s["items"], join(path, "items"), false, errors);
  }
  if (s.contains("properties")) {
    for (auto it = s["properties"].begin(); it != s["properties"].end(); ++it) {
      structural(it.value(), join(path, "properties." + it.key()), false, errors);
    }
  }
  if (s.contains("required")) {
    for (const auto& r : s["required"]) {
      if (!r.is_string() || !s.contains("properties") ||
          !s["properties"].contains(r.get<std::string>()))
        err(fmt::format("required {} is not a property", r.dump()));
    }
  }
  if (s.contains("enum")) {
    if (!s["enum"].is_array() || s["enum"].empty()) err("enum must be a non-empty list");
    for (const auto& e : s["enum"]) {
      if (!validateAgainstSchema(e, Json{{"type", type}}).empty())
        err(fmt::format("enum value {} is not a {}", e.dump(), type));
    }
  }
  if (s.contains("pattern")) {
    if (type != "string") err("pattern needs type string");
    try {
      std::regex re(s["pattern"].get<std::string>(), std::regex::ECMAScript);
    } catch (const std::exception& e) {
      err(fmt::format("pattern does not compile: {}", e.what()));
    }
  }
  if ((s.contains("minimum") || s.contains("maximum")) && type != "integer" && type != "number")
    err("minimum/maximum need a numeric type");
  if (s.contains("x-kubernetes-list-type") && type != "array") err("list-type needs an array");
  if (s.contains("x-kubernetes-map-type") && type != "object") err("map-type needs an object");
  if (s.contains("default")) {
    if (root) err("no default at the root");
    Json without = s;
    without.erase("default");
    for (const auto& e : validateAgainstSchema(s["default"], without))
      err(fmt::format("default does not validate: {}", e));
  }
  if (s.contains("nullable") && !s["nullable"].is_boolean()) err("nullable must be a boolean");
}

bool isDnsSubdomain(const std::string& name) {
  static const std::regex re(
      R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  return !name.empty() && name.size() <= 253 && std::regex_match(name, re);
}

}  // namespace

std::vector<std::string> structuralErrors(const Json& schema) {
  std::vector<std::string> errors;
  structural(schema, "openAPIV3Schema", true, errors);
  if (schema.value("type", "") != "object")
    errors.push_back("openAPIV3Schema: type must be object");
  if (schema.contains("properties")) {
    const Json& p = schema["properties"];
    for (const char* k : {"apiVersion", "kind"}) {
      if (p.contains(k) && p[k] != Json{{"type", "string"}})
        errors.push_back(fmt::format("openAPIV3Schema.properties.{}: only type string", k));
    }
    if (p.contains("metadata")) {
      const Json& m = p["metadata"];
      for (auto it = m.begin(); it != m.end(); ++it) {
        if (it.key() != "type" && it.key() != "properties")
          errors.push_back("openAPIV3Schema.properties.metadata: only type and name/generateName");
      }
      if (m.value("type", "") != "object")
        errors.push_back("openAPIV3Schema.properties.metadata: type must be object");
      if (m.contains("properties")) {
        for (auto it = m["properties"].begin(); it != m["properties"].end(); ++it) {
          if (it.key() != "name" && it.key() != "generateName")
            errors.push_back("openAPIV3Schema.properties.metadata: only name/generateName");
        }
      }
    }
  }
  return errors;
}

std::vector<std::string> validateAgainstSchema(const Json& v, const Json& s,
                                               const std::string& path) {
  std::vector<std::string> errors;
  auto err = [&](const std::string& m) {
    errors.push_back(fmt::format("{}: {}", path.empty() ? "<root>" : path, m));
  };
  if (v.is_null()) {
    // The API server drops nulls of non-nullable fields before validating.
    if (!s.value("nullable", false) && !path.empty()) return errors;
  }
  if (s.value("x-kubernetes-int-or-string", false)) {
    if (!v.is_number_integer() && !v.is_string()) err("must be an integer or a string");
    return errors;
  }
  const std::string type = s.value("type", "");
  if (type.empty() && s.value("x-kubernetes-preserve-unknown-fields", false)) return errors;
  if (type == "object") {
    if (!v.is_object()) {
      err("must be an object");
      return errors;
    }
    const bool preserve = s.value("x-kubernetes-preserve-unknown-fields", false);
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string child = join(path, it.key());
      if (s.contains("properties") && s["properties"].contains(it.key())) {
        auto e = validateAgainstSchema(it.value(), s["properties"][it.key()], child);
        errors.insert(errors.end(), e.begin(), e.end());
      } else if (s.contains("additionalProperties")) {
        auto e = validateAgainstSchema(it.value(), s["additionalProperties"], child);
        errors.insert(errors.end(), e.begin(), e.end());
      } else if (!preserve) {
        errors.push_back(fmt::format("{}: unknown field", child));  // strict field validation
      }
    }
    for (const auto& r : s.value("required", Json::array())) {
      const std::string key = r.get<std::string>();
      if (!v.contains(key) || v[key].is_null())
        errors.push_back(fmt::format("{}: Required value", join(path, key)));
    }
    return errors;
  }
  if (type == "array") {
    if (!v.is_array()) {
      err("must be an array");
      return errors;
    }
    for (size_t i = 0; i < v.size(); ++i) {
      auto e = validateAgainstSchema(v[i], s["items"], fmt::format("{}[{}]", path, i));
      errors.insert(errors.end(), e.begin(), e.end());
    }
    return errors;
  }
  if (type == "string" && !v.is_string()) err("must be a string");
  if (type == "integer" && !v.is_number_integer()) err("must be an integer");
  if (type == "number" && !v.is_number()) err("must be a number");
  if (type == "boolean" && !v.is_boolean()) err("must be a boolean");
  if (!errors.empty()) return errors;
  if (s.contains("enum")) {
    bool found = false;
    for (const auto& e : s["enum"]) found = found || e == v;
    if (!found) err(fmt::format("{} is not one of {}", v.dump(), s["enum"].dump()));
  }
  if (v.is_number()) {
    if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>())
      err(fmt::format("{} is less than the minimum {}", v.dump(), s["minimum"].dump()));
    if (s.contains("maximum") && v.get<double>() > s["maximum"].get<double>())
      err(fmt::format("{} is more than the maximum {}", v.dump(), s["maximum"].dump()));
    // The API server stores integers as int64 and rejects what does not fit.
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      err("does not fit in int64");
  }
  if (v.is_string() && s.contains("pattern")) {
    const std::regex re(s["pattern"].get<std::string>(), std::regex::ECMAScript);
    if (!std::regex_search(v.get<std::string>(), re))
      err(fmt::format("\"{}\" does not match {}", v.get<std::string>(), s["pattern"].dump()));
  }
  return errors;
}

std::vector<std::string> validateCustomResource(const Json& r, const Json& crd) {
  std::vector<std::string> errors;
  const Json& spec = crd["spec"];
  const std::string group = spec["group"];
  const Json* version = nullptr;
  for (const auto& ver : spec["versions"]) {
    if (r.value("apiVersion", "") == group + "/" + ver["name"].get<std::string>()) version = &ver;
  }
  if (version == nullptr) {
    errors.push_back(fmt::format("apiVersion {} is not served", r.value("apiVersion", "")));
    return errors;
  }
  if (r.value("kind", "") != spec["names"]["kind"]) errors.push_back("kind does not match");
  const Json meta = r.value("metadata", Json::object());
  const std::string name = meta.value("name", "");
  if (!isDnsSubdomain(name))
    errors.push_back(fmt::format("metadata.name: \"{}\" is not a DNS-1123 subdomain", name));
  if (spec["scope"] == "Cluster" && meta.contains("namespace"))
    errors.push_back("metadata.namespace: cluster-scoped resources have no namespace");
  Json body = r;
  body.erase("metadata");
  auto e = validateAgainstSchema(body, (*version)["schema"]["openAPIV3Schema"]);
  errors.insert(errors.end(), e.begin(), e.end());
  return errors;
}

}  // namespace coral::manifests_test
