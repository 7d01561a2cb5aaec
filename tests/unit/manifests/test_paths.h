// Test support: where the source tree and the build tree are (ctest sets
// CORAL_SOURCE_DIR and CORAL_BUILD_DIR), and small file helpers.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace coral::manifests_test {

inline std::filesystem::path sourceDir() {
  const char* dir = std::getenv("CORAL_SOURCE_DIR");
  return dir != nullptr ? dir : CORAL_SOURCE_DIR_DEFAULT;
}

inline std::filesystem::path buildDir() {
  const char* dir = std::getenv("CORAL_BUILD_DIR");
  return dir != nullptr ? dir : CORAL_BUILD_DIR_DEFAULT;
}

inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace coral::manifests_test
