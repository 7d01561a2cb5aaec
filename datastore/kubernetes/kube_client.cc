// KubeClient over Boost.Beast + OpenSSL. Every socket operation is asynchronous on a
// private io_context that the calling thread runs until the operation finishes or its
// deadline passes (then the socket is closed): requests have timeouts, and a watch can
// be polled with a short timeout without losing the read in flight.
#include "datastore/kubernetes/kube_client.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <fstream>
#include <limits>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "common/strings.h"
#include "model/codec.h"

namespace coral::datastore::kubernetes {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

bool isRetryableStatus(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// One TLS connection and the io_context that drives it.
struct Connection {
  net::io_context ioc;
  std::unique_ptr<ssl::stream<tcp::socket>> stream;
  boost::beast::flat_buffer buffer;

  void close() {
    if (stream) {
      boost::system::error_code ec;
      stream->lowest_layer().close(ec);
    }
    stream.reset();
    buffer.clear();
  }

  // Runs the io_context until `done` or the deadline; on the deadline closes the socket
  // (the pending operation completes with an error) and returns false.
  bool runUntil(const bool& done, Clock::time_point deadline) {
    ioc.restart();
    while (!done) {
      if (ioc.run_one_until(deadline) == 0 && !done) {
        if (Clock::now() < deadline) continue;
        if (stream) {
          boost::system::error_code ec;
          stream->lowest_layer().close(ec);
        }
        ioc.restart();
        while (!done && ioc.run_one() > 0) {
        }
        return false;
      }
    }
    return true;
  }
};

}  // namespace

class KubeClient::Impl {
 public:
  explicit Impl(ClientConfig config)
      : config_(std::move(config)), ssl_(ssl::context::tlsv12_client) {}

