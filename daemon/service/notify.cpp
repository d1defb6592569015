#include "service/notify.hpp"

#include <systemd/sd-daemon.h>

namespace dailysync {

void Notifier::ready() { sd_notify(0, "READY=1"); }

void Notifier::reloading() { sd_notify(0, "RELOADING=1"); }

void Notifier::stopping() { sd_notify(0, "STOPPING=1"); }

void Notifier::watchdog() { sd_notify(0, "WATCHDOG=1"); }

void Notifier::status(const std::string &line) {
    if (line == last_status_) return;
    last_status_ = line;
    sd_notify(0, ("STATUS=" + line).c_str());
}

std::optional<std::chrono::microseconds> Notifier::watchdog_period() const {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
    return std::chrono::microseconds(usec / 2);
}

}  // namespace dailysync
