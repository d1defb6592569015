#include "core/diagnosis.hpp"

#include <algorithm>
#include <cstdio>

#include "core/format.hpp"

namespace dailysync {

namespace {

// Below this much data a throughput figure says more about timer resolution and caches
// than about the disk or the link.
constexpr std::uint64_t kMinMeasuredBytes = 8'000'000;
constexpr double kGoodEnough = 0.8;   // a level within 80% of the best files/s is as good

std::optional<double> rate(std::uint64_t bytes, double seconds) {
    if (bytes < kMinMeasuredBytes || seconds <= 0) return std::nullopt;
    return static_cast<double>(bytes) / seconds;
}

std::string fixed(double value, int decimals) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return buffer;
}

std::string milliseconds(double ms) { return fixed(ms, ms < 0.1 ? 3 : ms < 10 ? 2 : 1) + " ms"; }

const MetadataLevel *level_with(const ProbeMeasurements &m, int workers) {
    for (const auto &l : m.levels)
        if (l.workers == workers && l.files > 0) return &l;
    return nullptr;
}

// The fewest workers that reach 80% of the best files/s measured.
const MetadataLevel *enough_workers(const ProbeMeasurements &m) {
    double best = 0;
    for (const auto &l : m.levels) best = std::max(best, l.files_per_second());
    const MetadataLevel *chosen = nullptr;
    for (const auto &l : m.levels)
        if (l.files > 0 && l.files_per_second() >= kGoodEnough * best && (!chosen || l.workers < chosen->workers)) chosen = &l;
    return chosen;
}

}  // namespace

Diagnosis diagnose(const ProbeMeasurements &m) {
    Diagnosis d;
    const double idle_cores = m.cpu_idle * m.cores;
    if (idle_cores < 0.5) {
        d.resource = "cpu";
        d.evidence = "only " + fixed(idle_cores, 1) + " of " + std::to_string(m.cores) + " cores idle before the probe";
        d.advice = "other work keeps the CPU busy: schedule the backup (daily_at) when the machine is quiet";
        d.recommended_concurrency = std::max(1, m.cores);
        return d;
    }
    const MetadataLevel *one = level_with(m, 1);
    const MetadataLevel *chosen = enough_workers(m);
    if (!one || !chosen || m.tree_files == 0) {
        d.evidence = !one ? "the per-file probe completed no file" : "no files found in the source";
        return d;
    }
    const double per_file_ms = 1000.0 / one->files_per_second();
    const double file_bytes = static_cast<double>(m.tree_bytes) / static_cast<double>(m.tree_files);
    const auto read = rate(m.read_bytes, m.read_seconds);
    const auto write = rate(m.write_bytes, m.write_seconds);
    std::optional<double> data_rate;
    if (read && write) data_rate = std::min(*read, *write);
    else data_rate = read ? read : write;
    const double data_ms = data_rate ? file_bytes / *data_rate * 1000.0 : 0;
    const double gain = chosen->files_per_second() / one->files_per_second();
    const std::string scaling = "files/s rose " + fixed(gain, 1) + "x from 1 to " + std::to_string(chosen->workers) + " workers";

    if (!data_rate || per_file_ms >= data_ms) {
        // Opening, creating and renaming cost more than moving the bytes of an average file.
        d.resource = "per-file-latency";
        d.evidence = "a file costs " + milliseconds(per_file_ms) + " of metadata round trips (1 worker) vs " +
                     (data_rate ? milliseconds(data_ms) + " to move its " + format_bytes(static_cast<std::uint64_t>(file_bytes)) +
                                      " at " + format_rate(*data_rate)
                                : std::string("an unmeasured data time")) +
                     "; " + scaling;
        d.recommended_concurrency = chosen->workers;
        d.advice = chosen->workers > 1 ? "run " + std::to_string(chosen->workers) + " rsyncs at once to hide the round trips"
                                       : "more workers did not help: the server handles one file at a time";
        return d;
    }
    const bool read_limits = read && (!write || *read <= *write);
    d.resource = read_limits ? (m.source_remote ? "network" : "disk-read") : (m.destination_remote ? "network" : "disk-write");
    d.evidence = std::string(read_limits ? "source reads " : "destination writes ") + format_rate(*data_rate) + ": an average file (" +
                 format_bytes(static_cast<std::uint64_t>(file_bytes)) + ") takes " + milliseconds(data_ms) + " of data vs " +
                 milliseconds(per_file_ms) + " of metadata; " + scaling;
    // More rsyncs share the same bandwidth; a few keep it busy while others open files.
    d.recommended_concurrency = std::clamp(chosen->workers, 2, 4);
    d.advice = std::string(read_limits ? "the source's" : "the destination's") + " throughput limits large files" +
               (m.source_remote || m.destination_remote ? " (the link or the NAS's disks)" : "") +
               ": more rsyncs than " + std::to_string(d.recommended_concurrency) + " will not copy faster";
    return d;
}

std::string diagnosis_text(const ProbeMeasurements &m, const Diagnosis &d) {
    std::string text;
    auto line = [&](const std::string &label, const std::string &value) { text += "  " + pad(label, 14) + value + "\n"; };
    line("CPU", fixed(m.cpu_idle * 100, 0) + "% idle (" + fixed(m.cpu_idle * m.cores, 1) + " of " + std::to_string(m.cores) +
                    " cores free)");
    line("source tree", std::to_string(m.tree_files) + " files, " + format_bytes(m.tree_bytes) +
                            (m.tree_complete ? "" : " (sampled: the walk stopped at its time limit)") +
                            (m.tree_files ? ", " + format_bytes(m.tree_bytes / m.tree_files) + " per file" : ""));
    auto throughput = [&](std::uint64_t bytes, double seconds, const std::string &what) {
        const auto r = rate(bytes, seconds);
        return (r ? format_rate(*r) : std::string("not measured (too little data)")) + " (" + format_bytes(bytes) + " in " +
               fixed(seconds, 1) + " s" + what + ")";
    };
    line("source read", throughput(m.read_bytes, m.read_seconds, ", " + std::to_string(m.read_files) + " files"));
    line("dest. write", throughput(m.write_bytes, m.write_seconds, ", fdatasync included"));
    text += "  per file      " + pad("workers", 9) + pad("files/s", 10, true) + pad("stat", 11, true) + pad("create", 11, true) +
            pad("rename", 11, true) + pad("unlink", 11, true) + "\n";
    for (const auto &l : m.levels)
        text += "                " + pad(std::to_string(l.workers), 9) + pad(fixed(l.files_per_second(), 0), 10, true) +
                pad(milliseconds(l.stat_ms), 11, true) + pad(milliseconds(l.create_ms), 11, true) +
                pad(milliseconds(l.rename_ms), 11, true) + pad(milliseconds(l.unlink_ms), 11, true) + "\n";
    text += "verdict: " + d.resource + ": " + d.evidence + "\n";
    if (!d.advice.empty()) text += "advice: " + d.advice + "\n";
    if (d.recommended_concurrency > 0)
        text += "recommended concurrency: " + std::to_string(d.recommended_concurrency) + " (\"concurrency\": " +
                std::to_string(d.recommended_concurrency) + " in the configuration, or \"auto\" to let each run adapt)\n";
    return text;
}

}  // namespace dailysync
