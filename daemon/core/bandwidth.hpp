// A bandwidth limit for the whole run ("bwlimit"): one rate, or a timetable of rates by
// time of day, like rclone's --bwlimit. rsync's own --bwlimit holds for one process, fixed
// when it starts; the run's budget is shared out among its rsyncs as each starts (what is
// left of the budget after the running ones, split over the slots about to be filled), so
// the sum never exceeds the limit whatever the concurrency does. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dailysync {

// "20M" (MiB/s), "500K", "1G", a plain number of KiB/s as rsync reads it, or "off"
// (nullopt). Bytes per second; nullopt in `ok` = not a rate.
struct ParsedRate {
    bool ok = false;
    std::optional<std::uint64_t> bytes_per_second;   // nullopt: off
};
ParsedRate parse_rate(std::string_view text);
std::string rate_text(std::optional<std::uint64_t> bytes_per_second);   // "20M", "512K", "off"

struct BandwidthSchedule {
    struct Window {
        int start_minute = 0, end_minute = 0;          // minutes after midnight, local; end may be before start (past midnight)
        std::optional<std::uint64_t> bytes_per_second;   // nullopt: off
        bool contains(int minute_of_day) const {
            return start_minute <= end_minute ? (minute_of_day >= start_minute && minute_of_day < end_minute)
                                              : (minute_of_day >= start_minute || minute_of_day < end_minute);
        }
    };
    std::optional<std::uint64_t> always;   // when there is no timetable
    std::vector<Window> windows;           // the timetable; a time it does not cover is unlimited
    // The limit at `minute_of_day` (0..1439), nullopt = unlimited.
    std::optional<std::uint64_t> at(int minute_of_day) const;
};

// "08:00-19:00" -> window (without its rate); nullopt when not that form.
std::optional<BandwidthSchedule::Window> parse_window(std::string_view text);

// What one rsync about to start may use: what the running ones leave of `budget`, shared
// over the slots about to be filled (`to_fill` >= 1: this one and those that may start
// with it), never below kMinShare (rsync needs some rate to make progress) nor, for a
// small limit, a sixteenth of it. A running rsync started without a limit counts as using
// all of it.
inline constexpr std::uint64_t kMinShare = 16 * 1024;
std::uint64_t launch_share(std::uint64_t budget, std::uint64_t running_total, int to_fill);
// rsync's option for a share: --bwlimit in KiB/s (rsync's unit), at least 1.
std::string bwlimit_option(std::uint64_t bytes_per_second);

}  // namespace dailysync
