// Tests of the selector language: evaluation table (every operator, precedence, quoting,
// absent keys), error table (position and message), canonical form, introspection.
#include "policy/selector/selector.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/strings.h"

namespace coral::policy {
namespace {

using common::Labels;

const Labels kWeb = {{"app", "web"},
                     {"tier", "frontend"},
                     {"env", "prod"},
                     {"version", "v1.2.3"},
                     {"example.com/team", "blue-team"},
                     {"empty", ""}};
const Labels kDb = {{"app", "db"}, {"tier", "backend"}, {"env", "staging"}};
const Labels kNone = {};

struct MatchCase {
  std::string selector;
  Labels labels;
  bool expected;
};

std::string describe(const Labels& labels) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) parts.push_back(k + "=" + v);
  return "{" + join(parts, ",") + "}";
}

const std::vector<MatchCase> kMatchCases = {
    // all() / global() / empty
    {"all()", kNone, true},
    {"all()", kWeb, true},
    {"", kNone, true},
    {"   ", kWeb, true},
    {"global()", kNone, true},
    {"global()", kWeb, true},
    {"!all()", kWeb, false},
    {" all ( ) ", kWeb, true},
    // ==
    {"app == \"web\"", kWeb, true},
    {"app == \"web\"", kDb, false},
    {"app == \"web\"", kNone, false},
    {"app == 'web'", kWeb, true},
    {"app=='web'", kWeb, true},
    {"app == \"we\"", kWeb, false},
    {"app == \"Web\"", kWeb, false},
    {"empty == \"\"", kWeb, true},
    {"empty == \"\"", kNone, false},
    {"example.com/team == \"blue-team\"", kWeb, true},
    {"version == 'v1.2.3'", kWeb, true},
    // !=
    {"app != \"web\"", kWeb, false},
    {"app != \"web\"", kDb, true},
    {"app != \"web\"", kNone, true},  // absent key: true (Calico)
    {"app!='db'", kWeb, true},
    {"empty != ''", kWeb, false},
    // in / not in
    {"app in {\"web\", \"db\"}", kWeb, true},
    {"app in {\"web\", \"db\"}", kDb, true},
    {"app in {\"web\", \"db\"}", kNone, false},
    {"app in {'x'}", kWeb, false},
    {"app in {}", kWeb, false},
    {"app in{\"web\"}", kWeb, true},
    {"env in {'prod','staging'}", kDb, true},
    {"app not in {\"web\"}", kWeb, false},
    {"app not in {\"web\"}", kDb, true},
    {"app not in {\"web\"}", kNone, true},  // absent key: true (Calico)
    {"app not in {}", kNone, true},
    {"app notin {'db'}", kWeb, true},
    {"app not   in {'db', 'web'}", kWeb, false},
    // has / !has
    {"has(app)", kWeb, true},
    {"has(app)", kNone, false},
    {"has(empty)", kWeb, true},
    {"has( example.com/team )", kWeb, true},
    {"!has(app)", kWeb, false},
    {"!has(app)", kNone, true},
    {"! has(legacy)", kWeb, true},
    // contains / starts with / ends with
    {"tier contains \"ront\"", kWeb, true},
    {"tier contains \"back\"", kWeb, false},
    {"tier contains \"\"", kWeb, true},
    {"tier contains \"\"", kNone, false},  // absent key: false
    {"tier contains 'x'", kNone, false},
    {"tier starts with \"front\"", kWeb, true},
    {"tier starts with \"end\"", kWeb, false},
    {"tier startswith 'front'", kWeb, true},
    {"tier starts with \"front\"", kNone, false},
    {"tier ends with \"end\"", kWeb, true},
    {"tier ends with \"end\"", kDb, true},
    {"tier ends with \"front\"", kWeb, false},
    {"tier endswith 'end'", kDb, true},
    {"tier ends with 'x'", kNone, false},
    {"!(tier contains 'x')", kNone, true},
    {"version starts with 'v1.' && version ends with '.3'", kWeb, true},
    // !, &&, ||
    {"app == 'web' && env == 'prod'", kWeb, true},
    {"app == 'web' && env == 'staging'", kWeb, false},
    {"app == 'web' || env == 'staging'", kDb, true},
    {"app == 'x' || env == 'y'", kDb, false},
    {"!app == 'web'", kWeb, false},  // ! applies to the whole term
    {"!app == 'web'", kDb, true},
    {"!!has(app)", kWeb, true},
    {"!!!has(app)", kWeb, false},
    // precedence: ! > && > ||
    {"app == 'db' && env == 'prod' || tier == 'frontend'", kWeb, true},
    {"app == 'db' && (env == 'prod' || tier == 'frontend')", kWeb, false},
    {"tier == 'frontend' || app == 'db' && env == 'prod'", kWeb, true},
    {"(tier == 'frontend' || app == 'db') && env == 'staging'", kWeb, false},
    {"!has(app) || app == 'web'", kWeb, true},
    {"!(has(app) || app == 'web')", kWeb, false},
    {"!has(x) && !has(y) && has(app)", kWeb, true},
    {"has(a) || has(b) || has(app)", kWeb, true},
    {"has(a) || has(b) || has(c)", kWeb, false},
    {"((((app == 'web'))))", kWeb, true},
    {"all() && app == 'db'", kWeb, false},
    {"all() || app == 'db'", kWeb, true},
    {"global() && has(app)", kNone, false},
    // merged in-sets keep Calico's absent-key semantics
    {"app == 'x' || app == 'web'", kWeb, true},
    {"app == 'x' || app == 'web'", kNone, false},
    {"app != 'x' && app != 'web'", kWeb, false},
    {"app != 'x' && app != 'y'", kWeb, true},
    {"app != 'x' && app != 'web'", kNone, true},
    // keywords are keys where a key is expected
    {"in == 'x'", {{"in", "x"}}, true},
    {"has == 'x'", {{"has", "x"}}, true},
    {"has(has)", {{"has", ""}}, true},
    {"not not in {'a'}", {{"not", "b"}}, true},
    {"contains contains 'z'", {{"contains", "xyz"}}, true},
    // whitespace of all kinds
    {"\tapp\n==\r\n'web'", kWeb, true},
    // quotes inside strings
    {"v == 'say \"hi\"'", {{"v", "say \"hi\""}}, true},
    {"v == \"it's\"", {{"v", "it's"}}, true},
};

