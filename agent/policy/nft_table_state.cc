// Reading the shape and counters of table inet coral (see nft_table_state.h).
#include "agent/policy/nft_table_state.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace coral::agent {
namespace {

using nlohmann::json;

absl::StatusOr<json> parseListing(std::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.contains("nftables") || !doc["nftables"].is_array()) {
    return absl::InvalidArgumentError("nft JSON listing: not an {\"nftables\": [...]} document");
  }
  return doc;
}

std::string verdictOf(const json& exprs) {
  std::string out;
  for (const auto& e : exprs) {
    if (!e.is_object()) continue;
    for (const char* v : {"drop", "accept", "return", "jump", "log", "vmap"}) {
      if (e.contains(v)) out = v;
    }
    if (e.contains("mangle")) continue;
  }
  return out;
}

// The text of `comment "..."` at the end of a rendered rule line.
std::string renderedComment(std::string_view line) {
  const size_t at = line.rfind("comment \"");
  if (at == std::string_view::npos) return "";
  std::string_view rest = line.substr(at + 9);
  const size_t end = rest.rfind('"');
  return std::string(end == std::string_view::npos ? rest : rest.substr(0, end));
}

}  // namespace

absl::StatusOr<NftTableShape> shapeFromJson(std::string_view text) {
  auto doc = parseListing(text);
  if (!doc.ok()) return doc.status();
  NftTableShape shape;
  for (const auto& item : (*doc)["nftables"]) {
    if (item.contains("chain")) {
      shape.chains[item["chain"].value("name", "")];  // empty chains exist too
    } else if (item.contains("rule")) {
      const auto& r = item["rule"];
      shape.chains[r.value("chain", "")].push_back(r.value("comment", ""));
    } else if (item.contains("set") || item.contains("map")) {
      const auto& s = item.contains("set") ? item["set"] : item["map"];
      bool interval = false;
      if (s.contains("flags")) {
        for (const auto& f : s["flags"]) interval = interval || f == "interval";
      }
      const size_t count = s.contains("elem") ? s["elem"].size() : 0;
      shape.elements[s.value("name", "")] = interval ? NftTableShape::kUncounted : count;
    }
  }
  return shape;
}

NftTableShape shapeFromRendered(std::string_view text) {
  NftTableShape shape;
  std::string chain, set;
  bool in_elements = false, interval = false;
  size_t count = 0;
  for (std::string_view raw : split(text, '\n')) {
    const std::string_view line = trim(raw);
    if (line.starts_with("chain ") && line.ends_with("{")) {
      chain = std::string(trim(line.substr(6, line.size() - 7)));
      shape.chains[chain];
    } else if ((line.starts_with("set ") || line.starts_with("map ")) && line.ends_with("{")) {
      set = std::string(trim(line.substr(4, line.size() - 5)));
      count = 0;
      interval = false;
    } else if (line == "elements = {") {
      in_elements = true;
    } else if (line == "}") {
      if (in_elements) {
        in_elements = false;
      } else if (!set.empty()) {
        shape.elements[set] = interval ? NftTableShape::kUncounted : count;
        set.clear();
      } else {
        chain.clear();
      }
    } else if (in_elements) {
      ++count;
    } else if (!set.empty()) {
      if (line == "flags interval") interval = true;
    } else if (!chain.empty() && !line.starts_with("type ") && !line.empty()) {
      shape.chains[chain].push_back(renderedComment(line));
    }
  }
  return shape;
}

std::string describeDifference(const NftTableShape& want, const NftTableShape& got) {
  for (const auto& [name, rules] : want.chains) {
    auto it = got.chains.find(name);
    if (it == got.chains.end()) return fmt::format("chain \"{}\" is missing", name);
    if (it->second != rules) {
      return fmt::format("chain \"{}\": {} rules, expected {}", name, it->second.size(),
                         rules.size());
    }
  }
  for (const auto& [name, rules] : got.chains) {
    if (!want.chains.count(name)) return fmt::format("chain \"{}\" is not ours", name);
  }
  for (const auto& [name, count] : want.elements) {
    auto it = got.elements.find(name);
    if (it == got.elements.end()) return fmt::format("set \"{}\" is missing", name);
    if (it->second != count) {
      return fmt::format("set \"{}\": {} elements, expected {}", name, it->second, count);
    }
  }
  for (const auto& [name, count] : got.elements) {
    if (!want.elements.count(name)) return fmt::format("set \"{}\" is not ours", name);
  }
  return "";
}

absl::StatusOr<std::vector<RuleCounter>> countersFromJson(std::string_view text) {
  auto doc = parseListing(text);
  if (!doc.ok()) return doc.status();
  std::vector<RuleCounter> out;
  for (const auto& item : (*doc)["nftables"]) {
    if (!item.contains("rule")) continue;
    const auto& r = item["rule"];
    RuleCounter c;
    c.chain = r.value("chain", "");
    c.comment = r.value("comment", "");
    if (r.contains("expr")) {
      c.verdict = verdictOf(r["expr"]);
      for (const auto& e : r["expr"]) {
        if (e.is_object() && e.contains("counter") && e["counter"].is_object()) {
          c.packets = e["counter"].value("packets", uint64_t{0});
          c.bytes = e["counter"].value("bytes", uint64_t{0});
          break;
        }
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace coral::agent
