// The run history: one summary line per report, kept in a small index (runs/index.json)
// so listing runs reads one file, not every report; and its retention, which bounds how
// many reports stay (history_keep_runs, history_keep_days). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace dailysync {

struct RunSummary {
    std::string id, result;
    std::int64_t started = 0, finished = 0;   // seconds since the epoch
    bool dry_run = false;                     // dailysyncd --once --dry-run: changed nothing
    bool operator==(const RunSummary &) const = default;
};

// The summary of a report (its text, as written by report_json); nullopt when the report
// cannot be read (parse_report's errors) or names no run.
std::optional<RunSummary> summary_of_report(const std::string &report_text);

std::string index_json(const std::vector<RunSummary> &runs);
// nullopt when the text is not an index (the caller rebuilds it from the reports).
std::optional<std::vector<RunSummary>> parse_index(const std::string &text);

// Adds or replaces `run` (by id), keeping the list oldest first.
void record_run(std::vector<RunSummary> &runs, RunSummary run);

// The runs whose reports the retention removes, as of `now`: those beyond the newest
// `history_keep_runs` and those that finished more than `history_keep_days` ago. The
// newest run always stays, however old: it is what status shows as the last run.
std::vector<std::string> runs_to_prune(const std::vector<RunSummary> &runs, const Config &config, std::int64_t now);

}  // namespace dailysync
