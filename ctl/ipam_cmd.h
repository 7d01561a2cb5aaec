// coralctl ipam show / check / release / gc: IPAM state for operators, over the datastore.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>
#include <vector>

#include "datastore/resource_store.h"

namespace coral::ctl {

class IpamCommands {
 public:
  // Registers `ipam` and its subcommands on `app`; the object lives as long as `app`.
  explicit IpamCommands(CLI::App& app);
  bool parsed() const { return ipam_->parsed(); }
  // Runs the parsed subcommand; returns the process exit code.
  int run(datastore::ResourceStore& store, std::ostream& out, std::ostream& err);

 private:
  CLI::App* ipam_;
  CLI::App* show_;
  CLI::App* check_;
  CLI::App* release_;
  CLI::App* gc_;
  bool show_blocks_ = false;
  std::string output_;
  std::vector<std::string> release_ips_;
  std::string from_report_;
  bool force_ = false;
  int grace_s_ = 60;
  bool verbose_ = false;
};

// `coralctl ipam check` exit codes, like fsck and linters: scripts can tell "found
// something" from "could not look".
inline constexpr int kCheckConsistent = 0;
inline constexpr int kCheckFindings = 1;  // leaks, orphans, duplicates, out of pool, ...
inline constexpr int kCheckError = 2;     // the datastore could not be read, bad flags

int runIpamShow(datastore::ResourceStore& store, bool show_blocks, std::ostream& out,
                std::ostream& err);
int runIpamCheck(datastore::ResourceStore& store, const std::string& output, std::ostream& out,
                 std::ostream& err);
int runIpamRelease(datastore::ResourceStore& store, const std::vector<std::string>& ips,
                   const std::string& from_report, bool force, std::ostream& out,
                   std::ostream& err);
int runIpamGc(datastore::ResourceStore& store, int grace_s, std::ostream& out, std::ostream& err);

}  // namespace coral::ctl
