// `dailysyncd --diagnose`: probes the source and destination of a configuration for under
// a minute (io/probe) and prints what will limit the daily runs and how many rsyncs to run
// at once (core/diagnosis).
#pragma once

#include "core/config.hpp"

namespace dailysync {

// Returns the exit status: 0 probed, 2 the probe could not run (the message says why),
// 130 interrupted (its files at the destination removed all the same).
int run_diagnose(const Config &config);

}  // namespace dailysync
