// coralctl apply/get/delete through the real binary, on the embedded file store.
#include <filesystem>

#include "tests/support/coralctl_cases.h"

namespace coral::testing {
namespace {

class CoralctlFileTest : public CoralctlTest {
 protected:
  std::string url() override { return "file://" + (tmp_ / "store").string(); }
};

CORAL_CORALCTL_TESTS(CoralctlFileTest)

}  // namespace
}  // namespace coral::testing
