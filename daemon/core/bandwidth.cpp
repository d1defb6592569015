#include "core/bandwidth.hpp"

#include <algorithm>

namespace dailysync {

ParsedRate parse_rate(std::string_view text) {
    if (text == "off") return {true, std::nullopt};
    if (text.empty() || text.size() > 12) return {};
    std::uint64_t scale = 1024;   // rsync's default unit: KiB
    switch (text.back()) {
    case 'K': case 'k': scale = 1024; text.remove_suffix(1); break;
    case 'M': case 'm': scale = 1024 * 1024; text.remove_suffix(1); break;
    case 'G': case 'g': scale = 1024ull * 1024 * 1024; text.remove_suffix(1); break;
    default: break;
    }
    if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos || text.size() > 9) return {};
    std::uint64_t value = 0;
    for (char c : text) value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (value == 0) return {};
    return {true, value * scale};
}

std::string rate_text(std::optional<std::uint64_t> rate) {
    if (!rate) return "off";
    if (*rate % (1024ull * 1024 * 1024) == 0) return std::to_string(*rate / (1024ull * 1024 * 1024)) + "G";
    if (*rate % (1024 * 1024) == 0) return std::to_string(*rate / (1024 * 1024)) + "M";
    return std::to_string(*rate / 1024) + "K";
}

std::optional<std::uint64_t> BandwidthSchedule::at(int minute) const {
    if (windows.empty()) return always;
    for (const auto &w : windows)
        if (w.contains(minute)) return w.bytes_per_second;
    return std::nullopt;
}

std::optional<BandwidthSchedule::Window> parse_window(std::string_view text) {
    auto clock = [](std::string_view t) -> std::optional<int> {
        if (t.size() != 5 || t[2] != ':') return std::nullopt;
        for (int i : {0, 1, 3, 4})
            if (t[i] < '0' || t[i] > '9') return std::nullopt;
        const int hour = (t[0] - '0') * 10 + (t[1] - '0'), minute = (t[3] - '0') * 10 + (t[4] - '0');
        if (minute > 59 || hour > 24 || (hour == 24 && minute != 0)) return std::nullopt;
        return hour * 60 + minute;
    };
    if (text.size() != 11 || text[5] != '-') return std::nullopt;
    const auto start = clock(text.substr(0, 5)), end = clock(text.substr(6));
    if (!start || !end || *start == *end || *start == 1440) return std::nullopt;
    return BandwidthSchedule::Window{*start, *end, std::nullopt};
}

std::uint64_t launch_share(std::uint64_t budget, std::uint64_t running_total, int to_fill) {
    const std::uint64_t left = budget > running_total ? budget - running_total : 0;
    // The floor never exceeds a sixteenth of the limit: a small limit stays small.
    const std::uint64_t floor = std::max<std::uint64_t>(1024, std::min(kMinShare, budget / 16));
    return std::max(floor, left / static_cast<std::uint64_t>(std::max(1, to_fill)));
}

std::string bwlimit_option(std::uint64_t bytes_per_second) {
    return "--bwlimit=" + std::to_string(std::max<std::uint64_t>(1, bytes_per_second / 1024));
}

}  // namespace dailysync
