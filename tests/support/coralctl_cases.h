// coralctl resource commands, exercised through the real binary against a datastore URL.
// Instantiated for the file store (unit) and for a real etcd (integration):
//
//   class MyFixture : public coral::testing::CoralctlTest { std::string url() override; };
//   CORAL_CORALCTL_TESTS(MyFixture)
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "model/registry.h"
#include "model/yaml.h"

namespace coral::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string readAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class CoralctlTest : public ::testing::Test {
 protected:
  virtual std::string url() = 0;

  void SetUp() override {
    tmp_ = std::filesystem::temp_directory_path() /
           ("coralctl-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(tmp_);
  }
  void TearDown() override { std::filesystem::remove_all(tmp_); }

  static std::filesystem::path sourceDir() {
    const char* s = std::getenv("CORAL_SOURCE_DIR");
    return s ? s : ".";
  }
  static std::filesystem::path coralctl() {
    const char* b = std::getenv("CORAL_BUILD_DIR");
    return std::filesystem::path(b ? b : ".") / "ctl" / "coralctl";
  }

  // Runs coralctl with the datastore URL; `input` goes to stdin.
  CommandResult run(const std::string& args, const std::string& input = "") {
    const auto in = tmp_ / "stdin";
    const auto out = tmp_ / "stdout";
    const auto err = tmp_ / "stderr";
    std::ofstream(in) << input;
    const std::string cmd = shellQuote(coralctl().string()) + " --datastore " + shellQuote(url()) +
                            " " + args + " <" + in.string() + " >" + out.string() + " 2>" +
                            err.string();
    const int status = std::system(cmd.c_str());
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = readAll(out);
    r.err = readAll(err);
    return r;
  }

  std::filesystem::path examples() const { return sourceDir() / "examples" / "resources"; }

  std::filesystem::path tmp_;
  static inline int counter_ = 0;
};

inline model::Resource withoutStoreFields(model::Resource r) {
  r.metadata.resource_version.clear();
  r.metadata.uid.clear();
  r.metadata.creation_timestamp.clear();
  return r;
}

// The tests, as a macro so each backend's fixture gets the same list.
#define CORAL_CORALCTL_TESTS(Fixture)                                                              \
  TEST_F(Fixture, AppliesGetsAndDeletesEveryKind) {                                                \
    auto first = run("apply -f " + examples().string());                                           \
    ASSERT_EQ(first.exit_code, 0) << first.err;                                                    \
    EXPECT_EQ(first.out.find("unchanged"), std::string::npos) << first.out;                        \
    auto again = run("apply -f " + examples().string());                                           \
    ASSERT_EQ(again.exit_code, 0) << again.err;                                                    \
    EXPECT_EQ(again.out.find("created"), std::string::npos) << again.out;                          \
    /* Every example resource reads back, as YAML, exactly as applied. */                          \
    std::set<std::string> kinds_checked;                                                           \
    for (const auto& entry : std::filesystem::directory_iterator(examples())) {                    \
      for (auto& doc : model::parseResources(::coral::testing::readAll(entry.path()))) {           \
        ASSERT_TRUE(doc.resource.ok()) << doc.resource.status();                                   \
        const auto& want = *doc.resource;                                                          \
        const auto* kind = model::findKind(want.api_version, want.kind);                           \
        std::string args = "get " + kind->plural + " " + want.metadata.name + " -o yaml";          \
        if (kind->namespaced) args += " -n " + want.metadata.namespace_;                           \
        auto got = run(args);                                                                      \
        ASSERT_EQ(got.exit_code, 0) << args << ": " << got.err;                                    \
        auto parsed = model::parseResources(got.out);                                              \
        ASSERT_EQ(parsed.size(), 1u) << got.out;                                                   \
        ASSERT_TRUE(parsed[0].resource.ok()) << parsed[0].resource.status();                       \
        EXPECT_FALSE(parsed[0].resource->metadata.uid.empty());                                    \
        EXPECT_FALSE(parsed[0].resource->metadata.resource_version.empty());                       \
        EXPECT_EQ(withoutStoreFields(*parsed[0].resource), want) << got.out;                       \
        kinds_checked.insert(kind->storage_name);                                                  \
      }                                                                                            \
    }                                                                                              \
    std::set<std::string> every_kind;                                                              \
    for (const auto& k : model::allKinds()) every_kind.insert(k.storage_name);                     \
    EXPECT_EQ(kinds_checked, every_kind) << "every kind needs an example that round-trips";        \
    auto table = run("get ippools");                                                               \
    EXPECT_EQ(table.exit_code, 0);                                                                 \
    EXPECT_NE(table.out.find("NAME"), std::string::npos);                                          \
    EXPECT_NE(table.out.find("default-ipv4   10.244.0.0/16"), std::string::npos) << table.out;     \
    auto json = run("get networkpolicies -A -o json");                                             \
    EXPECT_EQ(json.exit_code, 0);                                                                  \
    EXPECT_EQ(model::Json::parse(json.out)["items"].size(), 1u);                                   \
    auto knp = run("get knp -n shop -o name");                                                     \
    EXPECT_EQ(knp.out, "networkpolicy.networking.k8s.io/api-allow\n");                             \
    auto del = run("delete -f " + examples().string());                                            \
    ASSERT_EQ(del.exit_code, 0) << del.err;                                                        \
    EXPECT_EQ(run("get ippools").err, "No ippools found.\n");                                      \
    EXPECT_EQ(run("get nodes -o name").out, "");                                                   \
  }                                                                                                \
                                                                                                   \
  TEST_F(Fixture, InvalidDocumentsAreReportedAndNotWritten) {                                      \
    const std::string input =                                                                      \
        "apiVersion: coral.network/v1\nkind: IPPool\nmetadata: {name: good}\n"                     \
        "spec: {cidr: 10.1.0.0/16}\n---\n"                                                         \
        "apiVersion: coral.network/v1\nkind: IPPool\nmetadata: {name: blue}\n"                     \
        "spec: {cidr: 10.0.0.0/33}\n---\n"                                                         \
        "apiVersion: coral.network/v1\nkind: IPPool\nmetadata: {name: typo}\n"                     \
        "spec: {cidr: 10.2.0.0/16, blocksize: 24}\n";                                              \
    auto r = run("apply -f -", input);                                                             \
    EXPECT_EQ(r.exit_code, 1);                                                                     \
    EXPECT_EQ(r.out, "ippool/good created\n");                                                     \
    EXPECT_NE(r.err.find("(document 2, line 6): IPPool \"blue\": spec.cidr \"10.0.0.0/33\": "      \
                         "prefix length 33 out of range (0-32)"),                                  \
              std::string::npos)                                                                   \
        << r.err;                                                                                  \
    EXPECT_NE(r.err.find("(document 3, line 11): IPPool \"typo\": spec.blocksize: unknown field"), \
              std::string::npos)                                                                   \
        << r.err;                                                                                  \
    EXPECT_EQ(run("get ippools -o name").out, "ippool/good\n");                                    \
    auto syntax = run("apply -f -", "kind: [oops\n");                                              \
    EXPECT_EQ(syntax.exit_code, 1);                                                                \
    EXPECT_NE(syntax.err.find("YAML syntax error"), std::string::npos) << syntax.err;              \
    EXPECT_EQ(run("get ippools -o name").out, "ippool/good\n");                                    \
  }                                                                                                \
                                                                                                   \
  /* get -o yaml > f; someone else changes it; apply -f f is a conflict, not an overwrite. */      \
  TEST_F(Fixture, ApplyOfAStaleGetIsAConflict) {                                                   \
    const std::string pool =                                                                       \
        "apiVersion: coral.network/v1\nkind: IPPool\nmetadata: {name: rv}\n"                       \
        "spec: {cidr: 10.7.0.0/16}\n";                                                             \
    ASSERT_EQ(run("apply -f -", pool).exit_code, 0);                                               \
    auto saved = run("get ippool rv -o yaml");                                                     \
    ASSERT_EQ(saved.exit_code, 0) << saved.err;                                                    \
    const std::string v1 =                                                                         \
        model::parseResources(saved.out)[0].resource->metadata.resource_version;                   \
    /* Re-applying what was just read is fine. */                                                  \
    auto same = run("apply -f -", saved.out);                                                      \
    EXPECT_EQ(same.exit_code, 0) << same.err;                                                      \
    EXPECT_EQ(same.out, "ippool/rv unchanged\n");                                                  \
    ASSERT_EQ(run("apply -f -",                                                                    \
                  "apiVersion: coral.network/v1\nkind: IPPool\n"                                   \
                  "metadata: {name: rv}\nspec: {cidr: 10.7.0.0/16, disabled: true}\n")             \
                  .exit_code,                                                                      \
              0);                                                                                  \
    const std::string v2 = model::parseResources(run("get ippool rv -o yaml").out)[0]              \
                               .resource->metadata.resource_version;                               \
    std::string edited = saved.out;                                                                \
    edited.replace(edited.find("cidr:"), 0, "natOutgoing: true\n  ");                              \
    auto stale = run("apply -f -", edited);                                                        \
    EXPECT_EQ(stale.exit_code, 1);                                                                 \
    EXPECT_EQ(stale.out, "");                                                                      \
    EXPECT_NE(stale.err.find("(document 1): IPPool \"rv\": resourceVersion conflict: the input "   \
                             "has resourceVersion " +                                              \
                             v1 + " but the stored object is at " + v2),                           \
              std::string::npos)                                                                   \
        << stale.err;                                                                              \
    EXPECT_NE(stale.err.find("get it again and re-apply"), std::string::npos) << stale.err;        \
    auto now = model::parseResources(run("get ippool rv -o yaml").out);                            \
    ASSERT_EQ(now.size(), 1u);                                                                     \
    EXPECT_EQ(now[0].resource->metadata.resource_version, v2);                                     \
    EXPECT_EQ(now[0].resource->spec.value("natOutgoing", false), false);                           \
    EXPECT_EQ(now[0].resource->spec.value("disabled", false), true);                               \
    run("delete ippool rv --ignore-not-found");                                                    \
  }                                                                                                \
                                                                                                   \
  TEST_F(Fixture, ErrorsAreClearAndExitNonZero) {                                                  \
    auto missing = run("delete ippool nope");                                                      \
    EXPECT_EQ(missing.exit_code, 1);                                                               \
    EXPECT_EQ(missing.err, "error: IPPool \"nope\" not found\n");                                  \
    EXPECT_EQ(run("delete ippool nope --ignore-not-found").exit_code, 0);                          \
    auto kind = run("get frobs");                                                                  \
    EXPECT_EQ(kind.exit_code, 1);                                                                  \
    EXPECT_NE(kind.err.find("unknown resource type \"frobs\""), std::string::npos);                \
    auto output = run("get ippools -o xml");                                                       \
    EXPECT_EQ(output.exit_code, 1);                                                                \
    auto nofile = run("apply -f /nonexistent/x.yaml");                                             \
    EXPECT_EQ(nofile.exit_code, 1);                                                                \
    EXPECT_NE(nofile.err.find("/nonexistent/x.yaml: cannot read"), std::string::npos);             \
    auto get_missing = run("get node ghost");                                                      \
    EXPECT_EQ(get_missing.exit_code, 1);                                                           \
    EXPECT_EQ(get_missing.err, "error: Node \"ghost\" not found\n");                               \
  }

}  // namespace coral::testing
