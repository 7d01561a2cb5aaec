#include "common/log.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/clock.h"

namespace coral {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { log::setSink(&out_); }
  void TearDown() override {
    log::setSink(nullptr);
    log::setFormat(log::Format::kText);
    log::setLevel(log::Level::kInfo);
  }
  std::ostringstream out_;
};

TEST_F(LogTest, WritesKeyValueText) {
  log::info("block claimed", {{"node", "n1"}, {"count", 3}, {"ok", true}, {"why", "a b"}});
  const std::string line = out_.str();
  EXPECT_NE(line.find("level=info msg=\"block claimed\" node=n1 count=3 ok=true why=\"a b\"\n"),
            std::string::npos)
      << line;
}

TEST_F(LogTest, WritesJsonLines) {
  log::setFormat(log::Format::kJson);
  log::warn("x\"y", {{"k", "v\n"}});
  EXPECT_NE(out_.str().find("\"level\":\"warn\",\"msg\":\"x\\\"y\",\"k\":\"v\\n\"}"),
            std::string::npos)
      << out_.str();
}

TEST_F(LogTest, FiltersByLevel) {
  log::setLevel(log::Level::kWarn);
  log::info("hidden");
  EXPECT_TRUE(out_.str().empty());
  log::Level level;
  EXPECT_TRUE(log::parseLevel("debug", &level));
  EXPECT_EQ(level, log::Level::kDebug);
  EXPECT_FALSE(log::parseLevel("loud", &level));
}

TEST(ClockTest, FakeClockMovesOnlyWhenAdvanced) {
  common::FakeClock clock;
  auto t0 = clock.now();
  EXPECT_EQ(clock.now(), t0);
  clock.advance(std::chrono::seconds(5));
  EXPECT_EQ(clock.now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(common::formatRfc3339(clock.wallNow()), "2023-11-14T22:13:25Z");
}

}  // namespace
}  // namespace coral
