// What dailysyncctl shows: the daemon's status assembled from D-Bus property values, and
// its rendering as text (optionally colored) or JSON; the history table; how a D-Bus error
// becomes a message and an exit status. Pure: the caller decodes the bus messages and
// passes the current time and a time formatter in.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/progress_view.hpp"

namespace dailysync::ctl {

struct RunListing {              // one entry of ListRuns
    std::string id, result;
    std::int64_t started = 0, finished = 0;   // seconds since the epoch
    bool dry_run = false;
};
// The entry of `runs` with this id (nullopt when none, or id is empty).
std::optional<RunListing> find_run(const std::vector<RunListing> &runs, const std::string &id);

struct DaemonStatus {
    std::string state;           // idle, running, stopping
    std::string last_result, last_run_id, current_run_id;
    std::uint64_t next_run_us = 0;
    ProgressSnapshot progress;
    std::optional<std::string> bottleneck, bottleneck_evidence;   // when the daemon publishes them
    std::optional<RunListing> last_run;                           // the ListRuns entry of last_run_id
};

// A property value as it comes off the bus (s, t or the Units array).
using PropertyValue = std::variant<std::string, std::uint64_t, std::vector<UnitProgress>>;
// Updates `status` from one property of GetAll or PropertiesChanged; unknown names are ignored.
void apply_property(DaemonStatus &status, std::string_view name, const PropertyValue &value);

struct Style {
    bool color = false;
    std::int64_t now = 0;                              // seconds since the epoch
    std::function<std::string(std::int64_t)> time;     // absolute time for people
};

std::string colored_result(const std::string &result, bool color);   // green/yellow/red
std::string relative_time(std::int64_t when, std::int64_t now);      // "in 7h 45m", "3m ago"

std::string status_text(const DaemonStatus &status, const Style &style);
nlohmann::ordered_json status_json(const DaemonStatus &status);

struct HistoryRow {
    RunListing run;
    std::optional<std::uint64_t> files, bytes, bytes_copied;   // from the run's report, if readable
};
std::string history_text(const std::vector<HistoryRow> &rows, const Style &style);
nlohmann::ordered_json history_json(const std::vector<HistoryRow> &rows);
HistoryRow history_row(const RunListing &run, const std::optional<nlohmann::json> &report);

// Why a run did not succeed, from its report, for `start --wait`: the run's own error,
// then each unit that failed, was partial or warned, with the first line of its message;
// at most `limit` units, then how many more. Empty for a report with nothing to say.
std::vector<std::string> problems_of(const nlohmann::json &report, std::size_t limit = 10);

// Exit status of start --wait and watch for a run's result.
int exit_status_for_result(std::string_view result);

struct Failure {
    int exit_status;
    std::string message;
};
// A failed bus call: which exit status and what to tell the admin.
Failure explain_bus_error(std::string_view error_name, std::string_view error_message, std::string_view method, bool user_bus);
// Connecting to the bus failed (`reason`: strerror of the error).
Failure explain_connect_error(std::string_view reason, bool user_bus);

}  // namespace dailysync::ctl
