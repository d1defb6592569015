// The state of one run: its units, their progress, the aggregate, and the result.
// Pure: callers pass the time in; every view (terminal, report, later D-Bus) reads this.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/eta.hpp"
#include "core/plan.hpp"
#include "core/problem.hpp"
#include "core/rsync_output.hpp"

namespace dailysync {

using WallClock = std::chrono::system_clock;
using Seconds = double;   // monotonic seconds, for rates

enum class UnitState { pending, running, retry_wait, success, warning, partial, failed, cancelled };
std::string_view to_string(UnitState state);
bool is_final(UnitState state);

struct UnitStatus {
    WorkUnit unit;
    UnitState state = UnitState::pending;
    std::uint64_t bytes_done = 0;
    std::uint64_t bytes_total = 0;
    std::uint64_t files_done = 0;        // entries checked (rsync's "files": files, dirs, links)
    std::uint64_t files_total = 0;
    std::uint64_t files_transferred = 0;
    std::uint64_t bytes_transferred = 0;
    std::uint64_t deletions = 0;          // by every attempt (a retry does not bring back what one deleted)
    std::uint64_t deletions_earlier = 0;  // of those, by the attempts before the last
    std::uint64_t pending_deletions = 0;  // held back by the first pass (--max-delete=0) for the guard
    std::uint64_t created = 0;            // entries the backup did not hold before (every attempt; note_creation)
    int exit_code = -1;                  // of the last attempt; -1 while none finished
    int attempts = 0;
    std::optional<WallClock::time_point> started;
    std::optional<WallClock::time_point> finished;
    std::string message;                 // why it failed or warned
    std::vector<std::string> projects;   // a whole-tree unit (recursive, base ""): the top-level folders it copied, raw
    ErrorSummary errors;                 // failed and vanished paths of the last attempt
};

enum class RunResult { success, warning, failed, cancelled };

struct ConcurrencyNote {
    double seconds = 0;   // since the run started
    int from = 0, to = 0;
    std::string evidence;
};
std::string_view to_string(RunResult result);

// What the deletion guard decided (see deletion_guard.hpp); pending == 0 when nothing
// was held back.
struct DeletionSummary {
    std::string limit;                 // max_delete as configured
    std::uint64_t pending = 0;         // deletions the first pass found
    std::uint64_t before_copying = 0;  // of those: allowed before copying and deleted by the first pass
    std::uint64_t allowed = 0;         // what max_delete allows for this destination
    std::uint64_t destination_entries = 0;   // what the backup held before the run
    bool refused = false;
    // Why what the first passes held back was not all deleted though the guard did not
    // refuse it ("the run halted", "the run was cancelled", "the source check failed",
    // "... during its deletions"); "" when it was, or when nothing was held back.
    std::string not_deleted_because;
};

// What a dry run found would change, path by path (like rsync -n -i, rclone --dry-run).
// differs: the content differs though size and time are the same (only rsync --checksum
// finds it: a file corrupted at rest, what a verify looks for).
enum class ChangeKind { copy, update, attributes, remove, differs };
std::string_view to_string(ChangeKind kind);   // "copy", "update", "attributes", "delete", "differs"
struct Change {
    ChangeKind kind;
    std::string path;   // relative to the source root, printable (\#ooo escapes as rsync's)
};
// What an itemized line means, or nullopt for an entry that is up to date.
std::optional<ChangeKind> change_kind(const ItemLine &item);
struct ChangeList {
    static constexpr std::size_t kMaxListed = 1000;
    std::vector<Change> listed;   // the first kMaxListed, in the order rsync found them
    std::uint64_t omitted = 0;    // changes found beyond those
    std::uint64_t counts[5] = {}; // by ChangeKind
    static constexpr std::size_t kMaxDiffering = 10000;
    std::vector<std::string> differing;       // paths (printable) of the first kMaxDiffering "differs" changes
    std::vector<std::string> differing_raw;   // the same paths as raw bytes (the unit's base, rsync's name unescaped)
};

struct RunTotals {
    std::uint64_t bytes_done = 0, bytes_total = 0;
    std::uint64_t files_done = 0, files_total = 0;
    std::uint64_t files_transferred = 0, bytes_transferred = 0, deletions = 0;
    std::size_t units_total = 0, units_running = 0, units_finished = 0, units_failed = 0;
    double fraction = 0;                 // 0..1, mean of the byte and entry fractions (docs/dbus-api.md)
    double bytes_per_second = 0;         // over the recent window
    double files_per_second = 0;
    std::optional<double> eta_seconds;   // see core/eta.hpp; unknown until the rates can tell
};

// Sliding-window rates of bytes and files (entries) over the last `window` seconds.
class RateMeter {
public:
    explicit RateMeter(Seconds window = 10.0) : window_(window) {}
    void record(Seconds now, std::uint64_t bytes, std::uint64_t files);
    double bytes_per_second() const;
    double files_per_second() const;
    Seconds span() const;   // the time the kept samples cover

private:
    struct Sample {
        Seconds at;
        std::uint64_t bytes, files;
    };
    template <class Value>
    double rate(Value value) const;
    Seconds window_;
    std::deque<Sample> samples_;
};

class RunModel {
public:
    RunModel(std::string run_id, std::vector<WorkUnit> units, bool dry_run, WallClock::time_point started);
    // Units planned while the run goes (folders expanded when their parent unit ends).
    void add_units(std::vector<WorkUnit> units);
    // What the whole tree is expected to hold (from the statistics), so totals are right
    // before every unit is planned.
    void set_expected(std::uint64_t entries, std::uint64_t bytes) {
        expected_entries_ = entries;
        expected_bytes_ = bytes;
    }

