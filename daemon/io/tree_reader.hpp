// The port through which a run reads a whole tree, the daily compare's two
// (io/tree_compare.hpp) and the first run's scan (io/tree_scan.hpp): folder by folder,
// each entry as lstat() sees it, no symlink followed, also not on the way to a folder
// (locally: openat2, Linux 5.6 and later; before it only the last component is checked).
// Source::open_tree() and Destination::open_tree() give one; a folder of this machine is
// read by open_local_tree() (io/local_tree.hpp), a tree on another host plugs in here
// with its own reader.
//
// Blocking, like every port: use it on the WorkerPool, never on the event loop. list()
// runs on several threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tree_compare.hpp"
#include "io/worker_pool.hpp"

namespace dailysync {

// One folder's entries, or the errno that kept it unread (ENOENT: gone since its parent
// was listed).
struct Listing {
    std::vector<FsEntry> entries;
    int error = 0;
};

class TreeReader {
public:
    virtual ~TreeReader() = default;
    // Where it is, for messages ("/data/prod").
    virtual const std::string &location() const = 0;
    // The root's own attributes (a folder; its name is empty); nullopt when unreadable.
    virtual std::optional<FsEntry> root() const = 0;
    // The entries of folder `relative` ("" = the root). Each entry read is a step of
    // `progress`; the listing stops early once it is cancelled.
    virtual Listing list(const std::string &relative, WorkProgress &progress) const = 0;
};

struct OpenedTree {
    std::unique_ptr<const TreeReader> reader;   // null when the tree cannot be read
    std::string error;                          // then why: "cannot read the source /data/prod: ..."
};

}  // namespace dailysync
