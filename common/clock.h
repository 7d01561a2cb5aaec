// Clock: the seam between code that waits or timestamps and real time, so tests can
// drive timers with a FakeClock instead of sleeping.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace coral::common {

class Clock {
 public:
  using Steady = std::chrono::steady_clock;
  using Wall = std::chrono::system_clock;
  virtual ~Clock() = default;
  // Monotonic time, for timers and durations.
  virtual Steady::time_point now() const = 0;
  // Wall-clock time, for timestamps shown to people and stored in resources.
  virtual Wall::time_point wallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  Steady::time_point now() const override { return Steady::now(); }
  Wall::time_point wallNow() const override { return Wall::now(); }
  // A process-wide instance for code that has no clock injected.
  static const SystemClock& instance();
};

// Test double: time moves only when advance() is called.
class FakeClock final : public Clock {
 public:
  FakeClock() : wall_(Wall::time_point(std::chrono::seconds(1'700'000'000))) {}
  Steady::time_point now() const override {
    std::lock_guard lock(mu_);
    return steady_;
  }
  Wall::time_point wallNow() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  void advance(std::chrono::nanoseconds d) {
    std::lock_guard lock(mu_);
    steady_ += d;
    wall_ += std::chrono::duration_cast<Wall::duration>(d);
  }

 private:
  mutable std::mutex mu_;
  Steady::time_point steady_{};
  Wall::time_point wall_;
};

// RFC 3339 UTC timestamp with second precision: "2026-11-25T21:29:40Z".
std::string formatRfc3339(Clock::Wall::time_point t);

}  // namespace coral::common
