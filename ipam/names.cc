// Naming of IPAM records; see names.h.
#include "ipam/names.h"

#include <fmt/format.h>

#include "model/meta.h"

namespace coral::ipam {
namespace {

std::string dashed(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '.' || c == ':' || c == '/') c = '-';
  }
  // "::1/128" would start with '-': a name must start with a letter or digit.
  if (!out.empty() && out.front() == '-') out.insert(out.begin(), '0');
  return out;
}

uint32_t fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

}  // namespace

std::string blockName(const common::Prefix& block) { return dashed(block.toString()); }

std::string affinityName(std::string_view node, const common::Prefix& block) {
  return fmt::format("{}-{}", node, blockName(block));
}

std::string handleIdFor(std::string_view container_id, std::string_view ifname) {
  return fmt::format("{}.{}", container_id, ifname);
}

std::string handleName(std::string_view handle_id) {
  if (model::validateObjectName(handle_id).ok()) return std::string(handle_id);
  std::string folded;
  for (char c : handle_id) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    folded += ok ? c : '-';
  }
  while (!folded.empty() && (folded.front() == '-' || folded.front() == '.')) folded.erase(0, 1);
  if (folded.size() > 200) folded.resize(200);
  while (!folded.empty() && (folded.back() == '-' || folded.back() == '.')) folded.pop_back();
  // Dots in the folded id may leave empty or dash-edged parts: keep only safe characters.
  for (size_t i = 0; i + 1 < folded.size(); ++i) {
    if (folded[i] == '.' && (folded[i + 1] == '.' || folded[i + 1] == '-')) folded[i] = '-';
    if (folded[i] == '-' && folded[i + 1] == '.') folded[i + 1] = '-';
  }
  return fmt::format("{}{}h{:08x}", folded, folded.empty() ? "" : "-", fnv1a(handle_id));
}

std::string hostAffinity(std::string_view node) { return fmt::format("host:{}", node); }

std::string_view affinityNode(std::string_view affinity) {
  constexpr std::string_view kHost = "host:";
  if (affinity.substr(0, kHost.size()) != kHost) return {};
  return affinity.substr(kHost.size());
}

}  // namespace coral::ipam
