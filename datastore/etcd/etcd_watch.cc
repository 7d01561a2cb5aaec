// EtcdWatch: the watch thread (stream, resume, backoff) and the event queue.
#include "datastore/etcd/etcd_watch.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/log.h"

namespace coral::datastore::etcd {
namespace {

constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
// How long one endpoint may take to (re)connect before the watch tries the next.
constexpr std::chrono::milliseconds kConnectWait{1000};
constexpr std::chrono::milliseconds kConnectSlice{100};

}  // namespace

KeyValue toKeyValue(const mvccpb::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.lease = kv.lease();
  return out;
}

WatchEvent toWatchEvent(const mvccpb::Event& event) {
  WatchEvent out;
  if (event.type() == mvccpb::Event::DELETE) {
    out.type = EventType::kDelete;
    // etcd's delete event has only the key and the deletion's revision; take the last
    // value (and its create revision and lease) from prev_kv when present.
    if (event.has_prev_kv()) out.kv = toKeyValue(event.prev_kv());
    out.kv.key = event.kv().key();
    out.kv.mod_revision = event.kv().mod_revision();
  } else {
    out.type = EventType::kPut;
    out.kv = toKeyValue(event.kv());
  }
  return out;
}

EtcdWatch::EtcdWatch(std::shared_ptr<EtcdConnection> connection, std::string prefix,
                     Revision start_revision)
    : connection_(std::move(connection)),
      prefix_(std::move(prefix)),
      next_revision_(start_revision) {
  thread_ = std::thread([this] { run(); });
}

EtcdWatch::~EtcdWatch() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (stream_context_ != nullptr) stream_context_->TryCancel();
  }
  stop_cv_.notify_all();
  thread_.join();
}

absl::StatusOr<std::vector<WatchEvent>> EtcdWatch::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  events_cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || !error_.ok(); });
  if (queue_.empty() && !error_.ok()) return error_;
  std::vector<WatchEvent> out(std::make_move_iterator(queue_.begin()),
                              std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

void EtcdWatch::fail(absl::Status status) {
  {
    std::lock_guard lock(mu_);
    if (error_.ok()) error_ = std::move(status);
  }
  events_cv_.notify_all();
}

bool EtcdWatch::sleepUnlessStopping(std::chrono::milliseconds duration) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, duration, [&] { return stopping_; });
}

void EtcdWatch::run() {
  std::chrono::milliseconds backoff = kMinBackoff;
  size_t index = connection_->activeIndex();
  while (true) {
    const Revision before = next_revision_;
    const StreamEnd end = runStream(index);
    if (end == StreamEnd::kStop) return;
    if (next_revision_ != before) backoff = kMinBackoff;  // the stream did deliver
    if (end == StreamEnd::kRetryNow) continue;
    connection_->markFailed(index);
    index = connection_->activeIndex();
    if (!sleepUnlessStopping(backoff)) return;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

EtcdWatch::StreamEnd EtcdWatch::runStream(size_t index) {
  Endpoint& ep = connection_->endpoint(index);
  // In short slices, so a watch being destroyed does not wait for a dead endpoint.
  bool connected = false;
  for (auto waited = std::chrono::milliseconds(0); !connected && waited < kConnectWait;
       waited += kConnectSlice) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return StreamEnd::kStop;
    }
    connected = connection_->waitConnected(index, std::chrono::system_clock::now() + kConnectSlice);
  }
  if (!connected) return StreamEnd::kRetry;
  grpc::ClientContext context;
  const auto token = connection_->prepareStream(index, context);
  if (!token.ok()) {
    if (token.status().code() == absl::StatusCode::kUnavailable) return StreamEnd::kRetry;
    fail(token.status());
    return StreamEnd::kStop;
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return StreamEnd::kStop;
    stream_context_ = &context;
  }
  auto stream = ep.watch->Watch(&context);
  etcdserverpb::WatchRequest request;
  auto* create = request.mutable_create_request();
  create->set_key(prefix_.empty() ? std::string(1, '\0') : prefix_);
  create->set_range_end(prefixRangeEnd(prefix_));
  create->set_start_revision(next_revision_);
  create->set_prev_kv(true);
  // Progress notifications move next_revision_ forward on a quiet prefix, so a resume
  // does not ask for a revision compacted meanwhile.
  create->set_progress_notify(true);

  StreamEnd end = StreamEnd::kRetry;
  bool compacted = false;
  etcdserverpb::WatchResponse response;
  if (stream->Write(request)) {
    while (stream->Read(&response)) {
      connected_ = true;  // etcd answered on this stream
      if (response.compact_revision() != 0 ||
          (response.canceled() &&
           response.cancel_reason().find("compacted") != std::string::npos)) {
        fail(absl::OutOfRangeError(fmt::format(
            "etcd watch of \"{}\" from revision {}: compacted (history starts at revision {}): "
            "list again and watch from the list's revision",
            prefix_, next_revision_, response.compact_revision())));
        compacted = true;
        context.TryCancel();
        continue;  // drain
      }
      if (response.canceled()) {
        log::warn("etcd watch canceled by the server, resuming",
                  {{"endpoint", ep.address}, {"reason", response.cancel_reason()}});
        context.TryCancel();
        continue;
      }
      if (response.events_size() == 0) {
        if (!response.created() && response.header().revision() >= next_revision_) {
          next_revision_ = response.header().revision() + 1;  // progress notification
        }
        continue;
      }
      std::vector<WatchEvent> events;
      Revision last = next_revision_ - 1;
      for (const auto& event : response.events()) {
        const Revision rev = event.kv().mod_revision();
        if (rev < next_revision_) continue;  // already delivered before a reconnect
        events.push_back(toWatchEvent(event));
        last = std::max(last, rev);
      }
      if (events.empty()) continue;
      {
        std::lock_guard lock(mu_);
        for (auto& e : events) queue_.push_back(std::move(e));
      }
      next_revision_ = last + 1;
      events_cv_.notify_all();
    }
  }
  connected_ = false;
  {
    std::lock_guard lock(mu_);
    stream_context_ = nullptr;
    if (stopping_) end = StreamEnd::kStop;
  }
  const grpc::Status status = stream->Finish();
  if (compacted || end == StreamEnd::kStop) return StreamEnd::kStop;
  if (!token->empty() && EtcdConnection::isTokenExpired(status)) {
    connection_->dropToken(*token);
    return StreamEnd::kRetryNow;
  }
  if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
      status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    fail(EtcdConnection::toStatus(status, ep.address, fmt::format("watch \"{}\"", prefix_)));
    return StreamEnd::kStop;
  }
  log::debug("etcd watch stream ended, reconnecting",
             {{"endpoint", ep.address},
              {"code", static_cast<int>(status.error_code())},
              {"message", status.error_message()},
              {"next_revision", next_revision_}});
  return StreamEnd::kRetry;
}

}  // namespace coral::datastore::etcd
