#include "io/periodic_timer.hpp"

namespace dailysync {

void PeriodicTimer::start(std::chrono::steady_clock::duration period, std::function<void()> tick) {
    stop();
    period_ = period;
    tick_ = std::move(tick);
    active_ = std::make_shared<bool>(true);
    arm();
}

void PeriodicTimer::stop() {
    if (active_) *active_ = false;
    active_.reset();
    timer_.cancel();
}

void PeriodicTimer::arm() {
    timer_.expires_after(period_);
    timer_.async_wait([this, active = active_](boost::system::error_code ec) {
        if (ec || !*active) return;   // stopped (this may be gone): touch nothing
        tick_();
        if (*active) arm();
    });
}

}  // namespace dailysync
