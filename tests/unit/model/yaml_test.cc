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
  EXPECT_FALSE(docs[0].json.ok());
}

TEST(YamlTest, EmitsStringsThatLookLikeOtherTypesQuoted) {
  Json j = {{"a", "true"}, {"b", "123"}, {"c", ""}, {"d", "plain"}, {"e", 5}, {"f", "64512:100"}};
  const std::string yaml = jsonToYaml(j);
  auto back = parseYamlDocuments(yaml);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(*back[0].json, j) << yaml;
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
