// Small string helpers over std::string_view.
//
// Debian 12's abseil is built with its own absl::string_view (not std::string_view),
// so absl::StrCat/StrSplit do not accept std::string_view. Coral formats with fmt and
// splits with these helpers; use errorMessage() to read an absl::Status message.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace coral {

inline std::string_view errorMessage(const absl::Status& status) {
  auto m = status.message();
  return {m.data(), m.size()};
}

inline std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// Splits on `sep`; empty pieces are kept unless skip_empty.
inline std::vector<std::string_view> split(std::string_view s, char sep, bool skip_empty = false) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    const std::string_view piece =
        s.substr(start, pos == std::string_view::npos ? pos : pos - start);
    if (!skip_empty || !piece.empty()) out.push_back(piece);
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

template <typename Range>
std::string join(const Range& parts, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& p : parts) {
    if (!first) out += sep;
    out += p;
    first = false;
  }
  return out;
}

// Whole-string decimal integer parse; no sign for unsigned, no spaces, no trailing junk.
template <typename Int>
std::optional<Int> parseInt(std::string_view s) {
  Int value{};
  if (s.empty() || s.front() == '+') return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace coral
