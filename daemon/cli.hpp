// Command line: argv -> what to do. Pure.
#pragma once

#include <string>
#include <vector>

namespace dailysync {

enum class Mode { daemon, once, check_config, diagnose, help, version };

struct CommandLine {
    Mode mode = Mode::daemon;
    std::string config_path = "/etc/dailysyncd/dailysyncd.json";
    bool dry_run = false;
    bool user_bus = false;
    bool strict = false;   // --check-config --strict: warnings fail too
    std::string error;   // non-empty: a usage error, to be printed with exit status 64
};

CommandLine parse_command_line(const std::vector<std::string> &args);   // args without argv[0]
const char *help_text();

constexpr int kExitUsage = 64;    // EX_USAGE
constexpr int kExitLocked = 75;   // EX_TEMPFAIL: another run into this backup holds the run lock
constexpr int kExitConfig = 78;   // EX_CONFIG

}  // namespace dailysync
