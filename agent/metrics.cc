#include "agent/metrics.h"

#include <fmt/format.h>

namespace coral::agent {

void Metrics::add(const std::string& series, double delta) {
  std::lock_guard lock(mu_);
  values_[series] += delta;
}

void Metrics::set(const std::string& series, double value) {
  std::lock_guard lock(mu_);
  values_[series] = value;
}

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard lock(mu_);
  families_[name] = {type, help};
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  std::string current_family;
  for (const auto& [series, value] : values_) {
    const std::string family = series.substr(0, series.find('{'));
    if (family != current_family) {
      current_family = family;
      if (auto it = families_.find(family); it != families_.end()) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family, it->second.second, family,
                           it->second.first);
      }
    }
    out += fmt::format("{} {}\n", series, value);
  }
  return out;
}

}  // namespace coral::agent
