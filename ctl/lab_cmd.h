// coralctl lab up / down / pod add|del / exec / status / matrix / graph.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace coral::ctl {

class LabCommands {
 public:
  // Registers `lab` and its subcommands on `app`; the object lives as long as `app`.
  explicit LabCommands(CLI::App& app);
  bool parsed() const { return lab_->parsed(); }
  // Runs the parsed subcommand (no datastore needed: the lab has its own).
  int run(std::ostream& out, std::ostream& err);

 private:
  CLI::App* lab_;
  CLI::App* up_;
  CLI::App* down_;
  CLI::App* pod_;
  CLI::App* pod_add_;
  CLI::App* pod_del_;
  CLI::App* exec_;
  CLI::App* node_restart_;
  bool kill_ = false;
  CLI::App* node_add_;
  CLI::App* node_del_;
  std::string node_dc_;  // lab node add --dc
  bool force_ = false;   // lab node del --force
  CLI::App* status_;
  CLI::App* matrix_;
  CLI::App* graph_;
  std::string name_ = "demo";
  std::string config_path_;
  std::string encapsulation_;  // lab up --encapsulation
  std::string datastore_;      // lab up --datastore
  std::string bgp_;            // lab up --bgp
  bool verbose_ = false;
  std::string pod_name_;
  std::string pod_node_;
  std::string pod_ns_ = "default";
  std::string pod_labels_;
  std::vector<std::string> exec_args_;
  std::string graph_out_ = "lab.svg";
  int port_ = 80;
  bool ipv6_ = false;  // lab matrix --ipv6
};

}  // namespace coral::ctl
