// Structured logging: one line per event, either `key=value` text or JSON lines.
//
//   log::info("block claimed", {{"node", node}, {"block", block.toString()}});
//
// Writes go to stderr by default; the level and format are process-wide settings.
#pragma once

#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace coral::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };
enum class Format { kText, kJson };

// One field of a log line. The value is converted to text when the field is made.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <typename T>
  requires std::is_arithmetic_v<T> Field(std::string_view k, T v)
      : key(k), value(std::to_string(v)) {}

  std::string_view key;
  std::string value;
};
using Fields = std::initializer_list<Field>;

void setLevel(Level level);
Level level();
void setFormat(Format format);
// Redirects output (tests); nullptr restores stderr. The stream must outlive its use.
void setSink(std::ostream* sink);
// "debug" | "info" | "warn" | "error" | "off"; false when unknown.
bool parseLevel(std::string_view text, Level* level);

// Sets a field added to every line (e.g. component=corald, node=n1).
void setGlobalField(std::string_view key, std::string_view value);

void write(Level level, std::string_view message, Fields fields);

inline void debug(std::string_view msg, Fields fields = {}) { write(Level::kDebug, msg, fields); }
inline void info(std::string_view msg, Fields fields = {}) { write(Level::kInfo, msg, fields); }
inline void warn(std::string_view msg, Fields fields = {}) { write(Level::kWarn, msg, fields); }
inline void error(std::string_view msg, Fields fields = {}) { write(Level::kError, msg, fields); }

}  // namespace coral::log
