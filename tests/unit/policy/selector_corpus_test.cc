// Runs the selector fuzz target's seed corpus (tests/fuzz/policy/selector_corpus) through
// the fuzz entry point, so its property checks run with every build, not only under
// CORAL_FUZZ. A failed property aborts with the check that failed.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(SelectorCorpusTest, SeedsPassFuzzChecks) {
  const std::filesystem::path dir = CORAL_SELECTOR_CORPUS_DIR;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0);
    ++count;
  }
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
