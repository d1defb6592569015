// The daily run's compare of one folder on both sides, with the semantics of rsync
// --archive's quick check (the copy's rsync would decide the same): what is new, what
// changed and how, what is gone. Pure: io/tree_compare lists and lstat()s the folders
// (many at once, on threads) and hands the listings here.
//
// As rsync -a (-rlptgoD) does, running as root:
//   - a regular file is sent again when its size or its modification time (whole
//     seconds: rsync 3.x compares no nanoseconds with the default --modify-window) differs;
//   - otherwise, and for folders, symlinks, devices and specials, a difference in
//     permissions (not for symlinks), owner (`owner`: only root can set one), group or
//     modification time (symlinks too) is fixed in place;
//   - a symlink whose target differs, a device whose numbers or kind differ, or an entry
//     of another type is replaced;
//   - an entry only on the destination is deleted (with `deletions`) unless an exclude
//     matches it there (rsync protects excluded entries without --delete-excluded);
//   - an excluded entry of the source is not looked at, nor below it (see needs_rsync).
// Hard links, ACLs and extended attributes are not compared: a run that keeps them uses
// rsync's own compare (see compare_unsupported()).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/rsync_filter.hpp"

namespace dailysync {

enum class EntryType : std::uint8_t { file, dir, symlink, device, special };

// One entry of a folder as lstat() saw it (a symlink is not followed).
struct FsEntry {
    std::string name;             // raw bytes
    EntryType type = EntryType::file;
    std::uint32_t format = 0;     // st_mode & S_IFMT (tells char from block, FIFO from socket)
    std::uint32_t permissions = 0;   // st_mode & 07777
    std::uint32_t uid = 0, gid = 0;
    std::uint64_t size = 0;
    std::int64_t mtime = 0;       // seconds
    std::uint64_t rdev = 0;
    std::string link;             // a symlink's target (filled in by the lister for symlinks)
};

enum class EntryChange : std::uint8_t {
    create,       // not on the destination
    update,       // a file's data is sent again
    attributes,   // permissions, owner, group or time fixed in place
    replace,      // another type (or link target, or device) on the destination: removed, then made
    remove,       // only on the destination
};

struct FolderChange {
    std::string name;   // raw, inside the folder
    EntryChange change;
    EntryType type;     // the source's (the destination's for remove)
    std::uint64_t size; // the source's, for files
};

struct DiffOptions {
    bool owner = true;       // compare owners (rsync -o takes effect only as root)
    bool deletions = false;  // "delete"
};

struct FolderDiff {
    std::vector<FolderChange> changes;   // in name order
    std::vector<std::string> descend;    // subfolders on both sides, to compare in turn
    std::vector<std::string> fresh;      // subfolders only the source has (whole trees to copy)
    std::uint64_t compared = 0;          // source entries looked at (not excluded)
    // An entry only the destination has shares its name with one the source has but an
    // exclude hides (a "name/" pattern, a folder there, a file here): a list cannot get
    // rsync to delete it (the listed name is excluded on the way), so this folder's whole
    // tree goes to one recursive rsync (changes and fresh are then empty).
    bool needs_rsync = false;
    std::vector<FsEntry> source;         // those entries (for the folder's statistics)
};

// `folder`: relative to both roots ("" = the roots); `source` and `destination` its
// entries on each side, in any order (sorted here). The roots' own versions folder is
// never compared: the caller leaves it out.
FolderDiff diff_folder(const std::string &folder, std::vector<FsEntry> source, std::vector<FsEntry> destination,
                       const DiffOptions &options, const ExcludeRules &excludes);

// The attributes of one entry on both sides: true when rsync -a would change anything.
// Both are of the same type.
bool same_entry(const FsEntry &source, const FsEntry &destination, const DiffOptions &options);

// "" when the daemon may compare the trees itself for this configuration; else why not
// (then each unit's rsync compares, as before): options whose effect the compare cannot
// see (hard links, ACLs, xattrs), extra rsync arguments that change what rsync compares,
// excludes it cannot match exactly.
std::string compare_unsupported(const Config &config);

}  // namespace dailysync
