// The checks before a run touches anything: is the source what it should be, is the
// destination really the backup volume. Each failure is one sentence for the report.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/config.hpp"
#include "core/problem.hpp"
#include "io/worker_pool.hpp"

namespace dailysync {

class Source;
class Destination;

// nullopt when the run may go ahead: the destination's and the source's checks, and the two
// trees and the state folder apart. `previous_entries`: what the last complete run saw in
// the source (0 when unknown); a source that is empty now refuses the run. Blocking.
std::optional<Problem> preflight(const Source &source, const Destination &destination, const Config &config, std::uint64_t previous_entries);

// The checks of one tree root: present ("dailysyncd does not create it"), a folder, a
// mount point when `must_be_mount_point`. nullopt, or the problem on `side` (its text names
// the side and `path`).
std::optional<Problem> check_folder(Side side, const std::string &path, bool must_be_mount_point);
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
// nullopt when `source` is still the folder `identity` names (or nothing was recorded),
// else "the source ... disappeared or was replaced during the run (unmounted?)".
std::optional<Problem> source_replaced(const Source &source, const std::optional<FolderIdentity> &identity);

// Where a configured folder really is: its path resolved (symlinks, "..") as far as it
// exists, with the rest appended (a state_dir yet to be made), and the identity of what
// exists there. resolve_place blocks as long as the NAS under `path` does (run it on a
// worker); nullopt when it cannot be resolved at all.
struct Place {
    std::string real;
    std::optional<FolderIdentity> identity;
};
std::optional<Place> resolve_place(const std::string &path);
std::string read_mountinfo();   // /proc/self/mountinfo (procfs: never waits on a NAS)

// "" when `a` and `b` (at the places resolved for them) are apart as real folders: neither
// is the other, holds the other, or reaches the other through a bind mount (`mountinfo`).
// Else a sentence naming both with their roles, ending in `consequence`. No system calls.
std::string overlap_problem(const std::string &a, const std::optional<Place> &a_place, const std::string &a_role, const std::string &b,
                            const std::optional<Place> &b_place, const std::string &b_role, const std::string &consequence,
                            const std::string &mountinfo);

// The places of the three folders a configuration names (nullopt: not resolved).
struct ConfigPlaces {
    std::optional<Place> source, destination, state_dir;
};
// The overlaps that make a configuration unusable: destination and source, state_dir and
// either (refused, on the side of the key at fault: Side::destination for "destination",
// Side::state for "state_dir"). nullopt when none. The first form resolves the places
// itself (blocking); the second judges places resolved on workers (no system calls).
std::optional<Problem> paths_problem(const Config &config);
std::optional<Problem> paths_problem(const Config &config, const ConfigPlaces &places, const std::string &mountinfo);
// The configuration key a paths_problem (or check_places) names: "destination",
// "state_dir", or "source" (a source that did not answer).
std::string paths_problem_field(const Problem &problem);

// paths_problem without blocking the loop: the three places resolved at once on `pool`
// (each on its own worker, so the side that does not answer is the one named), within
// `deadline`; then `done` on the loop with the overlap problem, or with the side that did
// not answer (kind not_answering; `while_doing`: " while the new configuration was
// checked"), or with a crash (defect); nullopt when the trees are apart.
// How long a reload (or the daemon's start) waits for that: at most this, or
// filesystem_timeout_seconds when shorter.
inline constexpr std::chrono::milliseconds kPlacesDeadline{10000};
void check_places(WorkerPool &pool, const Config &config, std::chrono::milliseconds deadline, const std::string &while_doing,
                  std::function<void(std::optional<Problem>)> done);

}  // namespace dailysync
