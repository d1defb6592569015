// Runs the work units of one run on up to N rsync children: starts a unit once the unit it
// depends on has finished, retries transient failures with backoff, cancels on request.
// Writes everything it learns into the RunModel.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "core/config.hpp"
#include "core/run_model.hpp"
#include "io/rsync_child.hpp"

namespace dailysync {

class Supervisor : public std::enable_shared_from_this<Supervisor> {
public:
    struct Settings {
        Config config;
        std::string rsync_program;   // resolved absolute path
        bool dry_run = false;
        int concurrency = 1;
    };
    using OnChange = std::function<void()>;
    using OnDone = std::function<void()>;

    static std::shared_ptr<Supervisor> create(boost::asio::io_context &io, RunModel &model, Settings settings,
                                              OnChange on_change, OnDone on_done);
    void start();
    // Stops the run: running children get SIGTERM (SIGKILL after the grace period),
    // units not started are cancelled. on_done follows once every child is gone.
    void cancel();
    std::vector<pid_t> running_pids() const;

private:
    Supervisor(boost::asio::io_context &io, RunModel &model, Settings settings, OnChange on_change, OnDone on_done);
    void fill();
    bool ready(std::size_t index) const;
    void launch(std::size_t index);
    void attempt_ended(std::size_t index, const ChildExit &exit);
    void check_done();

    boost::asio::io_context &io_;
    RunModel &model_;
    Settings settings_;
    OnChange on_change_;
    OnDone on_done_;
    std::vector<std::shared_ptr<RsyncChild>> children_;
    std::vector<std::unique_ptr<boost::asio::steady_timer>> retry_timers_;
    int running_ = 0;
    bool done_ = false;
};

}  // namespace dailysync
