// The selector lexer and recursive-descent parser. The lexer runs on demand, one token
// ahead of the parser, so the first error in the text is the one reported. Nesting of
// parentheses and `!` is bounded by Selector::kMaxDepth, which bounds the recursion.
#include "policy/selector/parser.h"

#include <cctype>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "common/labels.h"
#include "common/strings.h"

namespace coral::policy::internal {
namespace {

enum class Kind : uint8_t {
  kEnd,
  kIdent,   // a run of [A-Za-z0-9_./-]: a label key or a keyword, told apart by context
  kString,  // text holds the contents without quotes
  kEq,      // ==
  kNe,      // !=
  kNot,     // !
  kAnd,     // &&
  kOr,      // ||
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kComma,
};

struct Token {
  Kind kind = Kind::kEnd;
  size_t pos = 0;
  std::string_view text;
};

bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '/' ||
         c == '-';
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string describeChar(char c) {
  if (std::isprint(static_cast<unsigned char>(c))) return fmt::format("'{}'", c);
  return fmt::format("'\\x{:02x}'", static_cast<unsigned char>(c));
}

// The selector as shown in an error: escaped, and cut ("...") when very long.
std::string quoteForError(std::string_view text) {
  constexpr size_t kShown = 100;
  std::string out = "\"";
  for (char c : text.substr(0, kShown)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (std::isprint(static_cast<unsigned char>(c))) {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
  }
  out += text.size() > kShown ? "...\"" : "\"";
  return out;
}

SelectorNode leaf(SelectorOp op, std::string_view key, std::vector<std::string> values = {}) {
  SelectorNode node;
  node.op = op;
  node.key = std::string(key);
  node.values = std::move(values);
  return node;
}

SelectorNode negate(SelectorNode child) {
  SelectorNode node;
  node.op = SelectorOp::kNot;
  node.children.push_back(std::move(child));
  return node;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<SelectorNode> run() {
    SelectorNode root;
    if (!parseAll(root)) {
      return absl::InvalidArgumentError(fmt::format(
          "selector {}: position {}: {}", quoteForError(text_), error_pos_, error_message_));
    }
    return root;
  }

 private:
  bool parseAll(SelectorNode& out) {
    if (text_.size() > Selector::kMaxLength) {
      return fail(Selector::kMaxLength, fmt::format("longer than {} bytes", Selector::kMaxLength));
    }
    if (!advance()) return false;
    if (tok_.kind == Kind::kEnd) {
      out = SelectorNode{};  // empty text: all()
      return true;
    }
    if (!parseOr(out)) return false;
    if (tok_.kind == Kind::kRParen) return fail(tok_.pos, "')' without a matching '('");
    if (tok_.kind != Kind::kEnd) return fail(tok_.pos, "expected '&&', '||' or end of selector");
    return true;
  }

  // or := and ("||" and)*
  bool parseOr(SelectorNode& out) {
    return parseChain(Kind::kOr, SelectorOp::kOr, out,
                      [this](SelectorNode& n) { return parseAnd(n); });
  }

  // and := unary ("&&" unary)*
  bool parseAnd(SelectorNode& out) {
    return parseChain(Kind::kAnd, SelectorOp::kAnd, out,
                      [this](SelectorNode& n) { return parseUnary(n); });
  }

  template <typename ParseOperand>
  bool parseChain(Kind separator, SelectorOp op, SelectorNode& out, ParseOperand parseOperand) {
    SelectorNode first;
    if (!parseOperand(first)) return false;
    if (tok_.kind != separator) {
      out = std::move(first);
      return true;
    }
    out = SelectorNode{};
    out.op = op;
    out.children.push_back(std::move(first));
    while (tok_.kind == separator) {
      if (!advance()) return false;
      SelectorNode next;
      if (!parseOperand(next)) return false;
      out.children.push_back(std::move(next));
    }
    return true;
  }

  // unary := "!" unary | primary
  bool parseUnary(SelectorNode& out) {
    if (tok_.kind != Kind::kNot) return parsePrimary(out);
    if (!enter(tok_.pos) || !advance()) return false;
    SelectorNode child;
    if (!parseUnary(child)) return false;
    --depth_;
    out = negate(std::move(child));
    return true;
  }

  // primary := "(" or ")" | function | comparison
  bool parsePrimary(SelectorNode& out) {
    if (tok_.kind == Kind::kLParen) {
      if (!enter(tok_.pos) || !advance() || !parseOr(out)) return false;
      if (tok_.kind != Kind::kRParen) return fail(tok_.pos, "expected '&&', '||' or ')'");
      --depth_;
      return advance();
    }
    if (tok_.kind != Kind::kIdent) {
      return fail(tok_.pos,
                  "expected a selector term (a label key, has(), all(), global(), '!' or '(')");
    }
    const Token word = tok_;
    if (!advance()) return false;
    if (tok_.kind == Kind::kLParen &&
        (word.text == "has" || word.text == "all" || word.text == "global")) {
      return parseFunction(word.text, out);
    }
    return parseComparison(word, out);
  }

  // function := "has" "(" key ")" | "all" "(" ")" | "global" "(" ")"; at the "(".
  bool parseFunction(std::string_view name, SelectorNode& out) {
    if (!advance()) return false;
    if (name == "has") {
      if (tok_.kind != Kind::kIdent) return fail(tok_.pos, "expected a label key");
      const Token key = tok_;
      if (!checkKey(key) || !advance()) return false;
      out = leaf(SelectorOp::kHas, key.text);
    } else {
      out = leaf(name == "all" ? SelectorOp::kAll : SelectorOp::kGlobal, "");
    }
    if (tok_.kind != Kind::kRParen) return fail(tok_.pos, "expected ')'");
    return advance();
  }

  // comparison := key ("==" | "!=" | "contains" | "starts with" | "ends with") string
  //             | key ("in" | "not in") set
  bool parseComparison(const Token& key, SelectorNode& out) {
    if (!checkKey(key)) return false;
    const Token op = tok_;
    auto withString = [&](SelectorOp node_op, bool negated) {
      std::string value;
      if (!parseString(value)) return false;
      out = leaf(node_op, key.text, {std::move(value)});
      if (negated) out = negate(std::move(out));
      return true;
    };
    auto withSet = [&](bool negated) {
      std::vector<std::string> values;
      if (!parseSet(values)) return false;
      out = leaf(SelectorOp::kIn, key.text, std::move(values));
      if (negated) out = negate(std::move(out));
      return true;
    };
    // "starts with", "ends with", "not in" may also be written as one word, as in Calico.
    auto secondWord = [&](std::string_view first, std::string_view second) {
      if (tok_.kind != Kind::kIdent || tok_.text != second) {
        return fail(tok_.pos, fmt::format("expected '{}' after '{}'", second, first));
      }
      return advance();
    };
    if (op.kind == Kind::kEq) return advance() && withString(SelectorOp::kEquals, false);
    if (op.kind == Kind::kNe) return advance() && withString(SelectorOp::kEquals, true);
    if (op.kind == Kind::kIdent) {
      const std::string_view w = op.text;
      if (w == "in") return advance() && withSet(false);
      if (w == "notin") return advance() && withSet(true);
      if (w == "not") return advance() && secondWord("not", "in") && withSet(true);
      if (w == "contains") return advance() && withString(SelectorOp::kContains, false);
      if (w == "startswith") return advance() && withString(SelectorOp::kStartsWith, false);
      if (w == "starts") {
        return advance() && secondWord("starts", "with") &&
               withString(SelectorOp::kStartsWith, false);
      }
      if (w == "endswith") return advance() && withString(SelectorOp::kEndsWith, false);
      if (w == "ends") {
        return advance() && secondWord("ends", "with") && withString(SelectorOp::kEndsWith, false);
      }
    }
    return fail(op.pos, fmt::format("expected an operator after label key \"{}\" "
                                    "(==, !=, in, not in, contains, starts with, ends with)",
                                    key.text));
  }

  bool parseString(std::string& out) {
    if (tok_.kind != Kind::kString) return fail(tok_.pos, "expected a quoted string");
    out = std::string(tok_.text);
    return advance();
  }

  // set := "{" [string ("," string)*] "}"
  bool parseSet(std::vector<std::string>& out) {
    if (tok_.kind != Kind::kLBrace) return fail(tok_.pos, "expected '{'");
    if (!advance()) return false;
    if (tok_.kind == Kind::kRBrace) return advance();
    while (true) {
      std::string value;
      if (!parseString(value)) return false;
      out.push_back(std::move(value));
      if (tok_.kind == Kind::kRBrace) return advance();
      if (tok_.kind != Kind::kComma) return fail(tok_.pos, "expected ',' or '}'");
      if (!advance()) return false;
    }
  }

  bool checkKey(const Token& key) {
    const absl::Status status = common::validateLabelKey(key.text);
    if (!status.ok()) return fail(key.pos, std::string(errorMessage(status)));
    return true;
  }

  bool enter(size_t pos) {
    if (++depth_ > Selector::kMaxDepth) {
      return fail(pos,
                  fmt::format("nested deeper than {} levels of '(' and '!'", Selector::kMaxDepth));
    }
    return true;
  }

  // Lexes the next token into tok_.
  bool advance() {
    while (pos_ < text_.size() && isSpace(text_[pos_])) ++pos_;
    tok_ = Token{Kind::kEnd, pos_, {}};
    if (pos_ >= text_.size()) return true;
    const char c = text_[pos_];
    const char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    auto single = [&](Kind kind, size_t length) {
      tok_.kind = kind;
      pos_ += length;
      return true;
    };
    switch (c) {
      case '(':
        return single(Kind::kLParen, 1);
      case ')':
        return single(Kind::kRParen, 1);
      case '{':
        return single(Kind::kLBrace, 1);
      case '}':
        return single(Kind::kRBrace, 1);
      case ',':
        return single(Kind::kComma, 1);
      case '!':
        return next == '=' ? single(Kind::kNe, 2) : single(Kind::kNot, 1);
      case '=':
        if (next == '=') return single(Kind::kEq, 2);
        return fail(pos_, "unexpected character '=' (equality is '==')");
      case '&':
        if (next == '&') return single(Kind::kAnd, 2);
        return fail(pos_, "unexpected character '&' (conjunction is '&&')");
      case '|':
        if (next == '|') return single(Kind::kOr, 2);
        return fail(pos_, "unexpected character '|' (disjunction is '||')");
      case '"':
      case '\'': {
        const size_t close = text_.find(c, pos_ + 1);
        if (close == std::string_view::npos) {
          return fail(pos_, fmt::format("unterminated string (no closing {})", c));
        }
        tok_.kind = Kind::kString;
        tok_.text = text_.substr(pos_ + 1, close - pos_ - 1);
        pos_ = close + 1;
        return true;
      }
      default:
        break;
    }
    if (!isIdentChar(c)) return fail(pos_, fmt::format("unexpected character {}", describeChar(c)));
    const size_t start = pos_;
    while (pos_ < text_.size() && isIdentChar(text_[pos_])) ++pos_;
    tok_.kind = Kind::kIdent;
    tok_.text = text_.substr(start, pos_ - start);
    return true;
  }

  bool fail(size_t pos, std::string message) {
    error_pos_ = pos;
    error_message_ = std::move(message);
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;  // next byte for the lexer
  Token tok_;       // the current token
  int depth_ = 0;
  size_t error_pos_ = 0;
  std::string error_message_;
};

}  // namespace

absl::StatusOr<SelectorNode> parseSelectorTree(std::string_view text) { return Parser(text).run(); }

}  // namespace coral::policy::internal
