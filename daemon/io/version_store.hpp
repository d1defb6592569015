// The versions kept at the destination (core/versions.hpp says what they are): making a
// run's point, noting what it created, retention, and putting a point's backup together
// for a restore. Blocking, on a folder of this machine (the destination): the daemon
// calls it on its trees worker pool; dailysyncctl calls it directly.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/outcome.hpp"
#include "core/versions.hpp"
#include "io/run_versions.hpp"

namespace dailysync {

class VersionStore final : public RunVersions {
public:
    explicit VersionStore(std::string destination);
    const std::string &destination() const { return destination_; }
    std::string root() const { return destination_ + "/" + std::string(kVersionsFolder); }
    std::string back_dir(const std::string &id) const { return root() + "/" + id + "/back"; }
    std::string created_path(const std::string &id) const { return root() + "/" + id + "/created"; }

    // A version that cannot be trusted: its record (version.json) empty, garbage or not a
    // file, or a symlink where the store expects a folder or a file of its own (the version
    // itself, its back/, its creations list). Never followed; set aside by set_aside().
    struct Damaged {
        std::string id;
        std::string why;
    };
    // The points, oldest first; missing when no version was ever kept here. Damaged ones
    // are left out (and listed in `damaged` when given), and break the chain where they
    // stood (chain_break_for): no restore spans a version that is not there.
    Loaded<std::vector<VersionPoint>> points(std::vector<Damaged> *damaged = nullptr) const;
    // Moves each damaged version aside as ".damaged-ID" (a rename, so a symlink is moved,
    // never followed; kept for the admin to look at) and records the chain break; one
    // note per version for the run's report and alerts.
    Done set_aside(const std::vector<Damaged> &damaged, std::vector<std::string> &notes) const;
    // Retention merges cut short (a full destination, a killed daemon): (version merged,
    // version it goes into). The one it goes into, and every one before it, cannot be put
    // together exactly until begin_run() finishes the merge.
    std::vector<std::pair<std::string, std::string>> pending_merges() const;
    // Their local dates (for retention and --at DATE).
    static std::vector<DatedPoint> dated(const std::vector<VersionPoint> &points);

    // The port (io/run_versions.hpp): what a run and ListVersions do.
    Began begin_run(const std::string &run_id, std::int64_t started, bool first_copy,
                    std::optional<std::int64_t> previous_at = {}) const override;
    Done keep_from(const std::string &scratch, const std::function<void()> &step = {}) const override;
    Done retire_scratch(const std::string &into) const override;
    Done append_created(const std::string &created_path, const std::vector<std::string> &entries) const override;
    Done finish_run(const std::string &run_id, std::int64_t finished, const std::string &result) const override;
    Done note_unversioned_run() const override;
    Pruned prune(const VersionsPolicy &policy, const std::function<void()> &step = {},
                 std::chrono::seconds budget = std::chrono::minutes(15)) const override;
    Done empty_trash(const std::function<void()> &step = {}) const override;
    Loaded<std::string> listing(const std::string &path, bool have_path) const override;

    // What a point's back/ holds: space and entries.
    struct Usage {
        std::uint64_t bytes = 0, entries = 0;
    };
    Usage usage(const std::string &id) const;

    // The backup at points[index] for `path` (raw, relative to the source; "" = all):
    // the entries present then, each with the folder to take it from. `recurse` false: only
    // path itself. Layers: the point's and each later one's back/ and creations, the mirror.
    struct Assembled {
        RestoreView view;
        std::vector<std::string> layer_roots;   // per layer index: the folder entries come from
        std::string error;
    };
    Assembled assemble(const std::vector<VersionPoint> &points, std::size_t index, const std::string &path, bool recurse,
                       const std::function<void()> &step = {}) const;

    // What `path` was at each of `points`, oldest first (versions PATH).
    struct PathState {
        bool present = false;
        std::string state;   // "file, 3 B, modified ...", "symlink -> x", "absent", ...
    };
    std::vector<PathState> path_states(const std::vector<VersionPoint> &points, const std::string &path) const;

    // Builds, in a private folder beside the versions, the entries `assembled` holds as hard
    // links to where they are kept (folders made, with their attributes): one tree rsync
    // can copy from. Returns that folder; remove it with remove_tree().
    Loaded<std::string> stage(const Assembled &assembled, const std::function<void()> &step = {}) const;
    // Removes a folder and all below it (a version, a staging tree); `step` is called from
    // several threads.
    static Done remove_tree(const std::string &path, const std::function<void()> &step = {});

private:
    static std::string describe(const std::string &file);
    Done write_point(const VersionPoint &point) const;
    // Moves what `from_back` (and the creations file `from_created`, "" = none) say into
    // point `into`, where it says nothing yet; "" or why not.
    std::string merge_into(const std::string &from_back, const std::string &from_created, const std::string &into,
                           const std::function<void()> &step) const;
    Done recover_scratch() const;
    Done recover_merges(std::vector<std::string> &notes) const;
    std::string destination_;
    std::shared_ptr<std::mutex> append_lock_;   // appends to a creations file from several workers
};

// The listings as JSON, for dailysyncctl --json and D-Bus ListVersions: every version with
// the space it holds, or what `path` was in each.
nlohmann::ordered_json versions_json(const VersionStore &store, const std::vector<VersionPoint> &points);
nlohmann::ordered_json path_states_json(const std::vector<VersionPoint> &points, const std::vector<VersionStore::PathState> &states);

}  // namespace dailysync
