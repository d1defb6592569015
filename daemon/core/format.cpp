#include "core/format.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace dailysync {

std::string format_bytes(std::uint64_t bytes) {
    static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1000.0 && unit < 6) {
        value /= 1000.0;
        ++unit;
    }
    char buffer[32];
    if (unit == 0) std::snprintf(buffer, sizeof buffer, "%llu B", static_cast<unsigned long long>(bytes));
    else std::snprintf(buffer, sizeof buffer, value < 10 ? "%.2f %s" : value < 100 ? "%.1f %s" : "%.0f %s", value, units[unit]);
    return buffer;
}

std::string format_rate(double bytes_per_second) {
    if (!(bytes_per_second > 0)) return "0 B/s";
    return format_bytes(static_cast<std::uint64_t>(std::llround(bytes_per_second))) + "/s";
}

std::string format_local_time(std::time_t when, bool with_seconds) {
    std::tm tm{};
    localtime_r(&when, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, with_seconds ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M %Z", &tm);
    return buffer;
}

std::string count_of(std::uint64_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string format_duration(double seconds) {
    if (!(seconds >= 0)) seconds = 0;
    auto total = static_cast<unsigned long long>(std::llround(seconds));
    char buffer[48];
    if (total >= 3600)
        std::snprintf(buffer, sizeof buffer, "%lluh %02llum %02llus", total / 3600, (total / 60) % 60, total % 60);
    else if (total >= 60)
        std::snprintf(buffer, sizeof buffer, "%llum %02llus", total / 60, total % 60);
    else
        std::snprintf(buffer, sizeof buffer, "%llus", total);
    return buffer;
}

std::string format_eta(std::optional<double> seconds) {
    if (!seconds) return "--";
    if (!(*seconds >= 0)) return "0s";
    auto total = static_cast<unsigned long long>(std::llround(*seconds));
    if (total < 3600) return format_duration(static_cast<double>(total));
    char buffer[48];   // an estimate of hours needs no seconds
    std::snprintf(buffer, sizeof buffer, "%lluh %02llum", total / 3600, (total / 60) % 60);
    return buffer;
}

std::string format_utc(std::chrono::system_clock::time_point when) {
    std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

std::string pad(std::string text, std::size_t width, bool right) {
    if (text.size() >= width) return text;
    return right ? std::string(width - text.size(), ' ') + text : text + std::string(width - text.size(), ' ');
}

}  // namespace dailysync
