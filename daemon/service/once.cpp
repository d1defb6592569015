#include "service/once.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <iostream>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/progress_view.hpp"
#include "core/report.hpp"
#include "service/backup_run.hpp"

namespace dailysync {

namespace {

using namespace std::chrono_literals;

Seconds monotonic_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::size_t terminal_width() {
    struct winsize ws {};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
    return 80;
}

// Draws the live view on a terminal (redrawn in place) or plain lines into a pipe.
class ProgressPrinter {
public:
    explicit ProgressPrinter(bool tty) : tty_(tty) {}

    void draw(const BackupRun &run) {
        const RunModel *model = run.model();
        if (!tty_) {
            if (model && run.phase() == BackupRun::Phase::copying) std::cout << plain_progress_line(*model) << std::endl;
            else if (run.phase() == BackupRun::Phase::scanning) std::cout << "scanning the source..." << std::endl;
            return;
        }
        std::vector<std::string> lines;
        if (model && run.phase() == BackupRun::Phase::copying) lines = live_view(*model, terminal_width() - 1);
        else if (run.phase() == BackupRun::Phase::scanning) lines = {"scanning the source..."};
        std::string out;
        if (drawn_ > 0) out += "\x1b[" + std::to_string(drawn_) + "A";
        for (const auto &line : lines) out += "\r\x1b[2K" + line + "\n";
        for (std::size_t i = lines.size(); i < drawn_; ++i) out += "\r\x1b[2K\n";
        if (drawn_ > lines.size()) out += "\x1b[" + std::to_string(drawn_ - lines.size()) + "A";
        drawn_ = lines.size();
        std::cout << out << std::flush;
    }

    void clear() {
        if (!tty_ || drawn_ == 0) return;
        std::string out = "\x1b[" + std::to_string(drawn_) + "A";
        for (std::size_t i = 0; i < drawn_; ++i) out += "\r\x1b[2K\n";
        out += "\x1b[" + std::to_string(drawn_) + "A";
        drawn_ = 0;
        std::cout << out << std::flush;
    }

private:
    bool tty_;
    std::size_t drawn_ = 0;
};

}  // namespace

int run_once(const Config &config, bool dry_run) {
    boost::asio::io_context io;
    const bool tty = ::isatty(STDOUT_FILENO) == 1;
    ProgressPrinter printer(tty);
    const auto redraw_every = tty ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
    int exit_status = 2;

    boost::asio::steady_timer ticker(io);
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    std::shared_ptr<BackupRun> run;
    run = BackupRun::create(io, config, dry_run, nullptr, [&](const RunModel &model) {
        ticker.cancel();
        signals.cancel();
        printer.clear();
        std::cout << report_text(model);
        if (run->report_error().empty()) std::cout << "report: " << run->report_path() << "\n";
        else std::cerr << "dailysyncd: cannot write the report: " << run->report_error() << "\n";
        std::cout << std::flush;
        exit_status = exit_status_for(model.result());
    });

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
    std::function<void()> tick = [&] {
        if (RunModel *model = run->model(); model && run->phase() == BackupRun::Phase::copying) model->sample(monotonic_seconds());
        const auto now = std::chrono::steady_clock::now();
        if (now - last_draw >= redraw_every) {
            printer.draw(*run);
            last_draw = now;
        }
        ticker.expires_after(250ms);
        ticker.async_wait([&](boost::system::error_code ec) {
            if (!ec) tick();
        });
    };
    std::cout << "dailysyncd: run " << run->run_id() << (dry_run ? " (dry run)" : "") << ": " << config.source << "/ -> "
              << config.destination << "/ with " << (config.concurrency ? "" : "at first ") << "up to " << run->concurrency()
              << " rsync processes" << (config.concurrency ? "" : " (concurrency auto)") << std::endl;
    run->start();
    tick();
    io.run();
    return exit_status;
}

}  // namespace dailysync
