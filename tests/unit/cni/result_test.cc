// coral-cni's results per CNI version against golden JSON (tests/unit/cni/golden/), round
// trips through parseResult, and the error and VERSION documents.
// CORAL_UPDATE_GOLDEN=1 rewrites the golden files (review the diff before committing).
#include "cni/result.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "cni/error.h"
#include "cni/version.h"
#include "tests/unit/cni/pod_result.h"

namespace coral::cni {
namespace {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void expectGolden(const std::string& actual, const std::string& name) {
  const std::filesystem::path path = std::filesystem::path(CORAL_CNI_GOLDEN_DIR) / name;
  if (std::getenv("CORAL_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
  }
  EXPECT_EQ(actual, readFile(path)) << "golden " << path;
}

TEST(CniResultTest, GoldenPerVersion) {
  for (std::string_view version : supportedVersions()) {
    SCOPED_TRACE(version);
    expectGolden(formatResult(testing::podResult(), version) + "\n",
                 "result-" + std::string(version) + ".json");
  }
}

TEST(CniResultTest, MinimalResult) {
  Result result;
  result.ips.push_back({"10.0.0.1/32", "", std::nullopt});
  EXPECT_EQ(formatResult(result, "1.0.0"),
            R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/32"}],"dns":{}})");
  EXPECT_EQ(formatResult(result, "0.3.1"),
            R"({"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.1/32"}],"dns":{}})");
  EXPECT_EQ(formatResult(Result{}, "1.0.0"), R"({"cniVersion":"1.0.0","dns":{}})");
}

TEST(CniResultTest, RoundTripsInEveryVersion) {
  for (std::string_view version : supportedVersions()) {
    SCOPED_TRACE(version);
    Result want = testing::podResult();
    if (compareVersions(version, "1.1.0") < 0) {
      for (Interface& iface : want.interfaces) iface.mtu.reset();  // 1.1.0 added it
    }
    const auto parsed = parseResult(formatResult(testing::podResult(), version), version);
    ASSERT_TRUE(parsed.ok()) << parsed.error().details;
    EXPECT_EQ(parsed.value(), want);
  }
}

TEST(CniResultTest, ParsesReferencePluginOutput) {
  // As ptp + host-local print it for 0.4.0 (gateway, version, interface, dns {}).
  const auto parsed = parseResult(
      R"({"cniVersion":"0.4.0","interfaces":[{"name":"veth1","mac":"aa:bb:cc:dd:ee:ff"},
          {"name":"eth0","mac":"11:22:33:44:55:66","sandbox":"/var/run/netns/p"}],
          "ips":[{"version":"4","interface":1,"address":"10.1.1.2/24","gateway":"10.1.1.1"}],
          "routes":[{"dst":"0.0.0.0/0"}],"dns":{}})",
      "0.4.0");
  ASSERT_TRUE(parsed.ok()) << parsed.error().details;
  EXPECT_EQ(parsed.value().ips[0].interface, 1);
  EXPECT_EQ(parsed.value().routes[0].gw, "");
}

TEST(CniResultTest, ErrorDocument) {
  EXPECT_EQ(formatError(makeError(kTryAgainLater, "corald is down", "socket x"), "0.4.0"),
            R"({"cniVersion":"0.4.0","code":11,"msg":"corald is down","details":"socket x"})");
  EXPECT_EQ(formatError(makeError(kInvalidNetworkConfig, "bad \"name\""), "1.0.0"),
            R"({"cniVersion":"1.0.0","code":7,"msg":"bad \"name\""})");
}

TEST(CniResultTest, VersionDocument) {
  EXPECT_EQ(
      formatVersionInfo("1.0.0"),
      R"({"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})");
  EXPECT_LT(compareVersions("0.3.1", "0.4.0"), 0);
  EXPECT_EQ(compareVersions("1.0.0", "1.0.0"), 0);
  EXPECT_GT(compareVersions("1.10.0", "1.9.0"), 0);
}

}  // namespace
}  // namespace coral::cni
