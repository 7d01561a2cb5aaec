// coral-ipam: the CNI IPAM plugin binary. Reads the CNI environment and the network
// configuration on stdin, prints the result (or a CNI error) on stdout; see plugin.h.
#include <iostream>
#include <iterator>

#include "common/log.h"
#include "ipam/cni/plugin.h"

extern char** environ;

int main() {
  // stdout belongs to the CNI result: logs go to stderr, and only warnings and errors.
  coral::log::setLevel(coral::log::Level::kWarn);
  coral::ipam::cni::Request request;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) request.env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  request.stdin_config.assign(std::istreambuf_iterator<char>(std::cin),
                              std::istreambuf_iterator<char>());
  const auto response = coral::ipam::cni::handle(request);
  std::cout << response.stdout_text;
  if (!response.stdout_text.empty()) std::cout << '\n';
  std::cout.flush();
  return response.exit_code;
}
