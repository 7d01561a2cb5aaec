#include "model/yaml.h"

#include <gtest/gtest.h>

namespace coral::model {
namespace {

TEST(YamlTest, SplitsDocumentsAndKeepsLines) {
  auto docs = parseYamlDocuments("a: 1\n---\n# only a comment\n---\nb: [x, \"2\", 3]\n...\n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].index, 1);
  EXPECT_EQ(*docs[0].json, Json({{"a", 1}}));
  EXPECT_EQ(docs[1].line, 5);
  EXPECT_EQ(*docs[1].json, Json::parse(R"({"b": ["x", "2", 3]})"));
}

TEST(YamlTest, ScalarsFollowTheCoreSchema) {
  auto docs = parseYamlDocuments(
      "t: true\nf: False\nn: null\ne:\ni: -7\nu: 18446744073709551615\nd: 1.5\ns: 'true'\nv: "
      "1.2.3\n"
      "h: 0x1f\n");
  ASSERT_EQ(docs.size(), 1u);
  const Json& j = *docs[0].json;
  EXPECT_EQ(j["t"], true);
  EXPECT_EQ(j["f"], false);
  EXPECT_TRUE(j["n"].is_null());
  EXPECT_TRUE(j["e"].is_null());
  EXPECT_EQ(j["i"], -7);
  EXPECT_EQ(j["u"].get<uint64_t>(), UINT64_MAX);
  EXPECT_EQ(j["d"], 1.5);
  EXPECT_EQ(j["s"], "true");
  EXPECT_EQ(j["v"], "1.2.3");
  EXPECT_EQ(j["h"], 31);
}

TEST(YamlTest, RejectsDuplicateKeys) {
  auto docs = parseYamlDocuments("a: 1\na: 2\n");
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].index, 1);
  ASSERT_FALSE(docs[0].json.ok());
  EXPECT_NE(docs[0].json.status().message().find("line 2, column 1: duplicate key \"a\""),
            std::string::npos)
      << docs[0].json.status();
}

TEST(YamlTest, DuplicateKeyInALaterDocumentNamesThatDocument) {
  auto docs = parseYamlDocuments("a: 1\n---\nb: 1\n---\nc: 1\nc: 2\n---\nd: 1\n");
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0].index, 1);
  EXPECT_EQ(docs[1].index, 2);
  EXPECT_EQ(docs[2].index, 3);
  EXPECT_EQ(docs[2].line, 5);
  ASSERT_FALSE(docs[2].json.ok());
  EXPECT_NE(docs[2].json.status().message().find("line 6"), std::string::npos)
      << docs[2].json.status();
  EXPECT_EQ(docs[3].index, 4);
  EXPECT_EQ(*docs[3].json, Json({{"d", 1}}));
}

TEST(YamlTest, ADocumentMayStartOnItsMarkerLine) {
  auto docs = parseYamlDocuments(
      "a: 1\n"
      "--- {kind: IPPool, n: 2}\n"
      "--- !tag\n"
      "b: 3\n"
      "--- |\n"
      "  text\n"
      "--- # only a comment\n"
      "c: 4\n"
      "---\t[5, 6]\n"
      "---\n"
      "---not-a-marker: 7\n");
  ASSERT_EQ(docs.size(), 7u);
  EXPECT_EQ(*docs[0].json, Json({{"a", 1}}));
  EXPECT_EQ(docs[1].line, 2);
  EXPECT_EQ(*docs[1].json, Json::parse(R"({"kind": "IPPool", "n": 2})"));
  EXPECT_EQ(*docs[2].json, Json({{"b", 3}}));
  EXPECT_EQ(*docs[3].json, Json("text\n"));
  EXPECT_EQ(docs[4].line, 8);
  EXPECT_EQ(*docs[4].json, Json({{"c", 4}}));
  EXPECT_EQ(*docs[5].json, Json::parse("[5, 6]"));
  EXPECT_EQ(docs[6].index, 7);
  EXPECT_EQ(*docs[6].json, Json({{"---not-a-marker", 7}}));
}

TEST(YamlTest, ErrorsOnAMarkerLineNameItsLineAndColumn) {
  auto docs = parseYamlDocuments("a: 1\n--- {b: [1}\n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1].index, 2);
  ASSERT_FALSE(docs[1].json.ok());
  EXPECT_NE(docs[1].json.status().message().find("line 2"), std::string::npos)
      << docs[1].json.status();
}

TEST(YamlTest, ParseResourcesKeepsADocumentOnTheMarkerLine) {
  auto docs = parseResources(
      "apiVersion: coral.network/v1\nkind: IPPool\nmetadata: {name: a}\n"
      "spec: {cidr: 10.1.0.0/16}\n"
      "--- {apiVersion: coral.network/v1, kind: IPPool, metadata: {name: b}, "
      "spec: {cidr: 10.2.0.0/16}}\n");
  ASSERT_EQ(docs.size(), 2u);
  ASSERT_TRUE(docs[1].resource.ok()) << docs[1].resource.status();
  EXPECT_EQ(docs[1].resource->metadata.name, "b");
  EXPECT_EQ(docs[1].line, 5);
}

TEST(YamlTest, EmitsStringsThatLookLikeOtherTypesQuoted) {
  Json j = {{"a", "true"}, {"b", "123"}, {"c", ""}, {"d", "plain"}, {"e", 5}, {"f", "64512:100"}};
  const std::string yaml = jsonToYaml(j);
  auto back = parseYamlDocuments(yaml);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(*back[0].json, j) << yaml;
}

// Strings a YAML 1.1 reader (kubectl, PyYAML) would take for a bool, number, timestamp
// or null come out quoted, and read back as the same strings.
TEST(YamlTest, QuotesWhatYaml11ReadersWouldNotReadAsStrings) {
  const std::vector<std::string> tricky = {"yes",        "No",
                                           "on",         "off",
                                           "Y",          "n",
                                           "TRUE",       "1_000",
                                           "0x1F",       "0b101",
                                           "0o17",       "017",
                                           "64512:10",   "1:20:30.5",
                                           "1.5",        "1e5",
                                           ".5",         ".inf",
                                           "-.Inf",      ".NaN",
                                           "2026-01-01", "2001-12-14t21:59:43.10-05:00",
                                           "~",          "null",
                                           "Null",       "<<",
                                           "=",          "+12"};
  for (const auto& value : tricky) {
    const Json j = {{"labels", {{"v", value}}}};
    const std::string yaml = jsonToYaml(j);
    EXPECT_NE(yaml.find("\"" + value + "\""), std::string::npos) << value << " -> " << yaml;
    auto back = parseYamlDocuments(yaml);
    ASSERT_EQ(back.size(), 1u) << yaml;
    EXPECT_EQ(*back[0].json, j) << yaml;
  }
  // Plain words, names and CIDRs stay plain.
  for (const std::string value : {"web", "yesterday", "10.0.0.0/8", "64512:100", "v1.2-x"}) {
    const std::string yaml = jsonToYaml(Json({{"v", value}}));
    EXPECT_EQ(yaml, "v: " + value + "\n") << value;
  }
}

TEST(YamlTest, AcceptsJsonAndLists) {
  auto docs = parseResources(R"({"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "B"}}]})");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_TRUE(docs[0].resource.ok());
  EXPECT_FALSE(docs[1].resource.ok());
}

}  // namespace
}  // namespace coral::model
