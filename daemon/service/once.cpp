#include "service/once.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/progress_view.hpp"
#include "cli.hpp"
#include "core/report.hpp"
#include "io/child_launcher.hpp"
#include "io/loop_timer.hpp"
#include "io/run_lock.hpp"
#include "io/state_store.hpp"
#include "io/worker_pool.hpp"
#include "io/terminal.hpp"
#include "service/backup_run.hpp"

namespace dailysync {

namespace {

using namespace std::chrono_literals;

// Draws the live view on a terminal (redrawn in place) or plain lines into a pipe.
class ProgressPrinter {
public:
    explicit ProgressPrinter(bool tty) : tty_(tty), area_(std::cout) {}

    void draw(const BackupRun &run) {
        const RunModel *model = run.model();
        const bool copying = model && run.phase() == BackupRun::Phase::copying;
        const std::string before = copying ? std::string() : run.phase_text();
        if (!tty_) {
            if (copying) std::cout << plain_progress_line(snapshot_of(*model)) << std::endl;
            else if (!before.empty()) std::cout << before << std::endl;
            return;
        }
        std::vector<std::string> lines;
        if (copying) lines = live_view(snapshot_of(*model), terminal_width(STDOUT_FILENO) - 1);
        else if (!before.empty()) lines = {before};
        area_.draw(lines);
    }

    void clear() {
        if (tty_) area_.clear();
    }

private:
    bool tty_;
    LiveArea area_;
};

}  // namespace

int run_once(const Config &config, bool dry_run) {
    ::signal(SIGPIPE, SIG_IGN);   // a child that stops reading its stdin early must not end us
    boost::asio::io_context io;
    WorkerPool trees(io, 4), state(io, 1);
    // The destination's lock is named after its device and inode: a stat of the NAS, so on
    // a worker under a deadline, as in the daemon. One that does not answer leaves the run
    // without that lock; the run's own check then says the destination did not answer.
    std::optional<std::string> lock_name;
    trees.run<std::optional<std::string>>(
        std::min<std::chrono::milliseconds>(std::chrono::seconds(config.filesystem_timeout_seconds), kLockNameDeadline),
        [identity = local_endpoints(config).lock_identity](WorkProgress &) { return identity(); },
        [&lock_name](Worked<std::optional<std::string>> name) {
            if (name) lock_name = *name;
        });
    io.run();   // until that call is answered or its deadline passed
    io.restart();
    RunLocks locks = take_run_locks(config.state_dir, config.destination, lock_name, dry_run ? "--once --dry-run" : "--once");
    if (locks.held_elsewhere) {
        std::cerr << "dailysyncd: " << locks.why << "\n";
        return kExitLocked;
    }
    // A state folder that cannot hold the lock must not stop the backup (it may be full).
    if (!locks.why.empty()) std::cerr << "dailysyncd: warning: " << locks.why << "; running without that lock" << std::endl;
    if (const auto note = record_run_left_in_lock(StateStore(config), config, locks.left_by); !note.empty())
        std::cerr << "dailysyncd: warning: " << note << std::endl;
    LocalLauncher launcher(io);
    const bool tty = is_terminal(STDOUT_FILENO);
    ProgressPrinter printer(tty);
    const auto redraw_every = tty ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
    int exit_status = 2;
    LoopTimer ticker(io);
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    std::shared_ptr<BackupRun> run;
    // The header's concurrency is known once the checks found whether a tree is remote.
    bool announced = false;
    auto announce = [&] {
        if (announced || !run || run->phase() != BackupRun::Phase::copying) return;
        announced = true;
        printer.clear();
        std::cout << "dailysyncd: copying with " << (config.concurrency ? "" : "at first ") << "up to " << run->concurrency()
                  << " rsync processes" << (config.concurrency ? "" : " (concurrency auto)") << std::endl;
    };
    run = BackupRun::create(io, RunWorkers{trees, state, launcher, local_endpoints}, config, dry_run, announce, [&](const RunModel &model) {
        ticker.stop();
        signals.cancel();
        printer.clear();
        std::cout << report_text(parse_report(run->report()).doc);
        if (run->report_error().empty()) std::cout << "report: " << run->report_path() << "\n";
        else std::cerr << "dailysyncd: cannot write the report: " << run->report_error() << "\n";
        std::cout << std::flush;
        // The report above is the record; errors and warnings also go to stderr, so a
        // caller that keeps only stderr (cron mail, a pipe into a log) still sees them.
        if (!model.run_error().empty()) std::cerr << "dailysyncd: error: " << model.run_error() << "\n";
        for (const auto &unit : model.units()) {
            const bool failed = unit.state == UnitState::failed || unit.state == UnitState::partial;
            if (!failed && unit.state != UnitState::warning) continue;
            std::cerr << "dailysyncd: " << (failed ? "error" : "warning") << ": unit " << unit.unit.name << " "
                      << to_string(unit.state) << ": " << unit.message << "\n";
        }
        std::cerr << std::flush;
        exit_status = exit_status_for(model.result());
        // Calls given up on (a hung NAS) still have their deadlines pending: do not wait.
        io.stop();
    });

    locks.set_run_id(run->run_id());
    run->on_notice([&](const std::string &notice) {
        printer.clear();
        std::cerr << "dailysyncd: " << notice << std::endl;
    });
    signals.async_wait([&](boost::system::error_code ec, int signal) {
        if (ec) return;
        printer.clear();
        std::cerr << "dailysyncd: " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << " received, cancelling the run" << std::endl;
        run->cancel();
    });

    // One tick drives both the rate sampling and the redraw.
    auto last_draw = std::chrono::steady_clock::now() - redraw_every;
    auto tick = [&] {
        if (RunModel *model = run->model(); model && run->phase() == BackupRun::Phase::copying) model->sample(monotonic_seconds());
        const auto now = std::chrono::steady_clock::now();
        if (now - last_draw >= redraw_every) {
            printer.draw(*run);
            last_draw = now;
        }
    };
    std::cout << "dailysyncd: run " << run->run_id() << (dry_run ? " (dry run)" : "") << ": " << config.source << "/ -> "
              << config.destination << "/" << std::endl;
    run->start();
    tick();
    ticker.every(250ms, tick);
    io.run();
    return exit_status;
}

}  // namespace dailysync
