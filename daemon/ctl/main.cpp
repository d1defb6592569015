// dailysyncctl: the admin's command line for dailysyncd (see --help and dailysyncctl(1)).
#include <csignal>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/format.hpp"
#include "core/report.hpp"
#include "ctl/client.hpp"
#include "ctl/command_line.hpp"
#include "ctl/versions_commands.hpp"
#include "io/terminal.hpp"

using namespace dailysync;
using namespace dailysync::ctl;
using namespace std::chrono_literals;

namespace {

volatile std::sig_atomic_t interrupted = 0;

int fail(const Failure &failure) {
    std::cerr << "dailysyncctl: " << failure.message << "\n";
    return failure.exit_status;
}

std::string local_time(std::int64_t epoch) { return format_local_time(static_cast<std::time_t>(epoch), true); }

Style style_for(const CommandLine &cl) {
    const char *term = std::getenv("TERM");
    const bool color = cl.color && is_terminal(STDOUT_FILENO) && !std::getenv("NO_COLOR") && !(term && std::string(term) == "dumb");
    return Style{color, static_cast<std::int64_t>(std::time(nullptr)), local_time};
}

int show_status(Client &client, const CommandLine &cl) {
    auto status = client.status();
    if (status.failure) return fail(*status.failure);
    if (cl.json) std::cout << status_json(status.value).dump(2) << "\n";
    else std::cout << status_text(status.value, style_for(cl));
    return kExitOk;
}

int show_history(Client &client, const CommandLine &cl) {
    auto runs = client.list_runs();
    if (runs.failure) return fail(*runs.failure);
    const std::size_t first = runs.value.size() > static_cast<std::size_t>(cl.limit) ? runs.value.size() - cl.limit : 0;
    std::vector<HistoryRow> rows;
    for (std::size_t i = first; i < runs.value.size(); ++i) {
        auto report = client.run_report(runs.value[i].id);
        std::optional<nlohmann::json> parsed;
        if (!report.failure)
            if (ParsedReport read = parse_report(report.value); read.error.empty()) parsed = std::move(read.doc);
        rows.push_back(history_row(runs.value[i], parsed));
    }
    if (cl.json) std::cout << history_json(rows).dump(2) << "\n";
    else std::cout << history_text(rows, style_for(cl));
    return kExitOk;
}

// Prints a finished run's report: text, or the JSON as the daemon wrote it.
int show_report(Client &client, const std::string &run_id, bool json) {
    auto report = client.run_report(run_id);
    if (report.failure) return fail(*report.failure);
    if (json) {
        std::cout << report.value;
        return kExitOk;
    }
    const ParsedReport parsed = parse_report(report.value);
    if (!parsed.error.empty()) return fail({kExitRefused, "the report of run " + run_id + " cannot be read: " + parsed.error});
    std::cout << report_text(parsed.doc);
    return kExitOk;
}

// Follows a run through the daemon's signals: progress from PropertiesChanged, the end
// from RunFinished. Subscribes on construction, before the caller reads the state or
// starts the run, so nothing that happens in between is missed.
class Follower {
public:
    Follower(Client &client, const CommandLine &cl) : client_(client), cl_(cl) {
        failure_ = client_.subscribe({
            [this](std::string_view name, const PropertyValue &value) {
                apply_property(status_, name, value);
                changed_ = true;
            },
            [this](const std::string &run_id, const std::string &result) { finished_[run_id] = result; },
            [this] { gone_ = true; },
        });
    }
    const std::optional<Failure> &failure() const { return failure_; }
    void set_status(DaemonStatus status) { status_ = std::move(status); }

