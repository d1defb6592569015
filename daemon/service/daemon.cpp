#include "service/daemon.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <iostream>
#include <syslog.h>

#include "cli.hpp"
#include "io/child_launcher.hpp"
#include "io/config_file.hpp"
#include "io/preflight.hpp"
#include "io/loop_timer.hpp"
#include "io/worker_pool.hpp"
#include "service/bus.hpp"
#include "service/journal.hpp"
#include "service/manager.hpp"
#include "service/notify.hpp"

namespace dailysync {

namespace {
using namespace std::chrono_literals;
constexpr auto kStatusInterval = 2s;
// Calls on the source and the destination at once: a run's checks and clean-ups, one per
// unit at most. A hung NAS holds at most these; the loop never waits for any.
constexpr unsigned kTreeWorkers = 4;
}  // namespace

int run_daemon(const std::string &config_path, const Config &config, bool user_bus) {
    ::signal(SIGPIPE, SIG_IGN);
    boost::asio::io_context io;
    WorkerPool trees(io, kTreeWorkers), state(io, 1);
    LocalLauncher launcher(io);
    Journal journal;
    {
        // Where the trees really are (the overlap checks), looked up on the workers under a
        // deadline before anything is served: overlapping trees are refused as at
        // --check-config; a NAS that does not answer only delays the start (each run checks
        // again before it copies).
        std::optional<Problem> places;
        check_places(trees, config, std::min<std::chrono::milliseconds>(std::chrono::seconds(config.filesystem_timeout_seconds), kPlacesDeadline),
                     " while the configuration was checked at start", [&places](std::optional<Problem> problem) { places = std::move(problem); });
        io.run();   // until the three answered or their deadline passed
        io.restart();
        if (places && (places->kind == ProblemKind::not_answering || places->kind == ProblemKind::defect)) {
            journal.log(LOG_WARNING, places->text + "; starting anyway: each run checks again before it copies");
        } else if (places) {
            std::cerr << "dailysyncd: " << format_config_error(config_path, paths_config_error(*places)) << "\n";
            return kExitConfig;
        }
    }
    Notifier notifier;
    Manager manager(io, RunWorkers{trees, state, launcher, local_endpoints}, config_path, config, journal);
    Bus bus(io, manager, journal);
    WorkerPool alert_worker(io, 1);
    Alerter alerter(io, alert_worker, journal,
                    [&](const std::string &unit, std::function<void(std::string)> done) { bus.start_unit(unit, std::move(done)); });
    int exit_status = 0;

    manager.set_observer(ManagerObserver{
        [&] {
            bus.state_changed();
            notifier.status(manager.status_line());
        },
        [&] { bus.progress_changed(); },
        [&](const std::string &id) { bus.run_started(id); },
        [&](const std::string &id, const std::string &result) {
            bus.run_finished(id, result);
            notifier.status(manager.status_line());
        },
        [&](const AlertEvent &event) { alerter.send(manager.config().alerts, event); },
    });

    bool stopping = false;
    boost::asio::signal_set stop_signals(io, SIGTERM, SIGINT);
    boost::asio::signal_set hup(io, SIGHUP);
    LoopTimer status_timer(io), watchdog_timer(io);

    std::function<void()> stopped;
    auto stop = [&](const char *why) {
        if (stopping) return;
        stopping = true;
        journal.log(LOG_INFO, std::string("stopping (") + why + ")");
        notifier.stopping();
        hup.cancel();
        manager.shutdown([&] {
            // The alert about the run the stop cancelled goes out first (within 10 s of
            // systemd's 30 s TimeoutStopSec).
            alerter.when_idle(std::chrono::seconds(10), [&] { stopped(); });
        });
    };
    stopped = [&] {
        stop_signals.cancel();
        status_timer.stop();
        watchdog_timer.stop();
        journal.log(LOG_INFO, "stopped");
        io.stop();
    };

    std::function<void()> wait_stop = [&] {
        stop_signals.async_wait([&](boost::system::error_code ec, int signal) {
            if (ec) return;
            stop(signal == SIGTERM ? "SIGTERM" : "SIGINT");
        });
    };
    std::function<void()> wait_hup = [&] {
        hup.async_wait([&](boost::system::error_code ec, int) {
            if (ec) return;
            notifier.reloading();
            journal.log(LOG_INFO, "SIGHUP: reloading " + config_path);
            manager.reload([&](const std::string &) {   // refused: journaled by the manager
                if (stopping) return;                     // no READY=1 after STOPPING=1
                bus.state_changed();
                notifier.ready();
                notifier.status(manager.status_line());
            });
            wait_hup();
        });
    };
    const auto watchdog_period = notifier.watchdog_period();

    const std::string error = bus.start(user_bus, [&](bool acquired) {
        if (!acquired) {
            exit_status = 1;
            stop("the bus name could not be acquired");
            return;
        }
        manager.start();
        notifier.ready();
        notifier.status(manager.status_line());
        journal.log(LOG_INFO, std::string("ready on the ") + (user_bus ? "session" : "system") + " bus as " + kBusName +
                                  "; daily at " + manager.config().daily_at() + ", " + manager.config().source + " -> " +
                                  manager.config().destination);
        status_timer.every(kStatusInterval, [&] { notifier.status(manager.status_line()); });
    }, [&] {
        exit_status = 1;
        stop("the D-Bus connection was lost");
    });
    if (!error.empty()) {
        journal.log(LOG_ERR, error);
        return 1;
    }
    wait_stop();
    wait_hup();
    // The watchdog is fed from the loop itself: it keeps coming exactly as long as the loop
    // turns, which is what systemd's WatchdogSec= is meant to check.
    if (watchdog_period) {
        notifier.watchdog();
        watchdog_timer.every(*watchdog_period, [&] { notifier.watchdog(); });
    }
    io.run();
    return exit_status;
}

}  // namespace dailysync
