// The one way the daemon waits on the loop: `after` a time, once, or `every` period until
// stopped. stop() is final: nothing runs after it, not even a wait that had already
// completed when stop() was called (a plain steady_timer's cancel() cannot stop that one:
// a handler that re-arms then keeps io_context::run() from ever returning, and one that
// runs after its owner is gone touches freed memory).
//
// What is to run lives in a small shared record the pending wait also holds: the callback
// may stop, restart or (after stop()) destroy its timer from inside, and a stopped timer
// keeps nothing its callback captured alive longer than the aborted wait.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace dailysync {

class LoopTimer {
public:
    using Duration = std::chrono::steady_clock::duration;
    explicit LoopTimer(boost::asio::io_context &io) : timer_(io) {}
    ~LoopTimer() { stop(); }
    LoopTimer(const LoopTimer &) = delete;
    LoopTimer &operator=(const LoopTimer &) = delete;

    // Runs `fire` once, `wait` from now (replacing whatever was armed).
    void after(Duration wait, std::function<void()> fire);
    // Runs `tick` every `period`, the first one period from now, until stop().
    void every(Duration period, std::function<void()> tick);
    void stop();
    bool running() const { return armed_ && armed_->active; }

private:
    struct Armed {
        bool active = true;
        bool repeat = false;
        Duration period{};
        std::function<void()> run;
    };
    void arm(Duration wait, std::function<void()> run, bool repeat);
    void wait(const std::shared_ptr<Armed> &armed, Duration wait);

    boost::asio::steady_timer timer_;
    std::shared_ptr<Armed> armed_;
};

}  // namespace dailysync
