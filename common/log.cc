#include "common/log.h"

#include <atomic>
#include <iostream>
#include <mutex>
#include <sstream>
#include <vector>

#include "common/clock.h"

namespace coral::log {
namespace {

struct State {
  std::mutex mu;
  std::atomic<Level> level{Level::kInfo};
  Format format = Format::kText;
  std::ostream* sink = nullptr;
  std::vector<std::pair<std::string, std::string>> globals;
};

State& state() {
  static State s;
  return s;
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      break;
  }
  return "off";
}

void appendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void appendTextValue(std::string& out, std::string_view s) {
  const bool quote = s.empty() || s.find_first_of(" \"=\t\n") != std::string_view::npos;
  if (quote) {
    appendJsonString(out, s);
  } else {
    out += s;
  }
}

}  // namespace

void setLevel(Level level) { state().level = level; }
Level level() { return state().level; }

void setFormat(Format format) {
  std::lock_guard lock(state().mu);
  state().format = format;
}

void setSink(std::ostream* sink) {
  std::lock_guard lock(state().mu);
  state().sink = sink;
}

bool parseLevel(std::string_view text, Level* level) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff}) {
    if (text == levelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

void setGlobalField(std::string_view key, std::string_view value) {
  std::lock_guard lock(state().mu);
  for (auto& [k, v] : state().globals) {
    if (k == key) {
      v = value;
      return;
    }
  }
  state().globals.emplace_back(key, value);
}

void write(Level lvl, std::string_view message, Fields fields) {
  State& s = state();
  if (lvl < s.level.load()) return;
  const std::string ts = common::formatRfc3339(common::SystemClock::instance().wallNow());
  std::lock_guard lock(s.mu);
  std::string line;
  if (s.format == Format::kJson) {
    line = "{\"ts\":";
    appendJsonString(line, ts);
    line += ",\"level\":";
    appendJsonString(line, levelName(lvl));
    line += ",\"msg\":";
    appendJsonString(line, message);
    auto add = [&](std::string_view k, std::string_view v) {
      line += ',';
      appendJsonString(line, k);
      line += ':';
      appendJsonString(line, v);
    };
    for (const auto& [k, v] : s.globals) add(k, v);
    for (const auto& f : fields) add(f.key, f.value);
    line += "}\n";
  } else {
    line = "ts=" + ts + " level=" + std::string(levelName(lvl)) + " msg=";
    appendTextValue(line, message);
    auto add = [&](std::string_view k, std::string_view v) {
      line += ' ';
      line += k;
      line += '=';
      appendTextValue(line, v);
    };
    for (const auto& [k, v] : s.globals) add(k, v);
    for (const auto& f : fields) add(f.key, f.value);
    line += '\n';
  }
  std::ostream& out = s.sink ? *s.sink : std::cerr;
  out << line;
  out.flush();
}

}  // namespace coral::log
