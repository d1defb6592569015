// The verdict of `dailysyncd --diagnose`: from what the probe measured (io/probe), which
// resource will limit a daily run on this source and destination, and how many rsyncs to
// run at once. Pure: the numbers in, the verdict and its text out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dailysync {

// One pass of the per-file probe with `workers` processes at once. Each file costs an
// lstat of a source file, the create (open O_CREAT|O_EXCL, a small write, close) and the
// rename of a file at the destination, as rsync does per new file, and later its unlink.
struct MetadataLevel {
    int workers = 0;
    std::uint64_t files = 0;                 // create+rename cycles completed
    double seconds = 0;                      // wall time of the cycles
    double stat_ms = 0, create_ms = 0, rename_ms = 0, unlink_ms = 0;   // mean latency of one call
    double files_per_second() const { return seconds > 0 ? static_cast<double>(files) / seconds : 0; }
};

struct ProbeMeasurements {
    int cores = 1;
    bool source_remote = false, destination_remote = false;   // NFS, SMB, FUSE: a link between us and the disks
    double cpu_idle = 1;                     // share of all cores idle before the probe
    // The source tree, as far as the bounded walk got.
    std::uint64_t tree_files = 0, tree_bytes = 0;
    bool tree_complete = false;
    // Sequential reads of the biggest files found; writes of one file, fdatasync included.
    std::uint64_t read_bytes = 0, read_files = 0;
    double read_seconds = 0;
    std::uint64_t write_bytes = 0;
    double write_seconds = 0;
    std::vector<MetadataLevel> levels;       // 1, 4, 16 workers
};

struct Diagnosis {
    std::string resource = "unknown";        // cpu, disk-read, disk-write, per-file-latency, unknown
    std::string evidence;
    std::string advice;
    int recommended_concurrency = 0;         // 0: no recommendation
};

Diagnosis diagnose(const ProbeMeasurements &m);

// The measurements and the verdict as the lines `--diagnose` prints.
std::string diagnosis_text(const ProbeMeasurements &m, const Diagnosis &d);

}  // namespace dailysync
