// The backend conformance suite (tests/support/datastore_conformance.h) run against the
// file backend: each test gets a fresh directory; "another client" is a second open of it.
#include <memory>
#include <string>

#include "datastore/file/file_backend.h"
#include "tests/support/child_process.h"
#include "tests/support/datastore_conformance.h"

namespace coral::datastore {
namespace {

struct FileFactory {
  static BackendPtr open() {
    dir() = std::make_unique<coral::testing::TempDir>();
    return openAnother();
  }
  static BackendPtr openAnother() {
    auto backend = openFileBackend(dir()->path());
    EXPECT_TRUE(backend.ok()) << backend.status();
    return backend.ok() ? std::move(*backend) : nullptr;
  }
  static std::string url() { return "file://" + dir()->path(); }
  static void restart() {}  // nothing runs between clients: every open is a "restart"

 private:
  static std::unique_ptr<coral::testing::TempDir>& dir() {
    static std::unique_ptr<coral::testing::TempDir> current;
    return current;
  }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(File, DatastoreConformanceTest, ::testing::Types<FileFactory>);

}  // namespace coral::datastore
