// The backend conformance suite (tests/support/datastore_conformance.h) run against a real
// etcd: one etcd for the whole binary (a gtest Environment starts it before the first test
// and kills it after the last), every key wiped before each test; "another client" is a
// second openEtcdBackend() with its own connection; restart() stops and starts etcd on the
// same ports and data.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "datastore/etcd/etcd_backend.h"
#include "tests/support/datastore_conformance.h"
#include "tests/support/etcd_process.h"

namespace coral::datastore {
namespace {

coral::testing::EtcdProcess*& sharedEtcd() {
  static coral::testing::EtcdProcess* etcd = nullptr;
  return etcd;
}

class EtcdEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto etcd = coral::testing::EtcdProcess::launch();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    sharedEtcd() = std::move(etcd).value().release();
  }
  void TearDown() override {
    delete sharedEtcd();
    sharedEtcd() = nullptr;
  }
};
[[maybe_unused]] ::testing::Environment* const kEtcdEnvironment =
    ::testing::AddGlobalTestEnvironment(new EtcdEnvironment);

struct EtcdFactory {
  // The shared etcd with every key deleted: a fresh store as far as keys go (revisions go
  // on counting, which the suite allows).
  static BackendPtr open() {
    BackendPtr backend = openAnother();
    if (backend == nullptr) return nullptr;
    auto all = backend->list("");
    EXPECT_TRUE(all.ok()) << all.status();
    if (!all.ok()) return nullptr;
    for (const KeyValue& kv : all->kvs) {
      auto removed = backend->remove(kv.key);
      EXPECT_TRUE(removed.ok() || isNotFound(removed.status())) << removed.status();
    }
    return backend;
  }
  static BackendPtr openAnother() {
    if (sharedEtcd() == nullptr) {
      ADD_FAILURE() << "etcd is not running (see the environment's failure above)";
      return nullptr;
    }
    auto backend = openEtcdBackend(url());
    EXPECT_TRUE(backend.ok()) << backend.status();
    return backend.ok() ? std::move(*backend) : nullptr;
  }
  static std::string url() { return sharedEtcd() ? sharedEtcd()->url() : "etcd://not-running:1"; }
  static void restart() {
    ASSERT_NE(sharedEtcd(), nullptr);
    ASSERT_TRUE(sharedEtcd()->stop().ok());
    const absl::Status started = sharedEtcd()->start();
    ASSERT_TRUE(started.ok()) << started;
  }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Etcd, DatastoreConformanceTest, ::testing::Types<EtcdFactory>);

}  // namespace coral::datastore
