// parseEtcdUrl: etcd://, etcds:// and etcd+unix:// URLs into EtcdOptions.
#include "datastore/etcd/etcd_url.h"

#include <fmt/format.h>

#include <optional>
#include <set>

#include "absl/status/status.h"
#include "common/strings.h"

namespace coral::datastore::etcd {
namespace {

absl::Status bad(std::string_view url, std::string_view why) {
  return absl::InvalidArgumentError(fmt::format("etcd URL \"{}\": {}", url, why));
}

std::optional<int> hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// %XX decoding; '+' stays '+' (these are not form posts).
std::optional<std::string> percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const auto hi = hexDigit(s[i + 1]);
    const auto lo = hexDigit(s[i + 2]);
    if (!hi || !lo) return std::nullopt;
    out += static_cast<char>(*hi * 16 + *lo);
    i += 2;
  }
  return out;
}

absl::StatusOr<std::string> parseEndpoint(std::string_view url, std::string_view text) {
  if (text.empty()) return bad(url, "empty host in the host list");
  std::string_view host;
  std::string_view port_text;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return bad(url, fmt::format("host \"{}\": '[' without ']'", text));
    }
    host = text.substr(0, close + 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return bad(url, fmt::format("host \"{}\": junk after ']'", text));
      }
      port_text = rest.substr(1);
      if (port_text.empty()) return bad(url, fmt::format("host \"{}\": empty port", text));
    }
    if (host.size() == 2) return bad(url, fmt::format("host \"{}\": empty address", text));
  } else {
    const size_t colon = text.find(':');
    host = text.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      if (port_text.empty()) return bad(url, fmt::format("host \"{}\": empty port", text));
    }
    if (host.empty()) return bad(url, fmt::format("host \"{}\": empty host name", text));
    for (char c : host) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_';
      if (!ok) return bad(url, fmt::format("host \"{}\": bad character '{}'", text, c));
    }
  }
  int port = kDefaultEtcdPort;
  if (!port_text.empty()) {
    const auto parsed = parseInt<int>(port_text);
    if (!parsed || *parsed < 1 || *parsed > 65535) {
      return bad(url, fmt::format("host \"{}\": port \"{}\" is not in 1..65535", text, port_text));
    }
    port = *parsed;
  }
  return fmt::format("{}:{}", host, port);
}

}  // namespace

absl::StatusOr<EtcdOptions> parseEtcdUrl(std::string_view url) {
  EtcdOptions options;
  std::string_view rest;
  bool unix_socket = false;
  if (url.starts_with("etcd://")) {
    rest = url.substr(7);
  } else if (url.starts_with("etcds://")) {
    rest = url.substr(8);
    options.tls = true;
  } else if (url.starts_with("etcd+unix://")) {
    rest = url.substr(12);
    unix_socket = true;
  } else {
    return bad(url, "scheme must be etcd://, etcds:// or etcd+unix://");
  }

  const size_t query_at = rest.find('?');
  std::string_view authority = rest.substr(0, query_at);
  const std::string_view query =
      query_at == std::string_view::npos ? std::string_view() : rest.substr(query_at + 1);
  if (unix_socket) {
    // etcd+unix:///abs/path: no host, one absolute socket path (gRPC's "unix:" target).
    if (authority.empty() || authority.front() != '/' || authority.ends_with("/")) {
      return bad(url, "etcd+unix:// needs an absolute socket path: etcd+unix:///path/to/socket");
    }
    options.endpoints.push_back(fmt::format("unix:{}", authority));
  } else {
    const size_t slash = authority.find('/');
    if (slash != std::string_view::npos) {
      if (slash + 1 != authority.size()) {
        return bad(url, fmt::format("unexpected path \"{}\" (etcd URLs have none)",
                                    authority.substr(slash)));
      }
      authority = authority.substr(0, slash);
    }
    if (authority.empty()) return bad(url, "no host:port given");
    if (authority.find('@') != std::string_view::npos) {
      return bad(url, "credentials go in ?username=&password=, not before '@'");
    }
    for (std::string_view endpoint : split(authority, ',')) {
      auto parsed = parseEndpoint(url, endpoint);
      if (!parsed.ok()) return parsed.status();
      options.endpoints.push_back(*std::move(parsed));
    }
  }

  std::set<std::string> seen;
  if (!query.empty()) {
    for (std::string_view pair : split(query, '&')) {
      if (pair.empty()) continue;
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        return bad(url, fmt::format("option \"{}\" has no '=value'", pair));
      }
      const std::string name(pair.substr(0, eq));
      const auto value = percentDecode(pair.substr(eq + 1));
      if (!value) return bad(url, fmt::format("option {}: bad %-escape", name));
      if (!seen.insert(name).second) {
        return bad(url, fmt::format("option {} is given twice", name));
      }
      if (name == "cacert" || name == "cert" || name == "key") {
        if (value->empty()) return bad(url, fmt::format("option {} needs a file path", name));
        options.tls = true;
        (name == "cacert" ? options.cacert_path
         : name == "cert" ? options.cert_path
                          : options.key_path) = *value;
      } else if (name == "username") {
        if (value->empty()) return bad(url, "option username is empty");
        options.username = *value;
      } else if (name == "password") {
        options.password = *value;
      } else if (name == "timeout_ms") {
        const auto ms = parseInt<int64_t>(*value);
        if (!ms || *ms <= 0) {
          return bad(url,
                     fmt::format("option timeout_ms \"{}\" is not a positive integer", *value));
        }
        options.timeout = std::chrono::milliseconds(*ms);
      } else {
        return bad(url, fmt::format("unknown option \"{}\" (known: cacert, cert, key, username, "
                                    "password, timeout_ms)",
                                    name));
      }
    }
  }
  if (options.cert_path.empty() != options.key_path.empty()) {
    return bad(url, "options cert and key must be given together");
  }
  if (seen.count("password") && options.username.empty()) {
    return bad(url, "option password without username");
  }
  if (!options.username.empty() && !seen.count("password")) {
    return bad(url, "option username without password");
  }
  return options;
}

}  // namespace coral::datastore::etcd

namespace coral::datastore::etcd {

std::string prefixRangeEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace coral::datastore::etcd
