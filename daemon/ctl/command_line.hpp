// dailysyncctl's command line: argv -> what to do. Pure.
#pragma once

#include <string>
#include <vector>

namespace dailysync::ctl {

enum class Command { status, start, retry, verify, cancel, reload, watch, history, report, versions, restore, help, version };

struct CommandLine {
    Command command = Command::status;
    bool user_bus = false;   // --user: the session bus
    bool json = false;       // --json: machine-readable output
    bool color = true;       // --no-color turns it off (so does NO_COLOR, checked by the caller)
    bool wait = false;       // start --wait
    bool allow_mass_change = false;   // start --allow-mass-change
    int limit = 10;          // history -n N
    std::string run_id;      // report RUN_ID
    // versions [PATH], restore PATH: read the backup directly, with the caller's rights.
    std::string config_path = "/etc/dailysyncd/dailysyncd.json";   // --config FILE
    std::string path;        // PATH (absolute under the source, or relative to it); "" = all
    bool have_path = false;
    std::string at;          // restore --at DATE|VERSION
    std::string to = ".";    // restore --to DIR
    bool into_source = false;   // restore --into-source: may write over the source
    bool overwrite = false;     // restore --overwrite: may write where something of that name is
    bool dry_run = false;    // restore --dry-run
    std::string error;       // non-empty: a usage error (exit 64)
};

CommandLine parse_command_line(const std::vector<std::string> &args);   // without argv[0]
const char *help_text();

// Exit statuses, shared by every command (documented in --help and dailysyncctl(1)).
constexpr int kExitOk = 0;
constexpr int kExitRunWarning = 1;    // start --wait / watch: the run ended with warnings
constexpr int kExitRunFailed = 2;     // start --wait / watch: the run failed or was cancelled
constexpr int kExitRefused = 3;       // the daemon refused or failed the request
constexpr int kExitDenied = 4;        // the caller is not authorized
constexpr int kExitNoDaemon = 5;      // dailysyncd is not running / the bus is unreachable
constexpr int kExitUsage = 64;

}  // namespace dailysync::ctl
