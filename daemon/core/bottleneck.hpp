// Which resource limits a run: a pure classifier over the per-second resource samples
// taken during the run (io/resource_sampler) and the run's own progress. It names one of
// cpu, disk-read, disk-write, memory, network, per-file-latency, with the numbers that
// decided and a piece of advice, or "unknown" when the evidence does not decide: a wrong
// verdict is worse than none.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/run_model.hpp"

namespace dailysync {

// One interval of the run (about a second). Fractions are 0..1; CPU fractions are of all
// cores together; children_cores counts cores (2.0 = two cores busy).
struct ResourceSample {
    double cpu_busy = 0;     // user + nice + system + irq + softirq
    double cpu_iowait = 0;
    double cpu_steal = 0;
    std::optional<double> pressure_cpu, pressure_io, pressure_memory;   // PSI "some": share of the interval stalled, where present
    std::optional<double> source_disk_busy, destination_disk_busy;        // device utilisation, when a block device
    double source_read_bytes_per_second = 0, destination_write_bytes_per_second = 0;
    double network_bytes_per_second = 0;   // received + sent on all interfaces but lo
    double memory_available = 1;           // MemAvailable / MemTotal
    double swap_pages_per_second = 0, major_faults_per_second = 0;
    double children_cores = 0;             // CPU of the rsync processes
    int children = 0;                      // rsync processes running (units)
    double files_per_second = 0, bytes_per_second = 0;   // from rsync's output
};

struct BottleneckVerdict {
    std::string resource = "unknown";
    std::string evidence;   // the numbers, one line
    std::string advice;
};

// `cores`: CPUs of the machine. `notes`: the concurrency changes of the run, whose
// evidence says whether more rsyncs made it faster.
BottleneckVerdict classify_bottleneck(const std::vector<ResourceSample> &samples, int cores,
                                      const std::vector<ConcurrencyNote> &notes);

// Keeps at most `capacity` samples: when full, every other sample is dropped, so a run of
// any length keeps an even picture of itself in bounded memory.
class SampleSeries {
public:
    explicit SampleSeries(std::size_t capacity = 3600) : capacity_(capacity) {}
    void add(const ResourceSample &sample);
    const std::vector<ResourceSample> &samples() const { return samples_; }

private:
    std::size_t capacity_;
    std::size_t stride_ = 1, skipped_ = 0;
    std::vector<ResourceSample> samples_;
};

}  // namespace dailysync
