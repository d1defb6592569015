// sd_notify(3): readiness, status line, watchdog, reload and stop notifications.
// Without NOTIFY_SOCKET every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace dailysync {

class Notifier {
public:
    void ready();
    void reloading();
    void stopping();
    void status(const std::string &line);
    void watchdog();
    // Half the watchdog interval when the service manager enabled the watchdog.
    std::optional<std::chrono::microseconds> watchdog_period() const;

private:
    std::string last_status_;
};

}  // namespace dailysync
