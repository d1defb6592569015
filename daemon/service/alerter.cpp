#include "service/alerter.hpp"

#include <syslog.h>

#include "core/alerts.hpp"
#include "io/webhook.hpp"

namespace dailysync {

void Alerter::send(const Alerts &config, const AlertEvent &event) {
    if (event.failure && config.systemd_unit && !event.unit_instance.empty()) {
        const std::string unit = alert_unit_name(event.unit_instance);
        ++pending_;
        start_unit_(unit, [this, unit, what = event.what](std::string error) {
            if (error.empty()) journal_.log(LOG_NOTICE, "alert: " + what + ": started " + unit);
            else journal_.log(LOG_ERR, "alert: " + what + ": cannot start " + unit + " (" + error + "); is it installed? (see docs/operations.md, \"Alerting\")");
            settled();
        });
    }
    const std::string &url = webhook_target(config, event.failure);
    if (url.empty()) return;
    // The URL is not logged: Healthchecks-style URLs are secrets.
    const char *which = event.failure && !config.webhook_failure_url.empty() ? "webhook_failure_url" : "webhook_url";
    const int timeout = config.webhook_timeout_seconds;
    ++pending_;
    pool_.run<WebhookResult>(
        std::chrono::seconds(timeout + 5),
        [url, body = event.payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), timeout](WorkProgress &) {
            return post_json(url, body, timeout);
        },
        [this, what = event.what, which = std::string(which)](Worked<WebhookResult> sent) {
            if (sent.crashed()) journal_.log(LOG_ERR, "alert: " + what + ": the " + which + " POST failed: " + sent.exception_text() +
                                                          " (a defect in dailysyncd: please report it)");
            else if (!sent) journal_.log(LOG_ERR, "alert: " + what + ": the " + which + " POST did not finish in time");
            else if (!sent->ok)
                journal_.log(LOG_ERR, "alert: " + what + ": the " + which + " POST failed: " + sent->error +
                                          (sent->status == 0 ? " (under the service, the network is closed unless the webhook drop-in is "
                                                               "installed: see docs/operations.md, \"Alerting\")"
                                                             : ""));
            else journal_.log(LOG_INFO, "alert: " + what + ": posted to " + which + " (HTTP " + std::to_string(sent->status) + ")");
            settled();
        });
}

void Alerter::settled() {
    if (--pending_ > 0 || !on_idle_) return;
    idle_timer_.stop();
    auto done = std::move(on_idle_);
    on_idle_ = nullptr;
    done();
}

void Alerter::when_idle(std::chrono::seconds limit, std::function<void()> done) {
    if (pending_ == 0) return done();
    on_idle_ = std::move(done);
    idle_timer_.after(limit, [this] {
        if (!on_idle_) return;
        journal_.log(LOG_WARNING, "stopping with " + std::to_string(pending_) + " alert(s) not yet sent");
        auto done = std::move(on_idle_);
        on_idle_ = nullptr;
        done();
    });
}

}  // namespace dailysync
