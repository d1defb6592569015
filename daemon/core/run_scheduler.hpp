// The decisions of one run's copying, as a state machine with no clock, no process and no
// file: events go in (a unit may start, rsync's output, its silence, its exit and what was
// found after it, a retry's time, a cancel, the source checked before deleting), commands
// come out (check a unit's folders, launch rsync with these arguments, kill it, inspect
// the destination after it, retry after N s, check the source, finish). io/supervisor.cpp
// carries the commands out and turns what happens into events; it decides nothing.
//
// Decided here: which ready unit starts next (split folders first, then the costliest),
// how many run at once and where (each executor has its slots: this host is one, mover
// hosts add more; a unit goes to the executor with the most free slots), what an exit means (rsync's exit codes; in the first pass of a
// guarded run exit 25, or 23 from nothing but blocked type changes, only says "deletions
// held back"), a stalled rsync is killed and retried, a folder gone from the source fails
// its unit for good, transient failures are retried with doubling delays, a cancel
// reaches every unit, a split folder's subfolders become new units, the deletion pass is
// planned once the first pass is over and runs only on a source that is still the same.
#pragma once

#include <cstdint>
#include <map>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/config.hpp"
#include "core/deletion_guard.hpp"
#include "core/plan.hpp"
#include "core/run_model.hpp"
#include "core/stats_collector.hpp"
#include "core/tree_stats.hpp"

namespace dailysync {

namespace command {
// Check that the unit's source folders are still there (and the source still the folder
// the run started on), then report Scheduler::prepared().
struct Prepare {
    std::size_t unit;
    std::size_t executor;                 // where its rsync will run (SchedulerSettings::executors)
    std::vector<std::string> folders;   // relative to the source, raw; "" = the root (not checked)
    // With versions: the folders the unit's --backup-dir goes through, relative to the
    // destination. Any that is there but no real folder (this run replaced it with a file
    // or symlink) means the unit has nothing to keep (nothing below it existed at the
    // version) and must not keep anything there: rsync would follow a symlink.
    std::vector<std::string> backup_path;
};
struct Launch {
    std::size_t unit;
    std::size_t executor;                 // the launcher to start it with
    std::vector<std::string> arguments;   // rsync's, after the program
    bool collect = true;                  // feed itemized lines back (a deletion pass: only to note creations)
    // With versions, an rsync that is not the unit's first in this run (a retry, the
    // deletion pass) keeps what it replaces here, not in the version: there it would
    // replace what the first one kept. After it, io moves into the version what the
    // version does not say yet (VersionStore::keep_from), one merge of a unit at a time,
    // in order.
    std::string scratch_backup;
    std::string unit_key;   // the unit's folder and members (its merges' order)
    std::string input;      // rsync's stdin (a listed unit's entries); "" = none
    std::string name_prefix;   // taken off each name rsync prints (rsync_name_prefix)
};
struct Kill {
    std::size_t unit;
    int grace_seconds;   // SIGTERM, then SIGKILL after this long
};
// Look at the trees after an attempt, then report Scheduler::inspected().
struct Inspect {
    std::size_t unit;
    std::string base;                             // the unit's folder, relative to the source
    std::vector<std::string> remove_temporaries;  // names (relative to base) whose ".NAME.XXXXXX" to remove
    std::vector<std::string> check_folders;       // report the first one gone (relative to the source)
    std::vector<std::string> check_arrived;       // names (relative to base) announced as sent: did they arrive?
};
struct RetryAfter {
    std::size_t unit;
    int seconds;
};
// Before the deletion pass: the source must still pass the checks and be the same folder.
struct CheckSource {};
struct Finish {};
}  // namespace command

using Command = std::variant<command::Prepare, command::Launch, command::Kill, command::Inspect, command::RetryAfter,
                             command::CheckSource, command::Finish>;
using Commands = std::vector<Command>;

// How an attempt's process ended, as io saw it.
struct AttemptExit {
    bool started = true;        // false: it could not be started
    std::string start_error;    // when !started
    int exit_code = -1;         // when it exited
    int signal = 0;             // when a signal ended it
    TransferCounters counters;
    std::uint64_t bytes_done = 0;
    ErrorSummary errors;
    std::vector<std::string> recent_transfers;   // names rsync announced last (relative to the unit's base)
    // Killed, it did not end: it waits in the kernel on a NAS that does not answer, and was
    // left behind (process group `pid`). Nothing more is asked of the trees about it.
    bool abandoned = false;
    long pid = 0;
};

// What io found after an attempt (the answers to command::Inspect).
struct Inspection {
    std::string gone_folder;   // printable, relative to the source; "" when all are there
    // A folder the source could not say anything about (the NAS gave an I/O error): not
    // "vanished". Printable folder and the error.
    std::string unreadable_folder, unreadable_error;
    std::uint64_t files_not_arrived = 0, bytes_not_arrived = 0;
};

// Where rsyncs run, each with how many may run there at once. This host is the first
// (its slots are the run's concurrency, which the controller adapts).
struct Executor {
    std::string name;
    int slots = 1;
};
std::vector<Executor> this_host_only(int slots);

struct SchedulerSettings {
    Config config;
    bool dry_run = false;
    std::vector<Executor> executors = this_host_only(1);
    // With versions: the back/ folder this run's rsyncs keep old files in (rsync_arguments),
    // and whether to note the entries they create (the point's "created" list).
    std::string backup_dir;
    std::string scratch_dir;   // where the rsyncs after a unit's first keep their files, each in a folder of its own
    bool note_creations = false;
    // The mass-change guard (max_change, see change_limit()): how many files already in
    // the backup may have their content replaced; nullopt = no limit.
    std::optional<std::uint64_t> max_changes;
    // The run-wide bandwidth limit in force now (bwlimit, its timetable read at the local
    // time), bytes/s; nullopt or no function = unlimited. Shared out as rsyncs start.
    std::function<std::optional<std::uint64_t>()> bandwidth;
    // The entries the source held at the last complete run (0: none known): the deletion
    // guard counts against no more than that (plan_deletions).
    std::uint64_t complete_entries = 0;
};

class RunScheduler {
public:
    // `model` starts with planner.initial(); both must outlive the scheduler.
    RunScheduler(RunModel &model, const Planner &planner, SchedulerSettings settings);

