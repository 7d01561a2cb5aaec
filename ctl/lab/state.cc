#include "ctl/lab/state.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "model/codec.h"

namespace coral::lab {

std::string labDir(const std::string& name) {
  const char* base = std::getenv("CORAL_LAB_DIR");
  return fmt::format("{}/{}", base && *base ? base : kLabBaseDir, name);
}

std::string netnsName(const std::string& lab, const std::string& what) {
  return fmt::format("coral-{}-{}", lab, what);
}

absl::Status LabState::save() const {
  const std::string path = dir + "/state.json";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << model::writeValue(*this).dump(2) << '\n';
    if (!out) return absl::InternalError(fmt::format("cannot write {}", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(fmt::format("cannot write {}: {}", path, ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<LabState> LabState::load(const std::string& dir) {
  std::ifstream in(dir + "/state.json");
  if (!in) return absl::NotFoundError(fmt::format("no lab state in {}", dir));
  std::stringstream ss;
  ss << in.rdbuf();
  auto json = model::Json::parse(ss.str(), nullptr, false);
  if (json.is_discarded())
    return absl::DataLossError(fmt::format("{}/state.json is not JSON", dir));
  model::Validation v;
  LabState state = model::readObject<LabState>(json, v);
  if (!v.ok()) {
    return absl::DataLossError(fmt::format("{}/state.json: {}", dir, join(v.errors(), "; ")));
  }
  return state;
}

const LabNode* LabState::node(const std::string& name) const {
  for (const auto& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

const LabPod* LabState::pod(const std::string& ns, const std::string& name) const {
  for (const auto& p : pods) {
    if (p.pod_namespace == ns && p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace coral::lab
