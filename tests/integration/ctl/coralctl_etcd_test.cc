// coralctl apply/get/delete through the real binary, on a real etcd.
#include "tests/support/coralctl_cases.h"
#include "tests/support/etcd_process.h"

namespace coral::testing {
namespace {

class CoralctlEtcdTest : public CoralctlTest {
 protected:
  static void SetUpTestSuite() {
    auto etcd = EtcdProcess::launch();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = std::move(*etcd).release();
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(etcd_, nullptr) << "etcd did not start";
    CoralctlTest::SetUp();
    // A clean store per test: delete everything Coral wrote.
    run("delete -f " + examples().string() + " --ignore-not-found");
    run("delete ippool good blue typo rv --ignore-not-found");
  }
  std::string url() override { return etcd_->url(); }
  static inline EtcdProcess* etcd_ = nullptr;
};

CORAL_CORALCTL_TESTS(CoralctlEtcdTest)

}  // namespace
}  // namespace coral::testing
