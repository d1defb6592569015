// The checks before a run touches anything: is the source what it should be, is the
// destination really the backup volume. Each failure is one sentence for the report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/config.hpp"

namespace dailysync {

class Source;
class Destination;

// "" when the run may go ahead: the destination's and the source's checks, and the two
// trees and the state folder apart. `previous_entries`: what the last complete run saw in
// the source (0 when unknown); a source that is empty now refuses the run. Blocking.
std::string preflight(const Source &source, const Destination &destination, const Config &config, std::uint64_t previous_entries);

// The checks of one tree root: present ("dailysyncd does not create it"), a folder, a
// mount point when `must_be_mount_point`. "" or one sentence naming `role` and `path`.
std::string check_folder(const std::string &role, const std::string &path, bool must_be_mount_point);
// The folder holds at least one entry.
bool has_entries(const std::string &folder);

bool is_mount_point(const std::string &path);   // listed in /proc/self/mountinfo

// A folder's identity (device and inode), to tell at the end of a run whether the source
// is still the folder the run started on: an unmount leaves an empty mount point of the
// same name behind. nullopt when it cannot be stat'ed.
struct FolderIdentity {
    unsigned long long device = 0, inode = 0;
    bool operator==(const FolderIdentity &) const = default;
};
std::optional<FolderIdentity> folder_identity(const std::string &path);
// "" when `source` is still the folder `identity` names (or nothing was recorded), else
// "the source ... disappeared or was replaced during the run (unmounted?)".
std::string source_replaced(const Source &source, const std::optional<FolderIdentity> &identity);

// "" when `a` and `b` are apart as real folders: resolved (symlinks, "..") as far as they
// exist, and located in their filesystems (bind mounts), neither holds the other. Else a
// sentence naming both with their roles, ending in `consequence`.
std::string overlap_problem(const std::string &a, const std::string &a_role, const std::string &b, const std::string &b_role,
                            const std::string &consequence);
// The overlaps that make a configuration unusable: destination and source, state_dir and
// either. An empty message when none.
struct PathsProblem {
    std::string field;     // the configuration key at fault: "destination" or "state_dir"
    std::string message;
};
PathsProblem paths_problem(const Config &config);

}  // namespace dailysync
