// The port through which a run reads and writes its records in the state folder: its id,
// the last complete run's statistics and concurrency, its report, and what the next run
// inherits. io/state_store implements it on state_dir (a local disk); a test gives a
// fake. Blocking: called on the state worker (allocate_run_id excepted: see BackupRun).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/outcome.hpp"
#include "core/tree_stats.hpp"

namespace dailysync {

class RunRecords {
public:
    virtual ~RunRecords() = default;
    // "20261126T153100Z", with "-2", "-3"... when a report of that name already exists.
    virtual std::string allocate_run_id(std::chrono::system_clock::time_point now) const = 0;
    // Where run_id's report is (for the hooks' environment and the bus).
    virtual std::string report_path(const std::string &run_id) const = 0;
    // Writes the report, records it in the index and removes the reports the retention
    // no longer keeps (a failure to prune is not an error of the write).
    virtual Done write_report(const std::string &run_id, const std::string &json) const = 0;
    // Per-folder statistics of the source, from the last complete run.
    virtual Loaded<TreeStats> load_tree_stats() const = 0;
    // When they were saved (the end of the last complete run); nullopt without them.
    virtual std::optional<std::int64_t> tree_stats_time() const = 0;
    virtual Done save_tree_stats(const TreeStats &stats) const = 0;
    // The concurrency `auto` ended the last complete run with, to start the next one there.
    virtual Loaded<int> load_concurrency() const = 0;
    virtual Done save_concurrency(int level) const = 0;
};

}  // namespace dailysync
