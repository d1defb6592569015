// The one way the daemon repeats something on the loop: `tick` every `period` until
// stop(). stop() is final: no tick runs after it, not even one whose wait had already
// completed when stop() was called (a plain steady_timer's cancel() cannot stop that
// one, and a handler that re-arms then keeps io_context::run() from ever returning).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace dailysync {

class PeriodicTimer {
public:
    explicit PeriodicTimer(boost::asio::io_context &io) : timer_(io) {}
    ~PeriodicTimer() { stop(); }
    PeriodicTimer(const PeriodicTimer &) = delete;
    PeriodicTimer &operator=(const PeriodicTimer &) = delete;

    // Starts (or restarts) ticking; the first tick comes after one period. `tick` may call
    // stop() (or destroy the timer's owner only after stop()).
    void start(std::chrono::steady_clock::duration period, std::function<void()> tick);
    void stop();
    bool running() const { return active_ && *active_; }

private:
    void arm();

    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::duration period_{};
    std::function<void()> tick_;
    std::shared_ptr<bool> active_;   // shared with the pending handler: outlives this
};

}  // namespace dailysync
