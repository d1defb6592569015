// The port for the tree a run copies from: the checks before and during a run, the facts
// the run gathers about entries, the first run's scan and the whole tree for the daily
// compare. local_source() (local_tree.hpp) is a folder on this machine (a NAS mounted
// here included); a snapshot of it or a folder on another host reached over ssh plugs in
// here.
//
// Every method may block for as long as the NAS does: call them on the WorkerPool, never
// on the event loop. They are const and may run on several threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "io/preflight.hpp"
#include "io/tree_reader.hpp"
#include "io/tree_scan.hpp"

namespace dailysync {

// What a run needs to know of one entry (lstat: a symlink is not followed).
struct EntryFacts {
    bool is_dir = false;
    std::uint64_t size = 0;
    std::int64_t mtime = 0;   // seconds
};

class Source {
public:
    virtual ~Source() = default;
    // Where it is, for messages ("/data/prod").
    virtual const std::string &location() const = 0;
    // nullopt when a run may read it: present, a folder, mounted and holding its sentinel
    // as configured, and not empty when the last complete run saw `previous_entries` in it.
    virtual std::optional<Problem> check(std::uint64_t previous_entries) const = 0;
    // Which folder it is (an unmount leaves an empty mount point of the same name).
    virtual std::optional<FolderIdentity> identity() const = 0;
    // Every operation on it is a network round trip (NFS, SMB, FUSE...).
    virtual bool remote() const = 0;
    // An entry by its path relative to the root; nullopt when it is not there, or when it
    // could not be looked up (then `error`, if given, says why: "Input/output error").
    virtual std::optional<EntryFacts> entry(const std::string &relative, std::string *error = nullptr) const = 0;
    virtual ScanResult scan(WorkProgress &progress) const = 0;
    // The tree, folder by folder, for the daily run's compare (io/tree_compare.hpp).
    virtual OpenedTree open_tree() const = 0;
};

}  // namespace dailysync
