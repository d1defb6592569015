// The port through which the daemon keeps versions at a run's destination: what a run
// does with them (make its point, note what it created, merge a later rsync's scratch
// folder, record its end, retention, delete what retention set aside) and what
// ListVersions reads. io/version_store implements it on a folder of this machine; a test
// gives a fake, a remote destination would give its own. Blocking: called on the workers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/outcome.hpp"
#include "core/versions.hpp"

namespace dailysync {

class RunVersions {
public:
    virtual ~RunVersions() = default;

    // Before run `run_id` copies: makes its point ("running") and returns where the run
    // keeps what it overwrites or deletes: the newest point, or a new start point when
    // there is none (or runs without versions came in between). `first_copy`: the backup
    // is being made from nothing and no point exists: there is nothing to keep, the run's
    // point starts the versions (back_dir stays "").
    struct Began {
        std::string back_dir;       // for rsync --backup-dir; "" = keep nothing
        std::string created_path;   // the creations file of that point
        std::string scratch_dir;    // where rsyncs after a unit's first keep their files (keep_from)
        std::string error;          // "" when begun
        std::vector<std::string> set_aside;   // damaged versions set aside first
    };
    // `previous_at`: when the backup was last complete (the last complete run's end), the
    // time of a start point.
    virtual Began begin_run(const std::string &run_id, std::int64_t started, bool first_copy,
                            std::optional<std::int64_t> previous_at = {}) const = 0;
    // Moves what a later rsync of a unit kept in `scratch` (a folder of the Began's
    // scratch_dir) into the point it belongs to, where that point says nothing yet.
    virtual Done keep_from(const std::string &scratch, const std::function<void()> &step = {}) const = 0;
    // After a run: its scratch folders (all merged) go aside for empty_trash().
    virtual Done retire_scratch(const std::string &into) const = 0;
    // Where the entries such an rsync created are noted (beside its scratch folder).
    static std::string scratch_created_path(const std::string &scratch) { return scratch + ".created"; }
    // Appends entries (raw paths relative to the source) to a point's creations file.
    virtual Done append_created(const std::string &created_path, const std::vector<std::string> &entries) const = 0;
    // Records how the run ended (its point's result and time).
    virtual Done finish_run(const std::string &run_id, std::int64_t finished, const std::string &result) const = 0;
    // Called by runs without versions: if versions exist here, they stop being exact at
    // this run, and the next versioned run starts a new chain.
    virtual Done note_unversioned_run() const = 0;

    // Removes the points `policy` no longer keeps, each merged into the one before it,
    // oldest first, starting no removal after `budget` (the rest waits for the next run).
    // `step` is called as entries are handled (for the caller's deadline). What is left of
    // a removed point is renamed aside at once, for empty_trash().
    struct Pruned {
        std::vector<std::string> removed;
        std::size_t left = 0;   // still to remove when the budget ran out
        std::string error;
    };
    virtual Pruned prune(const VersionsPolicy &policy, const std::function<void()> &step = {},
                         std::chrono::seconds budget = std::chrono::minutes(15)) const = 0;
    // Deletes what prune() renamed aside: a day's changes, one round trip per file on a
    // NAS, so a run does it while it copies rather than at its end.
    virtual Done empty_trash(const std::function<void()> &step = {}) const = 0;

    // ListVersions: with no path, every version as JSON; with `path` (raw, relative to the
    // source), what it was in each. Missing versions: "[]".
    virtual Loaded<std::string> listing(const std::string &path, bool have_path) const = 0;
};

}  // namespace dailysync
