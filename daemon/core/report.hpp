// The report of a finished run: JSON for state_dir/runs/RUN_ID.json and text for people.
// Pure.
#pragma once

#include <string>

#include "core/run_model.hpp"

namespace dailysync {

struct ReportContext {
    std::string source;
    std::string destination;
    int concurrency = 0;
};

std::string report_json(const RunModel &run, const ReportContext &context);   // UTF-8, pretty-printed
std::string report_text(const RunModel &run);                                 // a table and totals

// Exit status of `dailysyncd --once`: 0 success, 1 warning, 2 failed or cancelled.
int exit_status_for(RunResult result);

}  // namespace dailysync
