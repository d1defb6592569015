// Walks a folder tree through its reader (io/tree_reader.hpp) and records per-folder
// statistics for the planner, when there are none from a previous run. Blocking (every
// entry is a stat on what may be a network mount): run it on the WorkerPool. Several
// threads list folders at once (a NAS answers one metadata call at a time per client
// thread: the walk is latency-bound, so threads, not CPU, make it fast). Each entry
// counts as a step of its progress, so its deadline counts from the last entry seen; a
// cancelled walk stops at the next entry. Memory is bounded by the number of folders (the
// statistics, one record per thread) and the folders waiting to be listed, not by the
// number of files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/tree_stats.hpp"
#include "io/tree_reader.hpp"
#include "io/worker_pool.hpp"

namespace dailysync {

struct ScanResult {
    TreeStats tree;
    std::string error;                 // non-empty: the root itself could not be read (or the walk was cancelled)
    std::uint64_t unreadable_dirs = 0; // folders below it that could not be opened
};

inline constexpr unsigned kMaxScanThreads = 64;
inline constexpr unsigned kAutoScanThreadsLocal = 4;    // scan_threads "auto", local disks
inline constexpr unsigned kAutoScanThreadsRemote = 16;  // ... NFS, SMB, FUSE
// scan_threads as configured (nullopt = "auto": more on a network filesystem, whose
// every call is a round trip) for a tree on a `remote` filesystem.
inline unsigned scan_thread_count(std::optional<int> configured, bool remote) {
    return configured ? static_cast<unsigned>(*configured) : (remote ? kAutoScanThreadsRemote : kAutoScanThreadsLocal);
}
// `threads`: how many folders are listed at once (1..kMaxScanThreads).
ScanResult scan_tree(const TreeReader &tree, WorkProgress &progress, unsigned threads);

}  // namespace dailysync
