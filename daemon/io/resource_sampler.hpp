// Reads what the machine is doing, about once a second during a run, from /proc only:
// CPU by state (/proc/stat), pressure stall information (/proc/pressure/*), the block
// devices under source and destination (/proc/diskstats), network interfaces
// (/proc/net/dev), memory and swap (/proc/meminfo, /proc/vmstat), and the CPU of the rsync
// process groups (/proc/PID/stat). Each call returns the rates since the previous one.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>

#include "core/bottleneck.hpp"

namespace dailysync {

using BlockDevice = std::pair<unsigned, unsigned>;   // major, minor
// The block device a path's filesystem lives on; nullopt for tmpfs, FUSE, NFS... A stat:
// blocking on a hung NAS (call it on the WorkerPool).
std::optional<BlockDevice> block_device_of(const std::string &path);

class ResourceSampler {
public:
    // The devices under the source and the destination, whose disk statistics to read.
    ResourceSampler(std::optional<BlockDevice> source_device, std::optional<BlockDevice> destination_device);
    // `groups`: process groups of the running rsyncs; `files`, `bytes`: the run's progress
    // counters. nullopt on the first call (nothing to compare with yet).
    std::optional<ResourceSample> sample(double now_seconds, const std::set<pid_t> &groups, std::uint64_t files,
                                         std::uint64_t bytes);

private:
    struct Counters {
        double at = 0;
        std::uint64_t cpu_total = 0, cpu_busy = 0, cpu_iowait = 0, cpu_steal = 0;
        std::uint64_t source_sectors_read = 0, source_io_ms = 0, destination_sectors_written = 0, destination_io_ms = 0;
        std::uint64_t network_bytes = 0, swap_pages = 0, major_faults = 0;
        std::uint64_t children_ticks = 0, files = 0, bytes = 0;
        std::optional<std::uint64_t> stall_cpu, stall_io, stall_memory;   // PSI "some" totals, microseconds
    };
    Counters read_counters(double now, const std::set<pid_t> &groups) const;

    std::optional<BlockDevice> source_device_, destination_device_;
    std::optional<Counters> previous_;
};

int online_cores();

// The first line of /proc/stat, in ticks: all cores together.
struct CpuTimes {
    std::uint64_t total = 0, busy = 0, iowait = 0, steal = 0;   // busy: user + nice + system + irq + softirq
};
CpuTimes read_cpu_times();

}  // namespace dailysync