    Commands start(WallClock::time_point now);
    // Changes an executor's slots (at least 1); units start on what is freed.
    Commands set_slots(std::size_t executor, int slots, WallClock::time_point now);
    // The answer to Prepare: `source_problem` non-empty when the source is no longer the
    // folder the run started on; `gone` the unit's folders found missing.
    // `backup_blocked`: a folder of backup_path is not a real folder (see Prepare).
    Commands prepared(std::size_t unit, const std::string &source_problem, const std::vector<std::string> &gone,
                      WallClock::time_point now, bool backup_blocked = false);
    // No answer to Prepare within the deadline: the source is hung. The unit fails, the run
    // fails with `message`, and no further unit starts (each would only wait its deadline
    // behind the hung calls); units already running end as they end.
    Commands source_unanswered(std::size_t unit, Problem problem, WallClock::time_point now);
    void progress(std::size_t unit, const TransferCounters &counters, std::uint64_t bytes_done);
    // An itemized line. Past max_changes replaced files, the run stops (Kill commands).
    Commands item(std::size_t unit, const ItemLine &item, WallClock::time_point now);
    Commands quiet(std::size_t unit);   // rsync printed nothing for stall_timeout_seconds
    Commands exited(std::size_t unit, AttemptExit exit, WallClock::time_point now);
    Commands inspected(std::size_t unit, const Inspection &found, WallClock::time_point now);
    Commands retry_due(std::size_t unit, WallClock::time_point now);
    // Kills what runs; what waits for an answer from the trees (a unit's check, the
    // inspection after it, the check before deleting) is settled at once, its late
    // answer ignored: a hung NAS must not hold a cancel.
    Commands cancel(WallClock::time_point now);
    Commands source_checked(std::optional<Problem> problem, WallClock::time_point now);

