// Planning: which rsync invocations (work units) copy the tree, balanced so that no unit
// is much bigger than a fair share of the work. Pure.
//
// Planning is online. The first unit copies the source folder's own entries
// (non-recursive). When a non-recursive unit finishes, its output names the subfolders
// that exist now, and expand() plans them from the previous run's statistics:
//   - a subfolder whose estimated cost exceeds the share, and that has subfolders itself,
//     is split: a non-recursive unit for its own entries, expanded in turn when it ends;
//   - the other subfolders are packed, largest first, into units of at most one share:
//     one folder alone (source/dir/ -> destination/dir/), or several siblings in one
//     rsync (source/parent/a source/parent/b -> destination/parent/).
// Deletions stay exact: the non-recursive unit of a folder (rsync --dirs --delete)
// removes entries gone from it, whole folders included; a folder's contents are handled
// by exactly one unit below. Folders that are new since the statistics were taken come
// out of the non-recursive unit's output like every other, so nothing is missed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tree_stats.hpp"

namespace dailysync {

struct WorkUnit {
    std::string name;                  // printable, for reports ("." is the source itself)
    std::string base;                  // raw relative folder ("" = the source)
    std::vector<std::string> members;  // empty: the folder `base` itself; else subfolders of base, each recursive
    bool recursive = true;             // false: only base's own entries (rsync --dirs)
    bool expand = false;               // plan base's subfolders when this unit ends
    std::uint64_t estimated_entries = 0;
    std::uint64_t estimated_bytes = 0;
    double estimated_cost = 0;
    // The second pass of a guarded run (see deletion_guard.hpp): the same rsync again with
    // deletions allowed, up to `max_delete` of them. In the first pass of a listed unit,
    // the deletions the guard allowed before copying (allow_counted_deletions()); the
    // first pass of every other unit deletes nothing.
    bool deletion_pass = false;
    std::uint64_t max_delete = 0;
    // A listed unit (core/change_units.hpp): exactly these entries (raw, relative to the
    // source, "." for the source itself) go to one rsync --files-from, from the source's
    // top; base and members are unused. Entries the compare found gone are listed too
    // (rsync --delete-missing-args deletes them). `recursive`: each listed folder's whole
    // tree, compared by rsync (see FolderDiff::needs_rsync).
    std::vector<std::string> files;
    std::vector<std::string> folders;   // the folders whose changes it carries (reports, retries)
    std::uint64_t deletions = 0;        // how many of `files` the compare found gone
    bool deletions_counted = true;      // each of them is one entry (ChangeGroup::deletions_counted)
    bool listed() const { return !files.empty(); }
};

class Planner {
public:
    // What most entries will cost: on a first copy every entry is created (several round
    // trips and its data); on an update most are only compared with their copy. It sets
    // the smallest unit worth an rsync of its own.
    enum class Work { first_copy, update };
    // balanced: as above. one_rsync: the whole tree in one recursive unit, for what only
    // holds among the files one rsync sees (hard links between any two files).
    enum class Layout { balanced, one_rsync };

    // `previous` may be empty (no statistics yet): then every subfolder becomes its own
    // unit, which for the top level is one rsync per project.
    Planner(const TreeStats &previous, int concurrency, Work work, Layout layout = Layout::balanced);

    std::vector<WorkUnit> initial() const;
    std::vector<WorkUnit> expand(const std::string &base, const std::vector<std::string> &subdirs) const;
    double share() const { return share_; }

    // The share is the total cost / (kUnitsPerProcess x concurrency), but never below the
    // cost of an rsync's own start-up. Measured on the benchmark's daily run: 133 units at
    // concurrency 12 took 11.9 s of rsync CPU where one rsync compared the whole tree in
    // 2.0 s, i.e. about 75 ms per extra rsync against 0.1 ms per compared entry. With a
    // floor of 1000 the same run had 70 units, 8.2 s of rsync CPU, and took 10.3 s instead
    // of 12.2 s. A first copy spends far more per entry, so smaller units still pay there.
    static constexpr double kUnitsPerProcess = 4.0;
    static constexpr double kMinShareFirstCopy = 200.0;
    static constexpr double kMinShareUpdate = 1000.0;
    static constexpr std::size_t kMaxGroupMembers = 500;  // keeps argv small

private:
    const TreeStats &stats_;
    double share_;
    Layout layout_;
};

}  // namespace dailysync
