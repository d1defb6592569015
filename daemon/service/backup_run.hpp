// One backup run from start to report, as core/run_lifecycle decides it: this class
// carries out its commands (the hooks, the checks of both trees, the scan or the
// compare, the version, the supervised copy, the end check, the report) on the run's
// ports (io/endpoints) and answers it each step's event. Shared by --once and the
// daemon. It lives on the event loop and never blocks it: every call on the trees goes
// to the trees worker pool with the filesystem_timeout_seconds deadline, every file of
// the state folder to the state worker.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/concurrency.hpp"
#include "core/report.hpp"
#include "core/retry.hpp"
#include "core/verify.hpp"
#include "core/config.hpp"
#include "core/plan.hpp"
#include "core/run_lifecycle.hpp"
#include "core/run_model.hpp"
#include "core/tree_stats.hpp"
#include "io/child_launcher.hpp"
#include "io/endpoints.hpp"
#include "io/loop_timer.hpp"
#include "io/resource_sampler.hpp"
#include "io/state_store.hpp"
#include "io/supervisor.hpp"
#include "io/tree_compare.hpp"
#include "io/run_versions.hpp"
#include "io/worker_pool.hpp"
#include "service/hook_runner.hpp"

namespace dailysync {

// The clock a run's rates and samples are measured on (steady, in seconds).
Seconds monotonic_seconds();

// What runs work through; outlives every run. `trees`: calls on the source and the
// destination (a few threads: one hung mount must not stop the others). `state`: one
// thread, so the state folder's files are written in the order they were asked for.
struct RunWorkers {
    WorkerPool &trees;
    WorkerPool &state;
    ChildLauncher &launcher;
    EndpointFactory endpoints;   // the trees a run works on, for the configuration in force
    HookStarter hooks = &HookRunner::start;   // how the hooks' stages run
};

class BackupRun : public std::enable_shared_from_this<BackupRun> {
public:
    enum class Phase { checking, scanning, comparing, copying, finishing, finished };
    using OnChange = std::function<void()>;
    using OnDone = std::function<void(const RunModel &)>;

    static std::shared_ptr<BackupRun> create(boost::asio::io_context &io, RunWorkers workers, Config config, bool dry_run,
                                             OnChange on_change, OnDone on_done);
    // Before start(): run only these units of an earlier run (dailysyncctl retry). A retry
    // sees part of the tree, so it leaves the statistics and the concurrency of the last
    // complete run as they are.
    void retry(RetryPlan plan) { retry_ = std::move(plan); }
    // Before start(), on a dry run with --checksum: verify the backup at rest (core/verify.hpp).
    // Files found to differ get a time the next run will not skip, and fail the run.
    void verify(VerifyRequest request) { verify_ = std::move(request); }
    bool is_verify() const { return verify_.has_value(); }
    void start();
    void cancel();
    // Receives one-line notices worth logging (concurrency changes with their evidence).
    void on_notice(std::function<void(const std::string &)> handler) { on_notice_ = std::move(handler); }

