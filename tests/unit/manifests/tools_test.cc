// manifests/ with outside tools: the Kubernetes objects validate against the Kubernetes
// API schemas and field lists (tests/tools/k8s-validate: node and the npm packages
// kubernetes-models and @kubernetes/client-node, which scripts/setup-debian.sh installs),
// scripts/gen-manifests.sh --check finds nothing stale, and manifests/install-cni.sh installs into
// a temporary node tree atomically and idempotently. A missing tool fails the test, it does not
// skip it.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/unit/manifests/test_paths.h"

namespace coral::manifests_test {
namespace {

namespace fs = std::filesystem;

struct RunResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

RunResult run(const std::string& command) {
  RunResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

fs::path validatorDir() { return sourceDir() / "tests" / "tools" / "k8s-validate"; }

void requireValidator() {
  ASSERT_EQ(run("command -v node").status, 0)
      << "node is missing: run scripts/setup-debian.sh (it installs nodejs)";
  ASSERT_TRUE(fs::exists(validatorDir() / "node_modules" / "kubernetes-models"))
      << "kubernetes-models is missing: run scripts/setup-debian.sh (npm ci in " << validatorDir()
      << ")";
}

TEST(KubernetesSchemas, ManifestsValidate) {
  requireValidator();
  const auto r = run(fmt::format("node {} {} {}", quote(validatorDir() / "validate.js"),
                                 quote(sourceDir() / "manifests" / "coral.yaml"),
                                 quote(sourceDir() / "manifests" / "coral-etcd.yaml")));
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* kind : {"DaemonSet/corald", "Deployment/coral-controller",
                           "CustomResourceDefinition/ippools.coral.network",
                           "ClusterRole/coral-node", "ConfigMap/coral-config"}) {
    EXPECT_NE(
        r.output.find(fmt::format("ok {}#", (sourceDir() / "manifests" / "coral.yaml").string())),
        std::string::npos);
    EXPECT_NE(r.output.find(std::string(" ") + kind + "\n"), std::string::npos)
        << kind << " was not validated:\n"
        << r.output;
  }
  EXPECT_EQ(r.output.find("error "), std::string::npos) << r.output;
}

TEST(KubernetesSchemas, KubernetesExamplesValidate) {
  requireValidator();
  std::string files;
  for (const auto& e : fs::recursive_directory_iterator(sourceDir() / "examples")) {
    if (e.path().extension() == ".yaml") files += " " + quote(e.path());
  }
  const auto r = run(fmt::format("node {}{}", quote(validatorDir() / "validate.js"), files));
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST(KubernetesSchemas, ValidatorRejectsABrokenDaemonSet) {
  requireValidator();
  // The probe has no port, privileged is a string, volumeMount is a typo: a validator that
  // passed this would make the test above meaningless.
  const fs::path bad = fs::temp_directory_path() / fmt::format("coral-bad-{}.yaml", ::getpid());
  std::ofstream(bad) << "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec:\n"
                        "  selector: {}\n  template:\n    spec:\n      containers:\n"
                        "      - name: c\n        livenessProbe: {httpGet: {path: /livez}}\n"
                        "        securityContext: {privileged: 'yes'}\n"
                        "        volumeMount: []\n";
  const auto r = run(fmt::format("node {} {}", quote(validatorDir() / "validate.js"), quote(bad)));
  fs::remove(bad);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("must have required property port"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("privileged must be boolean"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("containers[0].volumeMount: unknown field"), std::string::npos)
      << r.output;
}

TEST(GenManifests, CommittedManifestsAreCurrent) {
  const fs::path gen = buildDir() / "model" / "coral-gen-crds";
  ASSERT_TRUE(fs::exists(gen)) << gen;
  const auto r = run(fmt::format("CORAL_GEN_CRDS={} bash {} --check", quote(gen),
                                 quote(sourceDir() / "scripts" / "gen-manifests.sh")));
  EXPECT_EQ(r.status, 0) << r.output;
}

// A node's directories in a temp dir, and the image's files to install from.
class InstallCni : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / fmt::format("coral-install-cni-{}", ::getpid());
    fs::remove_all(root_);
    fs::create_directories(root_ / "image" / "plugins");
    write(root_ / "image" / "coral-cni", "#!/bin/sh\necho coral v1\n");
    write(
        root_ / "image" / "conflist",
        R"({"cniVersion":"1.0.0","name":"coral","plugins":[{"type":"coral"},{"type":"portmap"}]})");
    write(root_ / "image" / "plugins" / "portmap", "#!/bin/sh\necho portmap\n");
    fs::permissions(root_ / "image" / "plugins" / "portmap", fs::perms::owner_all);
  }
  void TearDown() override { fs::remove_all(root_); }

  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  RunResult install(const std::string& extra_env = "") {
    return run(
        fmt::format("env CNI_BIN_DIR={} CNI_NET_DIR={} CORAL_CNI_BINARY={} CORAL_CONFLIST={} "
                    "EXTRA_PLUGINS_DIR={} EXTRA_PLUGINS=portmap {} sh {}",
                    quote(bin()), quote(net()), quote(root_ / "image" / "coral-cni"),
                    quote(root_ / "image" / "conflist"), quote(root_ / "image" / "plugins"),
                    extra_env, quote(sourceDir() / "manifests" / "install-cni.sh")));
  }
  fs::path bin() const { return root_ / "opt" / "cni" / "bin"; }
  fs::path net() const { return root_ / "etc" / "cni" / "net.d"; }
  static ino_t inode(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
  }
  int leftovers() const {
    int n = 0;
    for (const auto& dir : {bin(), net()}) {
      for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().filename().string().find("coral-tmp") != std::string::npos) ++n;
      }
    }
    return n;
  }

