#include "io/loop_timer.hpp"

namespace dailysync {

void LoopTimer::after(Duration wait, std::function<void()> fire) { arm(wait, std::move(fire), false); }

void LoopTimer::every(Duration period, std::function<void()> tick) { arm(period, std::move(tick), true); }

void LoopTimer::stop() {
    if (armed_) armed_->active = false;
    armed_.reset();
    timer_.cancel();
}

void LoopTimer::arm(Duration wait, std::function<void()> run, bool repeat) {
    stop();
    armed_ = std::make_shared<Armed>(Armed{true, repeat, wait, std::move(run)});
    this->wait(armed_, wait);
}

void LoopTimer::wait(const std::shared_ptr<Armed> &armed, Duration wait) {
    timer_.expires_after(wait);
    timer_.async_wait([this, armed](boost::system::error_code ec) {
        if (ec || !armed->active) return;   // stopped (this may be gone): touch nothing
        if (!armed->repeat) {
            armed->active = false;               // running() is false inside: `run` may arm again
            auto run = std::move(armed->run);    // and what it captured goes with it
            run();
            return;
        }
        armed->run();
        if (armed->active) this->wait(armed, armed->period);
    });
}

}  // namespace dailysync
