// coral-cni: the CNI plugin binary. Reads the CNI_* environment and the network
// configuration on stdin, runs the shim (cni/shim.h) with corald over gRPC, prints the
// result or CNI error on stdout and exits 0 or 1. Diagnostics go to stderr only.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

#include "cni/agent_client.h"
#include "cni/shim.h"
#include "cni/version.h"
#include "common/log.h"

extern char** environ;

namespace {

coral::cni::Environment readEnvironment() {
  coral::cni::Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || !text.starts_with("CNI_")) continue;
    env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return env;
}

void writeAll(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

int main() {
  coral::log::setLevel(coral::log::Level::kWarn);
  coral::log::setGlobalField("component", "coral-cni");
  std::string stdin_text;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const coral::cni::CniError error = coral::cni::makeError(
          coral::cni::kIoFailure, "cannot read the network configuration from stdin",
          std::strerror(errno));
      writeAll(coral::cni::formatError(error, coral::cni::latestVersion()) + "\n");
      return 1;
    }
    stdin_text.append(buffer, static_cast<size_t>(n));
  }
  coral::cni::GrpcAgent agent;
  const coral::cni::ShimOutput output = coral::cni::runShim(readEnvironment(), stdin_text, agent);
  writeAll(output.stdout_text);
  return output.exit_code;
}
