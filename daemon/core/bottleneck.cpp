#include "core/bottleneck.hpp"

#include <algorithm>
#include <cstdio>

namespace dailysync {

namespace {

constexpr std::size_t kMinSamples = 5;   // seconds of copying before any verdict

struct Means {
    double cpu_busy = 0, children_cores = 0, children = 0;
    double files_per_second = 0, bytes_per_second = 0, memory_available = 0, swap = 0, faults = 0;
    double read = 0, write = 0;
    std::optional<double> pressure_cpu, pressure_memory, source_busy, destination_busy;
};

template <class Get>
std::optional<double> mean_of_optional(const std::vector<const ResourceSample *> &s, Get get) {
    double sum = 0;
    std::size_t n = 0;
    for (const auto *x : s)
        if (auto v = get(*x)) sum += *v, ++n;
    if (n * 2 < s.size()) return std::nullopt;   // present in too few samples to judge
    return sum / static_cast<double>(n);
}

Means means(const std::vector<const ResourceSample *> &s) {
    Means m;
    const double n = static_cast<double>(s.size());
    for (const auto *x : s) {
        m.cpu_busy += x->cpu_busy / n;
        m.children_cores += x->children_cores / n;
        m.children += x->children / n;
        m.files_per_second += x->files_per_second / n;
        m.bytes_per_second += x->bytes_per_second / n;
        m.memory_available += x->memory_available / n;
        m.swap += x->swap_pages_per_second / n;
        m.faults += x->major_faults_per_second / n;
        m.read += x->source_read_bytes_per_second / n;
        m.write += x->destination_write_bytes_per_second / n;
    }
    m.pressure_cpu = mean_of_optional(s, [](const ResourceSample &x) { return x.pressure_cpu; });
    m.pressure_memory = mean_of_optional(s, [](const ResourceSample &x) { return x.pressure_memory; });
    m.source_busy = mean_of_optional(s, [](const ResourceSample &x) { return x.source_disk_busy; });
    m.destination_busy = mean_of_optional(s, [](const ResourceSample &x) { return x.destination_disk_busy; });
    return m;
}

std::string percent(double fraction) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%.0f%%", fraction * 100.0);
    return buffer;
}

std::string number(double value, const char *unit) {
    char buffer[48];
    // "1.5 MB/s" but "4.0k major faults/s": the prefix goes with a unit of bytes only.
    const char *gap = unit[0] == 'B' ? " " : "";
    const char *after = unit[0] == 'B' ? "" : " ";
    if (value >= 1e6) std::snprintf(buffer, sizeof buffer, "%.1f%sM%s%s", value / 1e6, gap, after, unit);
    else if (value >= 1e3) std::snprintf(buffer, sizeof buffer, "%.1f%sk%s%s", value / 1e3, gap, after, unit);
    else std::snprintf(buffer, sizeof buffer, "%.1f %s", value, unit);
    return buffer;
}

// What a concurrency increase did, as the controller measured it: "work rate 72.0/s at 8
// children vs 40.0/s at 4 (x1.8)".
std::optional<std::string> concurrency_gain(const std::vector<ConcurrencyNote> &notes) {
    constexpr std::string_view kHelped = ": more children helped";
    for (const auto &note : notes) {
        const auto at = note.evidence.find(kHelped);
        if (at != std::string::npos) return note.evidence.substr(0, at);
    }
    return std::nullopt;
}

}  // namespace

void SampleSeries::add(const ResourceSample &sample) {
    if (++skipped_ < stride_) return;
    skipped_ = 0;
    samples_.push_back(sample);
    if (samples_.size() < capacity_) return;
    std::vector<ResourceSample> kept;
    for (std::size_t i = 0; i < samples_.size(); i += 2) kept.push_back(samples_[i]);
    samples_ = std::move(kept);
    stride_ *= 2;
}

