// coralctl policy trace through the real binary on a file-store datastore: namespaces,
// pods (one also known by its WorkloadEndpoint, with stale labels that the Pod's win over),
// a Kubernetes and a Coral policy; the printed explanation names the deciding policy.
#include "tests/support/coralctl_cases.h"

namespace coral::testing {
namespace {

class PolicyTraceTest : public CoralctlTest {
 protected:
  std::string url() override { return "file://" + (tmp_ / "store").string(); }

  void SetUp() override {
    CoralctlTest::SetUp();
    auto r = run("apply -f -", R"(apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: blue}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  nodeName: n1
  containers:
  - name: web
    ports: [{name: http, containerPort: 8080}]
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {app: client}}
spec: {nodeName: n1}
status: {podIP: 10.0.0.2}
---
apiVersion: coral.network/v1
kind: WorkloadEndpoint
metadata: {name: n1-client-eth0, namespace: shop, labels: {app: stale}}
spec: {node: n1, pod: client, interfaceName: cor0123456789a, ipNetworks: [10.0.0.2/32]}
---
apiVersion: v1
kind: Pod
metadata: {name: intruder, namespace: other, labels: {app: client}}
spec: {nodeName: n2}
status: {podIP: 10.0.1.1}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-clients, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: http}]
---
apiVersion: coral.network/v1
kind: GlobalNetworkPolicy
metadata: {name: deny-dns-egress}
spec:
  order: 10
  selector: app == 'client'
  types: [Egress]
  egress:
  - action: Deny
    protocol: UDP
    destination: {ports: [53]}
  - action: Allow
)");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
};

TEST_F(PolicyTraceTest, AllowedByNamedPort) {
  auto r = run("policy trace --from shop/client --to shop/web --port 8080/tcp");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tcp 10.0.0.2 (shop/client) -> 10.0.0.1 (shop/web) port 8080"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("knp:shop/web-from-clients"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gnp:deny-dns-egress"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict: ALLOW"), std::string::npos) << r.out;
}

TEST_F(PolicyTraceTest, DeniedOnAnotherPortAndFromAnotherNamespace) {
  auto port = run("policy trace --from 10.0.0.2 --to shop/web --port 80");
  ASSERT_EQ(port.exit_code, 0) << port.err;
  EXPECT_NE(port.out.find("default deny"), std::string::npos) << port.out;
  EXPECT_NE(port.out.find("verdict: DENY"), std::string::npos) << port.out;
  auto other = run("policy trace --from other/intruder --to shop/web --port 8080/tcp");
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_NE(other.out.find("verdict: DENY"), std::string::npos) << other.out;
}

TEST_F(PolicyTraceTest, EgressDenyByGlobalPolicy) {
  auto r = run("policy trace --from shop/client --to 10.9.9.9 --port 53/udp");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("egress of shop/client"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict: DENY"), std::string::npos) << r.out;
}

TEST_F(PolicyTraceTest, BadArgumentsAreErrors) {
  auto r = run("policy trace --from shop/nobody --to shop/web");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("shop/nobody"), std::string::npos) << r.err;
  auto port = run("policy trace --from shop/client --to shop/web --port 80/xyz");
  EXPECT_EQ(port.exit_code, 1);
  EXPECT_NE(port.err.find("80/xyz"), std::string::npos) << port.err;
}

}  // namespace
}  // namespace coral::testing
