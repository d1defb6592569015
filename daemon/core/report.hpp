// The report of a finished run: JSON for state_dir/runs/RUN_ID.json and text for people.
// Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bottleneck.hpp"
#include "core/hooks.hpp"
#include "core/run_model.hpp"
#include "core/verify.hpp"

namespace dailysync {

// What a run with "versions" did with them (report field "versions").
struct VersionsOutcome {
    std::string point;                 // the run's own restore point
    std::string kept_in;               // the point its overwritten and deleted files went to ("" = none)
    std::vector<std::string> pruned;   // points the retention removed after it
    std::string error;                 // what went wrong with the versions ("" = nothing)
    double prepare_seconds = 0;        // making the run's version, before copying
    double finish_seconds = 0;         // recording its end and the retention, after copying
    std::vector<std::string> set_aside;   // damaged versions set aside before copying (one note each)
};

// The daily run's compare of both trees (io/tree_compare.hpp), for the report.
struct CompareOutcome {
    bool used = false;
    std::string why_not;          // when not used: why rsync compared instead ("" for a first run, a retry, a verify)
    double seconds = 0;           // wall time of the compare (the rest of the run is the copy)
    double cpu_seconds = 0;       // of its threads
    unsigned threads = 0;
    std::uint64_t compared = 0, created = 0, updated = 0, attributes = 0, replaced = 0, deleted = 0, bytes = 0;
    std::vector<std::string> unreadable;   // folders that could not be read (the first 20)
    std::uint64_t unreadable_count = 0;
    std::vector<std::string> whole;        // folders whose trees rsync compared itself (printable)
};

struct ReportContext {
    std::string source;
    std::string destination;
    int concurrency = 0;
    double cpu_self_seconds = -1;       // dailysyncd's own CPU time during the run (-1: unknown)
    double cpu_children_seconds = -1;   // its rsync children's
    std::uint64_t peak_rss_bytes = 0;   // the daemon's peak resident memory since it started (0: unknown)
    std::optional<BottleneckVerdict> bottleneck = std::nullopt;   // what limited the run
    std::optional<VersionsOutcome> versions = std::nullopt;       // with "versions": what this run kept
    std::vector<HookOutcome> hooks = {};                           // the hook commands run for it, in order
    std::string retry_of = {};                                     // the run whose failed units this one ran again
    std::optional<VerifyOutcome> verify = std::nullopt;            // a verify: what it checked and found
    std::optional<CompareOutcome> compare = std::nullopt;          // a daily run: its compare of both trees
};

// The report's layout, in its "schema_version" field: raised when a field changes meaning
// or goes away (new fields do not raise it). Reports without the field are version 1.
inline constexpr int kReportSchemaVersion = 2;

std::string report_json(const RunModel &run, const ReportContext &context);   // UTF-8, pretty-printed
// The report of a run the daemon did not live to finish (found in the state at start).
std::string interrupted_report_json(const std::string &run_id, std::int64_t started_epoch, std::int64_t found_epoch,
                                    const ReportContext &context);

// The one reader of report text, for the daemon, dailysyncctl and the tests: the JSON
// document, or why it cannot be read (not JSON, not an object, a newer schema_version).
struct ParsedReport {
    nlohmann::json doc;   // an object when error is empty
    std::string error;
};
ParsedReport parse_report(const std::string &text);

// For people: a table of units and totals, drawn from a report JSON (so the daemon's
// final report and `dailysyncctl report` show the same thing). Tolerates missing fields.
std::string report_text(const nlohmann::json &report);

// The projects (top-level folders, printable) a unit's failure concerns: taken from the
// paths rsync complained about when it named any, else from the unit's folders; "." for
// entries directly under the source.
std::vector<std::string> affected_projects(const UnitStatus &unit, const std::string &source);

// The members of a packed unit (printable, relative to the source) that did not arrive
// complete: every member when the unit failed or was cancelled (rsync stopped part-way,
// and which member it had finished is unknown), the members rsync named in complaints
// when it was partial, none when it succeeded.
std::vector<std::string> members_not_copied(const UnitStatus &unit);

// The projects (top-level folders, printable) whose contents a unit copies; none for the
// unit of the source's own entries, every one it saw for a whole-tree unit.
std::vector<std::string> covered_projects(const UnitStatus &unit);

// Exit status of `dailysyncd --once`: 0 success, 1 warning, 2 failed or cancelled.
int exit_status_for(RunResult result);

}  // namespace dailysync