TEST(SelectorTest, MatchTable) {
  for (const MatchCase& c : kMatchCases) {
    auto selector = Selector::parse(c.selector);
    ASSERT_TRUE(selector.ok()) << c.selector << ": " << selector.status();
    EXPECT_EQ(selector->matches(c.labels), c.expected)
        << "selector `" << c.selector << "` (canonical `" << selector->canonical() << "`) on "
        << describe(c.labels);
    // The canonical form selects the same.
    auto reparsed = Selector::parse(selector->canonical());
    ASSERT_TRUE(reparsed.ok()) << selector->canonical() << ": " << reparsed.status();
    EXPECT_EQ(reparsed->matches(c.labels), c.expected) << reparsed->canonical();
  }
}

struct ErrorCase {
  std::string selector;
  size_t position;
  std::string fragment;
};

const std::vector<ErrorCase> kErrorCases = {
    {"app == ", 7, "expected a quoted string"},
    {"app ==", 6, "expected a quoted string"},
    {"app == web", 7, "expected a quoted string"},
    {"app", 3, "expected an operator after label key \"app\""},
    {"app = 'web'", 4, "unexpected character '=' (equality is '==')"},
    {"app === 'web'", 6, "unexpected character '='"},
    {"app == 'web' & env == 'x'", 13, "unexpected character '&'"},
    {"app == 'web' | env == 'x'", 13, "unexpected character '|'"},
    {"app == 'web", 7, "unterminated string (no closing ')"},
    {"app == \"web", 7, "unterminated string (no closing \")"},
    {"app == 'web' env == 'x'", 13, "expected '&&', '||' or end of selector"},
    {"app == 'web')", 12, "')' without a matching '('"},
    {"(app == 'web'", 13, "expected '&&', '||' or ')'"},
    {"((app == 'web')", 15, "expected '&&', '||' or ')'"},
    {"app == 'web' &&", 15, "expected a selector term"},
    {"app == 'web' || || x == 'y'", 16, "expected a selector term"},
    {"&& app == 'web'", 0, "expected a selector term"},
    {"()", 1, "expected a selector term"},
    {"!", 1, "expected a selector term"},
    {"'web' == app", 0, "expected a selector term"},
    {"app in 'web'", 7, "expected '{'"},
    {"app in {'a' 'b'}", 12, "expected ',' or '}'"},
    {"app in {'a',}", 12, "expected a quoted string"},
    {"app in {'a'", 11, "expected ',' or '}'"},
    {"app in {a}", 8, "expected a quoted string"},
    {"app not {'a'}", 8, "expected 'in' after 'not'"},
    {"app starts 'a'", 11, "expected 'with' after 'starts'"},
    {"app ends", 8, "expected 'with' after 'ends'"},
    {"app like 'a'", 4, "expected an operator"},
    {"has(app", 7, "expected ')'"},
    {"has()", 4, "expected a label key"},
    {"has('app')", 4, "expected a label key"},
    {"has(app, b)", 7, "expected ')'"},
    {"all(x)", 4, "expected ')'"},
    {"global(", 7, "expected ')'"},
    {"app == 'web' @", 13, "unexpected character '@'"},
    {"app == 'x' && \x01", 14, "unexpected character '\\x01'"},
    {"-app == 'x'", 0, "must begin and end with a letter or digit"},
    {"a..b/c == 'x'", 0, "label key prefix"},
    {"Foo/app == 'x'", 0, "is not a DNS subdomain"},
    {"x == 'a' && has(app-)", 16, "must begin and end"},
    {"a/b/c == 'x'", 0, "label key"},
    {std::string(70, 'k') + " == 'x'", 0, "longer than 63 characters"},
};

