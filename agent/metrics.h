// Metrics: a handful of named counters and gauges, rendered in the Prometheus text
// format for /metrics. Lock-free updates; labels are part of the series name.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace coral::agent {

class Metrics {
 public:
  // Adds to a counter, creating it on first use. `series` may carry labels:
  //   add("coral_cni_requests_total{op=\"add\",result=\"ok\"}", 1)
  void add(const std::string& series, double delta = 1.0);
  void set(const std::string& series, double value);
  // Declares HELP and TYPE for a metric family (name without labels).
  void describe(const std::string& name, const std::string& type, const std::string& help);
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, double> values_;
  std::map<std::string, std::pair<std::string, std::string>> families_;  // name → type, help
};

}  // namespace coral::agent
