#include "common/labels.h"

#include <gtest/gtest.h>

namespace coral::common {
namespace {

TEST(LabelsTest, ValidatesKeysAndValues) {
  EXPECT_TRUE(
      validateLabels({{"app", "web"}, {"kubernetes.io/metadata.name", "x"}, {"e", ""}}).ok());
  EXPECT_FALSE(validateLabelKey("").ok());
  EXPECT_FALSE(validateLabelKey("-app").ok());
  EXPECT_FALSE(validateLabelKey("Bad_Prefix/app").ok());
  EXPECT_FALSE(validateLabelValue(std::string(64, 'a')).ok());
  EXPECT_FALSE(validateLabelValue("a b").ok());
}

TEST(LabelsTest, ParsesLabelLists) {
  EXPECT_EQ(parseLabelList("app=web, tier=db").value(), (Labels{{"app", "web"}, {"tier", "db"}}));
  EXPECT_EQ(parseLabelList("").value(), Labels{});
  EXPECT_FALSE(parseLabelList("app").ok());
}

TEST(LabelSelectorTest, ParsesAndMatches) {
  auto sel = LabelSelector::parse("app=web,tier!=db,env in (prod, staging),!legacy,zone").value();
  EXPECT_EQ(sel.requirements().size(), 5u);
  EXPECT_TRUE(sel.matches({{"app", "web"}, {"env", "prod"}, {"zone", "a"}}));
  EXPECT_FALSE(sel.matches({{"app", "web"}, {"env", "prod"}}));                // no zone
  EXPECT_FALSE(sel.matches({{"app", "web"}, {"env", "dev"}, {"zone", "a"}}));  // env
  EXPECT_FALSE(sel.matches({{"app", "web"}, {"env", "prod"}, {"zone", "a"}, {"legacy", ""}}));
  EXPECT_FALSE(sel.matches({{"app", "web"}, {"tier", "db"}, {"env", "prod"}, {"zone", "a"}}));
  EXPECT_EQ(sel.toString(), "app=web,tier!=db,env in (prod,staging),!legacy,zone");
  EXPECT_TRUE(LabelSelector::parse("").value().matches({}));
  EXPECT_TRUE(LabelSelector::parse("a==b").value().matches({{"a", "b"}}));
  EXPECT_TRUE(LabelSelector::parse("a notin (x)").value().matches({}));
}

TEST(LabelSelectorTest, RejectsBadSyntax) {
  EXPECT_FALSE(LabelSelector::parse("app=web,").ok());
  EXPECT_FALSE(LabelSelector::parse("env in (a,b").ok());
  EXPECT_FALSE(LabelSelector::parse("env within (a)").ok());
  EXPECT_FALSE(LabelSelector::parse("a b=c").ok());
}

}  // namespace
}  // namespace coral::common