BottleneckVerdict classify_bottleneck(const std::vector<ResourceSample> &samples, int cores,
                                      const std::vector<ConcurrencyNote> &notes) {
    std::vector<const ResourceSample *> copying;
    for (const auto &s : samples)
        if (s.children > 0) copying.push_back(&s);
    BottleneckVerdict v;
    if (copying.size() < kMinSamples) {
        v.evidence = std::to_string(copying.size()) + " s of copying sampled: too short to judge";
        return v;
    }
    const Means m = means(copying);
    const double cores_d = std::max(1, cores);
    const double bytes_per_file = m.files_per_second > 0 ? m.bytes_per_second / m.files_per_second : 0;
    const std::string rates = number(m.files_per_second, "files/s") + ", " + number(m.bytes_per_second, "B/s");

    // Memory: tasks stalled on memory a fifth of the time, or paging with little memory
    // available (machine-wide) or with some stall (a memory-limited cgroup pages while the
    // machine has plenty).
    const double memory_stall = m.pressure_memory.value_or(0);
    const bool paging = m.swap > 50 || m.faults > 200;
    if (memory_stall > 0.2 || (paging && (m.memory_available < 0.05 || memory_stall > 0.05))) {
        v.resource = "memory";
        v.evidence = "memory available " + percent(m.memory_available) + ", " + number(m.swap, "swap pages/s") + ", " +
                     number(m.faults, "major faults/s") +
                     (m.pressure_memory ? ", memory pressure " + percent(*m.pressure_memory) : std::string());
        v.advice = "lower concurrency, or give the backup more memory (the machine's, or the service's MemoryMax=)";
        return v;
    }
    // CPU: the machine's cores are (nearly) all busy, by the rsyncs or by others.
    if (m.cpu_busy > 0.9 || m.pressure_cpu.value_or(0) > 0.5) {
        v.resource = "cpu";
        v.evidence = "CPU " + percent(m.cpu_busy) + " busy on " + std::to_string(cores) + " cores, rsync using " +
                     number(m.children_cores, "cores") + (m.pressure_cpu ? ", CPU pressure " + percent(*m.pressure_cpu) : "") +
                     "; " + rates;
        v.advice = m.children_cores < 0.5 * cores_d
                       ? "processes other than rsync keep the CPU busy (other work, or the client of a network "
                         "filesystem such as sshfs): schedule the backup away from other work; more rsyncs will not help"
                       : "more rsyncs will not help; a faster CPU or fewer other tasks would";
        return v;
    }
    // Disks: a device under source or destination saturated.
    if (m.source_busy && *m.source_busy > 0.9 && (!m.destination_busy || *m.source_busy >= *m.destination_busy)) {
        v.resource = "disk-read";
        v.evidence = "source disk " + percent(*m.source_busy) + " busy, reading " + number(m.read, "B/s") + "; " + rates;
        v.advice = "the source disk is saturated: more rsyncs will not help";
        return v;
    }
    if (m.destination_busy && *m.destination_busy > 0.9) {
        v.resource = "disk-write";
        v.evidence = "destination disk " + percent(*m.destination_busy) + " busy, writing " + number(m.write, "B/s") + "; " + rates;
        v.advice = "the destination disk is saturated: more rsyncs will not help";
        return v;
    }
    // Per-file latency: the rsyncs mostly wait (little CPU each, disks not busy, little I/O
    // wait on local disks) while files are small: every file costs round trips.
    const bool rsyncs_waiting = m.children > 0 && m.children_cores / m.children < 0.3;
    const bool disks_idle = m.source_busy.value_or(0) < 0.5 && m.destination_busy.value_or(0) < 0.5;
    if (rsyncs_waiting && disks_idle && m.cpu_busy < 0.6 && m.files_per_second > 0 && bytes_per_file < 256 * 1024) {
        v.resource = "per-file-latency";
        v.evidence = rates + " (" + number(bytes_per_file, "B") + " per file), " + number(m.children, "rsyncs") + " using " +
                     number(m.children_cores, "cores") + ", CPU " + percent(m.cpu_busy) + " busy";
        const auto gain = concurrency_gain(notes);
        v.advice = gain ? *gain + ": raise concurrency" : "each file costs round trips to the NAS: more rsyncs at once hide them";
        if (gain) v.evidence += "; " + *gain;
        return v;
    }
    v.evidence = "nothing saturated: CPU " + percent(m.cpu_busy) + " busy, rsync using " + number(m.children_cores, "cores") +
                 ", memory available " + percent(m.memory_available) + "; " + rates;
    return v;
}

}  // namespace dailysync
