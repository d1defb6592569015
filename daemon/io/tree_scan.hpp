// Walks a folder tree and records per-folder statistics for the planner, when there are
// none from a previous run. Blocking (every entry is a stat on what may be a network
// mount): run it on the WorkerPool. Each entry counts as a step of its progress, so its
// deadline counts from the last entry seen; a cancelled walk stops at the next entry.
// Memory is bounded by the number of folders (the statistics) and the depth (open
// directories), not by the number of files.
#pragma once

#include <cstdint>
#include <string>

#include "core/tree_stats.hpp"
#include "io/worker_pool.hpp"

namespace dailysync {

struct ScanResult {
    TreeStats tree;
    std::string error;                 // non-empty: the root itself could not be read (or the walk was cancelled)
    std::uint64_t unreadable_dirs = 0; // folders below it that could not be opened
};

ScanResult scan_tree(const std::string &root, WorkProgress &progress);

}  // namespace dailysync
