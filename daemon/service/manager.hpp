// The daemon's state machine: configuration, the daily schedule, the run in progress and
// the history. The D-Bus adapter (bus.cpp) and the signal handling (daemon.cpp) call into
// it; it tells them about changes through Observer callbacks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "io/clock_watch.hpp"
#include "io/loop_timer.hpp"
#include "io/preflight.hpp"
#include "io/run_lock.hpp"
#include "io/state_store.hpp"
#include "service/alerter.hpp"
#include "service/backup_run.hpp"
#include "service/journal.hpp"

namespace dailysync {

// What an admin may allow one run that the configuration would not.
struct RunOptions {
    bool allow_mass_change = false;   // max_change does not apply (the change is wanted)
    std::optional<RetryPlan> retry;   // run only these units of an earlier run
    std::optional<VerifyRequest> verify;   // a verify (a dry run with --checksum) instead of a backup
};

enum class ManagerState { idle, running, stopping };
std::string_view to_string(ManagerState state);

struct ManagerObserver {
    std::function<void()> state_changed;                       // State, LastResult, LastRunId, NextRun
    std::function<void()> progress_changed;                    // counters of the current run
    std::function<void(const std::string &)> run_started;      // run id
    std::function<void(const std::string &, const std::string &)> run_finished;   // run id, result
    std::function<void(const AlertEvent &)> alert;             // an alert to send (service/alerter)
};

class Manager {
public:
    Manager(boost::asio::io_context &io, RunWorkers workers, std::string config_path, Config config, Journal &journal);

    void set_observer(ManagerObserver observer) { observer_ = std::move(observer); }
    // Loads the persisted state, arms the daily timer, starts a catch-up run if one is due.
    void start();

    // locked: another process (dailysyncd --once, --diagnose, a second service on the same
    // state_dir) holds the run lock; lock_refusal() says who.
    // refused: a retry found nothing to retry; refusal() says why.
    enum class StartError { none, already_running, stopping, locked, refused };
    // Starts a run (`trigger` says why, for the journal); `done` gets the run id or why not,
    // on the loop, once the destination's lock is named (a stat, on a worker).
    using Started = std::function<void(StartError, const std::string &run_id)>;
    void start_run(const std::string &trigger, Started done, RunOptions options = {});
    const std::string &lock_refusal() const { return lock_refusal_; }
    // Runs again the units of run `run_id` ("" = the last finished run) that did not
    // succeed, as a new run (its report says "retry_of"); the report is read on the state
    // worker first.
    void retry_run(std::string run_id, Started done);
    const std::string &refusal() const { return refusal_; }
    // Verifies `path` (relative to the source; "" = the whole backup) now, as a run.
    void start_verify(const std::string &path, Started done);
    bool cancel_run();   // false when no run is active
    // Re-reads the configuration: the file on the loop (a local file), the places of the
    // source, the destination and the state folder on the trees workers (a stat of each,
    // under a deadline: a hung NAS must not hold the loop). `done` runs on the loop with ""
    // once the new configuration is in force, or with why it was refused (the old one
    // stays): invalid, overlapping trees, or a side that did not answer, named.
    using Reloaded = std::function<void(const std::string &problem)>;
    void reload(Reloaded done);
    // Cancels any run, waits for the children, persists the state, then calls done.
    void shutdown(std::function<void()> done);

    ManagerState state() const { return state_; }
    const std::string &last_result() const { return persisted_.last_result; }
    // What limited the last finished run of this process (nullopt before one).
    const std::optional<BottleneckVerdict> &last_bottleneck() const { return bottleneck_; }
    const std::string &last_run_id() const { return persisted_.last_run_id; }
    std::optional<std::time_t> next_run() const { return next_run_; }
    const RunModel *current_run() const { return run_ ? run_->model() : nullptr; }
    std::string current_run_id() const { return run_ ? run_->run_id() : std::string(); }
    RunModel *current_run() { return run_ ? run_->model() : nullptr; }
    // The history, read on the state worker; `done` runs on the loop.
    void read_report(const std::string &run_id, std::function<void(Loaded<std::string>)> done);
    void list_runs(std::function<void(Loaded<std::vector<RunSummary>>)> done);
    // The versions kept at the destination as JSON (dailysyncctl versions --json), or what
    // `path` (relative to the source) was in each; on the trees workers.
    void list_versions(const std::string &path, bool have_path, std::function<void(Loaded<std::string>)> done);
    const Config &config() const { return config_; }
    std::string status_line() const;   // one-line summary for sd_notify STATUS=

private:
    // Runs `work` on the state worker with the filesystem_timeout_seconds deadline; `done`
    // gets its value, or `unanswered` of the message saying `what` did not answer.
    template <class T>
    void on_state_worker(const std::string &what, std::function<T(WorkProgress &)> work, std::function<T(std::string)> unanswered,
                         std::function<void(T)> done);
    StartError start_run_now(const std::optional<std::string> &lock_name, const std::string &trigger, RunOptions options,
                             std::string &run_id);
    // The reload's checks answered (or one did not): apply `config`, or refuse.
    // `problem`: the trees overlap, or one did not answer (io/preflight's check_places).
    void reloaded(std::uint64_t reload, Config config, const std::optional<Problem> &problem, const Reloaded &done);
    void arm_schedule();
    void on_timer();
    void run_finished(const RunModel &model);
    // Writes state.json on the state worker (in order); `then` runs once it is written.
    void persist(std::function<void()> then = nullptr);
    void record_interrupted_run();   // the state names a run that never finished
    void write_metrics();
    // Alerts once when no run succeeded for alerts.stale_after; re-armed after each run.
    void check_stale();
    void start_verify_slice();   // today's slice, after the daily run
    void alert(AlertEvent event) const;
    void notify_state() const;

    boost::asio::io_context &io_;
    RunWorkers workers_;
    std::string config_path_;
    Config config_;
    Journal &journal_;
    StateStore store_;
    DaemonState persisted_;
    std::optional<BottleneckVerdict> bottleneck_;
    ManagerObserver observer_;
    ManagerState state_ = ManagerState::idle;
    std::shared_ptr<BackupRun> run_;
    RunLocks locks_;                // held from start_run to run_finished
    std::string lock_refusal_;      // why the last start_run found the lock taken
    std::string refusal_;           // why the last retry_run had nothing to retry
    bool run_scheduled_ = false;    // the active run is the daily one (a verify of today's slice follows it)
    bool daily_after_run_ = false;  // the daily run came due during a verify: it starts once that ends
    bool starting_ = false;           // start_run waits for the destination's lock name
    bool waiting_for_lock_ = false;   // the daily run is due and waits for another process's run
    std::optional<std::time_t> next_run_;
    std::optional<std::time_t> catch_up_at_;   // set at start when a catch-up run is due
    LoopTimer schedule_timer_;
    LoopTimer stale_timer_;
    LoopTimer sample_timer_;
    std::unique_ptr<ClockWatch> clock_watch_;
    std::function<void()> shutdown_done_;
    std::uint64_t reloads_ = 0;   // the latest reload asked for: an earlier one's answer is not applied
};

}  // namespace dailysync
