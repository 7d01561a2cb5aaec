// corald: the Coral node agent. See agent/README.md.
#include <fmt/format.h>
#include <signal.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>

#include "agent/agent.h"
#include "common/log.h"
#include "common/strings.h"

namespace {
constexpr std::chrono::seconds kMaxStartBackoff{10};
}  // namespace

int main(int argc, char** argv) {
  using namespace coral;
  CLI::App app{"corald: the Coral node agent"};
  std::string config_path;
  app.add_option("-c,--config", config_path, "YAML configuration file");
  bool version = false;
  app.add_flag("--version", version, "Print the version");
  CLI11_PARSE(app, argc, argv);
  if (version) {
    std::cout << "corald " << CORAL_VERSION << '\n';
    return 0;
  }

  auto config = agent::loadAgentConfig(config_path, agent::processEnvironment());
  if (!config.ok()) {
    std::cerr << "corald: " << errorMessage(config.status()) << '\n';
    return 2;
  }
  log::Level level;
  if (log::parseLevel(config->log_level, &level)) log::setLevel(level);
  log::setFormat(config->log_format == "json" ? log::Format::kJson : log::Format::kText);
  log::setGlobalField("component", "corald");

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // A datastore that cannot be reached at start (etcd down while corald restarts) is
  // waited for, with backoff, rather than the end of corald: the node's routes, links and
  // policy stay in the kernel meanwhile, and the node comes back by itself once the
  // datastore does (also where nothing restarts corald, as in the lab). Each attempt is a
  // fresh Agent; only registering the Node touches the datastore before serving.
  std::unique_ptr<agent::Agent> agent;
  for (std::chrono::seconds backoff{1};; backoff = std::min(backoff * 2, kMaxStartBackoff)) {
    agent = std::make_unique<agent::Agent>(*config);
    const absl::Status s = agent->start();
    if (s.ok()) break;
    agent->stop();
    if (!absl::IsUnavailable(s)) {
      log::error("corald cannot start", {{"error", errorMessage(s)}});
      return 1;
    }
    log::warn("datastore unavailable; corald waits for it",
              {{"error", errorMessage(s)}, {"retry_in_s", backoff.count()}});
    const timespec wait{backoff.count(), 0};
    if (const int sig = sigtimedwait(&signals, nullptr, &wait); sig > 0) {
      log::info("corald stopping", {{"signal", sig}});
      return 0;
    }
  }
  int sig = 0;
  sigwait(&signals, &sig);
  log::info("corald stopping", {{"signal", sig}});
  agent->stop();
  return 0;
}