    // Waits for run_id to end, drawing progress when `draw`; exit status from its result.
    int follow(const std::string &run_id, bool draw) {
        const bool tty = is_terminal(STDOUT_FILENO) && !cl_.json;
        LiveArea area(std::cout);
        auto last_line = std::chrono::steady_clock::now() - 1h;
        const auto line_every = tty ? 0ms : (cl_.json ? 1000ms : 2000ms);
        while (!finished_.count(run_id)) {
            if (interrupted || gone_) {
                if (tty) area.clear();
                if (gone_) return fail({kExitNoDaemon, "dailysyncd went away during run " + run_id});
                std::cerr << "dailysyncctl: stopped following run " << run_id << " (it goes on; dailysyncctl cancel stops it)\n";
                return 130;
            }
            if (auto failure = client_.process(250ms)) return fail(*failure);
            const auto now = std::chrono::steady_clock::now();
            if (!draw || !changed_ || now - last_line < line_every || status_.progress.units.empty()) continue;
            changed_ = false;
            last_line = now;
            if (cl_.json) std::cout << status_json(status_).dump() << std::endl;
            else if (tty) area.draw(live_view(status_.progress, terminal_width(STDOUT_FILENO) - 1));
            else std::cout << plain_progress_line(status_.progress) << std::endl;
        }
        if (tty) area.clear();
        const std::string result = finished_[run_id];
        if (draw && cl_.json) {
            // JSON Lines: the report joins the progress objects as one more line.
            auto report = client_.run_report(run_id);
            if (report.failure) return fail(*report.failure);
            std::cout << parse_report(report.value).doc.dump() << "\n";
        } else if (draw) {
            if (int shown = show_report(client_, run_id, false); shown != kExitOk) return shown;
        } else if (cl_.json) {
            std::cout << nlohmann::ordered_json{{"run_id", run_id}, {"result", result}}.dump() << "\n";
        } else {
            std::cout << "run " << run_id << " finished: " << colored_result(result, style_for(cl_).color)
                      << " (details: dailysyncctl report " << run_id << ")\n";
            // What went wrong, without a second command; the report has the rest.
            if (result != "success")
                if (auto report = client_.run_report(run_id); !report.failure)
                    if (const ParsedReport parsed = parse_report(report.value); parsed.error.empty())
                        for (const auto &line : problems_of(parsed.doc)) std::cout << line << "\n";
        }
        return exit_status_for_result(result);
    }

private:
    Client &client_;
    const CommandLine &cl_;
    std::optional<Failure> failure_;
    DaemonStatus status_;
    std::map<std::string, std::string> finished_;   // run id -> result
    bool gone_ = false, changed_ = false;
};

int watch(Client &client, const CommandLine &cl) {
    Follower follower(client, cl);
    if (follower.failure()) return fail(*follower.failure());
    auto status = client.status();
    if (status.failure) return fail(*status.failure);
    if (status.value.current_run_id.empty()) {
        if (cl.json) std::cout << status_json(status.value).dump() << "\n";
        else std::cout << "no run is active\n" << status_text(status.value, style_for(cl));
        return kExitOk;
    }
    const std::string run_id = status.value.current_run_id;
    follower.set_status(std::move(status.value));
    return follower.follow(run_id, true);
}

int start(Client &client, const CommandLine &cl) {
    std::optional<Follower> follower;
    if (cl.wait) {
        follower.emplace(client, cl);
        if (follower->failure()) return fail(*follower->failure());
    }
    auto started = cl.command == Command::retry    ? client.retry_run(cl.run_id)
                   : cl.command == Command::verify ? client.start_verify(cl.path)
                   : cl.allow_mass_change          ? client.start_run_allowing_mass_change()
                                              : client.start_run();
    if (started.failure) return fail(*started.failure);
    if (!cl.wait) {
        if (cl.json) std::cout << nlohmann::ordered_json{{"run_id", started.value}}.dump() << "\n";
        else std::cout << "run " << started.value << " started (follow it: dailysyncctl watch)\n";
        return kExitOk;
    }
    if (!cl.json) std::cout << "run " << started.value << " started" << std::endl;
    return follower->follow(started.value, false);
}

}  // namespace

int main(int argc, char **argv) {
    const CommandLine cl = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (!cl.error.empty()) {
        std::cerr << "dailysyncctl: " << cl.error << "\nTry 'dailysyncctl --help'.\n";
        return kExitUsage;
    }
    if (cl.command == Command::help) {
        std::cout << help_text();
        return kExitOk;
    }
    if (cl.command == Command::version) {
        std::cout << "dailysyncctl " << DAILYSYNCD_VERSION << "\n";
        return kExitOk;
    }
    // Not the daemon's business: these read the backup itself.
    if (cl.command == Command::versions) return list_versions(cl);
    if (cl.command == Command::restore) return restore(cl);
    struct sigaction action {};
    action.sa_handler = [](int) { interrupted = 1; };
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);

    Client client(cl.user_bus);
    if (auto failure = client.connect()) return fail(*failure);
    switch (cl.command) {
    case Command::status: return show_status(client, cl);
    case Command::start:
    case Command::retry:
    case Command::verify: return start(client, cl);
    case Command::cancel:
        if (auto failure = client.cancel_run()) return fail(*failure);
        std::cout << "cancelling the run\n";
        return kExitOk;
    case Command::reload:
        if (auto failure = client.reload()) return fail(*failure);
        std::cout << "configuration reloaded\n";
        return kExitOk;
    case Command::watch: return watch(client, cl);
    case Command::history: return show_history(client, cl);
    case Command::report: return show_report(client, cl.run_id, cl.json);
    case Command::versions:
    case Command::restore:
    case Command::help:
    case Command::version: break;
    }
    return kExitOk;
}
