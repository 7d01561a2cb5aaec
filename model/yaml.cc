#include "model/yaml.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <regex>

#include "common/strings.h"
#include "model/registry.h"

namespace coral::model {
namespace {

// YAML 1.2 core schema for plain scalars.
Json plainScalar(const std::string& s) {
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kHex("0x[0-9a-fA-F]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (std::regex_match(s, kInt)) {
    if (s[0] == '-') {
      if (auto v = parseInt<int64_t>(s)) return *v;
    } else if (auto v = parseInt<uint64_t>(s[0] == '+' ? s.substr(1) : s)) {
      return *v;
    }
    return s;  // out of range: keep the text
  }
  if (std::regex_match(s, kHex)) {
    return static_cast<uint64_t>(std::stoull(s.substr(2), nullptr, 16));
  }
  if (std::regex_match(s, kFloat)) return std::stod(s);
  if (s == ".inf" || s == "+.inf") return HUGE_VAL;
  if (s == "-.inf") return -HUGE_VAL;
  return s;
}

Json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!" and plain ones "?".
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return node.Scalar();
      return plainScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(toJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) {
        const std::string key = kv.first.Scalar();
        if (out.contains(key)) {
          throw YAML::ParserException(kv.first.Mark(), fmt::format("duplicate key \"{}\"", key));
        }
        out[key] = toJson(kv.second);
      }
      return out;
    }
  }
  return nullptr;
}

bool needsQuotes(const std::string& s) {
  if (s.empty()) return true;
  const Json as_plain = plainScalar(s);
  return !as_plain.is_string();
}

void emit(YAML::Emitter& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      out << YAML::BeginMap;
      for (auto it = j.begin(); it != j.end(); ++it) {
        out << YAML::Key << it.key() << YAML::Value;
        emit(out, it.value());
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : j) emit(out, item);
      out << YAML::EndSeq;
      break;
    case Json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      if (needsQuotes(s)) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case Json::value_t::boolean:
      out << j.get<bool>();
      break;
    case Json::value_t::number_integer:
      out << j.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:
      out << j.get<uint64_t>();
      break;
    case Json::value_t::number_float:
      out << j.dump();
      break;
    default:
      out << YAML::Null;
  }
}

}  // namespace

std::vector<YamlDocument> parseYamlDocuments(std::string_view text) {
  // Split at lines that start a new document ("---" alone or followed by a space).
  struct Chunk {
    int line;
    std::string text;
  };
  std::vector<Chunk> chunks{{1, ""}};
  int line_no = 0;
  for (std::string_view line : split(text, '\n')) {
    ++line_no;
    std::string_view trimmed = line;
    if (!trimmed.empty() && trimmed.back() == '\r') trimmed.remove_suffix(1);
    const bool separator =
        trimmed.substr(0, 3) == "---" && (trimmed.size() == 3 || trimmed[3] == ' ');
    if (separator) {
      chunks.push_back({line_no + 1, ""});
      continue;
    }
    if (trimmed == "...") continue;
    chunks.back().text.append(line);
    chunks.back().text.push_back('\n');
  }
  std::vector<YamlDocument> docs;
  int index = 0;
  for (auto& chunk : chunks) {
    YamlDocument doc;
    doc.line = chunk.line;
    try {
      YAML::Node node = YAML::Load(chunk.text);
      if (node.IsNull() || !node.IsDefined()) continue;  // empty document
      doc.index = ++index;
      doc.json = toJson(node);
    } catch (const YAML::Exception& e) {
      doc.index = ++index;
      doc.json = absl::InvalidArgumentError(
          fmt::format("YAML syntax error at line {}, column {}: {}", chunk.line + e.mark.line,
                      e.mark.column + 1, e.msg));
    }
    docs.push_back(std::move(doc));
  }
  return docs;
}

std::string jsonToYaml(const Json& json) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, json);
  return std::string(out.c_str()) + "\n";
}

absl::StatusOr<Resource> resourceFromJson(const Json& json) {
  Validation v;
  Resource r = readObject<Resource>(json, v);
  if (!v.ok()) {
    std::string name = "resource";
    if (json.is_object()) {
      const auto kind = json.value("kind", Json()).is_string() ? json["kind"].get<std::string>()
                                                               : std::string("resource");
      std::string meta_name;
      if (json.contains("metadata") && json["metadata"].is_object() &&
          json["metadata"].value("name", Json()).is_string()) {
        meta_name = json["metadata"]["name"].get<std::string>();
      }
      name = meta_name.empty() ? kind : fmt::format("{} \"{}\"", kind, meta_name);
    }
    return absl::InvalidArgumentError(fmt::format("{}: {}", name, join(v.errors(), "; ")));
  }
  return r;
}

Json resourceToJson(const Resource& resource) { return writeValue(resource); }

std::vector<ParsedResource> parseResources(std::string_view text) {
  std::vector<ParsedResource> out;
  for (auto& doc : parseYamlDocuments(text)) {
    auto add = [&](absl::StatusOr<Resource> r) {
      out.push_back(ParsedResource{doc.index, doc.line, std::move(r)});
    };
    if (!doc.json.ok()) {
      add(doc.json.status());
      continue;
    }
    const Json& j = *doc.json;
    if (j.is_object() && j.value("kind", Json()) == "List" && j.contains("items") &&
        j["items"].is_array()) {
      for (const auto& item : j["items"]) {
        auto r = resourceFromJson(item);
        if (r.ok()) {
          auto s = normalize(*r);
          if (!s.ok()) r = s;
        }
        add(std::move(r));
      }
      continue;
    }
    auto r = resourceFromJson(j);
    if (r.ok()) {
      auto s = normalize(*r);
      if (!s.ok()) r = s;
    }
    add(std::move(r));
  }
  return out;
}

}  // namespace coral::model
