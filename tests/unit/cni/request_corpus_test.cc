// Replays the request fuzz target's seed corpus (tests/fuzz/cni/request_corpus) through
// its entry point, so the property checks run in every build, not only under CORAL_FUZZ.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/fuzz_corpus.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(CniRequestCorpusTest, SeedsPassFuzzChecks) {
  const std::filesystem::path dir = CORAL_CNI_CORPUS_DIR;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  const int count = coral::testing::replayCorpus(dir, LLVMFuzzerTestOneInput);
  EXPECT_GE(count, 15) << "seed corpus in " << dir << " is missing files";
}

TEST(CniRequestCorpusTest, GeneratedInputsPassFuzzChecks) {
  const std::string inputs[] = {
      "",
      "ADD",
      "ADD\n\n" + std::string(10000, '['),
      "ADD\n" + std::string(5000, ';') + "\n{}",
      std::string("ADD\n\n{\"cniVersion\":\"1.0.0\"\0}", 28),
      "ADD\n\n{\"cniVersion\":\"1.0.0\",\"name\":\"k\",\"type\":\"coral\",\"mtu\":1e400}",
  };
  for (const std::string& input : inputs) {
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size()),
              0);
  }
}

}  // namespace
