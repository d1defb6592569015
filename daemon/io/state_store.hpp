// Files under state_dir: run reports (runs/RUN_ID.json) with their index (runs/index.json)
// and retention, the daemon's state (state.json), the statistics and concurrency the next
// run starts from. Written atomically. Blocking: the daemon calls it on its state worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "core/config.hpp"
#include "core/history.hpp"
#include "core/outcome.hpp"
#include "core/tree_stats.hpp"
#include "io/run_records.hpp"

namespace dailysync {

// What the daemon remembers between starts (state.json).
struct DaemonState {
    std::optional<std::time_t> last_success;   // when the last successful run finished
    std::optional<std::time_t> last_fire;      // when the scheduler last started a run
    std::string last_run_id;
    std::string last_result;
    std::string last_backup_run_id;             // the last run that was not a verify (what retry retries by default)
    std::optional<double> last_duration;         // seconds
    std::uint64_t last_bytes = 0, last_files = 0;   // copied by the last run
    std::map<std::string, std::time_t> project_success;   // printable project -> last complete copy
    std::string active_run_id;                 // set while a run is in progress: found at start = interrupted
    std::optional<std::time_t> active_run_started;
    std::optional<std::time_t> watching_since;   // when the daemon first ran on this state (stale alerts before any success)
    std::optional<std::time_t> stale_alerted;    // when the last "no success for stale_after" alert went out
    std::optional<std::time_t> last_verify;      // when the last verify finished...
    std::uint64_t last_verify_differing = 0;     // ...and how many files it found differing
};

struct LockLeftBy;
class StateStore;
// A run whose process died holding the state folder's run lock (`left_by`, from
// take_run_locks) gets its "interrupted" report, unless it has one (the service's own
// are recorded from state.json at its start). What to tell the admin; "" when nothing
// was recorded.
std::string record_run_left_in_lock(const StateStore &store, const Config &config, const std::optional<LockLeftBy> &left_by);

class StateStore final : public RunRecords {
public:
    // state_dir and the history retention come from `config`.
    explicit StateStore(const Config &config)
        : dir_(config.state_dir), keep_runs_(config.history_keep_runs), keep_days_(config.history_keep_days) {}
    const std::string &dir() const { return dir_; }
    std::string runs_dir() const { return dir_ + "/runs"; }
    std::string report_path(const std::string &run_id) const override { return runs_dir() + "/" + run_id + ".json"; }
    std::string index_path() const { return runs_dir() + "/index.json"; }

    // "20261126T153100Z", with "-2", "-3"... when a report of that name already exists.
    std::string allocate_run_id(std::chrono::system_clock::time_point now) const override;
    // Writes the report, records it in the index and removes the reports the retention
    // no longer keeps (a failure to prune is not an error of the write).
    Done write_report(const std::string &run_id, const std::string &json) const override;
    // A run whose process died during it (found in the state, or in a run lock it left):
    // its report says "interrupted", unless the run has a report already. `recorded`: one
    // was written.
    Done record_interrupted(const std::string &run_id, std::int64_t started, const std::string &source,
                            const std::string &destination, bool &recorded) const;
    // The report text; missing when there is none (or the id is not a run id).
    Loaded<std::string> read_report(const std::string &run_id) const;
    // The runs in the history, oldest first, from the index (rebuilt from the reports
    // when it is missing or damaged).
    Loaded<std::vector<RunSummary>> list_runs() const;

    // Per-folder statistics of the source, from the last complete run (tree-stats).
    std::string tree_stats_path() const { return dir_ + "/tree-stats"; }
    Loaded<TreeStats> load_tree_stats() const override;
    // When they were saved (the end of the last complete run); nullopt without them.
    std::optional<std::int64_t> tree_stats_time() const override;
    Done save_tree_stats(const TreeStats &stats) const override;

    // The concurrency `auto` ended the last complete run with, to start the next one there.
    std::string concurrency_path() const { return dir_ + "/concurrency"; }
    Loaded<int> load_concurrency() const override;
    Done save_concurrency(int level) const override;

    std::string state_path() const { return dir_ + "/state.json"; }
    // Loads state.json. A corrupt file is renamed to state.json.corrupt and reported in
    // *warning; the state then starts empty. A missing file is an empty state.
    DaemonState load_state(std::string *warning) const;
    Done save_state(const DaemonState &state) const;

private:
    std::optional<std::vector<RunSummary>> load_index() const;   // nullopt: missing or damaged
    std::vector<RunSummary> rebuild_index() const;   // from the reports themselves
    std::string dir_;
    int keep_runs_, keep_days_;
};

// Run ids are generated by allocate_run_id; anything else (e.g. "../x") is refused.
bool is_valid_run_id(const std::string &id);

// mkdir -p, new folders with `mode`.
Done make_directories(const std::string &path, mode_t mode = 0755);
// temp file in the same folder with `mode`, fsync, rename over `path`, fsync the folder.
// Private (0600) unless asked otherwise: state files name every path.
Done write_file_atomically(const std::string &path, const std::string &content, mode_t mode = 0600);
// A folder made 0700 when it is created: reports and tree statistics name every file of
// the source, even in private folders. An existing folder keeps its mode (state_dir may
// be a shared folder the admin chose) unless `ours` says it only ever holds our files
// (runs/), when it is set to 0700. Files are 0600 either way.
Done make_private_directory(const std::string &path, bool ours = false);

}  // namespace dailysync
