// The daily run's compare of the source with its backup: both trees listed and lstat()ed
// through their ports (io/tree_reader.hpp) folder by folder, `threads` folders at once (a
// NAS answers each thread's metadata calls one at a time: the compare is latency-bound, so
// threads make it fast), each folder pair judged by core/tree_compare.hpp, the changes
// grouped for rsync (core/change_units.hpp) and the source's per-folder statistics taken
// on the way (the next run's plan). Blocking: run it on the WorkerPool. No symlink is
// followed, also not on the way to a folder (as the readers promise). Each
// entry is a step of its progress (its deadline counts from the last entry seen); a
// cancelled compare stops at the next entry. Memory grows with the folders and the
// changes, not with the entries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/change_units.hpp"
#include "core/rsync_filter.hpp"
#include "core/tree_compare.hpp"
#include "core/tree_stats.hpp"
#include "io/tree_reader.hpp"
#include "io/worker_pool.hpp"

namespace dailysync {

class Source;
class Destination;

struct CompareCounts {
    std::uint64_t compared = 0;    // source entries looked at (excludes left out)
    std::uint64_t created = 0;     // entries to make (the contents of new folders included)
    std::uint64_t updated = 0;     // files whose data is sent again
    std::uint64_t attributes = 0;  // entries whose attributes are fixed
    std::uint64_t replaced = 0;    // entries of another type (or link target) on the destination
    std::uint64_t deleted = 0;     // entries only on the destination (a folder counts once)
    std::uint64_t bytes = 0;       // data of the files to send
    void add(const CompareCounts &other);
};

struct CompareResult {
    std::string error;                   // the roots could not be read, or cancelled: nothing else holds
    TreeStats source_tree;               // finalized
    std::vector<ChangeGroup> groups;     // each lists its folder first, whether that changed or not
    std::vector<std::string> whole;      // folders whose trees rsync compares itself (FolderDiff::needs_rsync)
    bool root_changed = false;           // the roots' own attributes differ (the root group lists it)
    CompareCounts counts;
    std::vector<std::string> unreadable; // "side folder: reason", the first 20
    std::uint64_t unreadable_count = 0;  // with any on the source side, nothing is deleted (as rsync does)
    double cpu_seconds = 0;              // of the compare's threads
};

struct CompareSettings {
    DiffOptions options;
    const ExcludeRules *excludes = nullptr;
    unsigned threads = 4;
};

// Both trees through their ports; a tree that cannot be opened is the result's error.
CompareResult compare_trees(const Source &source, const Destination &destination, const CompareSettings &settings,
                            WorkProgress &progress);
CompareResult compare_trees(const TreeReader &source, const TreeReader &destination, const CompareSettings &settings,
                            WorkProgress &progress);

}  // namespace dailysync
