// The port for the tree a run writes to: its checks, and what the run does there besides
// rsync (looking at what arrived, removing the temporary files of a killed rsync, marking
// a damaged file for the next copy, reading the whole tree for the daily compare).
// local_destination() (local_tree.hpp) is a folder on this machine; a versioned destination
// (a snapshot per run) or one on another host plugs in here.
//
// Every method may block for as long as the NAS does: call them on the WorkerPool, never
// on the event loop. They are const and may run on several threads at once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/outcome.hpp"
#include "io/source.hpp"

namespace dailysync {

class Destination {
public:
    virtual ~Destination() = default;
    // nullopt when a run may write there: present, a folder, mounted as configured. Never
    // created: an unmounted NAS would be "backed up" onto the disk under its mount point.
    virtual std::optional<Problem> check() const = 0;
    virtual bool remote() const = 0;
    virtual std::optional<EntryFacts> entry(const std::string &relative) const = 0;
    // The names in a folder (relative to the root): missing when there is no such folder
    // (or a symlink on the way), unreadable with why.
    virtual Loaded<std::vector<std::string>> list(const std::string &folder) const = 0;
    // Removes a file (reached through no symlink).
    virtual Done remove(const std::string &relative) const = 0;
    // Gives a regular file (reached through no symlink) a modification time the next
    // run's quick check cannot match (1970-01-01 00:00:01), so that run copies it again:
    // a verify found its content damaged.
    virtual Done mark_for_copy(const std::string &relative) const = 0;
    // The tree, folder by folder, for the daily run's compare (io/tree_compare.hpp).
    virtual OpenedTree open_tree() const = 0;
};

}  // namespace dailysync
