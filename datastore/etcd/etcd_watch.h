// EtcdWatch: a datastore::Watch over one etcd Watch stream, run on its own thread.
// Events are queued for next(). When the stream breaks (etcd restarted, member lost its
// leader, connection reset) the thread reconnects with backoff, to the next endpoint,
// and resumes from the revision after the last event it queued, so no event is lost or
// repeated. A compacted start revision ends the watch with kOutOfRange. Internal to
// datastore/etcd (includes gRPC).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "datastore/backend.h"
#include "datastore/etcd/etcd_connection.h"

namespace coral::datastore::etcd {

// Converts an etcd event; kv.lease and revisions are carried over, kDelete events keep
// the previous value when etcd sent it.
WatchEvent toWatchEvent(const mvccpb::Event& event);
KeyValue toKeyValue(const mvccpb::KeyValue& kv);

class EtcdWatch final : public Watch {
 public:
  // Watches keys starting with `prefix` from `start_revision` (> 0).
  EtcdWatch(std::shared_ptr<EtcdConnection> connection, std::string prefix,
            Revision start_revision);
  ~EtcdWatch() override;

  absl::StatusOr<std::vector<WatchEvent>> next(std::chrono::milliseconds timeout) override;
  // True from etcd's answer to the watch request until the stream breaks.
  bool connected() const override { return connected_.load(); }

 private:
  enum class StreamEnd { kRetry, kRetryNow, kStop };
  void run();
  // One stream on one endpoint, until it breaks or the watch stops.
  StreamEnd runStream(size_t endpoint_index);
  void fail(absl::Status status);
  // False when the watch is stopping.
  bool sleepUnlessStopping(std::chrono::milliseconds duration);

  const std::shared_ptr<EtcdConnection> connection_;
  const std::string prefix_;
  // Touched by the thread only: the first revision not yet queued.
  Revision next_revision_;

  std::mutex mu_;
  std::condition_variable events_cv_;  // queue_ or error_ changed
  std::condition_variable stop_cv_;    // stopping_ set
  std::deque<WatchEvent> queue_;
  absl::Status error_;  // terminal: reported once the queue is drained
  bool stopping_ = false;
  grpc::ClientContext* stream_context_ = nullptr;  // to cancel a blocked Read
  std::atomic<bool> connected_{false};
  std::thread thread_;
};

}  // namespace coral::datastore::etcd
