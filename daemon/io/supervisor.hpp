// Runs the work units of one run on up to N rsync children: starts the most useful ready
// unit first, expands split folders into new units when their non-recursive unit ends,
// retries transient failures with backoff, cancels on request. Writes everything it learns
// into the RunModel, and the tree it sees into a TreeStats for the next run's plan.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "core/config.hpp"
#include "core/plan.hpp"
#include "core/run_model.hpp"
#include "core/stats_collector.hpp"
#include "core/tree_stats.hpp"
#include "io/preflight.hpp"
#include "io/rsync_child.hpp"

namespace dailysync {

class Supervisor : public std::enable_shared_from_this<Supervisor> {
public:
    struct Settings {
        Config config;
        std::string rsync_program;   // resolved absolute path
        bool dry_run = false;
        int concurrency = 1;
        // The source folder the run started on: before each rsync, and again before any
        // deletion, the source must still be that folder (and pass the preflight checks
        // with `previous_entries`), or nothing more is started.
        std::optional<FolderIdentity> source_identity;
        std::uint64_t previous_entries = 0;
    };
    using OnChange = std::function<void()>;
    using OnDone = std::function<void()>;

    // `model` starts with planner.initial(); both must outlive the supervisor.
    static std::shared_ptr<Supervisor> create(boost::asio::io_context &io, RunModel &model, const Planner &planner,
                                              Settings settings, OnChange on_change, OnDone on_done);
    void start();
    // Stops the run: running children get SIGTERM (SIGKILL after the grace period),
    // units not started are cancelled. on_done follows once every child is gone.
    void cancel();
    // Changes how many children may run at once (running ones are not stopped).
    void set_concurrency(int concurrency);
    int concurrency() const { return settings_.concurrency; }
    std::set<pid_t> process_groups() const;   // one per running rsync (its pid)
    // The tree as this run's rsync output showed it (finalized when the run is done).
    const TreeStats &seen() const { return seen_; }

private:
    Supervisor(boost::asio::io_context &io, RunModel &model, const Planner &planner, Settings settings, OnChange on_change,
               OnDone on_done);
    void fill();
    std::optional<std::size_t> next_ready() const;
    void launch(std::size_t index);
    void attempt_ended(std::size_t index, const ChildExit &exit);
    // A unit found unable to start (launch() counted it running): final, with `message`.
    void fail_before_start(std::size_t index, const std::string &message);
    void grow();   // keeps the per-unit vectors as long as the model's units
    void check_done();   // when the first pass is over, plans the guarded deletions
    bool guarded() const;   // deletions go through the deletion guard

    boost::asio::io_context &io_;
    RunModel &model_;
    const Planner &planner_;
    Settings settings_;
    OnChange on_change_;
    OnDone on_done_;
    TreeStats seen_;
    std::vector<std::shared_ptr<RsyncChild>> children_;
    std::vector<std::unique_ptr<StatsCollector>> collectors_;
    std::vector<std::unique_ptr<boost::asio::steady_timer>> retry_timers_;
    int running_ = 0;
    bool done_ = false;
    bool deletions_planned_ = false;
    std::map<std::size_t, std::string> gone_at_launch_;   // unit -> its folder found removed when it was to start
};

}  // namespace dailysync