    // The entries created since the last call (raw, relative to the source), for the
    // newest version's "created" list; only with note_creations.
    std::vector<std::string> take_creations() { return std::exchange(creations_, {}); }
    // The same for rsyncs that keep into a scratch folder, by folder: noted beside it and
    // merged with it, so that what such an rsync kept and made at one path (a type
    // change) says "it was this", as the first rsync's would.
    std::map<std::string, std::vector<std::string>> take_scratch_creations() { return std::exchange(scratch_creations_, {}); }
    // The folders rsync deleted since the last call, as they must appear where the attempt
    // kept what it replaced (absolute): rsync keeps the files of a deleted folder, never
    // the folder itself, so an empty one would be lost from the version.
    std::vector<std::string> take_deleted_folders() { return std::exchange(deleted_folders_, {}); }

    int slots(std::size_t executor) const { return settings_.executors.at(executor).slots; }
    int total_slots() const;
    bool finished() const { return finished_; }
    // The tree as this run's rsync output showed it (finalized when the run is done).
    const TreeStats &seen() const { return seen_; }

private:
    enum class Stage { idle, preparing, running, inspecting };
    struct Attempt {
        Stage stage = Stage::idle;
        std::size_t executor = 0;
        bool stalled = false;
        std::string gone_at_launch;   // printable folder found missing when it was to start
        AttemptExit exit;
        std::unique_ptr<StatsCollector> collector;
        std::string backup_dir;   // where this attempt's rsync keeps what it replaces ("" = nowhere)
        std::string scratch;      // its scratch folder, when it is not the unit's first rsync
        std::uint64_t bandwidth = 0;   // its share of the run's bandwidth (0 = unlimited)
    };
    struct Verdict {
        UnitState outcome;
        bool transient;
        std::string message;
    };
    // What the attempt's exit means, before looking at the trees.
    Verdict classify(std::size_t unit) const;
    Attempt &attempt(std::size_t unit);
    std::optional<std::size_t> next_ready() const;
    void fill(Commands &out, WallClock::time_point now);
    void check_done(Commands &out, WallClock::time_point now);
    void finish(Commands &out, WallClock::time_point now);
    // The run deletes nothing more: the report's guard summary (`summary`) says why.
    void note_not_deleted(DeletionSummary summary, const std::string &why);
    void fail_before_start(std::size_t unit, const std::string &message, Commands &out, WallClock::time_point now);
    bool guarded() const;
    int busy() const;
    int busy_on(std::size_t executor) const;

    RunModel &model_;
    const Planner &planner_;
    SchedulerSettings settings_;
    TreeStats seen_;
    std::vector<Attempt> attempts_;
    bool deletions_planned_ = false;
    bool checking_source_ = false;
    std::optional<DeletionPlan> deletion_plan_;
    bool finished_ = false;
    bool halted_ = false;   // the source stopped answering: nothing more starts
    std::vector<std::string> creations_;
    std::map<std::string, std::vector<std::string>> scratch_creations_;
    std::vector<std::string> deleted_folders_;
    std::set<std::string> replaced_;   // entries this run deleted, and folders it made (maybe replacing another type)
    std::set<std::string> kept_once_;  // units (base, members) whose first rsync kept into the version already
    std::size_t scratches_ = 0;
    std::uint64_t changes_ = 0;   // files already in the backup whose content this run replaced
};

// The mass-change guard's limit for a run whose source held `previous_entries` entries
// at the last complete run: nullopt when max_change is unlimited, or a percentage with no
// complete run to take it of.
std::optional<std::uint64_t> change_limit(const Config &config, std::uint64_t previous_entries);

// True for the itemized line of a file already in the backup whose data rsync sends
// again (">f.st......"): its content is replaced. Not for new files, links or attributes.
bool is_content_change(const ItemLine &item);

// The message of a unit whose folder vanished from the source during the run.
std::string vanished_message(const std::string &folder);
// "the source SRC could not be read at FOLDER (ERROR): is the NAS or its network down?"
// (FOLDER printable): neither there nor gone.
std::string unreadable_message(const std::string &source, const std::string &folder, const std::string &error);

// rsync writes a file's data to ".NAME.XXXXXX" beside it and renames it when complete;
// killed, it leaves that temporary file behind. True when `entry` (a name in the folder)
// is the temporary file of one of `names` (names in the same folder).
bool is_temporary_of(const std::string &entry, const std::vector<std::string> &names);

}  // namespace dailysync
