// Service mode: the long-running daemon. One io_context, one thread: Manager, Bus,
// signals (SIGHUP reload, SIGTERM/SIGINT stop), sd_notify readiness, status and watchdog.
#pragma once

#include <string>

#include "core/config.hpp"

namespace dailysync {

// Returns the process exit status.
int run_daemon(const std::string &config_path, const Config &config, bool user_bus);

}  // namespace dailysync
