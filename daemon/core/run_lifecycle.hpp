// The run around the copy, as a state machine with no clock, process or file: the
// before_run hooks, the state folder, the checks of both trees, the first run's scan or
// the daily compare, the version, the copy (core/run_scheduler decides inside it), the
// check of the source at the end, a verify's findings, the versions' retention, the
// report, the end hooks. Events go in (a step answered, with the Problem that failed it
// if any; a cancel) and commands come out (do this step, fail the run with this
// Problem, stop what runs, conclude, finish); service/backup_run only carries them out,
// as io/supervisor does for the scheduler. The order, what a failure skips, what a cancel
// does in each step and which end hooks run are decided here alone and tested as a table
// (tests/unit/run_lifecycle_test.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/problem.hpp"

namespace dailysync {

// The steps of a run, in the order they can happen.
enum class RunStep {
    hooks_before,           // hooks.before_run
    load_state,             // the last run's statistics and concurrency (state folder)
    check_destination,      // present, mounted, never created
    check_source,           // present, mounted, sentinel, not emptied, no overlap, rsync found
    scan,                   // first run: the source walked for statistics
    compare,                // daily run: both trees listed, what differs found
    note_unversioned,       // without versions: the versions kept before are told this run keeps none
    begin_versions,         // with versions: this run's version made
    copy,                   // the units (Supervisor and RunScheduler)
    check_source_at_end,    // still the folder the run began on (not unmounted during it)
    verify_findings,        // a verify: what differs is marked for the next run and judged
    finish_versions,        // the version's end recorded, retention after a good run
    write_report,           // the report and, after a good run, the statistics for the next
    hooks_after,            // hooks.after_run
    hooks_on_failure,       // hooks.on_failure (a failed or cancelled run)
    rewrite_report,         // the report again, naming the end hooks' outcomes
    done,
};
std::string_view to_string(RunStep step);

// What the lifecycle needs to know of the run before it starts.
struct LifecycleSettings {
    bool hooks_before = false;       // there are before_run commands and this run runs hooks
    bool hooks_after = false;        // likewise for after_run
    bool hooks_on_failure = false;   // likewise for on_failure
    bool dry_run = false;            // a dry run makes no version and notes nothing
    bool versions = false;           // "versions" is configured
    bool verify = false;             // a verify run: its findings are judged after the copy
    std::string source;              // the source's path, for the sentences
};

// What the checks found the run must do before copying.
enum class Preparation {
    scan,      // no statistics yet: walk the source first
    compare,   // statistics, and the daemon compares the trees
    plan,      // statistics (or a retry's or a verify's units): rsync compares
};

// How the copy ended.
struct CopyEnd {
    bool units_ran = false;         // any unit was started (there was something to copy)
    bool run_failed = false;        // the run already failed as a whole (a guard, a hung source)
    bool cancel_requested = false;  // the copy was cancelled
};

namespace lifecycle {
struct Do {                 // carry out this step; answer with its event
    RunStep step;
    bool short_timeout = false;   // hooks: the service is stopping (cancel_grace_seconds each at most)
    bool wait = true;             // finish_versions: false = not waited for (stopping), no answer expected
};
struct Fail {               // the run fails with this (the first keeps its place)
    Problem problem;
};
struct MarkCancelled {};    // the run was cancelled before it copied
struct CancelCall {};       // the call on the workers in flight (scan, compare, marking): stop at its next step
struct CancelCopy {};       // the copy: rsyncs terminated, units not started cancelled
struct StopHooks {};        // the hook stage running now
struct Conclude {};         // the copy is over (or never began): stop sampling, finish the model
struct Finish {};           // report written, hooks done: tell whoever started the run
}  // namespace lifecycle

using LifecycleCommand = std::variant<lifecycle::Do, lifecycle::Fail, lifecycle::MarkCancelled, lifecycle::CancelCall,
                                      lifecycle::CancelCopy, lifecycle::StopHooks, lifecycle::Conclude, lifecycle::Finish>;
using LifecycleCommands = std::vector<LifecycleCommand>;

class RunLifecycle {
public:
    explicit RunLifecycle(LifecycleSettings settings) : settings_(std::move(settings)) {}

    LifecycleCommands start();
    // The before_run hooks ended; `refusal`: one failed and hooks.before_run_failure is "fail".
    // The end stages ended (their problems are warnings: the argument is ignored there).
    LifecycleCommands hooks_done(std::optional<Problem> refusal);
    // Each step's answer: the Problem that fails the run, or none. A worker that timed out
    // or crashed is such a Problem (not_answering, defect).
    LifecycleCommands state_loaded(std::optional<Problem> problem);
    LifecycleCommands destination_checked(std::optional<Problem> problem);
    LifecycleCommands source_checked(std::optional<Problem> problem, Preparation next);
    LifecycleCommands scanned(std::optional<Problem> problem);
    // `deferred`: the compare could not read some folders; the run copies the rest and
    // fails with it at the end (unless it failed otherwise first).
    LifecycleCommands compared(std::optional<Problem> problem, std::optional<Problem> deferred = std::nullopt);
    LifecycleCommands versions_begun(std::optional<Problem> problem);   // note_unversioned or begin_versions
    LifecycleCommands copy_finished(CopyEnd end);
    LifecycleCommands end_checked(std::optional<Problem> problem);
    // A verify's findings marked and judged: `finding` fails the run (damage found).
    LifecycleCommands verify_judged(std::optional<Problem> finding);
    LifecycleCommands versions_finished(std::optional<Problem> problem);
    // `failed_or_cancelled`: the run's result, which decides the on_failure hooks.
    LifecycleCommands report_written(bool failed_or_cancelled);
    LifecycleCommands report_rewritten();
    // Cancel or stop, in any step.
    LifecycleCommands cancel();

    RunStep step() const { return step_; }
    bool stopping() const { return stopping_; }   // a cancel came, in whatever step
    bool failed() const { return failed_; }       // a Fail was given (or the copy failed the run)
    bool before_copying() const;                  // a step before the copy

private:
    void go(RunStep step, LifecycleCommands &out);
    bool settled(RunStep expected, std::optional<Problem> &problem, LifecycleCommands &out);
    void fail(Problem problem, LifecycleCommands &out);
    void before_copy(LifecycleCommands &out);
    void conclude(LifecycleCommands &out);
    void after_end_check(LifecycleCommands &out);
    void after_verify(LifecycleCommands &out);
    void next_end_hook(LifecycleCommands &out);

    LifecycleSettings settings_;
    RunStep step_ = RunStep::hooks_before;
    bool started_ = false;
    bool stopping_ = false;
    bool failed_ = false;
    bool copy_started_ = false;              // the copy step was entered: a verify has findings to judge
    bool versions_begun_ = false;            // this run's version exists: its end must be recorded
    bool failed_or_cancelled_ = false;       // the result, as the report said
    bool end_hooks_stopped_ = false;         // a cancel stopped an end stage: the rest are skipped
    bool any_end_hooks_ = false;             // an end stage ran: the report is written again
    std::optional<Problem> deferred_;        // the compare's unread folders
};

}  // namespace dailysync
