// coral-gen-crds: prints the CustomResourceDefinitions of every coral.network kind as a
// YAML stream (model/crd.h). scripts/gen-manifests.sh is its only caller.
#include <cstdio>
#include <iostream>

#include "common/strings.h"
#include "model/crd.h"

int main() {
  auto yaml = coral::model::customResourceDefinitionsYaml();
  if (!yaml.ok()) {
    std::cerr << "coral-gen-crds: " << coral::errorMessage(yaml.status()) << "\n";
    return 1;
  }
  std::cout << *yaml;
  return std::cout.good() ? 0 : 1;
}
