// coralctl bgp peers | routes [PREFIX]: reads coral-bgpd's JSON-lines status socket and
// prints a table (default) or the JSON answer (-o json).
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace coral::ctl {

struct BgpOptions {
  std::string socket = "/run/coral-bgpd.sock";
  std::string output;   // "" (table) | json
  std::string command;  // peers | routes
  std::string prefix;
};

// Adds `bgp` with its two subcommands; returns it so main can test parsed().
CLI::App* addBgpCommand(CLI::App& app, BgpOptions& options);
int runBgp(const BgpOptions& options, std::ostream& out, std::ostream& err);

}  // namespace coral::ctl
