#include "service/diagnose.hpp"

#include <iostream>

#include "cli.hpp"
#include "core/diagnosis.hpp"
#include "io/filesystem_kind.hpp"
#include "io/local_tree.hpp"
#include "io/preflight.hpp"
#include "io/probe.hpp"
#include "io/resource_sampler.hpp"
#include "io/run_lock.hpp"

namespace dailysync {

namespace {

using namespace std::chrono_literals;

// Time and size limits of each step; together well under a minute.
constexpr auto kCpuWindow = 1s;
constexpr auto kWalkLimit = 5s;
constexpr auto kReadLimit = 8s;
constexpr auto kWriteLimit = 6s;
constexpr auto kLevelLimit = 2s;
constexpr std::uint64_t kMaxReadBytes = 1ull << 30;
constexpr std::uint64_t kMaxWriteBytes = 1ull << 30;
constexpr int kLevels[] = {1, 4, 16};

// "dailysyncd: walking the source (at most 5 s)": what the probe does now, and how long it may take.
void step(const std::string &what, std::chrono::seconds limit, bool at_most = true) {
    std::cerr << "dailysyncd: " << what << " (" << (at_most ? "at most " : "") << limit.count() << " s)" << std::endl;
}

int failed(const std::string &why) {
    std::cerr << "dailysyncd: --diagnose: " << why << std::endl;
    return 2;
}

int interrupted() {
    std::cerr << "dailysyncd: --diagnose interrupted; its files at the destination are removed" << std::endl;
    return 130;
}

}  // namespace

int run_diagnose(const Config &config) {
    const RunLocks locks = take_run_locks(config.state_dir, config.destination, "--diagnose");
    if (locks.held_elsewhere) {
        std::cerr << "dailysyncd: --diagnose: " << locks.why << std::endl;
        return kExitLocked;
    }
    if (!locks.why.empty()) std::cerr << "dailysyncd: warning: " << locks.why << "; probing without that lock" << std::endl;
    install_probe_interrupt_handlers();
    // A foreground command: it may block on a hung NAS, and Ctrl-C ends it.
    if (auto problem = preflight(*local_source(config), *local_destination(config), config, 0)) return failed(problem->text);
    ProbeMeasurements m;
    m.cores = online_cores();
    m.source_remote = is_remote_filesystem(config.source);
    m.destination_remote = is_remote_filesystem(config.destination);
    std::cout << "dailysyncd --diagnose: " << config.source << "/ -> " << config.destination << "/ (" << m.cores << " cores)"
              << std::endl;

    step("measuring idle CPU", kCpuWindow, false);
    m.cpu_idle = measure_cpu_idle(kCpuWindow);
    step("walking the source", kWalkLimit);
    const SourceSample sample = sample_source(config.source, kWalkLimit);
    if (!sample.error.empty()) return failed(sample.error);
    m.tree_files = sample.files;
    m.tree_bytes = sample.bytes;
    m.tree_complete = sample.complete;
    if (probe_interrupted()) return interrupted();
    step("reading the biggest source files", kReadLimit);
    measure_reads(sample, kMaxReadBytes, kReadLimit, m);
    if (probe_interrupted()) return interrupted();

    const ProbeFolder folder(config.destination, config.state_dir);
    if (!folder.notice().empty()) std::cerr << "dailysyncd: " << folder.notice() << std::endl;
    if (!folder.error().empty()) return failed(folder.error());
    step("writing at the destination, in " + folder.path(), kWriteLimit);
    if (auto error = measure_writes(folder.path(), kMaxWriteBytes, kWriteLimit, m); !error.empty()) return failed(error);
    if (probe_interrupted()) return interrupted();
    // Every level lstats its own third of the sampled source files.
    const std::size_t share = sample.paths.size() / std::size(kLevels);
    for (std::size_t i = 0; i < std::size(kLevels); ++i) {
        step("per-file work with " + std::to_string(kLevels[i]) + " worker" + (kLevels[i] > 1 ? "s" : ""), kLevelLimit, false);
        const std::vector<std::string> paths(sample.paths.begin() + static_cast<std::ptrdiff_t>(i * share),
                                             sample.paths.begin() + static_cast<std::ptrdiff_t>((i + 1) * share));
        MetadataLevel level;
        if (auto error = measure_metadata(folder.path(), paths, kLevels[i], kLevelLimit, level); !error.empty())
            return failed(error);
        if (probe_interrupted()) return interrupted();
        m.levels.push_back(level);
    }
    std::cout << diagnosis_text(m, diagnose(m)) << std::flush;
    return 0;
}

}  // namespace dailysync