TEST(SelectorTest, ErrorTable) {
  for (const ErrorCase& c : kErrorCases) {
    auto selector = Selector::parse(c.selector);
    ASSERT_FALSE(selector.ok()) << "`" << c.selector << "` parsed as `" << selector->canonical()
                                << "`";
    EXPECT_EQ(selector.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(errorMessage(selector.status()));
    const std::string position = "position " + std::to_string(c.position) + ": ";
    EXPECT_NE(message.find(position), std::string::npos) << c.selector << " → " << message;
    EXPECT_NE(message.find(c.fragment), std::string::npos) << c.selector << " → " << message;
  }
}

TEST(SelectorTest, ErrorMessageNamesTheSelector) {
  auto selector = Selector::parse("app == ");
  ASSERT_FALSE(selector.ok());
  EXPECT_EQ(errorMessage(selector.status()),
            "selector \"app == \": position 7: expected a quoted string");
  selector = Selector::parse("v == \"x");
  ASSERT_FALSE(selector.ok());
  EXPECT_EQ(errorMessage(selector.status()),
            "selector \"v == \\\"x\": position 5: unterminated string (no closing \")");
}

TEST(SelectorTest, RejectsPathologicalInput) {
  // Nesting at the limit parses; one more level is an error, not a stack overflow.
  const int limit = Selector::kMaxDepth;
  std::string ok = std::string(limit, '(') + "has(a)" + std::string(limit, ')');
  EXPECT_TRUE(Selector::parse(ok).ok());
  std::string deep = std::string(limit + 1, '(') + "has(a)" + std::string(limit + 1, ')');
  auto status = Selector::parse(deep).status();
  EXPECT_NE(errorMessage(status).find("position 100: nested deeper than 100 levels"),
            std::string_view::npos)
      << status;
  std::string nots = std::string(limit, '!') + "has(a)";
  EXPECT_TRUE(Selector::parse(nots).ok());
  EXPECT_FALSE(Selector::parse("!" + nots).ok());
  EXPECT_FALSE(Selector::parse(std::string(100000, '(')).ok());
  EXPECT_FALSE(Selector::parse(std::string(100000, '!')).ok());
  // Mixed '(' and '!' count together.
  std::string mixed;
  for (int i = 0; i < 60; ++i) mixed += "!(";
  EXPECT_FALSE(Selector::parse(mixed + "has(a)" + std::string(60, ')')).ok());

  // Length limit.
  std::string longest = "a in {";
  while (longest.size() + 6 < Selector::kMaxLength) longest += "'x', ";
  longest += "'y'}";
  ASSERT_LE(longest.size(), Selector::kMaxLength);
  EXPECT_TRUE(Selector::parse(longest).ok());
  std::string too_long(Selector::kMaxLength + 1, ' ');
  status = Selector::parse(too_long).status();
  EXPECT_NE(errorMessage(status).find("position 4096: longer than 4096 bytes"),
            std::string_view::npos)
      << status;
  // The message shows a bounded prefix of the text.
  EXPECT_LT(errorMessage(status).size(), 200u);

  // A long flat chain is fine (no recursion per operand).
  std::string chain = "has(a)";
  while (chain.size() + 10 < Selector::kMaxLength) chain += " || has(a)";
  auto selector = Selector::parse(chain);
  ASSERT_TRUE(selector.ok());
  EXPECT_EQ(selector->canonical(), "has(a)");
}

TEST(SelectorTest, CanonicalForm) {
  struct Case {
    std::string input;
    std::string canonical;
  };
  const std::vector<Case> cases = {
      {"", "all()"},
      {"all()", "all()"},
      {"global()", "global()"},
      {"app=='web'", "app == \"web\""},
      {"app!='web'", "app != \"web\""},
      {"!(app=='web')", "app != \"web\""},
      {"!(app!='web')", "app == \"web\""},
      {"app in {'b','a','b'}", "app in {\"a\", \"b\"}"},
      {"app in {'a'}", "app == \"a\""},
      {"app not in {'a'}", "app != \"a\""},
      {"app in {}", "app in {}"},
      {"app notin {'b', 'a'}", "app not in {\"a\", \"b\"}"},
      {"v == 'a\"b'", "v == 'a\"b'"},
      {"has( app )", "has(app)"},
      {"! has(app)", "!has(app)"},
      {"!!has(app)", "has(app)"},
      {"!!!has(app)", "!has(app)"},
      {"x contains 'a'", "x contains \"a\""},
      {"x startswith 'a'", "x starts with \"a\""},
      {"x ends   with 'a'", "x ends with \"a\""},
      {"!(x contains 'a')", "!(x contains \"a\")"},
      {"b == '1' && a == '1'", "a == \"1\" && b == \"1\""},
      {"a == '1' && (b == '1' && c == '1')", "a == \"1\" && b == \"1\" && c == \"1\""},
      {"(a == '1' || b == '1') && c == '1'", "(a == \"1\" || b == \"1\") && c == \"1\""},
      {"c == '1' || b == '1' && a == '1'", "(a == \"1\" && b == \"1\") || c == \"1\""},
      {"!(a == '1' && b == '1')", "!(a == \"1\" && b == \"1\")"},
      {"has(a) && has(a)", "has(a)"},
      {"has(a) && all()", "has(a)"},
      {"has(a) || all()", "all()"},
      {"all() && all()", "all()"},
      {"global() && has(a)", "global() && has(a)"},
      {"a == 'x' || a == 'y'", "a in {\"x\", \"y\"}"},
      {"a == 'x' || a == 'x'", "a == \"x\""},
      {"a == 'y' || b == '1' || a in {'x', 'z'}", "a in {\"x\", \"y\", \"z\"} || b == \"1\""},
      {"a in {} || a == 'x'", "a == \"x\""},
      {"a != 'x' && a not in {'y'}", "a not in {\"x\", \"y\"}"},
      {"a != 'x' && b != 'x' && a != 'x'", "a != \"x\" && b != \"x\""},
      {"a == 'x' && a == 'y'", "a == \"x\" && a == \"y\""},  // only || merges equalities
      {"a != 'x' || a != 'y'", "a != \"x\" || a != \"y\""},  // only && merges inequalities
      {"(a == 'x' || b == 'y') || a == 'z'", "a in {\"x\", \"z\"} || b == \"y\""},
  };
  for (const Case& c : cases) {
    auto selector = Selector::parse(c.input);
    ASSERT_TRUE(selector.ok()) << c.input << ": " << selector.status();
    EXPECT_EQ(selector->canonical(), c.canonical) << c.input;
  }
}

TEST(SelectorTest, EqualSelectorsShareCanonicalForm) {
  const std::vector<std::vector<std::string>> groups = {
      {"app == 'web'", "app==\"web\"", "(app == 'web')", "((app=='web'))", "app in {'web'}",
       "!!(app == 'web')", "app == 'web' && app == 'web'", "all() && app == 'web'"},
      {"a == '1' && b == '2'", "b == '2' && a == '1'", "(b=='2')&&(a=='1')",
       "b == '2' && (a == '1' && all())"},
      {"a in {'x', 'y', 'z'}", "a in {'z', 'y', 'x'}", "a in {'x','x','y','z','y'}"},
      {"a not in {'x', 'y'}", "!(a in {'y', 'x'})", "a notin {\"y\",\"x\"}"},
      {"!has(a)", "! has(a)", "!(has(a))", "!!!has(a)"},
      {"a == '1' || b == '2' && c == '3'", "(c == '3' && b == '2') || a == '1'",
       "(((b == '2') && (c == '3'))) || (a == '1')"},
      {"all()", "", " ", "all() || has(x)", "all() && all()"},
  };
  std::vector<std::string> canonicals;
  for (const auto& group : groups) {
    auto first = Selector::parse(group[0]);
    ASSERT_TRUE(first.ok()) << group[0];
    for (const auto& text : group) {
      auto other = Selector::parse(text);
      ASSERT_TRUE(other.ok()) << text << ": " << other.status();
      EXPECT_EQ(other->canonical(), first->canonical()) << text << " vs " << group[0];
      EXPECT_EQ(*other, *first);
      EXPECT_EQ(other->hash(), first->hash());
      EXPECT_EQ(other->fingerprint(), first->fingerprint());
      EXPECT_EQ(other->root(), first->root());
    }
    canonicals.push_back(first->canonical());
  }
  // Different groups differ.
  for (size_t i = 0; i < canonicals.size(); ++i) {
    for (size_t j = i + 1; j < canonicals.size(); ++j) EXPECT_NE(canonicals[i], canonicals[j]);
  }
}

TEST(SelectorTest, DifferentSelectorsHaveDifferentCanonicalForms) {
  const std::vector<std::string> distinct = {
      "app == 'web'",
      "app != 'web'",
      "app == 'Web'",
      "App == 'web'",
      "has(app)",
      "!has(app)",
      "app in {'web', 'x'}",
      "app not in {'web', 'x'}",
      "app in {}",
      "app not in {}",
      "all()",
      "global()",
      "!all()",
      "app contains 'web'",
      "app starts with 'web'",
      "app ends with 'web'",
      "a == '1' && b == '1'",
      "a == '1' || b == '1'",
      "!(a == '1' && b == '1')",
      "(a == '1' || b == '1') && c == '1'",
      "a == '1' || (b == '1' && c == '1')",
      "app == 'web '",
      "app == ''",
  };
  for (size_t i = 0; i < distinct.size(); ++i) {
    auto a = Selector::parse(distinct[i]);
    ASSERT_TRUE(a.ok()) << distinct[i];
    for (size_t j = i + 1; j < distinct.size(); ++j) {
      auto b = Selector::parse(distinct[j]);
      ASSERT_TRUE(b.ok()) << distinct[j];
      EXPECT_NE(a->canonical(), b->canonical()) << distinct[i] << " vs " << distinct[j];
      EXPECT_FALSE(*a == *b);
    }
  }
}

TEST(SelectorTest, CanonicalRoundTrip) {
  std::vector<std::string> inputs;
  for (const MatchCase& c : kMatchCases) inputs.push_back(c.selector);
  inputs.push_back("!(a == '1' || !(b in {'x','y'} && c ends with 'z')) || global()");
  inputs.push_back("v == 'a\"b' && w == \"it's\"");
  for (const std::string& input : inputs) {
    auto first = Selector::parse(input);
    ASSERT_TRUE(first.ok()) << input;
    auto second = Selector::parse(first->canonical());
    ASSERT_TRUE(second.ok()) << first->canonical() << ": " << second.status();
    EXPECT_EQ(second->canonical(), first->canonical()) << input;
    EXPECT_EQ(second->root(), first->root()) << input;
  }
}

TEST(SelectorTest, Introspection) {
  auto selector =
      Selector::parse("tier in {'a','b'} && !has(legacy) || app == 'web' && has(tier)").value();
  EXPECT_EQ(selector.labelKeys(), (std::vector<std::string>{"app", "legacy", "tier"}));
  EXPECT_FALSE(selector.selectsAll());
  EXPECT_FALSE(selector.usesGlobal());
  EXPECT_EQ(selector.root().op, SelectorOp::kOr);
  ASSERT_EQ(selector.root().children.size(), 2u);
  EXPECT_EQ(selector.root().children[0].op, SelectorOp::kAnd);

  EXPECT_TRUE(Selector::parse("").value().selectsAll());
  EXPECT_TRUE(Selector::all().selectsAll());
  EXPECT_TRUE(Selector().selectsAll());
  EXPECT_EQ(Selector(), Selector::parse("all()").value());
  EXPECT_TRUE(Selector::parse("all()").value().labelKeys().empty());
  EXPECT_TRUE(Selector::parse("global()").value().usesGlobal());
  EXPECT_FALSE(Selector::parse("global()").value().selectsAll());
  EXPECT_TRUE(Selector::parse("has(a) && !global()").value().usesGlobal());

  auto set = Selector::parse("k in {'b', 'a'}").value();
  EXPECT_EQ(set.root().op, SelectorOp::kIn);
  EXPECT_EQ(set.root().key, "k");
  EXPECT_EQ(set.root().values, (std::vector<std::string>{"a", "b"}));
}

TEST(SelectorTest, FingerprintIsStable) {
  // FNV-1a 64 of the canonical text: pinned so dataplane names survive upgrades.
  EXPECT_EQ(Selector::all().fingerprint(), 0x68f9c1bb7305fd57ull)
      << std::hex << Selector::all().fingerprint();
  EXPECT_EQ(std::hash<Selector>()(Selector::all()), Selector::all().hash());
}

TEST(SelectorTest, CopiesShareState) {
  Selector a = Selector::parse("app == 'web'").value();
  Selector b = a;
  EXPECT_EQ(&a.canonical(), &b.canonical());
  EXPECT_TRUE(b.matches({{"app", "web"}}));
}

}  // namespace
}  // namespace coral::policy
