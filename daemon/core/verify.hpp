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
#include "core/run_model.hpp"
#include "core/tree_stats.hpp"

namespace dailysync {

struct VerifyRequest {
    std::optional<std::string> path;   // one folder of the source (relative); nullopt: a slice
    int slices = 1;                    // every_days: the backup is cut into this many slices...
    int slice = 0;                     // ...and this one is checked (0 .. slices-1)
    // The backup mirrors deletions ("delete" on): what it holds beyond the source is a
    // finding. Without it, the backup keeps what the source deleted, by design. Either
    // way the verify lists those entries (its dry run gets --delete), never deletes them.
    bool mirror = false;
};

// What a verify found (report field "verify"). Its dry run lists every entry where the
// backup and the source disagree, by kind.
struct VerifyOutcome {
    std::string scope;                    // "slice 3 of 7 (alpha, gamma)", "alpha/edit", "the whole backup"
    std::uint64_t differing = 0;          // files whose content differs though size and time match
    std::vector<std::string> paths;       // the first of them (printable, relative to the source)
    std::uint64_t marked = 0;             // given a time the next run will not skip
    std::vector<std::string> mark_errors; // why some could not be marked
    bool mirror = false;                  // VerifyRequest::mirror
    std::uint64_t missing = 0;            // entries of the source the backup lacks
    std::uint64_t extraneous = 0;         // entries of the backup the source no longer has
    std::uint64_t outdated = 0;           // files whose size or time differ (changed since the last run)
    std::vector<std::string> missing_paths, extraneous_paths, outdated_paths;   // the first kListed of each
    static constexpr std::size_t kListed = 20;
};

// Fills the findings of `outcome` (all but differing and marked) from a verify's changes.
void note_verify_findings(VerifyOutcome &outcome, const ChangeList &changes);

// True when a verify found damage: content that differs, entries missing, and (when the
// backup mirrors) entries the source no longer has. Outdated files are what rsync's
// quick check sees (the source changed since the run) and the next run copies: listed,
// not damage.
bool verify_found_damage(const VerifyOutcome &outcome);

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

// The run error of a verify that found damage (verify_found_damage()).
std::string verify_error(const VerifyOutcome &outcome);

}  // namespace dailysync
