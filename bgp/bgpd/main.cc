// coral-bgpd: Coral's BGP speaker as a standalone daemon (a route reflector or DC
// gateway). YAML config (config.h), SIGHUP reloads in place, SIGTERM/SIGINT stop with a
// Cease, optional kernel installation, and a JSON-lines status socket for coralctl bgp.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "bgp/bgpd/config.h"
#include "bgp/bgpd/kernel.h"
#include "bgp/bgpd/status_json.h"
#include "bgp/speaker/speaker.h"
#include "common/log.h"
#include "common/strings.h"

namespace coral::bgp {
namespace {

namespace asio = boost::asio;
using Local = asio::local::stream_protocol;

// True when something answers on the socket path: another coral-bgpd is running.
bool socketAlive(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  const bool alive = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return alive;
}

class Daemon {
 public:
  Daemon(std::string config_path, DaemonConfig config)
      : config_path_(std::move(config_path)), config_(std::move(config)), signals_(io_) {}

  int run() {
    const std::string& sock = config_.status_socket;
    bool crashed = false;
    if (std::filesystem::exists(sock)) {
      if (socketAlive(sock)) {
        std::cerr << fmt::format("coral-bgpd: another instance answers on {}\n", sock);
        return 1;
      }
      crashed = true;  // a previous run died without cleaning up
      std::filesystem::remove(sock);
    }
    if (config_.kernel_install) {
      auto k = KernelRoutes::open(config_.kernel_protocol);
      if (!k.ok()) {
        std::cerr << fmt::format("coral-bgpd: netlink: {}\n", errorMessage(k.status()));
        return 1;
      }
      kernel_ = std::move(*k);
      crashed |= kernel_->leftoverRoutes() > 0;
    }
    // Graceful restart as the restarting speaker: our forwarding state (kernel routes)
    // survived, so tell the peers (R bit) and they keep our routes meanwhile.
    config_.speaker.restarting = crashed;
    // Without kernel routes nobody needs the best-path changes: no callback, so the
    // speaker does not build them (a reload keeps kernel.install as it was).
    BestPathCallback on_best_path;
    if (kernel_) {
      on_best_path = [this](const std::vector<BestPathChange>& c) { kernel_->apply(c); };
    }
    auto speaker = Speaker::start(config_.speaker, std::move(on_best_path));
    if (!speaker.ok()) {
      std::cerr << fmt::format("coral-bgpd: {}\n", errorMessage(speaker.status()));
      return 1;
    }
    speaker_ = std::move(*speaker);
    for (const Origination& o : config_.prefixes) speaker_->originate(o.prefix, o.attrs);
    if (!openStatusSocket()) return 1;
    log::info("coral-bgpd started", {{"as", config_.speaker.local_as},
                                     {"port", speaker_->listenPort()},
                                     {"peers", config_.speaker.peers.size()},
                                     {"restarting", crashed}});
    signals_.add(SIGHUP);
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    waitSignal();
    io_.run();
    speaker_->shutdown("coral-bgpd stopping");
    speaker_.reset();
    if (kernel_) kernel_->flush();
    std::filesystem::remove(sock);
    log::info("coral-bgpd stopped");
    return 0;
  }

 private:
  void waitSignal() {
    signals_.async_wait([this](const boost::system::error_code& error, int signal) {
      if (error) return;
      if (signal == SIGHUP) {
        reload();
        waitSignal();
        return;
      }
      acceptor_.reset();
      io_.stop();
    });
  }

  void reload() {
    auto next = loadDaemonConfig(config_path_);
    if (!next.ok()) {
      log::error("coral-bgpd: reload failed, keeping the running config",
                 {{"error", errorMessage(next.status())}});
      return;
    }
    next->speaker.restarting = config_.speaker.restarting;
    if (auto s = speaker_->reconfigure(next->speaker); !s.ok()) {
      log::error("coral-bgpd: reconfigure failed", {{"error", errorMessage(s)}});
      return;
    }
    std::map<common::Prefix, PathAttributes> before, after;
    for (const auto& o : config_.prefixes) before[o.prefix] = o.attrs;
    for (const auto& o : next->prefixes) after[o.prefix] = o.attrs;
    for (const auto& [p, a] : before) {
      if (!after.count(p)) speaker_->withdraw(p);
    }
    for (const auto& [p, a] : after) {
      auto it = before.find(p);
      if (it == before.end() || !(it->second == a)) speaker_->originate(p, a);
    }
    next->status_socket = config_.status_socket;  // the socket stays where it is
    next->kernel_install = config_.kernel_install;
    config_ = std::move(*next);
    log::info("coral-bgpd: config reloaded");
  }

