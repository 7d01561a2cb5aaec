// Runs every file of the fuzz seed corpus (tests/fuzz/bgp/corpus) through the decoder,
// under each session flavour, so the corpus is exercised in normal CI. Files named
// valid-* must decode without error; every other file just must not crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "bgp/wire/message.h"

namespace coral::bgp {
namespace {

std::vector<uint8_t> readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(BgpWireCorpus, EveryFileDecodesSafely) {
  const std::filesystem::path dir = CORAL_BGP_CORPUS_DIR;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  size_t files = 0, valid = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto bytes = readFile(entry.path());
    const std::string name = entry.path().filename().string();
    for (const SessionContext ctx :
         {SessionContext{true, true, 65000, 65001}, SessionContext{false, true, 65000, 65001},
          SessionContext{true, false, 65000, 65000}}) {
      const auto result = decodeMessage(bytes, ctx);
      if (name.rfind("valid-", 0) == 0 && ctx.is_ebgp && ctx.four_octet_as) {
        EXPECT_EQ(result.action(), ErrorAction::kNone)
            << name << ": " << formatError(*strongestError(result.errors));
      }
    }
    ++files;
    valid += name.rfind("valid-", 0) == 0;
  }
  EXPECT_GE(files, 20u);
  EXPECT_GE(valid, 5u);
}

}  // namespace
}  // namespace coral::bgp