    const std::string &run_id() const { return run_id_; }
    bool dry_run() const { return dry_run_; }
    WallClock::time_point started() const { return started_; }
    std::optional<WallClock::time_point> finished() const { return finished_; }
    const std::vector<UnitStatus> &units() const { return units_; }

    void unit_started(std::size_t index, WallClock::time_point now);
    void set_projects(std::size_t index, std::vector<std::string> projects) { units_.at(index).projects = std::move(projects); }
    void unit_progress(std::size_t index, const TransferCounters &counters, std::uint64_t bytes_done);
    // Records an itemized line of a unit as a change (dry runs keep the list).
    void note_item(std::size_t index, const ItemLine &item);
    // An entry rsync created (is_creation()), counted once though two units list it.
    void note_creation(std::size_t index, const ItemLine &item);
    const ChangeList &changes() const { return changes_; }
    // Records how an attempt ended; `retrying` puts the unit in retry_wait instead of a final state.
    void unit_attempt_ended(std::size_t index, UnitState outcome, int exit_code, std::string message,
                            const ErrorSummary &errors, const TransferCounters &counters, bool retrying,
                            WallClock::time_point now);
    void unit_requeue(std::size_t index);              // retry_wait -> pending
    void cancel_pending(WallClock::time_point now);   // pending and waiting units become cancelled
    void mark_cancelled() { cancel_requested_ = true; }
    // A failure of the run as a whole (source unreadable, destination missing): result
    // failed. Each is kept, in the order they came; the report lists them.
    void fail_run(Problem problem) { failures_.push_back(std::move(problem)); }
    bool run_failed() const { return !failures_.empty(); }
    const std::vector<Problem> &failures() const { return failures_; }
    // The daemon compared the trees and saw this many entries in the source (its listed
    // units see only what changed): the deletion guard's count of the tree.
    void set_compared_entries(std::uint64_t entries) { compared_entries_ = entries; }
    std::optional<std::uint64_t> compared_entries() const { return compared_entries_; }
    // The failures' texts, joined by "; " ("" when none): the report's "error".
    std::string run_error() const;
    // Something about the run as a whole worth a look (a hook that failed with
    // "before_run_failure": "warn"): a run that otherwise succeeded reads "warning".
    void add_warning(std::string message) { warnings_.push_back(std::move(message)); }
    const std::vector<std::string> &warnings() const { return warnings_; }
    bool cancel_requested() const { return cancel_requested_; }
    void finish(WallClock::time_point now) { finished_ = now; }
    void note_concurrency(ConcurrencyNote note) { concurrency_notes_.push_back(std::move(note)); }
    const std::vector<ConcurrencyNote> &concurrency_notes() const { return concurrency_notes_; }
    void note_deletions(DeletionSummary summary) { deletions_ = std::move(summary); }
    const std::optional<DeletionSummary> &deletion_summary() const { return deletions_; }
    std::size_t units_waiting_or_running() const;

    // Feed the rate meter and the time-left estimate (call about once a second) and read the aggregate.
    void sample(Seconds now);
    RunTotals totals() const;
    bool all_units_final() const;
    RunResult result() const;

private:
    std::uint64_t transferred_bytes(const TransferCounters &counters) const;
    std::string run_id_;
    bool dry_run_;
    WallClock::time_point started_;
    std::optional<WallClock::time_point> finished_;
    std::optional<std::uint64_t> compared_entries_;
    std::vector<UnitStatus> units_;
    bool cancel_requested_ = false;
    std::vector<Problem> failures_;
    std::vector<std::string> warnings_;
    std::uint64_t expected_entries_ = 0, expected_bytes_ = 0;
    std::vector<ConcurrencyNote> concurrency_notes_;
    std::optional<DeletionSummary> deletions_;
    RateMeter rates_;
    EtaEstimator eta_;
    ChangeList changes_;
};

}  // namespace dailysync
