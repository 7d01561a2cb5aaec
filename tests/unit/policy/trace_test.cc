// Trace output: the text `coralctl policy trace` prints for typical cases, compared with
// golden/trace.txt (regenerate with CORAL_UPDATE_GOLDEN=1, see render_fixture.h), and the
// --port argument parser.
#include <gtest/gtest.h>

#include "tests/unit/policy/render_fixture.h"

namespace coral::policy {
namespace {

TEST(Trace, GoldenText) {
  Snapshot s = testing::makeWorld();
  testing::applyYaml(s, testing::kRenderPolicies);
  Tracer tracer(s);
  const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> traces = {
      {{"z/b", "x/a"}, "80/tcp"},           // ipBlock and a named port
      {{"y/b", "x/a"}, "80/tcp"},           // excepted from the ipBlock: default deny
      {{"x/b", "x/a"}, "81/udp"},           // egress of x/b allows only listed ports
      {{"x/a", "x/b"}, "8080/tcp"},         // egress endPort range; log, then allow by notSelector
      {{"z/a", "x/b"}, "53/udp"},           // pass
      {{"10.3.0.2", "x/b"}, "80/tcp"},      // an endpoint's IP resolves to the endpoint
      {{"192.168.1.1", "x/a"}, "80/tcp"},   // node traffic
      {{"x/a", "x/a"}, "80/tcp"},           // loopback
      {{"y/a", "203.0.113.9"}, "443/tcp"},  // no endpoint at the destination
      {{"y/a", "x/b"}, "icmp/8/0"},
  };
  std::string out;
  for (const auto& [ends, port] : traces) {
    TraceRequest req;
    req.from = ends.first;
    req.to = ends.second;
    ASSERT_TRUE(parsePortSpec(port, req).ok()) << port;
    auto result = tracer.trace(req);
    ASSERT_TRUE(result.ok()) << result.status();
    out += result->toString() + "\n";
  }
  testing::expectGolden("trace.txt", out);
}

TEST(Trace, Errors) {
  Snapshot s = testing::makeWorld();
  Tracer tracer(s);
  auto request = [](std::string from, std::string to) {
    TraceRequest r;
    r.from = std::move(from);
    r.to = std::move(to);
    r.port = 80;
    return r;
  };
  auto r = tracer.trace(request("x/nope", "x/a"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "from \"x/nope\": neither an IP address nor a known endpoint ns/pod");
  r = tracer.trace(request("x/a", "fd00::1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "from 10.1.0.1 and to fd00::1 are different IP families");
}

TEST(Trace, Ipv6NeighbourDiscoveryIsNeverPoliced) {
  Snapshot s = testing::makeWorld();
  testing::applyYaml(s,
                     "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: "
                     "deny, namespace: x}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, "
                     "Egress]\n");
  Tracer tracer(s);
  TraceRequest r{"y/a", "x/a", kProtoIcmpV6, 0, 135, 0};
  for (int type : {133, 134, 135, 136}) {
    r.icmp_type = type;
    auto result = tracer.trace(r);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_TRUE(result->allowed) << "ICMPv6 type " << type;
  }
  r.icmp_type = 128;  // echo request: policed like anything else
  auto echo = tracer.trace(r);
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_FALSE(echo->allowed);
}

TEST(Trace, PortSpec) {
  TraceRequest r;
  ASSERT_TRUE(parsePortSpec("53/udp", r).ok());
  EXPECT_EQ(r.protocol, kProtoUdp);
  EXPECT_EQ(r.port, 53);
  ASSERT_TRUE(parsePortSpec("8080", r).ok());
  EXPECT_EQ(r.protocol, kProtoTcp);
  ASSERT_TRUE(parsePortSpec("80/sctp", r).ok());
  EXPECT_EQ(r.protocol, kProtoSctp);
  ASSERT_TRUE(parsePortSpec("icmp/8/0", r).ok());
  EXPECT_EQ(r.protocol, kProtoIcmp);
  EXPECT_EQ(r.icmp_type, 8);
  EXPECT_EQ(r.icmp_code, 0);
  EXPECT_EQ(parsePortSpec("80/icmp", r).message(),
            "port \"80/icmp\": protocol is not tcp, udp, sctp or udplite");
  EXPECT_EQ(parsePortSpec("0", r).message(), "port \"0\": not a port number 1-65535");
  EXPECT_EQ(parsePortSpec("icmp/x", r).message(),
            "port \"icmp/x\": ICMP type and code are numbers");
}

}  // namespace
}  // namespace coral::policy
