// Replays a committed fuzz seed corpus through a fuzz target's entry point, one GoogleTest
// expectation per file, so the corpus runs in every normal (non-fuzzer) build.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace coral::testing {

// Returns how many files were replayed; each must make `fuzz` return 0.
inline int replayCorpus(const std::filesystem::path& dir,
                        int (*fuzz)(const uint8_t* data, size_t size)) {
  EXPECT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int count = 0;
  if (!std::filesystem::is_directory(dir)) return count;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(fuzz(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
    ++count;
  }
  return count;
}

}  // namespace coral::testing
