// coralctl apply / get / delete: resources in YAML or JSON, over any datastore.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "datastore/resource_store.h"

namespace coral::ctl {

struct GetOptions {
  std::string kind;
  std::vector<std::string> names;
  std::string ns;  // empty: "default" for namespaced kinds
  bool all_namespaces = false;
  std::string output;    // "" (table) | wide | yaml | json | name
  std::string selector;  // Kubernetes label selector
};

struct DeleteOptions {
  std::vector<std::string> files;  // -f
  std::string kind;
  std::vector<std::string> names;
  std::string ns;
  bool ignore_not_found = false;
};

// Each returns the process exit code and writes results to out, errors to err.
int runApply(datastore::ResourceStore& store, const std::vector<std::string>& files,
             std::ostream& out, std::ostream& err);
int runGet(datastore::ResourceStore& store, const GetOptions& options, std::ostream& out,
           std::ostream& err);
int runDelete(datastore::ResourceStore& store, const DeleteOptions& options, std::ostream& out,
              std::ostream& err);

}  // namespace coral::ctl
