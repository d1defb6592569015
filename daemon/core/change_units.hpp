// The daily run's units from the daemon's compare of both trees (io/tree_compare.hpp):
// only what differs goes to rsync, as lists (rsync --files-from), so no rsync starts for a
// folder with nothing to do and no unchanged entry passes through one. Pure.
//
// The compare's changes come in groups, one per folder found on both sides with anything
// to do: the folder itself (rsync then sets its time again after writing into it), its
// entries that changed, are new or are gone, and the whole of every new folder below it.
// A group is never split between two rsyncs: two of them writing into one folder would
// race on its time, and both would create a new folder's parents. Groups are packed, the
// costliest first, into units of similar cost: one per kMinListedShare of cost, at least
// one per rsync allowed to run (each entry listed costs round trips to the NAS, which go
// in parallel: on the benchmark's daily run 12 units copied in 1.7 s what 5 did in
// 2.4 s), at most kUnitsPerProcess x concurrency, and never more than there are groups.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/plan.hpp"

namespace dailysync {

struct ChangeGroup {
    std::string folder;                  // raw, relative to the roots ("" = the roots)
    std::vector<std::string> paths;      // entries to send (raw, relative to the source), the folder first
    std::vector<std::string> deletions;  // entries to delete (raw), whole folders by their name only
    // Each deletion removes one entry: none is a folder (whose contents go too, uncounted)
    // and no entry changes type (rsync deletes the old one first). The guard can then
    // allow them before copying (deletion_guard.hpp).
    bool deletions_counted = true;
    std::uint64_t entries = 0;           // entries sent (paths)
    std::uint64_t bytes = 0;             // their data
    void add(const ChangeGroup &other);  // the same folder, found by another thread
};

// The smallest cost worth an rsync of its own (a start costs about 75 ms of CPU, see
// Planner::kMinShareUpdate); every entry listed is sent or fixed, like a first copy's.
inline constexpr double kMinListedShare = Planner::kMinShareFirstCopy;

// `whole`: folders whose trees one recursive rsync each compares and copies (listed too,
// from the source's top, so excludes match as everywhere else); no group is below them.
std::vector<WorkUnit> plan_listed_units(std::vector<ChangeGroup> groups, const std::vector<std::string> &whole, int concurrency);

// The path as rsync --files-from takes it: "." for the root.
std::string listed_path(const std::string &relative);

}  // namespace dailysync