  absl::Status init() {
    boost::system::error_code ec;
    if (config_.insecure_skip_verify) {
      log::warn(
          fmt::format("kubernetes {}: insecure-skip-tls-verify: the API server's "
                      "certificate is NOT verified",
                      config_.source));
      ssl_.set_verify_mode(ssl::verify_none);
    } else {
      ssl_.set_verify_mode(ssl::verify_peer);
      if (config_.ca_pem.empty()) {
        ssl_.set_default_verify_paths(ec);
      } else {
        ssl_.add_certificate_authority(net::buffer(config_.ca_pem), ec);
      }
      if (ec) {
        return absl::InvalidArgumentError(
            fmt::format("kubernetes {}: the CA certificate cannot be loaded: {}", config_.source,
                        ec.message()));
      }
    }
    if (!config_.client_cert_pem.empty()) {
      ssl_.use_certificate_chain(net::buffer(config_.client_cert_pem), ec);
      if (!ec) ssl_.use_private_key(net::buffer(config_.client_key_pem), ssl::context::pem, ec);
      if (ec) {
        return absl::InvalidArgumentError(
            fmt::format("kubernetes {}: client certificate/key cannot be loaded: {}",
                        config_.source, ec.message()));
      }
    }
    if (!config_.token_file.empty()) {
      if (absl::Status s = reloadToken(true); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // Re-reads the token file when its modification time or size changed (or `force`).
  absl::Status reloadToken(bool force) {
    if (config_.token_file.empty()) return absl::OkStatus();
    struct stat st {};
    if (::stat(config_.token_file.c_str(), &st) != 0) {
      return absl::UnauthenticatedError(
          fmt::format("kubernetes: token file {} cannot be read", config_.token_file));
    }
    std::lock_guard lock(token_mu_);
    const int64_t stamp = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (!force && stamp == token_stamp_ && st.st_size == token_size_) return absl::OkStatus();
    std::ifstream in(config_.token_file);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string token(trim(ss.str()));
    if (!token_.empty() && token != token_) log::info("kubernetes: reloaded the rotated token");
    token_ = token;
    token_stamp_ = stamp;
    token_size_ = st.st_size;
    return absl::OkStatus();
  }

  std::string token() {
    if (!config_.token_file.empty()) {
      (void)reloadToken(false);
      std::lock_guard lock(token_mu_);
      return token_;
    }
    return config_.token;
  }

  // Connects and handshakes `conn` to the API server.
  absl::Status connect(Connection& conn, Clock::time_point deadline) {
    conn.close();
    conn.stream = std::make_unique<ssl::stream<tcp::socket>>(conn.ioc, ssl_);
    boost::system::error_code ec;
    net::ip::address ip = net::ip::make_address(config_.host, ec);
    const bool is_ip = !ec;
    if (!config_.insecure_skip_verify) {
      conn.stream->set_verify_callback(ssl::host_name_verification(config_.host));
    }
    if (!is_ip) SSL_set_tlsext_host_name(conn.stream->native_handle(), config_.host.c_str());
    std::vector<tcp::endpoint> endpoints;
    if (is_ip) {
      endpoints.emplace_back(ip, static_cast<unsigned short>(config_.port));
    } else {
      tcp::resolver resolver(conn.ioc);
      auto results = resolver.resolve(config_.host, std::to_string(config_.port), ec);
      if (ec) {
        return absl::UnavailableError(
            fmt::format("kubernetes: cannot resolve {}: {}", config_.host, ec.message()));
      }
      for (const auto& r : results) endpoints.push_back(r.endpoint());
    }
    bool done = false;
    net::async_connect(conn.stream->lowest_layer(), endpoints,
                       [&](const boost::system::error_code& e, const tcp::endpoint&) {
                         ec = e;
                         done = true;
                       });
    if (!conn.runUntil(done, deadline)) ec = net::error::timed_out;
    if (ec) {
      conn.close();
      return absl::UnavailableError(fmt::format("kubernetes: cannot connect to {}:{}: {}",
                                                config_.host, config_.port, ec.message()));
    }
    done = false;
    conn.stream->async_handshake(ssl::stream_base::client, [&](const boost::system::error_code& e) {
      ec = e;
      done = true;
    });
    if (!conn.runUntil(done, deadline)) ec = net::error::timed_out;
    if (ec) {
      conn.close();
      return absl::UnavailableError(fmt::format("kubernetes: TLS handshake with {}:{} failed: {}",
                                                config_.host, config_.port, ec.message()));
    }
    return absl::OkStatus();
  }

  http::request<http::string_body> makeRequest(std::string_view method, const std::string& target,
                                               const std::string& body) {
    http::request<http::string_body> req;
    req.method(http::string_to_verb(boost::beast::string_view(method.data(), method.size())));
    req.target(target);
    req.version(11);
    req.set(http::field::host, config_.host);
    req.set(http::field::user_agent, "coral/0.1");
    req.set(http::field::accept, "application/json");
    req.keep_alive(true);
    const std::string tok = token();
    if (!tok.empty()) req.set(http::field::authorization, "Bearer " + tok);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    return req;
  }

  // Up to kMaxConnections keep-alive connections, so that concurrent callers (CNI ADDs,
  // caches, the lease sweeper) do not queue behind one another.
  static constexpr size_t kMaxConnections = 8;

  class PooledConnection {
   public:
    explicit PooledConnection(Impl& impl) : impl_(impl) {
      std::unique_lock lock(impl_.pool_mu_);
      impl_.pool_cv_.wait(
          lock, [&] { return !impl_.idle_.empty() || impl_.connections_ < kMaxConnections; });
      if (!impl_.idle_.empty()) {
        conn_ = std::move(impl_.idle_.back());
        impl_.idle_.pop_back();
      } else {
        ++impl_.connections_;
        conn_ = std::make_unique<Connection>();
      }
    }
    ~PooledConnection() {
      std::lock_guard lock(impl_.pool_mu_);
      impl_.idle_.push_back(std::move(conn_));
      impl_.pool_cv_.notify_one();
    }
    Connection& operator*() { return *conn_; }

   private:
    Impl& impl_;
    std::unique_ptr<Connection> conn_;
  };

  // One attempt on a pooled connection. Transport errors are kUnavailable.
  absl::StatusOr<Response> roundTrip(std::string_view method, const std::string& target,
                                     const std::string& body) {
    PooledConnection pooled(*this);
    Connection& conn = *pooled;
    const auto deadline = Clock::now() + config_.timeout;
    for (int fresh = 0; fresh < 2; ++fresh) {
      const bool reused = conn.stream != nullptr;
      if (!reused) {
        if (absl::Status s = connect(conn, deadline); !s.ok()) return s;
      }
      auto req = makeRequest(method, target, body);
      boost::system::error_code ec;
      bool done = false;
      http::async_write(*conn.stream, req, [&](const boost::system::error_code& e, size_t) {
        ec = e;
        done = true;
      });
      if (!conn.runUntil(done, deadline)) ec = net::error::timed_out;
      http::response_parser<http::string_body> parser;
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      if (!ec) {
        done = false;
        http::async_read(*conn.stream, conn.buffer, parser,
                         [&](const boost::system::error_code& e, size_t) {
                           ec = e;
                           done = true;
                         });
        if (!conn.runUntil(done, deadline)) ec = net::error::timed_out;
      }
      if (ec) {
        conn.close();
        if (reused && ec != net::error::timed_out) continue;  // the server closed an idle one
        return absl::UnavailableError(
            fmt::format("kubernetes: {} {}: {}", method, target, ec.message()));
      }
      auto& res = parser.get();
      Response out;
      out.status = static_cast<int>(res.result_int());
      out.body = std::move(res.body());
      if (auto it = res.find(http::field::retry_after); it != res.end()) {
        out.retry_after = std::string(it->value());
      }
      if (!res.keep_alive()) conn.close();
      return out;
    }
    return absl::UnavailableError("kubernetes: connection lost");
  }

  // Token bucket: waits until a request may go (client-go's QPS/Burst).
  void throttle() {
    if (config_.qps <= 0) return;
    std::unique_lock lock(bucket_mu_);
    const auto now = Clock::now();
    if (bucket_stamp_ == Clock::time_point{}) {
      bucket_tokens_ = config_.burst;
    } else {
      bucket_tokens_ = std::min<double>(
          config_.burst,
          bucket_tokens_ +
              std::chrono::duration<double>(now - bucket_stamp_).count() * config_.qps);
    }
    bucket_stamp_ = now;
    bucket_tokens_ -= 1;
    if (bucket_tokens_ < 0) {
      const auto wait = std::chrono::duration<double>(-bucket_tokens_ / config_.qps);
      lock.unlock();
      std::this_thread::sleep_for(wait);
    }
  }

  ClientConfig config_;
  std::mutex bucket_mu_;
  double bucket_tokens_ = 0;
  Clock::time_point bucket_stamp_{};
  ssl::context ssl_;
  std::mutex token_mu_;
  std::string token_;
  int64_t token_stamp_ = 0;
  int64_t token_size_ = -1;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t connections_ = 0;
};

namespace {

class BeastLineStream : public LineStream {
 public:
  explicit BeastLineStream(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {
    // An explicit maximum: with boost::none this parser failed the header of a watch's 403
    // answer with "body limit exceeded" (Boost 1.74), so a refused watch was retried forever
    // in silence instead of reporting the missing RBAC permission.
    parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
  }
  ~BeastLineStream() override { conn_->close(); }

  absl::Status readHeader(Clock::time_point deadline, int* status) {
    boost::system::error_code ec;
    bool done = false;
    http::async_read_header(*conn_->stream, conn_->buffer, parser_,
                            [&](const boost::system::error_code& e, size_t) {
                              ec = e;
                              done = true;
                            });
    if (!conn_->runUntil(done, deadline)) ec = net::error::timed_out;
    if (ec) return absl::UnavailableError(fmt::format("kubernetes watch: {}", ec.message()));
    *status = static_cast<int>(parser_.get().result_int());
    return absl::OkStatus();
  }

  // The whole body of a non-200 response.
  std::string readAll(Clock::time_point deadline) {
    boost::system::error_code ec;
    bool done = false;
    http::async_read(*conn_->stream, conn_->buffer, parser_,
                     [&](const boost::system::error_code& e, size_t) {
                       ec = e;
                       done = true;
                     });
    conn_->runUntil(done, deadline);
    return parser_.get().body();
  }

  absl::StatusOr<std::vector<std::string>> next(std::chrono::milliseconds timeout) override {
    std::vector<std::string> lines;
    const auto deadline = Clock::now() + timeout;
    while (lines.empty() && !ended_) {
      if (!pending_) {
        pending_ = true;
        done_ = false;
        http::async_read_some(*conn_->stream, conn_->buffer, parser_,
                              [this](const boost::system::error_code& e, size_t) {
                                ec_ = e;
                                done_ = true;
                              });
      }
      conn_->ioc.restart();
      while (!done_ && Clock::now() < deadline) conn_->ioc.run_one_until(deadline);
      if (!done_) break;  // timeout: the read stays in flight for the next call
      pending_ = false;
      if (ec_ && ec_ != http::error::need_buffer) {
        return absl::UnavailableError(fmt::format("kubernetes watch: {}", ec_.message()));
      }
      std::string& body = parser_.get().body();
      size_t start = 0;
      for (size_t nl; (nl = body.find('\n', start)) != std::string::npos; start = nl + 1) {
        if (nl > start) lines.emplace_back(body.substr(start, nl - start));
      }
      body.erase(0, start);
      if (parser_.is_done()) ended_ = true;
    }
    return lines;
  }

  bool ended() const override { return ended_; }

 private:
  std::unique_ptr<Connection> conn_;
  http::response_parser<http::string_body> parser_;
  bool pending_ = false;
  bool done_ = false;
  bool ended_ = false;
  boost::system::error_code ec_;
};

}  // namespace

KubeClient::KubeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KubeClient::~KubeClient() = default;

absl::StatusOr<std::unique_ptr<KubeClient>> KubeClient::create(ClientConfig config) {
  auto impl = std::make_unique<Impl>(std::move(config));
  if (absl::Status s = impl->init(); !s.ok()) return s;
  return std::unique_ptr<KubeClient>(new KubeClient(std::move(impl)));
}

const ClientConfig& KubeClient::config() const { return impl_->config_; }

std::chrono::milliseconds KubeClient::backoff(int attempt, std::string_view retry_after) {
  static thread_local std::mt19937 rng(std::random_device{}());
  if (auto seconds = parseInt<int>(trim(retry_after)); seconds && *seconds >= 0) {
    // Retry-After plus up to 20% jitter, so throttled clients do not return in lockstep.
    const int base = std::min(*seconds, 60) * 1000;
    return std::chrono::milliseconds(base +
                                     std::uniform_int_distribution<int>(0, base / 5 + 50)(rng));
  }
  const int64_t cap = std::min<int64_t>(5000, int64_t{100} << std::min(attempt, 10));
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(cap / 2, cap)(rng));
}

absl::StatusOr<Response> KubeClient::request(std::string_view method, const std::string& target,
                                             const RequestInfo& info, const std::string& body) {
  bool reloaded_after_401 = false;
  absl::Status last;
  for (int attempt = 0;; ++attempt) {
    impl_->throttle();
    auto res = impl_->roundTrip(method, target, body);
    std::string retry_after;
    if (res.ok()) {
      if (res->status == 401 && !reloaded_after_401 && !impl_->config_.token_file.empty()) {
        reloaded_after_401 = true;  // the token may have rotated under us
        (void)impl_->reloadToken(true);
        --attempt;
        continue;
      }
      if (!isRetryableStatus(res->status)) {
        if (res->status == 401 || res->status == 403) {
          return errorFromResponse(info, res->status, res->body);
        }
        return res;
      }
      last = errorFromResponse(info, res->status, res->body);
      retry_after = res->retry_after;
    } else {
      last = res.status();
    }
    if (attempt >= impl_->config_.max_retries) break;
    const auto delay = backoff(attempt, retry_after);
    log::debug(fmt::format("kubernetes: {} {}: {}; retry in {} ms", method, target,
                           errorMessage(last), delay.count()));
    std::this_thread::sleep_for(delay);
  }
  return absl::UnavailableError(
      fmt::format("{} (gave up after {} retries)", errorMessage(last), impl_->config_.max_retries));
}

absl::StatusOr<std::unique_ptr<LineStream>> KubeClient::stream(const std::string& target,
                                                               const RequestInfo& info) {
  impl_->throttle();
  auto conn = std::make_unique<Connection>();
  const auto deadline = Clock::now() + impl_->config_.timeout;
  if (absl::Status s = impl_->connect(*conn, deadline); !s.ok()) return s;
  auto req = impl_->makeRequest("GET", target, {});
  boost::system::error_code ec;
  bool done = false;
  http::async_write(*conn->stream, req, [&](const boost::system::error_code& e, size_t) {
    ec = e;
    done = true;
  });
  if (!conn->runUntil(done, deadline)) ec = net::error::timed_out;
  if (ec)
    return absl::UnavailableError(fmt::format("kubernetes watch {}: {}", target, ec.message()));
  auto stream = std::make_unique<BeastLineStream>(std::move(conn));
  int status = 0;
  if (absl::Status s = stream->readHeader(deadline, &status); !s.ok()) return s;
  if (status != 200) {
    const std::string body = stream->readAll(deadline);
    if (status == 401) (void)impl_->reloadToken(true);
    return errorFromResponse(info, status, body);
  }
  return std::unique_ptr<LineStream>(std::move(stream));
}

std::string describePermission(const RequestInfo& info) {
  return fmt::format(
      "verb \"{}\" on resource \"{}\" in API group \"{}\"{}", info.verb, info.resource, info.group,
      info.ns.empty() ? " (cluster scope)" : fmt::format(" in namespace \"{}\"", info.ns));
}

absl::Status errorFromResponse(const RequestInfo& info, int status, std::string_view body) {
  std::string message;
  std::string reason;
  auto json = model::Json::parse(body, nullptr, false);
  if (!json.is_discarded() && json.is_object()) {
    message = json.value("message", "");
    reason = json.value("reason", "");
  }
  if (message.empty()) message = std::string(body.substr(0, 200));
  const std::string what =
      fmt::format("kubernetes {} {}{}{}", info.verb, info.resource,
                  info.name.empty() ? "" : fmt::format(" \"{}\"", info.name),
                  info.ns.empty() ? "" : fmt::format(" in namespace \"{}\"", info.ns));
  switch (status) {
    case 400:
    case 422:
      return absl::InvalidArgumentError(fmt::format("{}: {}", what, message));
    case 401:
      return absl::UnauthenticatedError(fmt::format(
          "{}: 401 Unauthorized: the API server rejected the credentials (token expired or "
          "revoked?): {}",
          what, message));
    case 403:
      return absl::PermissionDeniedError(fmt::format(
          "{}: 403 Forbidden: RBAC is missing {}; grant it in the ClusterRole/Role of this "
          "service account: {}",
          what, describePermission(info), message));
    case 404:
      return absl::NotFoundError(fmt::format("{}: not found: {}", what, message));
    case 409:
      if (reason == "AlreadyExists") {
        return absl::AlreadyExistsError(fmt::format("{}: {}", what, message));
      }
      return absl::AbortedError(fmt::format("{}: conflict: {}", what, message));
    case 410:
      return absl::OutOfRangeError(
          fmt::format("{}: 410 Gone (history compacted): {}", what, message));
    default:
      if (isRetryableStatus(status)) {
        return absl::UnavailableError(fmt::format("{}: HTTP {}: {}", what, status, message));
      }
      return absl::UnknownError(fmt::format("{}: HTTP {}: {}", what, status, message));
  }
}

}  // namespace coral::datastore::kubernetes
