// EtcdProcess: fork/exec of /usr/bin/etcd on free loopback ports, health polling over
// HTTP GET /health, and kill-by-pid cleanup.
#include "tests/support/etcd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace coral::testing {
namespace {

// One HTTP/1.0 GET /health; true when etcd says it is healthy.
bool healthy(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[1024];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) reply.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return reply.find("\"health\":\"true\"") != std::string::npos;
}

}  // namespace

absl::StatusOr<int> freeLocalPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::InternalError(fmt::format("bind 127.0.0.1:0: {}", std::strerror(err)));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

absl::StatusOr<std::unique_ptr<EtcdProcess>> EtcdProcess::launch(
    std::vector<std::string> extra_args, std::optional<Tls> tls, bool unix_socket) {
  if (::access(kEtcdBinary, X_OK) != 0) {
    return absl::FailedPreconditionError(
        fmt::format("{} not found or not executable: install the Debian package etcd-server "
                    "(apt-get install etcd-server)",
                    kEtcdBinary));
  }
  std::unique_ptr<EtcdProcess> etcd(new EtcdProcess());
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/coral-etcd-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(fmt::format("mkdtemp {}: {}", pattern, std::strerror(errno)));
  }
  etcd->dir_ = pattern;
  etcd->extra_args_ = std::move(extra_args);
  etcd->tls_ = std::move(tls);
  etcd->unix_socket_ = unix_socket;
  // Two distinct free ports (the kernel could hand out the same one twice in a row).
  for (int tries = 0; tries < 10 && etcd->peer_port_ == etcd->client_port_; ++tries) {
    auto client = freeLocalPort();
    if (!client.ok()) return client.status();
    auto peer = freeLocalPort();
    if (!peer.ok()) return peer.status();
    etcd->client_port_ = *client;
    etcd->peer_port_ = *peer;
  }
  if (etcd->tls_) {
    for (int tries = 0; tries < 10; ++tries) {
      auto metrics = freeLocalPort();
      if (!metrics.ok()) return metrics.status();
      etcd->metrics_port_ = *metrics;
      if (*metrics != etcd->client_port_ && *metrics != etcd->peer_port_) break;
    }
  }
  if (auto status = etcd->start(); !status.ok()) return status;
  return etcd;
}

EtcdProcess::~EtcdProcess() {
  (void)stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string EtcdProcess::endpoint() const { return fmt::format("127.0.0.1:{}", client_port_); }
std::string EtcdProcess::url() const { return (tls_ ? "etcds://" : "etcd://") + endpoint(); }
std::string EtcdProcess::unixSocketUrl() const { return "etcd+unix://" + dir_ + "/etcd.sock:0"; }

std::string EtcdProcess::logTail(size_t max_bytes) const {
  std::ifstream in(dir_ + "/etcd.log", std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  std::string text = out.str();
  if (text.size() > max_bytes) text = text.substr(text.size() - max_bytes);
  return text;
}

absl::Status EtcdProcess::start() {
  if (pid_ > 0) return absl::OkStatus();
  const std::string client =
      fmt::format("{}://127.0.0.1:{}", tls_ ? "https" : "http", client_port_);
  const std::string peer = fmt::format("http://127.0.0.1:{}", peer_port_);
  std::vector<std::string> args = {
      kEtcdBinary,
      "--name=coral-test",
      "--data-dir=" + dir_ + "/data",
      "--listen-client-urls=" + client + (unix_socket_ ? ",unix://etcd.sock:0" : ""),
      "--advertise-client-urls=" + client,
      "--listen-peer-urls=" + peer,
      "--initial-advertise-peer-urls=" + peer,
      "--initial-cluster=coral-test=" + peer,
      "--initial-cluster-state=new",
      "--initial-cluster-token=coral-test",
      // Short raft timers: a one-member cluster elects itself fast, and the minimum
      // lease TTL (1.5 election timeouts) drops to 1 s.
      "--heartbeat-interval=20",
      "--election-timeout=200",
      "--log-level=warn",
      "--logger=zap",
  };
  if (tls_) {
    args.push_back("--cert-file=" + tls_->cert_file);
    args.push_back("--key-file=" + tls_->key_file);
    if (!tls_->trusted_ca_file.empty()) {
      args.push_back("--trusted-ca-file=" + tls_->trusted_ca_file);
      args.push_back("--client-cert-auth");
    }
    args.push_back(fmt::format("--listen-metrics-urls=http://127.0.0.1:{}", metrics_port_));
  }
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  const std::string log_path = dir_ + "/etcd.log";
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    // Child: die with the test process; output to etcd.log; exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (unix_socket_ && ::chdir(dir_.c_str()) != 0) ::_exit(127);
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(kEtcdBinary, argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  return waitHealthy(std::chrono::seconds(20));
}

absl::Status EtcdProcess::waitHealthy(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(
          fmt::format("etcd exited during startup (status {}); log:\n{}", wstatus, logTail()));
    }
    if (healthy(tls_ ? metrics_port_ : client_port_)) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string log = logTail();
  (void)stop();
  return absl::DeadlineExceededError(fmt::format(
      "etcd on port {} not healthy after {} ms; log:\n{}", client_port_, limit.count(), log));
}

absl::Status EtcdProcess::stop() {
  if (pid_ <= 0) return absl::OkStatus();
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (true) {
    int wstatus = 0;
    const pid_t r = ::waitpid(pid_, &wstatus, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &wstatus, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  return absl::OkStatus();
}

}  // namespace coral::testing
