// Table tests of coral-cni's request parsing: environment and stdin, every error code the
// parser gives (1, 4, 6, 7), CNI_ARGS, defaults and the Coral keys.
#include "cni/request.h"

#include <string>

#include <gtest/gtest.h>

namespace coral::cni {
namespace {

constexpr std::string_view kConfig10 =
    R"({"cniVersion":"1.0.0","name":"k8s-pod-network","type":"coral"})";

Environment addEnv() {
  return {{"CNI_COMMAND", "ADD"},
          {"CNI_CONTAINERID", "c0ffee01"},
          {"CNI_NETNS", "/var/run/netns/pod1"},
          {"CNI_IFNAME", "eth0"},
          {"CNI_PATH", "/opt/cni/bin"},
          {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;FOO=bar"}};
}

TEST(CniRequestTest, ParsesAddWithEverything) {
  const auto parsed =
      parseRequest(addEnv(),
                   R"({"cniVersion":"0.4.0","name":"k8s","type":"coral","socket":"/run/c.sock",
          "timeout_ms":1500,"log_level":"debug","mtu":1450,
          "prevResult":{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.0.2/32"}]}})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().msg << " " << parsed.error().details;
  const Request& r = parsed.value();
  EXPECT_EQ(r.command, Command::kAdd);
  EXPECT_EQ(r.container_id, "c0ffee01");
  EXPECT_EQ(r.netns, "/var/run/netns/pod1");
  EXPECT_EQ(r.ifname, "eth0");
  EXPECT_EQ(r.cni_path, "/opt/cni/bin");
  EXPECT_EQ(r.pod_namespace, "shop");
  EXPECT_EQ(r.pod_name, "web-0");
  ASSERT_EQ(r.args.size(), 4u);
  EXPECT_EQ(r.args[3], (std::pair<std::string, std::string>{"FOO", "bar"}));
  EXPECT_EQ(r.cni_version, "0.4.0");
  EXPECT_EQ(r.network_name, "k8s");
  EXPECT_EQ(r.socket_path, "/run/c.sock");
  EXPECT_EQ(r.timeout_ms, 1500u);
  EXPECT_EQ(r.log_level, "debug");
  EXPECT_EQ(r.mtu, 1450u);
  ASSERT_TRUE(r.prev_result.has_value());
  ASSERT_EQ(r.prev_result->ips.size(), 1u);
  EXPECT_EQ(r.prev_result->ips[0].address, "10.1.0.2/32");
}

TEST(CniRequestTest, Defaults) {
  Environment env = addEnv();
  env.erase("CNI_ARGS");
  auto parsed = parseRequest(env, kConfig10);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value().socket_path, "/var/run/coral/cni.sock");
  EXPECT_EQ(parsed.value().timeout_ms, 30000u);
  EXPECT_EQ(parsed.value().pod_namespace, "default");
  EXPECT_EQ(parsed.value().pod_name, "c0ffee01");
  EXPECT_FALSE(parsed.value().prev_result.has_value());
  EXPECT_FALSE(parsed.value().mtu.has_value());
  EXPECT_EQ(parsed.value().config_json, kConfig10);

  env["CNI_COMMAND"] = "DEL";
  parsed = parseRequest(env, kConfig10);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value().timeout_ms, 10000u);
}

TEST(CniRequestTest, DelWithoutNetnsIsValid) {
  Environment env = addEnv();
  env["CNI_COMMAND"] = "DEL";
  env.erase("CNI_NETNS");
  const auto parsed = parseRequest(env, kConfig10);
  ASSERT_TRUE(parsed.ok()) << parsed.error().msg;
  EXPECT_EQ(parsed.value().netns, "");
}

TEST(CniRequestTest, VersionNeedsNothing) {
  const Environment env = {{"CNI_COMMAND", "VERSION"}};
  for (std::string_view in :
       {"", "garbage", R"({"cniVersion":"0.3.1"})", R"({"cniVersion":"7"})"}) {
    const auto parsed = parseRequest(env, in);
    ASSERT_TRUE(parsed.ok()) << in;
    EXPECT_EQ(parsed.value().cni_version,
              in.find("0.3.1") != std::string_view::npos ? "0.3.1" : "1.1.0");
  }
}

TEST(CniRequestTest, StatusAndGcOn110) {
  const Environment status = {{"CNI_COMMAND", "STATUS"}};
  const std::string config11 = R"({"cniVersion":"1.1.0","name":"k8s","type":"coral"})";
  EXPECT_TRUE(parseRequest(status, config11).ok());
  const Environment gc = {{"CNI_COMMAND", "GC"}};
  const auto parsed = parseRequest(
      gc, R"({"cniVersion":"1.1.0","name":"k8s","type":"coral","cni.dev/valid-attachments":
             [{"containerID":"a1","ifname":"eth0"},{"containerID":"b2","ifname":"net1"}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().msg;
  EXPECT_EQ(parsed.value().valid_attachments,
            (std::vector<Attachment>{{"a1", "eth0"}, {"b2", "net1"}}));
}

struct ErrorCase {
  const char* name;
  Environment env;
  std::string stdin_text;
  uint32_t code;
  const char* msg_contains;
};

Environment with(Environment env, const std::string& key, const char* value) {
  if (value == nullptr) {
    env.erase(key);
  } else {
    env[key] = value;
  }
  return env;
}

std::string config(const std::string& extra, const std::string& version = "1.0.0") {
  return R"({"cniVersion":")" + version + R"(","name":"k8s","type":"coral")" + extra + "}";
}

TEST(CniRequestTest, ErrorCodes) {
  const Environment add = addEnv();
  const std::string good = config("");
  const ErrorCase cases[] = {
      // 4: the environment.
      {"no command", with(add, "CNI_COMMAND", nullptr), good, 4, "CNI_COMMAND is not set"},
      {"empty command", with(add, "CNI_COMMAND", ""), good, 4, "CNI_COMMAND is not set"},
      {"unknown command", with(add, "CNI_COMMAND", "ATTACH"), good, 4, "\"ATTACH\" is unknown"},
      {"no container id", with(add, "CNI_CONTAINERID", nullptr), good, 4, "CNI_CONTAINERID"},
      {"no netns on ADD", with(add, "CNI_NETNS", nullptr), good, 4, "CNI_NETNS is not set for ADD"},
      {"no netns on CHECK", with(with(add, "CNI_COMMAND", "CHECK"), "CNI_NETNS", nullptr), good, 4,
       "CNI_NETNS"},
      {"no ifname", with(add, "CNI_IFNAME", nullptr), good, 4, "CNI_IFNAME"},
      {"several missing", with(with(add, "CNI_IFNAME", nullptr), "CNI_NETNS", nullptr), good, 4,
       "CNI_NETNS, CNI_IFNAME are not set"},
      {"no ifname on DEL", with(with(add, "CNI_COMMAND", "DEL"), "CNI_IFNAME", nullptr), good, 4,
       "CNI_IFNAME"},
      {"bad container id", with(add, "CNI_CONTAINERID", "-abc"), good, 4, "invalid characters"},
      {"container id with slash", with(add, "CNI_CONTAINERID", "a/b"), good, 4, "CNI_CONTAINERID"},
      {"ifname too long", with(add, "CNI_IFNAME", "abcdefghijklmnop"), good, 4, "CNI_IFNAME"},
      {"ifname dot", with(add, "CNI_IFNAME", "."), good, 4, "CNI_IFNAME"},
      {"ifname slash", with(add, "CNI_IFNAME", "et/h0"), good, 4, "CNI_IFNAME"},
      {"args without =", with(add, "CNI_ARGS", "K8S_POD_NAME"), good, 4, "CNI_ARGS is malformed"},
      {"args empty key", with(add, "CNI_ARGS", "=v"), good, 4, "CNI_ARGS is malformed"},
      {"args unknown key", with(add, "CNI_ARGS", "K8S_POD_NAME=a;FOO=1"), good, 4,
       "unknown key \"FOO\""},
      {"args bad IgnoreUnknown", with(add, "CNI_ARGS", "IgnoreUnknown=maybe"), good, 4,
       "CNI_ARGS is malformed"},
      // 6: stdin is not JSON.
      {"empty stdin", add, "", 6, "not valid JSON"},
      {"truncated JSON", add, R"({"cniVersion":"1.0.0","name":)", 6, "not valid JSON"},
      {"binary", add, std::string("\x00\xff{", 3), 6, "not valid JSON"},
      // 7: the network configuration.
      {"array", add, "[1,2]", 7, "must be a JSON object"},
      {"no cniVersion", add, R"({"name":"k8s","type":"coral"})", 7, "cniVersion is missing"},
      {"cniVersion not string", add, R"({"cniVersion":1,"name":"k8s","type":"coral"})", 7,
       "cniVersion is missing"},
      {"no name", add, R"({"cniVersion":"1.0.0","type":"coral"})", 7, "name is missing"},
      {"bad name", add, R"({"cniVersion":"1.0.0","name":"a b","type":"coral"})", 7,
       "network name \"a b\" is invalid"},
      {"no type", add, R"({"cniVersion":"1.0.0","name":"k8s"})", 7, "type is missing"},
      {"wrong type", add, R"({"cniVersion":"1.0.0","name":"k8s","type":"calico"})", 7,
       "type \"calico\""},
      {"relative socket", add, config(R"(,"socket":"cni.sock")"), 7, "socket must be"},
      {"socket number", add, config(R"(,"socket":5)"), 7, "socket must be"},
      {"timeout zero", add, config(R"(,"timeout_ms":0)"), 7, "timeout_ms"},
      {"timeout negative", add, config(R"(,"timeout_ms":-5)"), 7, "timeout_ms"},
      {"timeout string", add, config(R"(,"timeout_ms":"5")"), 7, "timeout_ms"},
      {"timeout float", add, config(R"(,"timeout_ms":1.5)"), 7, "timeout_ms"},
      {"log level", add, config(R"(,"log_level":"loud")"), 7, "log_level"},
      {"mtu too big", add, config(R"(,"mtu":70000)"), 7, "mtu"},
      {"mtu string", add, config(R"(,"mtu":"1500")"), 7, "mtu"},
      {"prevResult not object", add, config(R"(,"prevResult":[])"), 7, "invalid prevResult"},
      {"prevResult bad address", add,
       config(R"(,"prevResult":{"ips":[{"address":"10.0.0.300/24"}]})"), 7, "invalid prevResult"},
      {"prevResult no prefix", add, config(R"(,"prevResult":{"ips":[{"address":"10.0.0.3"}]})"), 7,
       "invalid prevResult"},
      {"prevResult bad interface", add,
       config(R"(,"prevResult":{"ips":[{"address":"10.0.0.3/32","interface":0}]})"), 7,
       "invalid prevResult"},
      {"prevResult missing 0.4.0 version", add,
       config(R"(,"prevResult":{"ips":[{"address":"10.0.0.3/32"}]})", "0.4.0"), 7,
       "invalid prevResult"},
      {"prevResult wrong 0.3.1 version", add,
       config(R"(,"prevResult":{"ips":[{"version":"6","address":"10.0.0.3/32"}]})", "0.3.1"), 7,
       "invalid prevResult"},
      {"gc attachments shape",
       {{"CNI_COMMAND", "GC"}},
       config(R"(,"cni.dev/valid-attachments":[{"containerID":1}])", "1.1.0"),
       7,
       "valid-attachments"},
      // 1: versions.
      {"unknown version", add, config("", "2.0.0"), 1, "\"2.0.0\" is not supported"},
      {"0.2.0", add, config("", "0.2.0"), 1, "not supported"},
      {"garbage version", add, config("", "one"), 1, "not supported"},
      {"CHECK on 0.3.1", with(add, "CNI_COMMAND", "CHECK"), config("", "0.3.1"), 1,
       "CHECK needs cniVersion 0.4.0"},
      {"STATUS on 1.0.0",
       {{"CNI_COMMAND", "STATUS"}},
       config("", "1.0.0"),
       1,
       "STATUS needs cniVersion 1.1.0"},
      {"GC on 0.4.0", {{"CNI_COMMAND", "GC"}}, config("", "0.4.0"), 1, "GC needs"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    const auto parsed = parseRequest(c.env, c.stdin_text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, c.code) << parsed.error().msg;
    EXPECT_NE((parsed.error().msg + " " + parsed.error().details).find(c.msg_contains),
              std::string::npos)
        << parsed.error().msg << " | " << parsed.error().details;
  }
}

TEST(CniRequestTest, EnvironmentIsCheckedBeforeStdin) {
  const auto parsed = parseRequest(with(addEnv(), "CNI_IFNAME", nullptr), "not json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, kInvalidEnvironment);
}

TEST(CniRequestTest, CniArgs) {
  auto args = parseCniArgs("");
  ASSERT_TRUE(args.ok());
  EXPECT_TRUE(args.value().empty());
  args = parseCniArgs(";K8S_POD_NAME=a=b;;K8S_POD_NAMESPACE=;");
  ASSERT_TRUE(args.ok()) << args.error().msg;
  ASSERT_EQ(args.value().size(), 2u);
  EXPECT_EQ(args.value()[0].second, "a=b");
  EXPECT_EQ(args.value()[1].second, "");
  EXPECT_TRUE(parseCniArgs("IgnoreUnknown=true;X=1").ok());
  EXPECT_FALSE(parseCniArgs("IgnoreUnknown=0;X=1").ok());
}

TEST(CniRequestTest, EmptyPodArgsFallBackToDefaults) {
  const auto parsed =
      parseRequest(with(addEnv(), "CNI_ARGS", "K8S_POD_NAMESPACE=;K8S_POD_NAME="), kConfig10);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value().pod_namespace, "default");
  EXPECT_EQ(parsed.value().pod_name, "c0ffee01");
}

TEST(CniRequestTest, ReplyVersion) {
  EXPECT_EQ(replyVersion(R"({"cniVersion":"0.3.0"})"), "0.3.0");
  EXPECT_EQ(replyVersion(R"({"cniVersion":"9.9.9"})"), "1.1.0");
  EXPECT_EQ(replyVersion("nope"), "1.1.0");
}

TEST(CniRequestTest, Names) {
  EXPECT_TRUE(isValidContainerId("a"));
  EXPECT_TRUE(isValidContainerId("9f_a.b-c"));
  EXPECT_FALSE(isValidContainerId(""));
  EXPECT_FALSE(isValidContainerId("_a"));
  EXPECT_FALSE(isValidContainerId("a b"));
  EXPECT_TRUE(isValidInterfaceName("eth0"));
  EXPECT_TRUE(isValidInterfaceName("abcdefghijklmno"));
  EXPECT_FALSE(isValidInterfaceName("abcdefghijklmnop"));
  EXPECT_FALSE(isValidInterfaceName(".."));
  EXPECT_FALSE(isValidInterfaceName("a:b"));
  EXPECT_FALSE(isValidInterfaceName("a\tb"));
}

}  // namespace
}  // namespace coral::cni