    Phase phase() const;   // from the lifecycle's step
    // What it does before copying, for people ("comparing the source with the backup:
    // 1200 of about 42000 entries"); "" once it copies.
    std::string phase_text() const;
    const std::string &run_id() const { return run_id_; }
    const RunModel *model() const { return model_ ? &*model_ : nullptr; }
    RunModel *model() { return model_ ? &*model_ : nullptr; }
    const std::string &report_path() const { return report_path_; }
    const std::string &report_error() const { return report_error_; }   // "" when the report was written
    const std::string &report() const { return report_; }                // the report JSON, once finished
    // How many rsyncs may run at once (known once the checks are done).
    int concurrency() const;
    // What limited the run (once finished, when it copied long enough to tell).
    const std::optional<BottleneckVerdict> &bottleneck() const { return bottleneck_; }

private:
    // What the checks before a run found (on the workers).
    struct Checked {
        std::optional<Problem> problem;   // nullopt when the run may go ahead
        std::string rsync_program;        // rsync_path resolved (PATH looked up on the worker)
        std::optional<FolderIdentity> source_identity;
        bool remote = false;   // the source or the destination is a network filesystem
        std::optional<BlockDevice> source_device, destination_device;
        bool versions_name_in_source = false;   // the source's top holds kVersionsFolder
    };
    BackupRun(boost::asio::io_context &io, RunWorkers workers, Config config, bool dry_run, OnChange on_change, OnDone on_done);
    // The lifecycle decides (core/run_lifecycle); these carry its commands out.
    void execute(LifecycleCommands commands);
    void carry_out(lifecycle::Do &c);
    void carry_out(lifecycle::Fail &c);
    void carry_out(lifecycle::MarkCancelled &c);
    void carry_out(lifecycle::CancelCall &c);
    void carry_out(lifecycle::CancelCopy &c);
    void carry_out(lifecycle::StopHooks &c);
    void carry_out(lifecycle::Conclude &c);
    void carry_out(lifecycle::Finish &c);
    // An answer belongs to the step still running (a cancel may have ended it: dropped).
    bool answering(RunStep step) const { return lifecycle_.step() == step; }
    RunModel &model_for_end();
    // The steps, each answering its lifecycle event from the loop.
    void run_hooks(HookStage stage, bool short_timeout);
    void load_state();
    void check_destination();
    void check_source();
    void source_checked(Checked result);
    void scan();
    // A daily run: the daemon compares both trees, rsync copies only what differs.
    void compare();
    void compared(CompareResult result);
    void make_planner();
    void note_unversioned();
    void begin_versions();
    void start_copying();
    // Deletes what the last retention set aside (on the trees workers); `then` after, if any.
    void empty_trash(std::function<void()> then);
    void check_source_at_end();
    void judge_verify();
    Problem verify_finding() const;
    void finish_versions(bool wait);
    void note_report_context();
    // Writes the report (again, once the end hooks ran); `then` runs on the loop after.
    void write_report(std::function<void()> then);
    // Hooks run around backups, retries and verifies; never around a --once --dry-run.
    bool runs_hooks() const { return !dry_run_ || verify_.has_value(); }
    std::string run_kind() const { return verify_ ? "verify" : retry_ ? "retry" : "backup"; }
    void tick();    // once a second while copying: resource sample, concurrency "auto"
    void adapt(Seconds now, const RunTotals &totals, double cpu_busy);
    std::chrono::milliseconds deadline() const;
    // Why a call on `side`'s tree (or the state folder) gave no value: it did not answer
    // (the NAS) or it crashed (a defect). `while_doing`: " (while it was scanned)".
    template <class T>
    Problem unanswered(const Worked<T> &call, Side side, const std::string &while_doing = "") const;
    void changed();

    boost::asio::io_context &io_;
    RunWorkers workers_;
    Config config_;
    bool dry_run_;
    OnChange on_change_;
    OnDone on_done_;
    RunEndpoints endpoints_;
    std::shared_ptr<const Source> source_;               // endpoints_'s, for short
    std::shared_ptr<const Destination> destination_;
    std::string run_id_;
    WallClock::time_point started_;
    RunLifecycle lifecycle_{LifecycleSettings{}};
    std::optional<RunModel> model_;
    std::shared_ptr<WorkProgress> call_;   // the scan, the compare or a verify's marking, while it runs (a cancel stops it)
    std::optional<TreeStats> stats_;   // of the last complete run, as loaded
    TreeStats previous_;
    bool scanned_ = false;   // previous_ comes from a scan of the source, not from a previous run
    std::optional<int> saved_concurrency_;
    bool remote_ = false;
    std::unique_ptr<Planner> planner_;
    std::shared_ptr<Supervisor> supervisor_;
    std::string report_;
    std::string report_path_;
    std::string report_error_;
    std::function<void(const std::string &)> on_notice_;
    std::unique_ptr<ConcurrencyController> controller_;
    std::unique_ptr<ResourceSampler> resources_;
    SampleSeries samples_;
    std::optional<BottleneckVerdict> bottleneck_;
    LoopTimer tick_timer_;
    Checked checked_;
    std::uint64_t previous_entries_ = 0;              // what the last complete run saw in the source
    std::shared_ptr<const RunVersions> versions_;     // with "versions" (and not a dry run)
    std::optional<VersionsOutcome> versions_outcome_; // once the run's point is made
    RunVersions::Began began_;                        // this run's version: where its rsyncs keep what they replace
    std::optional<std::int64_t> last_complete_at_;    // when the last complete run ended (its statistics' time)
    double cpu_self_at_start_ = 0, cpu_children_at_start_ = 0;
    std::shared_ptr<HookStageRun> hooks_;          // the hook stage running now
    std::vector<HookOutcome> hook_outcomes_;     // every hook command run for this run
    std::vector<std::string> warnings_;          // for the model, once it exists
    ReportContext report_context_;
    bool report_written_once_ = false;            // the context is taken once
    std::optional<TreeStats> seen_;              // what the first report write saves for the next run
    std::optional<int> level_;
    std::optional<RetryPlan> retry_;
    std::optional<VerifyRequest> verify_;
    std::optional<VerifyOutcome> verify_outcome_;   // a verify, once its units are known
    std::optional<CompareOutcome> compare_outcome_;  // a daily run's compare (or why there was none)
    std::optional<std::vector<WorkUnit>> listed_units_;   // what the compare found to copy
    std::optional<TreeStats> compared_tree_;        // the source as the compare saw it (the next run's statistics)
    Seconds compare_started_ = 0;
};

}  // namespace dailysync
