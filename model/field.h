// Field descriptions: a struct lists its fields once, in a member template
//
//   template <class V> void describe(V& v) {
//     v("cidr", cidr, {.required = true});
//     v("blockSize", block_size, {.minimum = 0, .maximum = 128});
//   }
//
// and the generic JSON reader and writer (codec.h), the schema generator and the
// equality checks all walk that list. Supported member types: std::string, bool,
// integers, double, std::optional<T>, std::vector<T>, std::map<std::string, T>,
// IntOrString, nlohmann::json (free-form) and nested described structs.
// A struct may also define `void validate(Validation&) const` for checks that span
// fields or parse values (CIDRs, selectors); the reader calls it after decoding.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace coral::model {

struct FieldInfo {
  bool required = false;
  // Allowed values of a string field (an enum), in the order shown to users.
  std::initializer_list<const char*> enum_values = {};
  std::optional<int64_t> minimum = std::nullopt;
  std::optional<int64_t> maximum = std::nullopt;
  // One line for users (CRD schema description, docs).
  const char* doc = "";
  // Only for the CRD schema (model/schema.h); the reader does not look at these.
  // A regular expression (RE2 and ECMAScript alike) the value must match. Use it only
  // where validate() already checks something stricter, so the API server never accepts
  // what Coral rejects on the shape alone, and never rejects what Coral accepts.
  const char* pattern = nullptr;
  // The default the API server fills in, as JSON text ("\"None\"", "true"). Only for
  // defaults that applyDefaults() sets unconditionally, so both paths store the same.
  const char* default_json = nullptr;
};

// Shapes for FieldInfo::pattern; validate() checks the values exactly.
inline constexpr const char* kCidrShape = "^[0-9a-fA-F.:]+/[0-9]{1,3}$";
inline constexpr const char* kCommunityShape = "^[0-9]+:[0-9]+(:[0-9]+)?$";

// A Kubernetes IntOrString: numeric ports or named ports, protocol numbers or names.
class IntOrString {
 public:
  IntOrString() = default;
  IntOrString(int64_t v) : value_(v) {}                   // NOLINT: implicit like Kubernetes'
  IntOrString(std::string v) : value_(std::move(v)) {}    // NOLINT
  IntOrString(const char* v) : value_(std::string(v)) {}  // NOLINT

  bool isInt() const { return std::holds_alternative<int64_t>(value_); }
  bool isString() const { return !isInt(); }
  int64_t intValue() const { return isInt() ? std::get<int64_t>(value_) : 0; }
  const std::string& stringValue() const {
    static const std::string kEmpty;
    return isInt() ? kEmpty : std::get<std::string>(value_);
  }
  std::string toString() const { return isInt() ? std::to_string(intValue()) : stringValue(); }
  bool operator==(const IntOrString&) const = default;

 private:
  std::variant<int64_t, std::string> value_ = int64_t{0};
};

// Collects validation errors with the field path they belong to.
class Validation {
 public:
  explicit Validation(std::string path = "") : path_(std::move(path)) {}

  // A child scope: `v.at("cidr")` → "spec.cidr"; `v.at(2)` → "spec.ports[2]".
  Validation at(std::string_view field) const;
  Validation at(size_t index) const;

  // Records "<path>: <message>" (or "<path> <message>" when message starts with a quote).
  void error(std::string_view message);
  const std::string& path() const { return path_; }
  // Errors recorded by this scope and every scope made from it.
  const std::vector<std::string>& errors() const { return *errors_; }
  bool ok() const { return errors_->empty(); }

 private:
  Validation(std::string path, std::shared_ptr<std::vector<std::string>> errors)
      : path_(std::move(path)), errors_(std::move(errors)) {}
  std::string path_;
  std::shared_ptr<std::vector<std::string>> errors_ = std::make_shared<std::vector<std::string>>();
};

// The probe visitor only exists to make the concept checkable.
struct DescribeProbe {
  template <typename T>
  void operator()(std::string_view, T&, const FieldInfo& = {}) {}
};

template <typename T>
concept Described = requires(T& t, DescribeProbe& probe) {
  t.describe(probe);
};

template <typename T>
concept SelfValidating = requires(const T& t, Validation& v) {
  t.validate(v);
};

}  // namespace coral::model
