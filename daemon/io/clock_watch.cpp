#include "io/clock_watch.hpp"

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <sys/timerfd.h>
#include <unistd.h>

namespace dailysync {

ClockWatch::ClockWatch(boost::asio::io_context &io, std::function<void()> on_clock_set)
    : fd_(io), on_clock_set_(std::move(on_clock_set)) {
    int fd = ::timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return;   // no clock-change detection; the scheduler's periodic re-check remains
    fd_.assign(fd);
    arm();
}

ClockWatch::~ClockWatch() = default;

void ClockWatch::arm() {
    // An absolute timer far in the future; setting the clock cancels it with ECANCELED.
    struct itimerspec spec {};
    spec.it_value.tv_sec = INT32_MAX;
    if (::timerfd_settime(fd_.native_handle(), TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, nullptr) != 0) return;
    fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
        if (ec) return;
        std::uint64_t expirations = 0;
        const bool cancelled = ::read(fd_.native_handle(), &expirations, sizeof expirations) < 0 && errno == ECANCELED;
        arm();
        if (cancelled && on_clock_set_) on_clock_set_();
    });
}

}  // namespace dailysync
