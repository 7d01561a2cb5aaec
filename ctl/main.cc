// coralctl: the operator's command line. Global flags and subcommands; each command's
// work lives in its own file.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "common/strings.h"
#include "ctl/bgp_cmd.h"
#include "ctl/ipam_cmd.h"
#include "ctl/lab_cmd.h"
#include "ctl/node_cmd.h"
#include "ctl/policy_cmd.h"
#include "ctl/resources.h"
#include "datastore/backend.h"
#include "datastore/resource_store.h"

namespace {

std::string defaultDatastore() {
  const char* env = std::getenv("CORAL_DATASTORE");
  return env && *env ? env : std::string(coral::datastore::kDefaultDatastoreUrl);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace coral;
  CLI::App app{"coralctl: manage a Coral network fabric"};
  app.require_subcommand(1);
  std::string datastore_url = defaultDatastore();
  app.add_option("--datastore", datastore_url,
                 "Datastore URL: file:///var/lib/coral (default), etcd://host:port or "
                 "etcd+unix:///path/to/socket (also from CORAL_DATASTORE)");

  std::vector<std::string> apply_files;
  auto* apply = app.add_subcommand("apply", "Create or update resources from YAML or JSON");
  apply->add_option("-f,--filename", apply_files, "File, directory or - for stdin")->required();

  ctl::GetOptions get_opts;
  auto* get = app.add_subcommand("get", "List or show resources");
  get->add_option("kind", get_opts.kind, "Resource type (ippools, bgppeers, nodes, ...)")
      ->required();
  get->add_option("names", get_opts.names, "Names (all when omitted)");
  get->add_option("-n,--namespace", get_opts.ns, "Namespace (default: default)");
  get->add_flag("-A,--all-namespaces", get_opts.all_namespaces, "Every namespace");
  get->add_option("-o,--output", get_opts.output, "wide | yaml | json | name");
  get->add_option("-l,--selector", get_opts.selector, "Label selector, e.g. app=web,tier!=db");

  ctl::DeleteOptions del_opts;
  auto* del = app.add_subcommand("delete", "Delete resources by file or by kind and name");
  del->add_option("-f,--filename", del_opts.files, "File, directory or - for stdin");
  del->add_option("kind", del_opts.kind, "Resource type");
  del->add_option("names", del_opts.names, "Names");
  del->add_option("-n,--namespace", del_opts.ns, "Namespace (default: default)");
  del->add_flag("--ignore-not-found", del_opts.ignore_not_found, "Succeed when already gone");

  auto* version = app.add_subcommand("version", "Print the version");
  ctl::IpamCommands ipam_cmds(app);
  ctl::PolicyCommands policy_cmds(app);
  ctl::BgpOptions bgp_opts;
  auto* bgp_cmd = ctl::addBgpCommand(app, bgp_opts);
  ctl::LabCommands lab_cmds(app);
  ctl::NodeCommands node_cmds(app);

  CLI11_PARSE(app, argc, argv);

  if (version->parsed()) {
    std::cout << "coralctl " << CORAL_VERSION << '\n';
    return 0;
  }

  if (lab_cmds.parsed()) return lab_cmds.run(std::cout, std::cerr);
  if (node_cmds.parsed()) return node_cmds.run(std::cout, std::cerr);

  if (bgp_cmd->parsed()) return ctl::runBgp(bgp_opts, std::cout, std::cerr);
  // A read (get) must not create a store where there is none, as kubectl and calicoctl
  // fail rather than invent an empty cluster; it says how to point at the right one.
  datastore::OpenOptions open_options;
  open_options.create_if_missing = !get->parsed();
  auto backend = datastore::openBackend(datastore_url, open_options);
  if (!backend.ok()) {
    std::cerr << fmt::format("error: datastore {}: {}\n", datastore_url,
                             errorMessage(backend.status()));
    if (datastore::isNotFound(backend.status())) {
      std::cerr << "Choose the datastore with --datastore URL or CORAL_DATASTORE "
                   "(file:///path, etcd://host:port, kubernetes), or apply a resource to "
                   "create this one.\n";
    }
    return 1;
  }
  datastore::ResourceStore store(**backend);
  if (apply->parsed()) return ctl::runApply(store, apply_files, std::cout, std::cerr);
  if (get->parsed()) return ctl::runGet(store, get_opts, std::cout, std::cerr);
  if (del->parsed()) return ctl::runDelete(store, del_opts, std::cout, std::cerr);
  if (ipam_cmds.parsed()) return ipam_cmds.run(store, std::cout, std::cerr);
  if (policy_cmds.parsed()) return policy_cmds.run(store, std::cout, std::cerr);
  return 1;
}
