#include "cli.hpp"

namespace dailysync {

CommandLine parse_command_line(const std::vector<std::string> &args) {
    CommandLine cl;
    int modes = 0;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string &arg = args[i];
        if (arg == "--help" || arg == "-h") {
            cl.mode = Mode::help;
            return cl;
        } else if (arg == "--version") {
            cl.mode = Mode::version;
            return cl;
        } else if (arg == "--once") {
            cl.mode = Mode::once;
            ++modes;
        } else if (arg == "--check-config") {
            cl.mode = Mode::check_config;
            ++modes;
        } else if (arg == "--diagnose") {
            cl.mode = Mode::diagnose;
            ++modes;
        } else if (arg == "--dry-run") {
            cl.dry_run = true;
        } else if (arg == "--strict") {
            cl.strict = true;
        } else if (arg == "--user") {
            cl.user_bus = true;
        } else if (arg == "--config" || arg == "-c") {
            if (i + 1 >= args.size()) {
                cl.error = arg + " needs a file name";
                return cl;
            }
            cl.config_path = args[++i];
        } else if (arg.rfind("--config=", 0) == 0) {
            cl.config_path = arg.substr(9);
        } else {
            cl.error = "unknown argument \"" + arg + "\"";
            return cl;
        }
    }
    if (modes > 1) cl.error = "--once, --check-config and --diagnose exclude each other";
    else if (cl.dry_run && cl.mode != Mode::once) cl.error = "--dry-run goes with --once";
    else if (cl.user_bus && cl.mode != Mode::daemon) cl.error = "--user goes with service mode";
    else if (cl.strict && cl.mode != Mode::check_config) cl.error = "--strict goes with --check-config";
    else if (cl.config_path.empty()) cl.error = "--config needs a file name";
    return cl;
}

const char *help_text() {
    return R"(Usage:
  dailysyncd [--config FILE] [--user]             run as the backup service
  dailysyncd --once [--config FILE] [--dry-run]   run one backup now, in the foreground
  dailysyncd --check-config [--strict] [--config FILE]
                                                  validate and print the configuration
  dailysyncd --diagnose [--config FILE]           measure what will limit the backups
  dailysyncd --help | --version

dailysyncd copies every project folder under the configured source to the
destination with several rsync processes at once, reporting live progress.

Options:
  -c, --config FILE  configuration file (default /etc/dailysyncd/dailysyncd.json);
                     every key is described in dailysyncd.json(5) and
                     docs/configuration.md
      --once         plan and run one backup, draw live progress (a redrawn
                     view on a terminal, a plain line every 5 s otherwise), print
                     the report and exit
      --dry-run      with --once: change nothing at the destination, report
                     what would change
      --check-config validate the file, print the effective configuration
                     (defaults filled in) and exit; warns on stderr when
                     the source or the destination does not exist or
                     rsync_path is no program here (runs would fail; exit 0
                     all the same)
      --strict       with --check-config: exit 78 on those warnings too
      --diagnose     probe source and destination for under a minute and print
                     what will limit the runs (CPU, source reads, destination
                     writes, per-file latency) and a recommended concurrency:
                     idle CPU; a walk of the source (5 s at most); reads of its
                     biggest files (8 s, 1 GiB at most); writes at the
                     destination (6 s, 1 GiB at most, fdatasync included);
                     per-file work (lstat at the source, create and rename at
                     the destination) by 1, 4 and 16 worker processes, 2 s
                     each. The source is only read; the probe writes only in
                     a new folder DESTINATION/.dailysyncd-probe-XXXXXX, and
                     removes only what it wrote there (also when interrupted;
                     a folder left by a killed probe is removed by the next
                     one, recognised by a token kept in STATE_DIR/probe).
                     Exit 0, or 2 when it cannot probe, 130 when interrupted
      --user         service mode: use the session bus instead of the system bus
  -h, --help         show this text
      --version      show the version

Exit status:
  0   success
  1   the run succeeded with warnings (e.g. source files vanished during the copy)
  2   at least one unit failed, or the run was cancelled; --diagnose: the
      probe could not run
  64  usage error
  75  --once, --diagnose: another run into the same backup holds the run
      lock: STATE_DIR/run.lock, or the destination's in /run/dailysyncd
      (the message names its pid, run and start)
  78  invalid configuration (the message names file, JSON pointer and value);
      with --check-config --strict also a warning
  130 --diagnose was interrupted (its files at the destination are removed)

Service mode runs a backup every day at daily_at (local time), and once soon
after start when the last successful run is more than a day old. It owns the
D-Bus name io.dailysync1 (object /io/dailysync1, interface
io.dailysync1.Manager: properties State, progress, LastResult...; methods
StartRun, CancelRun, Reload, GetRunReport, ListRuns), logs to the journal and
speaks sd_notify (Type=notify, watchdog). SIGHUP reloads the configuration (an
invalid one is logged and the old one kept); SIGTERM/SIGINT cancel any run and
exit.

Every run writes its report as JSON to STATE_DIR/runs/RUN_ID.json.
SIGINT or SIGTERM cancels a run: rsync children get SIGTERM, then SIGKILL after
cancel_grace_seconds; nothing is left running.
)";
}

}  // namespace dailysync
