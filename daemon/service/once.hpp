// `dailysyncd --once`: one run in the foreground with a live view and a final report.
#pragma once

#include "core/config.hpp"

namespace dailysync {

// Returns the process exit status (0 success, 1 warnings, 2 failed or cancelled).
int run_once(const Config &config, bool dry_run);

}  // namespace dailysync
