// coralctl node status: what the local corald reports over its status gRPC service
// (the same unix socket as the CNI service): readiness, endpoints, routes, BGP peers.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>

namespace coral::ctl {

class NodeCommands {
 public:
  explicit NodeCommands(CLI::App& app);
  bool parsed() const { return node_->parsed(); }
  int run(std::ostream& out, std::ostream& err);

 private:
  CLI::App* node_;
  CLI::App* status_;
  std::string socket_ = "/var/run/coral/cni.sock";
  std::string output_;
};

}  // namespace coral::ctl
