// Tells when the wall clock is set (timerfd with TFD_TIMER_CANCEL_ON_SET), so the daily
// timer can be re-armed at once instead of firing at the wrong wall-clock time.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>

namespace dailysync {

class ClockWatch {
public:
    ClockWatch(boost::asio::io_context &io, std::function<void()> on_clock_set);
    ~ClockWatch();

private:
    void arm();
    boost::asio::posix::stream_descriptor fd_;
    std::function<void()> on_clock_set_;
};

}  // namespace dailysync
