// Runs the selector fuzz target's seed corpus (tests/fuzz/policy/selector_corpus) through
// the fuzz entry point, so its property checks run with every build, not only under
// CORAL_FUZZ. A failed property aborts with the check that failed.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/fuzz_corpus.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(SelectorCorpusTest, SeedsPassFuzzChecks) {
  const std::filesystem::path dir = CORAL_SELECTOR_CORPUS_DIR;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  const int count = coral::testing::replayCorpus(dir, LLVMFuzzerTestOneInput);
  EXPECT_GE(count, 30) << "seed corpus in " << dir << " is missing files";
}

// Inputs that are not worth keeping as files but must hold the same properties.
TEST(SelectorCorpusTest, GeneratedInputsPassFuzzChecks) {
  const std::string inputs[] = {
      std::string(5000, '('),
      std::string(5000, '!'),
      std::string(101, '(') + "has(a)" + std::string(101, ')'),
      std::string(100, '(') + "has(a)" + std::string(100, ')'),
      std::string("a == '") + std::string(4000, 'x') + "'",
      std::string("app == 'x'\0 && b == 'y'", 23),
  };
  for (const std::string& input : inputs) {
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size()),
              0);
  }
}

}  // namespace
