#include "ctl/lab/config.h"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/strings.h"
#include "model/codec.h"
#include "model/yaml.h"

namespace coral::lab {

LabConfig defaultLabConfig() {
  LabConfig c;
  c.dcs = {
      {.name = "dc1",
       .router_as = 65001,
       .node_as = 64601,
       .underlay = "10.101.0.0/24",
       .pods = "10.244.0.0/17",
       .pods_v6 = "fd00:244:1::/56",
       .underlay_v6 = "fd00:100:1::/64",
       .nodes = 2},
      {.name = "dc2",
       .router_as = 65002,
       .node_as = 64602,
       .underlay = "10.102.0.0/24",
       .pods = "10.244.128.0/17",
       .pods_v6 = "fd00:244:2::/56",
       .underlay_v6 = "fd00:100:2::/64",
       .nodes = 2},
  };
  return c;
}

void LabConfig::validate(model::Validation& v) const {
  if (name.empty() || name.size() > 12) v.at("name").error("must be 1-12 characters");
  for (char c : name) {
    if (!std::islower(static_cast<unsigned char>(c)) &&
        !std::isdigit(static_cast<unsigned char>(c))) {
      v.at("name").error(fmt::format("\"{}\": lowercase letters and digits only", name));
      break;
    }
  }
  if (dcs.empty() || dcs.size() > 2)
    v.at("dcs").error("1 or 2 data centers (two are joined by one WAN link)");
  std::set<std::string> names;
  for (size_t i = 0; i < dcs.size(); ++i) {
    const auto& dc = dcs[i];
    auto at = v.at("dcs").at(i);
    if (!names.insert(dc.name).second) at.at("name").error(fmt::format("\"{}\" twice", dc.name));
    if (dc.name.size() > 4)
      at.at("name").error("at most 4 characters (it is part of interface names)");
    auto underlay = common::Prefix::parse(dc.underlay);
    if (!underlay.ok())
      at.at("underlay").error(errorMessage(underlay.status()));
    else if (!underlay->isV4() || underlay->length() > 28)
      at.at("underlay").error("an IPv4 /28 or larger");
    if (auto p = common::Prefix::parse(dc.pods); !p.ok())
      at.at("pods").error(errorMessage(p.status()));
    if (!dc.pods_v6.empty()) {
      if (auto p = common::Prefix::parse(dc.pods_v6); !p.ok())
        at.at("podsV6").error(errorMessage(p.status()));
      else if (p->isV4())
        at.at("podsV6").error("an IPv6 range");
    }
    if (!dc.underlay_v6.empty()) {
      auto p = common::Prefix::parse(dc.underlay_v6);
      if (!p.ok())
        at.at("underlayV6").error(errorMessage(p.status()));
      else if (p->isV4() || p->length() > 120)
        at.at("underlayV6").error("an IPv6 /120 or larger");
    }
  }
  if ((bgp == "mesh" || bgp == "rr") && encapsulation != "None")
    v.at("bgp").error(bgp + " needs encapsulation None (encapsulated labs run no BGP)");
  auto wan_prefix = common::Prefix::parse(wan);
  if (!wan_prefix.ok()) v.at("wan").error(errorMessage(wan_prefix.status()));
  if (!wan_v6.empty()) {
    auto p = common::Prefix::parse(wan_v6);
    if (!p.ok())
      v.at("wanV6").error(errorMessage(p.status()));
    else if (p->isV4() || p->length() > 126)
      v.at("wanV6").error("an IPv6 /126 or larger");
  }
  // No two lab ranges may overlap.
  auto ranges = labRanges(*this);
  for (size_t i = 0; i < ranges.size(); ++i) {
    for (size_t j = i + 1; j < ranges.size(); ++j) {
      if (ranges[i].overlaps(ranges[j])) {
        v.error(
            fmt::format("ranges {} and {} overlap", ranges[i].toString(), ranges[j].toString()));
      }
    }
  }
}

std::vector<common::Prefix> labRanges(const LabConfig& config) {
  std::vector<common::Prefix> out;
  auto add = [&](const std::string& s) {
    if (auto p = common::Prefix::parse(s); p.ok()) out.push_back(*p);
  };
  add(config.wan);
  if (!config.wan_v6.empty()) add(config.wan_v6);
  for (const auto& dc : config.dcs) {
    add(dc.underlay);
    if (!dc.underlay_v6.empty()) add(dc.underlay_v6);
    add(dc.pods);
    if (!dc.pods_v6.empty()) add(dc.pods_v6);
  }
  return out;
}

absl::StatusOr<LabConfig> loadLabConfig(const std::string& path) {
  model::Json json = model::Json::object();
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(fmt::format("lab config {}: cannot read", path));
    std::stringstream ss;
    ss << in.rdbuf();
    auto docs = model::parseYamlDocuments(ss.str());
    if (docs.size() != 1 || !docs[0].json.ok()) {
      return absl::InvalidArgumentError(fmt::format(
          "lab config {}: {}", path,
          docs.empty()
              ? "empty"
              : (docs.size() > 1 ? "one document expected" : errorMessage(docs[0].json.status()))));
    }
    json = *docs[0].json;
  }
  if (!json.contains("dcs")) json["dcs"] = model::writeValue(defaultLabConfig().dcs);
  model::Validation v;
  LabConfig config = model::readObject<LabConfig>(json, v);
  if (!v.ok()) {
    return absl::InvalidArgumentError(fmt::format(
        "lab config {}: {}", path.empty() ? "(defaults)" : path, join(v.errors(), "; ")));
  }
  return config;
}

}  // namespace coral::lab