  bool openStatusSocket() {
    try {
      acceptor_ = std::make_unique<Local::acceptor>(io_, Local::endpoint(config_.status_socket));
    } catch (const boost::system::system_error& e) {
      std::cerr << fmt::format("coral-bgpd: status socket {}: {}\n", config_.status_socket,
                               e.what());
      return false;
    }
    acceptNext();
    return true;
  }

  void acceptNext() {
    acceptor_->async_accept([this](const boost::system::error_code& error, Local::socket s) {
      if (error) return;
      serve(std::make_shared<Local::socket>(std::move(s)));
      acceptNext();
    });
  }

  void serve(std::shared_ptr<Local::socket> socket) {
    auto buf = std::make_shared<asio::streambuf>();
    asio::async_read_until(
        *socket, *buf, '\n', [this, socket, buf](const boost::system::error_code& error, size_t) {
          if (error) return;
          std::istream in(buf.get());
          std::string line;
          std::getline(in, line);
          auto reply = std::make_shared<std::string>(answer(line).dump() + "\n");
          asio::async_write(*socket, asio::buffer(*reply),
                            [this, socket, buf, reply](const boost::system::error_code& e, size_t) {
                              if (!e) serve(socket);
                            });
        });
  }

  nlohmann::json answer(const std::string& line) {
    nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
    if (request.is_discarded() || !request.is_object()) {
      return {{"error", "request is not a JSON object"}};
    }
    const std::string command = request.value("command", "");
    if (command == "peers") {
      nlohmann::json peers = nlohmann::json::array();
      for (const PeerStatus& p : speaker_->peers()) peers.push_back(toJson(p));
      return {{"peers", peers}};
    }
    if (command == "routes") {
      std::optional<common::Prefix> prefix;
      if (request.contains("prefix") && request["prefix"].is_string()) {
        const std::string text = request["prefix"];
        auto p = common::Prefix::parseLoose(text);
        if (!p.ok()) return {{"error", fmt::format("\"{}\" is not a prefix", text)}};
        prefix = *p;
      }
      nlohmann::json routes = nlohmann::json::array();
      for (const RouteStatus& r : speaker_->routes(prefix)) routes.push_back(toJson(r));
      return {{"routes", routes}};
    }
    return {{"error", fmt::format("unknown command \"{}\" (peers, routes)", command)}};
  }

  std::string config_path_;
  DaemonConfig config_;
  asio::io_context io_;
  asio::signal_set signals_;
  std::unique_ptr<Local::acceptor> acceptor_;
  std::unique_ptr<KernelRoutes> kernel_;
  std::unique_ptr<Speaker> speaker_;
};

}  // namespace
}  // namespace coral::bgp

int main(int argc, char** argv) {
  using namespace coral;
  CLI::App app{"coral-bgpd: Coral's BGP speaker as a standalone daemon"};
  std::string config_path = "/etc/coral/bgpd.yaml";
  std::string status_socket;
  std::string level = "info";
  bool check = false;
  app.add_option("-c,--config", config_path, "YAML config (default /etc/coral/bgpd.yaml)");
  app.add_option("-s,--status-socket", status_socket, "Status socket (overrides statusSocket)");
  app.add_option("--log-level", level, "debug | info | warn | error");
  app.add_flag("--check", check, "Validate the config and exit");
  CLI11_PARSE(app, argc, argv);
  log::Level lvl;
  if (log::parseLevel(level, &lvl)) log::setLevel(lvl);
  log::setGlobalField("component", "coral-bgpd");
  auto config = bgp::loadDaemonConfig(config_path);
  if (!config.ok()) {
    std::cerr << "coral-bgpd: " << errorMessage(config.status()) << "\n";
    return 2;
  }
  if (check) {
    std::cout << "config ok: " << config->speaker.peers.size() << " neighbours, "
              << config->prefixes.size() << " prefixes\n";
    return 0;
  }
  if (!status_socket.empty()) config->status_socket = status_socket;
  ::signal(SIGPIPE, SIG_IGN);
  bgp::Daemon daemon(config_path, std::move(*config));
  return daemon.run();
}
