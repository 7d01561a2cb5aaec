// kube_config: kubeconfig contexts and credentials, in-cluster files, datastore URLs.
#include "datastore/kubernetes/kube_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "datastore/kubernetes/kube_client.h"
#include "tests/support/child_process.h"

namespace coral::datastore::kubernetes {
namespace {

constexpr const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod-cluster
  cluster:
    server: https://api.prod.example:6443
    certificate-authority-data: UFJPRC1DQQ==
- name: lab-cluster
  cluster:
    server: https://[fd00::1]
    certificate-authority: ca.pem
users:
- name: admin
  user:
    token: secret-token
- name: robot
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
contexts:
- name: prod
  context: {cluster: prod-cluster, user: admin, namespace: coral-system}
- name: lab
  context: {cluster: lab-cluster, user: robot}
)";

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.path() + "/config") << kKubeconfig;
    std::ofstream(dir_.path() + "/ca.pem") << "LAB-CA";
  }
  coral::testing::TempDir dir_;
};

TEST_F(KubeConfigTest, CurrentContextWithToken) {
  auto c = loadKubeconfig(dir_.path() + "/config");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->host, "api.prod.example");
  EXPECT_EQ(c->port, 6443);
  EXPECT_EQ(c->ca_pem, "PROD-CA");
  EXPECT_EQ(c->token, "secret-token");
  EXPECT_EQ(c->namespace_, "coral-system");
}

TEST_F(KubeConfigTest, OtherContextWithClientCertificateAndRelativeCaFile) {
  auto c = configFromUrl("kubernetes://" + dir_.path() + "/config?context=lab&timeout_ms=250");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->host, "fd00::1");
  EXPECT_EQ(c->port, 443);
  EXPECT_EQ(c->ca_pem, "LAB-CA");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_TRUE(c->token.empty());
  EXPECT_EQ(c->namespace_, "default");
  EXPECT_EQ(c->timeout.count(), 250);
}

TEST_F(KubeConfigTest, ErrorsNameTheProblem) {
  auto missing = configFromUrl("kubernetes://" + dir_.path() + "/config?context=nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(missing.status().message()).find("context \"nope\" not found"),
            std::string::npos);
  EXPECT_EQ(configFromUrl("kubernetes://" + dir_.path() + "/config?bogus=1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(configFromUrl("kubernetes:/x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(loadKubeconfig(dir_.path() + "/absent").status().code(), absl::StatusCode::kNotFound);
  ClientConfig c;
  EXPECT_FALSE(parseServer("http://plain:80", c).ok());
}

TEST_F(KubeConfigTest, InClusterFromEnvironmentAndServiceAccountFiles) {
  std::ofstream(dir_.path() + "/ca.crt") << "CLUSTER-CA";
  std::ofstream(dir_.path() + "/token") << "sa-token\n";
  std::ofstream(dir_.path() + "/namespace") << "coral-system\n";
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(loadInClusterConfig(dir_.path()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto c = configFromUrl("kubernetes?serviceaccount_dir=" + dir_.path());
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->host, "10.96.0.1");
  EXPECT_EQ(c->ca_pem, "CLUSTER-CA");
  EXPECT_EQ(c->token_file, dir_.path() + "/token");
  EXPECT_EQ(c->namespace_, "coral-system");
  EXPECT_EQ(c->source, "in-cluster");
}

TEST(KubeErrors, StatusCodesAndRbacMessage) {
  const RequestInfo info{"watch", "networking.k8s.io", "networkpolicies", "shop", ""};
  auto forbidden = errorFromResponse(info, 403, R"({"kind":"Status","reason":"Forbidden",
      "message":"networkpolicies.networking.k8s.io is forbidden: User \"x\" cannot watch"})");
  EXPECT_EQ(forbidden.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(std::string(forbidden.message())
                .find(R"(verb "watch" on resource "networkpolicies" in API group )"
                      R"("networking.k8s.io" in namespace "shop")"),
            std::string::npos)
      << forbidden;
  EXPECT_EQ(errorFromResponse(info, 409, R"({"reason":"AlreadyExists"})").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(errorFromResponse(info, 409, R"({"reason":"Conflict"})").code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(errorFromResponse(info, 410, "{}").code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(errorFromResponse(info, 429, "{}").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(errorFromResponse(info, 401, "{}").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(errorFromResponse(info, 404, "404 page not found").code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace coral::datastore::kubernetes
