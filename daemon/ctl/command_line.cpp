#include "ctl/command_line.hpp"

#include <charconv>
#include <map>

namespace dailysync::ctl {

namespace {

const std::map<std::string, Command> kCommands = {
    {"status", Command::status},   {"start", Command::start},     {"retry", Command::retry},     {"verify", Command::verify},   {"cancel", Command::cancel},
    {"reload", Command::reload},   {"watch", Command::watch},     {"history", Command::history},
    {"report", Command::report},   {"versions", Command::versions}, {"restore", Command::restore},
    {"help", Command::help},
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
        } else if (arg == "--allow-mass-change") {
            cl.allow_mass_change = true;
        } else if (arg == "--dry-run") {
            cl.dry_run = true;
        } else if (arg == "--into-source") {
            cl.into_source = true;
        } else if (arg == "--overwrite") {
            cl.overwrite = true;
        } else if (arg == "--config" || arg == "-c" || arg == "--at" || arg == "--to") {
            if (i + 1 >= args.size() || args[i + 1].empty()) {
                cl.error = arg + " needs a value";
                return cl;
            }
            (arg == "--at" ? cl.at : arg == "--to" ? cl.to : cl.config_path) = args[++i];
        } else if (arg.rfind("--config=", 0) == 0 || arg.rfind("--at=", 0) == 0 || arg.rfind("--to=", 0) == 0) {
            const std::string value = arg.substr(arg.find('=') + 1);
            if (value.empty()) {
                cl.error = arg.substr(0, arg.find('=')) + " needs a value";
                return cl;
            }
            (arg[2] == 'a' ? cl.at : arg[2] == 't' ? cl.to : cl.config_path) = value;
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
                cl.error = "unknown command \"" + arg + "\" (commands: status, start, retry, verify, cancel, reload, watch, history, report, versions, restore)";
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
    } else if (cl.command == Command::retry) {
        if (operands.size() > 1) {
            cl.error = "unexpected argument \"" + operands[1] + "\" (retry takes one RUN_ID, or none for the last run)";
            return cl;
        }
        if (operands.size() == 1) cl.run_id = operands[0];
    } else if (cl.command == Command::verify) {
        if (operands.size() > 1) {
            cl.error = "unexpected argument \"" + operands[1] + "\" (verify takes one folder of the source, or none for all of it)";
            return cl;
        }
        if (operands.size() == 1) cl.path = operands[0];
    } else if (cl.command == Command::versions || cl.command == Command::restore) {
        if (operands.size() > 1) {
            cl.error = "unexpected argument \"" + operands[1] + "\" (one PATH)";
            return cl;
        }
        if (operands.size() == 1) {
            cl.path = operands[0];
            cl.have_path = true;
        }
        if (cl.command == Command::restore && !cl.have_path) {
            cl.error = "restore needs a PATH: a file or folder of the source (\"/\" or \".\" for all of it)";
            return cl;
        }
        if (cl.command == Command::restore && cl.at.empty()) {
            cl.error = "restore needs --at DATE|VERSION (see: dailysyncctl versions)";
            return cl;
        }
    } else if (!operands.empty()) {
        cl.error = "unexpected argument \"" + operands[0] + "\"";
        return cl;
    }
    const bool restoring = cl.command == Command::restore;
    if (cl.wait && cl.command != Command::start && cl.command != Command::retry && cl.command != Command::verify)
        cl.error = "--wait goes with start, retry and verify";
    else if (cl.allow_mass_change && cl.command != Command::start) cl.error = "--allow-mass-change goes with start";
    else if (!restoring && (cl.dry_run || cl.into_source || cl.overwrite || !cl.at.empty() || cl.to != "."))
        cl.error = "--at, --to, --into-source, --overwrite and --dry-run go with restore";
    else if (restoring && cl.json) cl.error = "--json goes with status, start, retry, verify, watch, history, report and versions";
    else if (cl.json && (cl.command == Command::cancel || cl.command == Command::reload))
        cl.error = "--json goes with status, start, retry, verify, watch, history, report and versions";
    if (cl.command == Command::verify) cl.wait = true;   // a verify is followed: its progress, then what it found
    return cl;
}

const char *help_text() {
    return R"HELP(Usage:
  dailysyncctl [OPTIONS] [status]       state, current progress or last result, next run
  dailysyncctl [OPTIONS] start [--wait] [--allow-mass-change]
                                        start a backup run now
  dailysyncctl [OPTIONS] retry [RUN_ID] [--wait]
                                        run again only the units of that run (default:
                                        the last one) that failed, were partial or
                                        cancelled, as a new run
  dailysyncctl [OPTIONS] verify [PATH]  compare the backup (or that folder of it) with the
                                        source by content now, following it; files
                                        found to differ are copied again by the next run
  dailysyncctl [OPTIONS] cancel         cancel the run in progress
  dailysyncctl [OPTIONS] reload         re-read the configuration file
  dailysyncctl [OPTIONS] watch          follow the run in progress live, then summarize it
  dailysyncctl [OPTIONS] history [-n N] the last N runs (default 10), oldest first
  dailysyncctl [OPTIONS] report RUN_ID  the full report of one run
  dailysyncctl [OPTIONS] versions [PATH]
                                        the versions kept, with their space; with
                                        PATH: what that file or folder was in each
  dailysyncctl [OPTIONS] restore PATH --at DATE|VERSION [--to DIR]
                         [--into-source] [--overwrite] [--dry-run]
                                        put PATH back as it was at the end of that
                                        day or version, into DIR (default: the
                                        current folder) as DIR/NAME
  dailysyncctl --help | --version

dailysyncctl talks to dailysyncd (bus name io.dailysync1, object /io/dailysync1,
interface io.dailysync1.Manager) on the system bus.

Options:
      --user        use the session bus (for a daemon started with dailysyncd --user)
      --json        print JSON instead of text (status, start, retry, watch,
                    history, report); watch prints one JSON object per update and the
                    report last
      --no-color    no colors (also when NO_COLOR is set or output is not a
                    terminal)
      --wait        with start and retry (verify always does): follow the run until it ends; the exit status is
                    the run's result, and a run that did not succeed is followed
                    by its error and the units that failed, with their first
                    error line
      --allow-mass-change
                    with start: this run may replace more files than max_change
                    allows (after a run failed with "mass change" and the change
                    is known to be wanted)
  -n, --limit N     with history: how many runs to show
  -c, --config FILE with versions and restore: the daemon's configuration, which
                    names the source and the backup (default
                    /etc/dailysyncd/dailysyncd.json)
      --at WHEN     with restore: a version (as versions lists them) or a date
                    YYYY-MM-DD (the last version of that day or before)
      --to DIR      with restore: the folder to restore into (default: .; made if
                    only its last level is missing)
      --into-source with restore: allow DIR to lie inside the source, writing
                    over what is there now (never without it); DIR is judged
                    after its symlinks are resolved
      --overwrite   with restore: allow DIR/NAME to exist already (for the whole
                    backup: DIR not to be empty), replacing same-named files
                    in it; nothing else there is removed (never without it)
      --dry-run     with restore: list what would be restored, change nothing
  -h, --help        show this text
      --version     show the version

start, retry, verify, cancel and reload need root, or polkit's authorization for the action
io.dailysync1.manage; everything else is open to every user. versions and
restore do not use the daemon (a restore must work when it does not run): they
read the backup with the caller's rights, so run them as root, and restore
writes with the caller's rights too. PATH is a path of the source: absolute
(under the configured source) or relative to the source's top.

Exit status:
  0   success (with --wait or watch: the run succeeded)
  1   with --wait or watch: the run ended with warnings
  2   with --wait or watch: the run failed or was cancelled
  3   the daemon refused the request (a run is already active, another
      process runs into the same backup, no run is active, the
      configuration is invalid, no such run, nothing to retry, ...); versions or restore
      could not be done (no such version, PATH absent then, ...)
  4   not authorized
  5   dailysyncd is not running, or the bus is unreachable
  64  usage error
  130 watch or start --wait was interrupted (the run goes on)

Examples:
  dailysyncctl                      # same as: dailysyncctl status
  dailysyncctl start --wait && echo backed up
  dailysyncctl retry --wait         # only what failed in the last run
  dailysyncctl history -n 30
  dailysyncctl versions alpha/edit/cut.prproj
  dailysyncctl restore alpha/edit --at 2026-11-28 --to /tmp/restored
  dailysyncctl report "$(dailysyncctl status --json | jq -r .last_run_id)"

See dailysyncctl(1), dailysyncd(8) and docs/dbus-api.md.
)HELP";
}

}  // namespace dailysync::ctl
