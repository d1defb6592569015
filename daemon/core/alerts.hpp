// Alerts that reach a person: when one is due, what the systemd alert unit is called, and
// what the webhook is sent. Pure; service/alerter sends them, the Manager decides when.
#pragma once

#include <cstdint>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.hpp"

namespace dailysync {

// A run ended in a way that needs a person: failed, cancelled, or interrupted (the daemon
// did not live to finish it).
bool run_needs_alert(std::string_view result);

// "dailysyncd-alert@INSTANCE.service", INSTANCE escaped as systemd-escape does (run ids
// and "stale" need no escaping; anything else is escaped, never trusted).
std::string alert_unit_name(std::string_view instance);
inline constexpr std::string_view kStaleInstance = "stale";

// Whether the backup is stale: no successful run for stale_after since the last success
// (or, before any, since the daemon started watching this state folder). One alert per
// stale spell: `alerted` is when the last stale alert went out.
struct StaleWatch {
    std::optional<std::time_t> last_success;
    std::optional<std::time_t> watching_since;
    std::optional<std::time_t> alerted;
    std::int64_t stale_after_seconds = 0;   // 0: off
};
// When the backup becomes (or became) stale; nullopt when off or nothing to measure from.
std::optional<std::time_t> stale_at(const StaleWatch &watch);
bool stale_alert_due(const StaleWatch &watch, std::time_t now);

// Webhook bodies. A run's: event "run", run_id, result, error, times, totals, up to 10
// units that did not succeed with their message, the host. Stale: event "stale" with the
// last success and how long ago it was.
nlohmann::json run_alert_payload(const nlohmann::json &report, const std::string &host);
nlohmann::json stale_alert_payload(const StaleWatch &watch, std::time_t now, const std::string &last_run_id,
                                   const std::string &last_result, const std::string &host);
// Where a webhook goes: failures (and stale) to webhook_failure_url when set.
const std::string &webhook_target(const Alerts &alerts, bool failure);

}  // namespace dailysync
