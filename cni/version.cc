// Supported CNI versions, numeric version comparison and the VERSION answer.
#include "cni/version.h"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace coral::cni {
namespace {

constexpr std::array<std::string_view, 5> kVersions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

int part(const std::vector<std::string_view>& parts, size_t i) {
  if (i >= parts.size()) return 0;
  return parseInt<int>(parts[i]).value_or(0);
}

}  // namespace

std::span<const std::string_view> supportedVersions() { return kVersions; }

std::string_view latestVersion() { return kVersions.back(); }

bool isSupportedVersion(std::string_view version) {
  return std::find(kVersions.begin(), kVersions.end(), version) != kVersions.end();
}

int compareVersions(std::string_view a, std::string_view b) {
  const auto pa = split(a, '.');
  const auto pb = split(b, '.');
  for (size_t i = 0; i < 3; ++i) {
    const int x = part(pa, i), y = part(pb, i);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

std::string formatVersionInfo(std::string_view cni_version) {
  nlohmann::ordered_json out;
  out["cniVersion"] = std::string(cni_version);
  auto& list = out["supportedVersions"] = nlohmann::ordered_json::array();
  for (std::string_view v : kVersions) list.push_back(std::string(v));
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace coral::cni
