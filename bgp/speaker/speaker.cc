// Speaker: the public face. Owns the io_context and its thread; every call is posted to
// that thread, queries wait for the answer with a future.
#include "bgp/speaker/speaker.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

#include "bgp/speaker/core.h"
#include "common/status.h"

namespace coral::bgp {

namespace asio = boost::asio;

class Speaker::Impl {
 public:
  Impl(SpeakerConfig config, BestPathCallback cb)
      : work_(asio::make_work_guard(io_)), core_(io_, std::move(config), std::move(cb)) {}

  ~Impl() {
    if (thread_.joinable()) {
      call([this] {
        core_.shutdown("speaker stopped");
        return 0;
      });
      // Let the NOTIFICATIONs go out before the loop stops.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      work_.reset();
      io_.stop();
      thread_.join();
    }
  }

  absl::Status start() {
    thread_ = std::thread([this] { io_.run(); });
    return call([this] { return core_.start(); });
  }

  // Runs `fn` on the loop thread and waits for its result.
  template <typename Fn>
  auto call(Fn fn) -> decltype(fn()) {
    using R = decltype(fn());
    std::promise<R> promise;
    auto future = promise.get_future();
    asio::post(io_, [&] { promise.set_value(fn()); });
    return future.get();
  }

  template <typename Fn>
  void post(Fn fn) {
    asio::post(io_, std::move(fn));
  }

  SpeakerCore& core() { return core_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  SpeakerCore core_;
  std::thread thread_;
};

absl::StatusOr<std::unique_ptr<Speaker>> Speaker::start(SpeakerConfig config,
                                                        BestPathCallback on_best_path) {
  auto impl = std::make_unique<Impl>(std::move(config), std::move(on_best_path));
  CORAL_RETURN_IF_ERROR(impl->start());
  return std::unique_ptr<Speaker>(new Speaker(std::move(impl)));
}

Speaker::Speaker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Speaker::~Speaker() = default;

void Speaker::originate(const common::Prefix& prefix, PathAttributes attrs) {
  impl_->post([this, prefix, attrs = std::move(attrs)]() mutable {
    impl_->core().originate(prefix, std::move(attrs));
  });
}

void Speaker::withdraw(const common::Prefix& prefix) {
  impl_->post([this, prefix] { impl_->core().withdraw(prefix); });
}

absl::Status Speaker::reconfigure(SpeakerConfig config) {
  return impl_->call([&] { return impl_->core().reconfigure(std::move(config)); });
}

void Speaker::shutdown(std::string_view message) {
  impl_->call([&] {
    impl_->core().shutdown(message);
    return 0;
  });
}

std::vector<PeerStatus> Speaker::peers() {
  return impl_->call([&] { return impl_->core().peerStatus(); });
}

std::vector<RouteStatus> Speaker::routes(std::optional<common::Prefix> prefix) {
  return impl_->call([&] { return impl_->core().routeStatus(prefix); });
}

uint16_t Speaker::listenPort() const {
  return impl_->call([&] { return impl_->core().listenPort(); });
}

}  // namespace coral::bgp