  fs::path root_;
};

TEST_F(InstallCni, InstallsBinaryPluginsAndConflist) {
  const auto r = install();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(readFile(bin() / "coral"), readFile(root_ / "image" / "coral-cni"));
  EXPECT_EQ(readFile(bin() / "portmap"), readFile(root_ / "image" / "plugins" / "portmap"));
  EXPECT_EQ(readFile(net() / "10-coral.conflist"), readFile(root_ / "image" / "conflist"));
  EXPECT_EQ(fs::status(bin() / "coral").permissions() & fs::perms::all,
            fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                fs::perms::others_read | fs::perms::others_exec);
  EXPECT_EQ(fs::status(net() / "10-coral.conflist").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                fs::perms::others_read);
  EXPECT_EQ(leftovers(), 0);
}

TEST_F(InstallCni, SecondRunChangesNothing) {
  ASSERT_EQ(install().status, 0);
  const auto coral = inode(bin() / "coral");
  const auto conf = inode(net() / "10-coral.conflist");
  const auto mtime = fs::last_write_time(bin() / "coral");
  const auto r = install();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(inode(bin() / "coral"), coral);
  EXPECT_EQ(inode(net() / "10-coral.conflist"), conf);
  EXPECT_EQ(fs::last_write_time(bin() / "coral"), mtime);
  EXPECT_NE(r.output.find("up to date"), std::string::npos) << r.output;
  EXPECT_EQ(leftovers(), 0);
}

TEST_F(InstallCni, UpdateReplacesByRenameNotInPlace) {
  ASSERT_EQ(install().status, 0);
  const auto old_inode = inode(bin() / "coral");
  // A reader that holds the old file open (a running plugin) keeps the old content.
  std::ifstream held(bin() / "coral");
  write(root_ / "image" / "coral-cni", "#!/bin/sh\necho coral v2\n");
  const auto r = install();
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(inode(bin() / "coral"), old_inode) << "the new binary must be a new file, renamed";
  EXPECT_EQ(readFile(bin() / "coral"), "#!/bin/sh\necho coral v2\n");
  std::string first;
  std::getline(held, first);
  std::getline(held, first);
  EXPECT_EQ(first, "echo coral v1");
  EXPECT_EQ(leftovers(), 0);
}

TEST_F(InstallCni, KeepsTheNodesOwnReferencePlugins) {
  fs::create_directories(bin());
  write(bin() / "portmap", "node's own");
  fs::permissions(bin() / "portmap", fs::perms::owner_all);
  ASSERT_EQ(install().status, 0);
  EXPECT_EQ(readFile(bin() / "portmap"), "node's own");
}

TEST_F(InstallCni, RefusesABadConflistAndLeavesTheOldOne) {
  ASSERT_EQ(install().status, 0);
  const std::string good = readFile(net() / "10-coral.conflist");
  write(root_ / "image" / "conflist", "not json");
  auto r = install();
  EXPECT_NE(r.status, 0) << r.output;
  write(root_ / "image" / "conflist", R"({"plugins":[{"type":"bridge"}]})");
  r = install();
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_EQ(readFile(net() / "10-coral.conflist"), good);
  EXPECT_EQ(leftovers(), 0);
}

TEST_F(InstallCni, MissingBinaryFailsAndCleansUpAnInterruptedRun) {
  fs::create_directories(bin());
  write(bin() / ".coral.coral-tmp.abc123", "half a binary");  // a run killed mid-copy
  fs::remove(root_ / "image" / "coral-cni");
  auto r = install();
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_FALSE(fs::exists(bin() / "coral"));
  EXPECT_FALSE(fs::exists(net() / "10-coral.conflist"))
      << "no conflist may point at a plugin that is not installed";
  EXPECT_EQ(leftovers(), 0);
}

}  // namespace
}  // namespace coral::manifests_test
