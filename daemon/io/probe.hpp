// The measurements behind `dailysyncd --diagnose`: a bounded walk of the source, reads of
// its biggest files, writes and per-file metadata work (create, rename, unlink, with an
// lstat at the source) in one hidden folder at the destination, by 1, 4 or 16 worker
// processes at once. The source is only read (O_NOATIME where allowed). Everything has a
// time limit, so the whole probe stays under a minute on any storage.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/diagnosis.hpp"

namespace dailysync {

struct SourceSample {
    std::uint64_t files = 0, bytes = 0;
    bool complete = false;                     // the walk saw the whole tree
    std::vector<std::string> paths;            // a bounded number of files, for lstat
    std::vector<std::pair<std::uint64_t, std::string>> biggest;   // (size, path), biggest first
    std::string error;                         // the source itself could not be read
};

SourceSample sample_source(const std::string &source, std::chrono::milliseconds limit);

// Share of all cores idle over `window`, from /proc/stat.
double measure_cpu_idle(std::chrono::milliseconds window);

// Sequential reads of the biggest files (their cached pages dropped first), up to
// `max_bytes` or `limit`.
void measure_reads(const SourceSample &sample, std::uint64_t max_bytes, std::chrono::milliseconds limit, ProbeMeasurements &m);

// The probe's hidden folder at the destination: DESTINATION/.dailysyncd-probe-XXXXXX,
// made by mkdtemp (a new name, never an existing entry). Its name and a random token,
// also written into the folder's marker file, are recorded in STATE_DIR/probe (private to
// root), so a folder left by a killed probe is recognised by the next one: it is removed
// only when its marker holds the recorded token. Removal (the destructor's job, and the
// leftover's) deletes only names the probe writes; anything else stays, with a notice.
// A backed-up source entry of any name can never match: it cannot hold the token.
class ProbeFolder {
public:
    static constexpr const char *kPrefix = ".dailysyncd-probe-";
    ProbeFolder(const std::string &destination, const std::string &state_dir);
    ~ProbeFolder();
    ProbeFolder(const ProbeFolder &) = delete;
    ProbeFolder &operator=(const ProbeFolder &) = delete;
    const std::string &error() const { return error_; }
    const std::string &path() const { return path_; }
    // What happened to a folder left by an earlier probe ("" when there was none).
    const std::string &notice() const { return notice_; }

private:
    std::string record_, path_, error_, notice_;
    bool created_ = false;
};

// One file written in `folder` up to `max_bytes` or `limit`, fdatasync'ed, then removed.
// Returns an error message, or "".
std::string measure_writes(const std::string &folder, std::uint64_t max_bytes, std::chrono::milliseconds limit,
                           ProbeMeasurements &m);

// `workers` processes create, rename and later unlink small files in `folder`, each also
// lstat'ing source files from `paths` (every level gets its own share of them, so the
// cache of an earlier level does not answer). Returns an error message, or "".
std::string measure_metadata(const std::string &folder, const std::vector<std::string> &paths, int workers,
                             std::chrono::milliseconds limit, MetadataLevel &level);

// SIGINT/SIGTERM set a flag that every measurement checks; the probe then stops early and
// still removes its folder.
void install_probe_interrupt_handlers();
bool probe_interrupted();

}  // namespace dailysync
