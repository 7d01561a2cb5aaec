// corald: the Coral node agent. See agent/README.md.
#include <fmt/format.h>
#include <signal.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "agent/agent.h"
#include "common/log.h"
#include "common/strings.h"

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

  agent::Agent agent(*config);
  if (auto s = agent.start(); !s.ok()) {
    log::error("corald cannot start", {{"error", errorMessage(s)}});
    agent.stop();
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  log::info("corald stopping", {{"signal", sig}});
  agent.stop();
  return 0;
}
