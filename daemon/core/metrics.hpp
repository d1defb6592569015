// Prometheus text-format metrics for node_exporter's textfile collector. Pure.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>

namespace dailysync {

struct MetricsSnapshot {
    std::optional<std::time_t> last_success;        // end of the last successful run
    std::optional<double> last_duration_seconds;    // of the last finished run
    std::uint64_t last_bytes = 0;                   // bytes copied by the last run
    std::uint64_t last_files = 0;                   // files copied by the last run
    std::string last_result;                        // "" before the first run
    std::map<std::string, std::time_t> project_last_success;   // printable project name -> time
    std::optional<std::time_t> last_verify;          // end of the last verify (nullopt: none yet)
    std::uint64_t last_verify_differing = 0;         // files it found differing from the source
};

// Every metric with # HELP and # TYPE lines; label values escaped as the format requires.
std::string format_metrics(const MetricsSnapshot &snapshot);

}  // namespace dailysync
