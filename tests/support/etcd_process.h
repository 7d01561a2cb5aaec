// EtcdProcess: a real etcd (Debian package etcd-server, /usr/bin/etcd) for integration
// tests. It listens on 127.0.0.1 only, on free client and peer ports, keeps its data in a
// fresh temporary directory, and is killed by pid and its directory removed when the
// object goes away — also when a test fails (and, through PR_SET_PDEATHSIG, when the test
// process dies). stop()/start() restart it on the same ports and data.
//
//   auto etcd = EtcdProcess::launch();
//   ASSERT_TRUE(etcd.ok()) << etcd.status();
//   auto backend = openEtcdBackend((*etcd)->url());
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace coral::testing {

class EtcdProcess {
 public:
  static constexpr const char* kEtcdBinary = "/usr/bin/etcd";

  // kFailedPrecondition naming the Debian package etcd-server when the binary is missing;
  // kDeadlineExceeded (with the tail of etcd's log) when it does not become healthy.
  // TLS on the client port (PEM files); health is then polled on a plain metrics port.
  struct Tls {
    std::string cert_file;
    std::string key_file;
    std::string trusted_ca_file;  // with it, clients must present a certificate it signed
  };
  // `extra_args` are appended to etcd's command line (e.g. "--auth-token-ttl=1").
  // `unix_socket`: clients may also connect on the socket unixSocketUrl() names.
  static absl::StatusOr<std::unique_ptr<EtcdProcess>> launch(
      std::vector<std::string> extra_args = {}, std::optional<Tls> tls = std::nullopt,
      bool unix_socket = false);
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  // Kills etcd (SIGTERM, then SIGKILL after 5 s) and waits for it; the data stays.
  absl::Status stop();
  // Starts it again on the same ports and data dir and waits until it is healthy.
  absl::Status start();
  bool running() const { return pid_ > 0; }

  std::string url() const;       // "etcd://127.0.0.1:<client port>"
  std::string endpoint() const;  // "127.0.0.1:<client port>"
  // "etcd+unix://<dir>/etcd.sock:0" when launched with unix_socket (etcd 3.4 makes the
  // socket NAME:PORT of unix://NAME:PORT in its working directory, here dir()).
  std::string unixSocketUrl() const;
  int clientPort() const { return client_port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }
  // The last lines of etcd's stdout/stderr, for failure messages.
  std::string logTail(size_t max_bytes = 4000) const;

 private:
  EtcdProcess() = default;
  absl::Status waitHealthy(std::chrono::milliseconds limit);

  std::string dir_;  // temp dir: data/ and etcd.log
  int client_port_ = 0;
  int peer_port_ = 0;
  pid_t pid_ = -1;
  int metrics_port_ = 0;  // plain-HTTP /health when the client port speaks TLS
  std::vector<std::string> extra_args_;
  std::optional<Tls> tls_;
  bool unix_socket_ = false;
};

// A free TCP port on 127.0.0.1 (bound to port 0 and released).
absl::StatusOr<int> freeLocalPort();

}  // namespace coral::testing
