// coralctl apply/get/delete through the real binary, on the embedded file store; and
// what only the file store has: reads that must not create a store, or need write access.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/coralctl_cases.h"

namespace coral::testing {
namespace {

class CoralctlFileTest : public CoralctlTest {
 protected:
  std::string url() override { return "file://" + (tmp_ / "store").string(); }
};

CORAL_CORALCTL_TESTS(CoralctlFileTest)

constexpr std::string_view kPool =
    "apiVersion: coral.network/v1\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.5.0.0/16}\n";

// `coralctl get` with no store at the URL (CORAL_DATASTORE unset → /var/lib/coral) used to
// create one: a read must not write, and must say which store it looked for.
TEST_F(CoralctlFileTest, GetOnAMissingStoreFailsAndCreatesNothing) {
  auto got = run("get ippools");
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_NE(got.err.find("no Coral datastore at " + (tmp_ / "store").string()), std::string::npos)
      << got.err;
  EXPECT_NE(got.err.find("--datastore URL or CORAL_DATASTORE"), std::string::npos) << got.err;
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "store"));
  // An empty directory is not a store either, and stays empty.
  std::filesystem::create_directories(tmp_ / "store");
  EXPECT_EQ(run("get ippools -o name").exit_code, 1);
  EXPECT_TRUE(std::filesystem::is_empty(tmp_ / "store"));
  // A write creates it; then reads work.
  ASSERT_EQ(run("apply -f -", std::string(kPool)).exit_code, 0);
  EXPECT_EQ(run("get ippools -o name").out, "ippool/p\n");
}

// Runs coralctl as a user without write access to the store (nobody, when we are root;
// otherwise we take write access away from ourselves).
TEST_F(CoralctlFileTest, GetReadsAStoreItCannotWrite) {
  ASSERT_EQ(run("apply -f -", std::string(kPool)).exit_code, 0);
  const auto store = tmp_ / "store";
  std::string prefix;
  if (::geteuid() == 0) {
    ASSERT_EQ(std::system("command -v setpriv >/dev/null"), 0) << "setpriv (util-linux) missing";
    prefix = "setpriv --reuid=nobody --regid=nogroup --clear-groups ";
    ::chmod(tmp_.c_str(), 0755);
  } else {
    ::chmod((store / "lock").c_str(), 0444);
    ::chmod(store.c_str(), 0555);
  }
  auto as = [&](const std::string& args, const std::string& input = "") {
    std::ofstream(tmp_ / "in") << input;
    const std::string cmd = prefix + shellQuote(coralctl().string()) + " --datastore " +
                            shellQuote(url()) + " " + args + " <" + (tmp_ / "in").string() + " >" +
                            (tmp_ / "out").string() + " 2>" + (tmp_ / "err").string();
    const int status = std::system(cmd.c_str());
    return CommandResult{WIFEXITED(status) ? WEXITSTATUS(status) : -1, readAll(tmp_ / "out"),
                         readAll(tmp_ / "err")};
  };
  auto got = as("get ippools -o name");
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "ippool/p\n");
  // A write says what it needs instead of a bare "Permission denied".
  auto write = as("apply -f -", std::string(kPool).replace(kPool.find("name: p"), 7, "name: q"));
  EXPECT_EQ(write.exit_code, 1);
  EXPECT_NE(write.err.find("writing to the file datastore needs write access to " + store.string()),
            std::string::npos)
      << write.err;
  ::chmod(store.c_str(), 0755);
  EXPECT_EQ(run("get ippools -o name").out, "ippool/p\n");
}

}  // namespace
}  // namespace coral::testing
