// The shim's flow (cni/shim.h) with a scripted Agent: what is printed and the exit status
// for each command and each kind of agent answer, chaining pass-through included.
#include "cni/shim.h"

#include <gtest/gtest.h>

#include "tests/unit/cni/pod_result.h"

namespace coral::cni {
namespace {

class ScriptedAgent : public Agent {
 public:
  explicit ScriptedAgent(AgentAnswer answer) : answer_(std::move(answer)) {}
  AgentAnswer call(const Request& request) override {
    ++calls;
    last = request;
    return answer_;
  }
  int calls = 0;
  Request last;

 private:
  AgentAnswer answer_;
};

Environment env(const char* command) {
  return {{"CNI_COMMAND", command},
          {"CNI_CONTAINERID", "c1"},
          {"CNI_NETNS", "/var/run/netns/pod1"},
          {"CNI_IFNAME", "eth0"}};
}

std::string config(const std::string& version, const std::string& extra = "") {
  return R"({"cniVersion":")" + version + R"(","name":"k8s","type":"coral")" + extra + "}";
}

TEST(CniShimTest, AddPrintsResultInRequestedVersion) {
  for (const char* version : {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}) {
    ScriptedAgent agent(testing::podResult());
    const ShimOutput out = runShim(env("ADD"), config(version), agent);
    EXPECT_EQ(out.exit_code, 0);
    EXPECT_EQ(out.stdout_text, formatResult(testing::podResult(), version) + "\n");
    EXPECT_EQ(agent.calls, 1);
  }
}

TEST(CniShimTest, DelAndCheckPrintNothing) {
  for (const char* command : {"DEL", "CHECK"}) {
    ScriptedAgent agent(Result{});
    const ShimOutput out = runShim(env(command), config("1.0.0"), agent);
    EXPECT_EQ(out, (ShimOutput{"", 0})) << command;
  }
}

TEST(CniShimTest, VersionDoesNotCallTheAgent) {
  ScriptedAgent agent(Result{});
  const ShimOutput out = runShim({{"CNI_COMMAND", "VERSION"}}, config("0.4.0"), agent);
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_EQ(
      out.stdout_text,
      R"({"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})"
      "\n");
  EXPECT_EQ(agent.calls, 0);
}

TEST(CniShimTest, ParseErrorsDoNotCallTheAgent) {
  ScriptedAgent agent(Result{});
  const ShimOutput out = runShim(env("ADD"), "{", agent);
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(
      out.stdout_text,
      R"({"cniVersion":"1.1.0","code":6,"msg":"the network configuration on stdin is not valid JSON"})"
      "\n");
  EXPECT_EQ(agent.calls, 0);
}

TEST(CniShimTest, AgentFailures) {
  using Kind = AgentFailure::Kind;
  struct Case {
    const char* command;
    Kind kind;
    uint32_t code;
    const char* msg;
  } cases[] = {
      {"ADD", Kind::kUnreachable, 11, "corald is not reachable on /var/run/coral/cni.sock"},
      {"DEL", Kind::kUnreachable, 11, "corald is not reachable on /var/run/coral/cni.sock"},
      {"CHECK", Kind::kOther, 11, "corald failed to answer Check"},
      {"ADD", Kind::kTimeout, 11, "timeout: corald did not answer Add within 30000 ms"},
      {"DEL", Kind::kTimeout, 11, "timeout: corald did not answer Del within 10000 ms"},
      {"ADD", Kind::kUnimplemented, 100, "corald does not serve Cni.Add"},
      {"STATUS", Kind::kUnreachable, 50, "plugin not available: corald is not ready"},
      {"STATUS", Kind::kUnimplemented, 50, "plugin not available: corald is not ready"},
      {"GC", Kind::kUnreachable, 11, "corald is not reachable on /var/run/coral/cni.sock"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.command) + " " + c.msg);
    ScriptedAgent agent(AgentFailure{c.kind, "why"});
    const ShimOutput out = runShim(env(c.command), config("1.1.0"), agent);
    EXPECT_EQ(out.exit_code, 1);
    EXPECT_EQ(out.stdout_text, formatError(makeError(c.code, c.msg, "why"), "1.1.0") + "\n");
  }
}

TEST(CniShimTest, GcWithoutTheRpcIsANoOp) {
  ScriptedAgent agent(AgentFailure{AgentFailure::Kind::kUnimplemented, "no Gc"});
  EXPECT_EQ(runShim({{"CNI_COMMAND", "GC"}}, config("1.1.0"), agent), (ShimOutput{"", 0}));
}

TEST(CniShimTest, StatusSuccessAndCoraldError) {
  ScriptedAgent ready(Result{});
  EXPECT_EQ(runShim({{"CNI_COMMAND", "STATUS"}}, config("1.1.0"), ready), (ShimOutput{"", 0}));
  ScriptedAgent limited(makeError(51, "bgp down"));
  EXPECT_EQ(runShim({{"CNI_COMMAND", "STATUS"}}, config("1.1.0"), limited).stdout_text,
            R"({"cniVersion":"1.1.0","code":51,"msg":"bgp down"})"
            "\n");
}

TEST(CniShimTest, CoraldErrorsPassThrough) {
  ScriptedAgent agent(makeError(104, "address pool exhausted", "pool default-ipv4"));
  const ShimOutput out = runShim(env("ADD"), config("0.4.0"), agent);
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(
      out.stdout_text,
      R"({"cniVersion":"0.4.0","code":104,"msg":"address pool exhausted","details":"pool default-ipv4"})"
      "\n");
}

TEST(CniShimTest, InvalidAgentResultIsAnError) {
  Result bad;
  bad.ips.push_back({"not-an-address", "", 3});
  ScriptedAgent agent(bad);
  const ShimOutput out = runShim(env("ADD"), config("1.0.0"), agent);
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.stdout_text.find(R"("code":100)"), std::string::npos) << out.stdout_text;
}

TEST(CniShimTest, ChainedAddPassesPrevResult) {
  const std::string prev = formatResult(testing::podResult(), "0.3.1");
  // corald answers nothing of its own: the prevResult goes on unchanged.
  ScriptedAgent quiet(Result{});
  ShimOutput out = runShim(env("ADD"), config("0.3.1", R"(,"prevResult":)" + prev), quiet);
  EXPECT_EQ(out, (ShimOutput{prev + "\n", 0}));
  ASSERT_TRUE(quiet.last.prev_result.has_value());

  // corald answers only what it added (as the real one does: it never sees the chain's
  // earlier interfaces): the shim appends that to the prevResult, shifting its indexes.
  Result own;
  own.interfaces.push_back({"cor0123456789a", "ee:ee:ee:ee:ee:ee", "", std::nullopt});
  own.interfaces.push_back({"eth1", "02:00:00:00:00:01", "/var/run/netns/p", std::nullopt});
  own.ips.push_back({"192.168.7.7/32", "", 1});
  ScriptedAgent busy(own);
  out = runShim(env("ADD"), config("0.3.1", R"(,"prevResult":)" + prev), busy);
  Result merged = testing::podResult();
  const int before = static_cast<int>(merged.interfaces.size());
  merged.interfaces.insert(merged.interfaces.end(), own.interfaces.begin(), own.interfaces.end());
  merged.ips.push_back({"192.168.7.7/32", "", before + 1});
  EXPECT_EQ(out, (ShimOutput{formatResult(merged, "0.3.1") + "\n", 0}));
}

}  // namespace
}  // namespace coral::cni
