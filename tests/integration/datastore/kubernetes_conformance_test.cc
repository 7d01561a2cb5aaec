// The backend conformance suite (tests/support/datastore_conformance.h) run against the
// Kubernetes backend talking HTTPS to a FakeKubeApiServer: a fresh fake per test, "another
// client" a second backend on its own connections, the writer processes open the fake's
// kubeconfig, and compact() is the fake's compaction (the real API server compacts itself).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "datastore/kubernetes/kubernetes_backend.h"
#include "tests/support/datastore_conformance.h"
#include "tests/support/fake_kube_api_server.h"

namespace coral::datastore {
namespace {

std::unique_ptr<coral::testing::FakeKubeApiServer>& sharedFake() {
  static std::unique_ptr<coral::testing::FakeKubeApiServer> fake;
  return fake;
}

class FakeEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { sharedFake().reset(); }
};
[[maybe_unused]] ::testing::Environment* const kFakeEnvironment =
    ::testing::AddGlobalTestEnvironment(new FakeEnvironment);

struct KubernetesFactory {
  static BackendPtr open() {
    sharedFake().reset();
    auto fake = coral::testing::FakeKubeApiServer::start();
    EXPECT_TRUE(fake.ok()) << fake.status();
    if (!fake.ok()) return nullptr;
    sharedFake() = std::move(*fake);
    sharedFake()->writeKubeconfig();
    return openAnother();
  }
  static BackendPtr openAnother() {
    if (!sharedFake()) return nullptr;
    KubernetesBackendOptions options;
    options.compact = [](Revision r) {
      sharedFake()->compact(r);
      return absl::OkStatus();
    };
    auto backend = openKubernetesBackend(url(), options);
    EXPECT_TRUE(backend.ok()) << backend.status();
    return backend.ok() ? std::move(*backend) : nullptr;
  }
  static std::string url() {
    // qps=0: the suite is about semantics; the rate limiter has a test of its own.
    return sharedFake()
               ? "kubernetes://" + sharedFake()->dir() + "/kubeconfig?lease_sweep_ms=300&qps=0"
               : "kubernetes:///not-running";
  }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Kubernetes, DatastoreConformanceTest,
                               ::testing::Types<KubernetesFactory>);

}  // namespace coral::datastore
