// EtcdConnection: channels, deadlines, auth tokens, failover and status mapping.
#include "datastore/etcd/etcd_connection.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "common/log.h"

namespace coral::datastore::etcd {
namespace {

absl::StatusOr<std::string> readFile(std::string_view option, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        fmt::format("etcd option {}: cannot read \"{}\"", option, path));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

grpc::ChannelArguments channelArguments() {
  grpc::ChannelArguments args;
  // A restarted etcd should be found again within a second, not gRPC's default 2 minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // gRPC 1.51's pick_first stays in TRANSIENT_FAILURE after one failed reconnect (the
  // restarted etcd is then never found again); round_robin over the single address of an
  // endpoint keeps reconnecting with backoff.
  args.SetLoadBalancingPolicyName("round_robin");
  // Notice a silently dead peer under a long watch (etcd allows pings every 5 s).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  // Each backend its own TCP connection: two opens of one URL are two clients, as two
  // processes would be (gRPC would otherwise share the subchannel).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Large lists: etcd limits requests, we accept whatever it answers.
  args.SetMaxReceiveMessageSize(-1);
  return args;
}

}  // namespace

absl::StatusOr<std::shared_ptr<EtcdConnection>> EtcdConnection::create(EtcdOptions options) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.cacert_path.empty()) {
      auto ca = readFile("cacert", options.cacert_path);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *std::move(ca);
    }
    if (!options.cert_path.empty()) {
      auto cert = readFile("cert", options.cert_path);
      if (!cert.ok()) return cert.status();
      auto key = readFile("key", options.key_path);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  std::shared_ptr<EtcdConnection> connection(new EtcdConnection(std::move(options)));
  for (const std::string& address : connection->options_.endpoints) {
    auto ep = std::make_unique<Endpoint>();
    ep->address = address;
    ep->channel = grpc::CreateCustomChannel(address, credentials, channelArguments());
    ep->kv = etcdserverpb::KV::NewStub(ep->channel);
    ep->watch = etcdserverpb::Watch::NewStub(ep->channel);
    ep->lease = etcdserverpb::Lease::NewStub(ep->channel);
    ep->auth = etcdserverpb::Auth::NewStub(ep->channel);
    connection->endpoints_.push_back(std::move(ep));
  }
  return connection;
}

void EtcdConnection::markFailed(size_t index) {
  size_t expected = index;
  active_.compare_exchange_strong(expected, (index + 1) % endpoints_.size());
}

absl::Status EtcdConnection::toStatus(const grpc::Status& status, std::string_view endpoint,
                                      std::string_view what) {
  if (status.ok()) return absl::OkStatus();
  auto code = static_cast<absl::StatusCode>(status.error_code());  // same numbering
  if (code == absl::StatusCode::kDeadlineExceeded) code = absl::StatusCode::kUnavailable;
  return absl::Status(code, fmt::format("etcd {}: {}: {}", endpoint, what, status.error_message()));
}

bool EtcdConnection::isTokenExpired(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
         status.error_message().find("invalid auth token") != std::string::npos;
}

void EtcdConnection::dropToken(const std::string& token) {
  std::lock_guard lock(token_mu_);
  if (token_ == token) token_.clear();
}

absl::StatusOr<std::string> EtcdConnection::token(Endpoint& ep) {
  if (options_.username.empty()) return std::string();
  std::lock_guard lock(token_mu_);
  if (!token_.empty()) return token_;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options_.timeout);
  etcdserverpb::AuthenticateRequest request;
  request.set_name(options_.username);
  request.set_password(options_.password);
  etcdserverpb::AuthenticateResponse response;
  const grpc::Status status = ep.auth->Authenticate(&context, request, &response);
  if (!status.ok()) {
    return toStatus(status, ep.address, fmt::format("authenticate as \"{}\"", options_.username));
  }
  token_ = response.token();
  return token_;
}

absl::StatusOr<std::string> EtcdConnection::prepareStream(size_t index,
                                                          grpc::ClientContext& context) {
  Endpoint& ep = endpoint(index);
  auto tok = token(ep);
  if (!tok.ok()) return tok.status();
  if (!tok->empty()) context.AddMetadata("token", *tok);
  // etcd cancels the stream when its member loses the leader, so we move to another.
  context.AddMetadata("hasleader", "true");
  return tok;
}

bool EtcdConnection::waitConnected(size_t index, std::chrono::system_clock::time_point deadline) {
  grpc::Channel& channel = *endpoint(index).channel;
  if (channel.GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) return true;
  // Waiting on the channel also polls its sockets; a fail-fast call on a broken channel
  // would not, and the reconnect would only be noticed by gRPC's 5 s backup poller.
  return channel.WaitForConnected(deadline);
}

absl::Status EtcdConnection::call(std::string_view what, const Rpc& rpc) {
  const size_t n = endpoints_.size();
  const size_t start = active_.load();
  absl::Status last = absl::UnavailableError(fmt::format("etcd: {}: no endpoints", what));
  bool reauthenticated = false;
  const auto deadline = std::chrono::system_clock::now() + options_.timeout;
  const auto share = options_.timeout / static_cast<int>(n);
  size_t attempt = 0;
  while (attempt < n) {
    const size_t index = (start + attempt) % n;
    Endpoint& ep = *endpoints_[index];
    // Give a disconnected endpoint its share of the time, the last one all that is left.
    const auto now = std::chrono::system_clock::now();
    const auto connect_by = attempt + 1 == n ? deadline : std::min(deadline, now + share);
    if (!waitConnected(index, connect_by)) {
      last = absl::UnavailableError(fmt::format("etcd {}: {}: cannot connect within {} ms",
                                                ep.address, what, options_.timeout.count()));
      markFailed(index);
      ++attempt;
      continue;
    }
    auto tok = token(ep);
    if (!tok.ok()) {
      last = tok.status();
      if (last.code() != absl::StatusCode::kUnavailable) return last;
      markFailed(index);
      ++attempt;
      continue;
    }
    grpc::ClientContext context;
    context.set_deadline(deadline);
    if (!tok->empty()) context.AddMetadata("token", *tok);
    const grpc::Status status = rpc(ep, context);
    if (status.ok()) {
      active_.store(index);
      return absl::OkStatus();
    }
    if (!tok->empty() && isTokenExpired(status) && !reauthenticated) {
      log::debug("etcd token expired, authenticating again", {{"endpoint", ep.address}});
      dropToken(*tok);
      reauthenticated = true;
      continue;  // same endpoint
    }
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      // A hung etcd (stopped, partitioned, overloaded): say how long we waited.
      return absl::UnavailableError(
          fmt::format("etcd {}: {}: no answer within {} ms (deadline exceeded)", ep.address, what,
                      options_.timeout.count()));
    }
    last = toStatus(status, ep.address, what);
    // Only a refused or broken connection is worth another endpoint: anything else is an
    // answer, and a deadline has used up the caller's time.
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return last;
    markFailed(index);
    ++attempt;
  }
  return last;
}

}  // namespace coral::datastore::etcd
