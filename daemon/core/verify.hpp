// Verification at rest: the backup compared with the source by content (rsync --checksum
// in a dry run), a rotating slice each night so the whole backup is checked every
// `every_days` without one huge run. Pure: which units a verify covers, how a file found
// to differ is named in the report.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "core/plan.hpp"
#include "core/tree_stats.hpp"

namespace dailysync {

struct VerifyRequest {
    std::optional<std::string> path;   // one folder of the source (relative); nullopt: a slice
    int slices = 1;                    // every_days: the backup is cut into this many slices...
    int slice = 0;                     // ...and this one is checked (0 .. slices-1)
};

// Today's slice: the day number (days since 1970-01-01 in local time) modulo every_days,
// so each slice comes once per period, whatever day the daemon started.
int slice_of_day(std::int64_t local_day_number, int every_days);
// Which slice a top-level folder belongs to: a stable hash of its name (FNV-1a), so a
// project keeps its slice from one period to the next.
int slice_of(const std::string &project, int every_days);

// The units of a verify: for a slice, its top-level folders planned by `planner` (as a
// run would: big ones split) and, in slice 0, the files directly in the source; for a
// path, that folder whole. Empty when there is nothing in that slice.
std::vector<WorkUnit> verify_units(const VerifyRequest &request, const TreeStats &stats, const Planner &planner);

// The report's and the journal's name for what was checked: "slice 3 of 7 (alpha, gamma)",
// "alpha/edit", "the whole backup".
std::string verify_scope_text(const VerifyRequest &request, const std::vector<WorkUnit> &units);

// The run error of a verify that found files that differ.
std::string verify_error(std::uint64_t differing, std::uint64_t marked);

}  // namespace dailysync
