#include "core/alerts.hpp"

#include <cstdio>

#include "core/format.hpp"

namespace dailysync {

bool run_needs_alert(std::string_view result) { return result == "failed" || result == "cancelled" || result == "interrupted"; }

std::string alert_unit_name(std::string_view instance) {
    std::string escaped;
    for (std::size_t i = 0; i < instance.size(); ++i) {
        const auto c = static_cast<unsigned char>(instance[i]);
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
                           (c == '.' && i > 0);
        if (c == '/') escaped += '-';
        else if (plain) escaped += static_cast<char>(c);
        else {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            escaped += hex;
        }
    }
    return "dailysyncd-alert@" + escaped + ".service";
}

std::optional<std::time_t> stale_at(const StaleWatch &watch) {
    if (watch.stale_after_seconds <= 0) return std::nullopt;
    const auto since = watch.last_success ? watch.last_success : watch.watching_since;
    if (!since) return std::nullopt;
    return *since + watch.stale_after_seconds;
}

bool stale_alert_due(const StaleWatch &watch, std::time_t now) {
    const auto at = stale_at(watch);
    if (!at || now < *at) return false;
    // Already alerted in this spell: after it became stale.
    return !(watch.alerted && *watch.alerted >= *at);
}

nlohmann::json run_alert_payload(const nlohmann::json &report, const std::string &host) {
    nlohmann::json out = {{"event", "run"},
                          {"host", host},
                          {"run_id", report.value("run_id", "")},
                          {"result", report.value("result", "")},
                          {"error", report.value("error", "")},
                          {"started", report.value("started", "")},
                          {"finished", report.value("finished", "")},
                          {"seconds", report.value("seconds", 0.0)},
                          {"source", report.value("source", "")},
                          {"destination", report.value("destination", "")}};
    if (report.contains("retry_of")) out["retry_of"] = report["retry_of"];
    if (report.contains("verify")) out["verify"] = report["verify"];
    if (report.contains("totals") && report["totals"].is_object()) out["totals"] = report["totals"];
    nlohmann::json failing = nlohmann::json::array();
    std::size_t more = 0;
    if (report.contains("units") && report["units"].is_array())
        for (const auto &unit : report["units"]) {
            if (!unit.is_object()) continue;
            const std::string state = unit.value("result", "");
            if (state == "success" || state == "warning") continue;
            if (failing.size() == 10) {
                ++more;
                continue;
            }
            std::string message = unit.value("message", "");
            message = message.substr(0, message.find('\n'));
            failing.push_back({{"unit", unit.value("name", "")}, {"result", state}, {"message", message}});
        }
    out["failed_units"] = std::move(failing);
    if (more > 0) out["more_failed_units"] = more;
    return out;
}

nlohmann::json stale_alert_payload(const StaleWatch &watch, std::time_t now, const std::string &last_run_id,
                                   const std::string &last_result, const std::string &host) {
    nlohmann::json out = {{"event", "stale"},
                          {"host", host},
                          {"result", "stale"},
                          {"stale_after_seconds", watch.stale_after_seconds},
                          {"last_run_id", last_run_id},
                          {"last_result", last_result}};
    if (watch.last_success) {
        out["last_success_epoch"] = static_cast<std::int64_t>(*watch.last_success);
        out["seconds_since_success"] = static_cast<std::int64_t>(now - *watch.last_success);
        out["error"] = "no successful backup for " + format_duration(static_cast<double>(now - *watch.last_success));
    } else {
        out["last_success_epoch"] = nullptr;
        out["error"] = "no successful backup since dailysyncd started watching " +
                       format_duration(static_cast<double>(now - watch.watching_since.value_or(now))) + " ago";
    }
    return out;
}

const std::string &webhook_target(const Alerts &alerts, bool failure) {
    return failure && !alerts.webhook_failure_url.empty() ? alerts.webhook_failure_url : alerts.webhook_url;
}

}  // namespace dailysync
