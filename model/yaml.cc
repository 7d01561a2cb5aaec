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

// True for the plain scalars a YAML 1.1 reader (kubectl's go-yaml v2, PyYAML) resolves to
// something other than a string: booleans (yes/no/on/off/y/n), integers with underscores,
// 0b/0o/0x or sexagesimal digits (64512:10), floats, timestamps, null, merge and value
// keys. We read YAML 1.2 ourselves, but what `get -o yaml` writes must mean the same to
// those tools, so such strings are quoted.
bool isYaml11NonString(const std::string& s) {
  static const std::regex kBool(
      "y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF");
  static const std::regex kInt(
      "[-+]?(0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*|[1-9][0-9_]*(:[0-5]?[0-9])+)");
  static const std::regex kFloat(
      "[-+]?([0-9][0-9_]*)?\\.[0-9_.]*([eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-"
      "9_]*|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+");
  static const std::regex kTimestamp("[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt \\t].*)?");
  static const std::regex kNull("~|null|Null|NULL");
  return s == "<<" || s == "=" || std::regex_match(s, kBool) || std::regex_match(s, kInt) ||
         std::regex_match(s, kFloat) || std::regex_match(s, kTimestamp) ||
         std::regex_match(s, kNull);
}

bool needsQuotes(const std::string& s) {
  if (s.empty()) return true;
  return !plainScalar(s).is_string() || isYaml11NonString(s);
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
  // Split at document markers ourselves rather than with YAML::LoadAll, so a syntax error
  // in one document does not hide the others and each error names its own line. A marker
  // is "---" at the start of a line, alone or followed by a space or tab; the rest of its
  // line ("--- {kind: IPPool}", "--- !tag", "--- |") is the start of the next document,
  // kept in place by blanking the marker so line and column numbers stay right.
  struct Chunk {
    int base;  // line of the chunk's first line (error marks count from it)
    int line;  // line where the document's content starts
    std::string text;
  };
  std::vector<Chunk> chunks{{1, 1, ""}};
  int line_no = 0;
  for (std::string_view line : split(text, '\n')) {
    ++line_no;
    std::string_view trimmed = line;
    if (!trimmed.empty() && trimmed.back() == '\r') trimmed.remove_suffix(1);
    const bool separator = trimmed.substr(0, 3) == "---" &&
                           (trimmed.size() == 3 || trimmed[3] == ' ' || trimmed[3] == '\t');
    if (separator) {
      const std::string_view rest = trimmed.substr(3);
      const std::string_view content = trim(rest);
      const bool starts_here = !content.empty() && content[0] != '#';
      chunks.push_back({line_no, starts_here ? line_no : line_no + 1, "   "});
      chunks.back().text.append(rest);
      chunks.back().text.push_back('\n');
      continue;
    }
    if (trimmed == "..." || trimmed.starts_with("... ") || trimmed.starts_with("...\t")) continue;
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
      // Load (syntax) or toJson (duplicate key) threw; toJson runs after the index was
      // taken, so count this document only if that had not happened yet.
      if (doc.index == 0) doc.index = ++index;
      doc.json = absl::InvalidArgumentError(
          fmt::format("YAML syntax error at line {}, column {}: {}", chunk.base + e.mark.line,
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
