#include "ctl/command_line.hpp"

#include <charconv>
#include <map>

namespace dailysync::ctl {

namespace {

const std::map<std::string, Command> kCommands = {
    {"status", Command::status},   {"start", Command::start},     {"cancel", Command::cancel},
    {"reload", Command::reload},   {"watch", Command::watch},     {"history", Command::history},
    {"report", Command::report},   {"help", Command::help},
};

bool parse_limit(const std::string &text, int &limit) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1) return false;
    limit = value;
    return true;
}

}  // namespace

CommandLine parse_command_line(const std::vector<std::string> &args) {
    CommandLine cl;
    bool have_command = false;
    std::vector<std::string> operands;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string &arg = args[i];
        if (arg == "-h" || arg == "--help") {
            cl.command = Command::help;
            return cl;
        } else if (arg == "--version") {
            cl.command = Command::version;
            return cl;
        } else if (arg == "--user") {
            cl.user_bus = true;
        } else if (arg == "--json") {
            cl.json = true;
        } else if (arg == "--no-color") {
            cl.color = false;
        } else if (arg == "--wait") {
            cl.wait = true;
        } else if (arg == "-n" || arg == "--limit") {
            if (i + 1 >= args.size() || !parse_limit(args[i + 1], cl.limit)) {
                cl.error = arg + " needs a count of 1 or more";
                return cl;
            }
            ++i;
        } else if (arg.rfind("--limit=", 0) == 0) {
            if (!parse_limit(arg.substr(8), cl.limit)) {
                cl.error = "--limit needs a count of 1 or more";
                return cl;
            }
        } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
            cl.error = "unknown option \"" + arg + "\"";
            return cl;
        } else if (!have_command) {
            auto it = kCommands.find(arg);
            if (it == kCommands.end()) {
                cl.error = "unknown command \"" + arg + "\" (commands: status, start, cancel, reload, watch, history, report)";
                return cl;
            }
            cl.command = it->second;
            have_command = true;
        } else {
            operands.push_back(arg);
        }
    }
    if (cl.command == Command::help) return cl;
    if (cl.command == Command::report) {
        if (operands.size() != 1) {
            cl.error = "report needs one RUN_ID (see: dailysyncctl history)";
            return cl;
        }
        cl.run_id = operands[0];
    } else if (!operands.empty()) {
        cl.error = "unexpected argument \"" + operands[0] + "\"";
        return cl;
    }
    if (cl.wait && cl.command != Command::start) cl.error = "--wait goes with start";
    else if (cl.json && (cl.command == Command::cancel || cl.command == Command::reload))
        cl.error = "--json goes with status, start, watch, history and report";
    return cl;
}

const char *help_text() {
    return R"HELP(Usage:
  dailysyncctl [OPTIONS] [status]       state, current progress or last result, next run
  dailysyncctl [OPTIONS] start [--wait] start a backup run now
  dailysyncctl [OPTIONS] cancel         cancel the run in progress
  dailysyncctl [OPTIONS] reload         re-read the configuration file
  dailysyncctl [OPTIONS] watch          follow the run in progress live, then summarize it
  dailysyncctl [OPTIONS] history [-n N] the last N runs (default 10), oldest first
  dailysyncctl [OPTIONS] report RUN_ID  the full report of one run
  dailysyncctl --help | --version

dailysyncctl talks to dailysyncd (bus name io.dailysync1, object /io/dailysync1,
interface io.dailysync1.Manager) on the system bus.

Options:
      --user        use the session bus (for a daemon started with dailysyncd --user)
      --json        print JSON instead of text (status, start, watch, history,
                    report); watch prints one JSON object per update and the
                    report last
      --no-color    no colors (also when NO_COLOR is set or output is not a
                    terminal)
      --wait        with start: follow the run until it ends; the exit status is
                    the run's result, and a run that did not succeed is followed
                    by its error and the units that failed, with their first
                    error line
  -n, --limit N     with history: how many runs to show
  -h, --help        show this text
      --version     show the version

start, cancel and reload need root, or polkit's authorization for the action
io.dailysync1.manage; everything else is open to every user.

Exit status:
  0   success (with --wait or watch: the run succeeded)
  1   with --wait or watch: the run ended with warnings
  2   with --wait or watch: the run failed or was cancelled
  3   the daemon refused the request (a run is already active, another
      process runs into the same backup, no run is active, the
      configuration is invalid, no such run, ...)
  4   not authorized
  5   dailysyncd is not running, or the bus is unreachable
  64  usage error
  130 watch or start --wait was interrupted (the run goes on)

Examples:
  dailysyncctl                      # same as: dailysyncctl status
  dailysyncctl start --wait && echo backed up
  dailysyncctl history -n 30
  dailysyncctl report "$(dailysyncctl status --json | jq -r .last_run_id)"

See dailysyncctl(1), dailysyncd(8) and docs/dbus-api.md.
)HELP";
}

}  // namespace dailysync::ctl
