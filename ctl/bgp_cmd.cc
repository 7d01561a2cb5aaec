// coralctl bgp: one request line to the status socket, one JSON answer line back.
#include "ctl/bgp_cmd.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "ctl/table.h"

namespace coral::ctl {
namespace {

using nlohmann::json;

// Sends `request` and reads one line; empty on error with `error` set.
std::string exchange(const std::string& path, const std::string& request, std::string& error) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    error = fmt::format("cannot connect to coral-bgpd at {}: {} (is it running? --socket)", path,
                        std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return {};
  }
  const std::string line = request + "\n";
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    error = fmt::format("write to {}: {}", path, std::strerror(errno));
    ::close(fd);
    return {};
  }
  std::string reply;
  char buf[65536];
  while (reply.empty() || reply.back() != '\n') {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (reply.empty()) error = fmt::format("no answer from {}", path);
  return reply;
}

std::string uptime(int64_t s) {
  if (s <= 0) return "-";
  if (s < 3600) return fmt::format("{}m{}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{}h", s / 86400, (s % 86400) / 3600);
}

std::string joinArray(const json& a) {
  std::string out;
  if (!a.is_array()) return out;
  for (const auto& v : a) {
    if (!out.empty()) out += ",";
    out += v.get<std::string>();
  }
  return out;
}

std::string field(const json& j, const char* key, const std::string& missing = "-") {
  if (!j.contains(key)) return missing;
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>().empty() ? missing : v.get<std::string>();
  return v.dump();
}

void printPeers(const json& peers, std::ostream& out) {
  Table t({"PEER", "ADDRESS", "AS", "TYPE", "STATE", "UPTIME", "RECEIVED", "ACCEPTED", "ADVERTISED",
           "LAST ERROR"});
  for (const json& p : peers) {
    t.addRow({field(p, "name"), field(p, "address"), field(p, "peerAS"), field(p, "type"),
              field(p, "state"), uptime(p.value("uptimeSeconds", int64_t{0})),
              field(p, "prefixesReceived"), field(p, "prefixesAccepted"),
              field(p, "prefixesAdvertised"), field(p, "lastError")});
  }
  t.print(out);
}

void printRoutes(const json& routes, std::ostream& out) {
  Table t(
      {"PREFIX", "", "NEXT HOP", "AS PATH", "FROM", "LOCAL PREF", "MED", "COMMUNITIES", "REASON"});
  for (const json& r : routes) {
    for (const json& p : r["paths"]) {
      const json& a = p["attributes"];
      std::string communities = joinArray(a.value("communities", json::array()));
      const std::string large = joinArray(a.value("largeCommunities", json::array()));
      if (!large.empty()) communities += (communities.empty() ? "" : ",") + large;
      std::string flags = p.value("best", false) ? "*" : "";
      if (p.value("multipath", false) && !p.value("best", false)) flags += "=";
      if (p.value("stale", false)) flags += "S";
      t.addRow({field(r, "prefix"), flags, field(a, "nextHop"), field(a, "asPath", "(local)"),
                field(p, "from"), field(a, "localPref"), field(a, "med"),
                communities.empty() ? "-" : communities,
                p.value("best", false) ? field(r, "reason") : ""});
    }
  }
  t.print(out);
}

}  // namespace

CLI::App* addBgpCommand(CLI::App& app, BgpOptions& options) {
  auto* bgp = app.add_subcommand("bgp", "Show coral-bgpd's BGP sessions and routes");
  bgp->require_subcommand(1);
  bgp->add_option("--socket", options.socket,
                  "coral-bgpd status socket (default /run/coral-bgpd.sock)");
  auto* peers = bgp->add_subcommand("peers", "Sessions: state, uptime, prefix counts, last error");
  peers->add_option("-o,--output", options.output, "json for the raw answer");
  peers->callback([&options] { options.command = "peers"; });
  auto* routes = bgp->add_subcommand("routes", "Loc-RIB: every path, the best and why it won");
  routes->add_option("prefix", options.prefix, "Only this prefix and those inside it");
  routes->add_option("-o,--output", options.output, "json for the raw answer");
  routes->callback([&options] { options.command = "routes"; });
  return bgp;
}

int runBgp(const BgpOptions& options, std::ostream& out, std::ostream& err) {
  json request = {{"command", options.command}};
  if (!options.prefix.empty()) request["prefix"] = options.prefix;
  std::string error;
  const std::string reply = exchange(options.socket, request.dump(), error);
  if (reply.empty()) {
    err << "error: " << error << "\n";
    return 1;
  }
  json answer = json::parse(reply, nullptr, false);
  if (answer.is_discarded()) {
    err << "error: coral-bgpd answered something that is not JSON\n";
    return 1;
  }
  if (answer.contains("error")) {
    err << "error: " << answer["error"].get<std::string>() << "\n";
    return 1;
  }
  if (options.output == "json") {
    out << answer[options.command].dump(2) << "\n";
    return 0;
  }
  if (!options.output.empty()) {
    err << fmt::format("error: unknown output format \"{}\" (json)\n", options.output);
    return 1;
  }
  if (options.command == "peers") {
    printPeers(answer["peers"], out);
  } else {
    printRoutes(answer["routes"], out);
  }
  return 0;
}

}  // namespace coral::ctl
