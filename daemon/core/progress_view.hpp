// What the terminal shows during a run: a live multi-line view for a TTY, a plain line
// for logs and pipes. Pure: the caller draws the lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/run_model.hpp"

namespace dailysync {

// What the views need to know of a run in progress; taken from the RunModel in the
// process that runs it (dailysyncd --once) or from the D-Bus properties (dailysyncctl).
struct UnitProgress {
    std::string name;
    std::string state;   // as to_string(UnitState)
    std::uint64_t bytes_done = 0, bytes_total = 0, files_done = 0, files_total = 0;
};

struct ProgressSnapshot {
    std::uint64_t bytes_done = 0, bytes_total = 0, files_done = 0, files_total = 0;
    double bytes_per_second = 0;
    std::optional<double> eta_seconds;
    std::vector<UnitProgress> units;
};

ProgressSnapshot snapshot_of(const RunModel &run);

std::string progress_bar(double fraction, std::size_t width);   // "[#####.....]"

// Line 1: overall bar, %, bytes, files, rate, ETA, units finished. Then one line per
// running unit. Every line fits in `width` columns.
std::vector<std::string> live_view(const ProgressSnapshot &progress, std::size_t width);

// "progress 45% 1.20 GB/2.60 GB 1234/5000 files 35.2 MB/s eta 1:20 running: alpha, beta"
std::string plain_progress_line(const ProgressSnapshot &progress);

}  // namespace dailysync
