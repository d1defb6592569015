// Human-readable numbers for terminals and logs. Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ctime>
#include <string>
#include <string_view>

namespace dailysync {

std::string format_bytes(std::uint64_t bytes);             // "1.5 GB" (SI, like rsync)
std::string format_rate(double bytes_per_second);          // "12.3 MB/s"
// Local time for people: "2026-11-30 02:00 CET", with_seconds "2026-11-30 02:00:07 CET".
std::string format_local_time(std::time_t when, bool with_seconds);
// "1 file", "2 files": a count with its noun in the right number.
std::string count_of(std::uint64_t n, std::string_view one, std::string_view many);
std::string format_duration(double seconds);               // "45s", "2m 03s", "1h 02m 03s"
std::string format_eta(std::optional<double> seconds);     // "45s", "2m 03s", "1h 02m"; "--" if unknown
// `text` padded with spaces to `width` columns, on the right (or on the left: `right`
// aligned); longer text is returned whole. Counts bytes: for table columns of ASCII.
std::string pad(std::string text, std::size_t width, bool right = false);
std::string format_utc(std::chrono::system_clock::time_point when);   // "2026-11-26T15:31:00Z"

}  // namespace dailysync
