// `dailysyncctl retry`: the units of a finished run that did not succeed, read back from
// its report, to run again as a new run. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/plan.hpp"

namespace dailysync {

struct RetryPlan {
    std::string of;                 // the run retried
    std::vector<WorkUnit> units;    // its units that failed, were partial or cancelled, as they were planned
    std::string error;              // why there is nothing to retry ("" when units is not empty)
};

// From the report of run `run_id` (parsed with parse_report).
RetryPlan plan_retry(const std::string &run_id, const nlohmann::json &report);

}  // namespace dailysync
