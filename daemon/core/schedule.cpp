#include "core/schedule.hpp"

#include <algorithm>

namespace dailysync {

namespace {

constexpr std::time_t kPeriod = 24 * 60 * 60;

struct Civil {
    int year, month, day, hour, minute;
    auto key() const { return ((((static_cast<long long>(year) * 13 + month) * 32 + day) * 24 + hour) * 60) + minute; }
};

Civil local_civil(std::time_t t) {
    std::tm tm{};
    localtime_r(&t, &tm);
    return {tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min};
}

// Instant(s) showing `c` on the local clock: tries both DST interpretations.
std::optional<std::time_t> first_instant_showing(const Civil &c) {
    std::optional<std::time_t> best;
    for (int isdst : {0, 1}) {
        std::tm tm{};
        tm.tm_year = c.year;
        tm.tm_mon = c.month;
        tm.tm_mday = c.day;
        tm.tm_hour = c.hour;
        tm.tm_min = c.minute;
        tm.tm_isdst = isdst;
        std::time_t t = std::mktime(&tm);
        if (t == static_cast<std::time_t>(-1)) continue;
        const Civil back = local_civil(t);
        if (back.key() == c.key() && (!best || t < *best)) best = t;
    }
    return best;
}

// The occurrence of HH:MM on the local date of `day`, or the first valid minute after it.
std::time_t occurrence_on(const Civil &day, int hour, int minute) {
    Civil wanted{day.year, day.month, day.day, hour, minute};
    if (auto t = first_instant_showing(wanted)) return *t;
    // HH:MM falls into a DST gap: find the first minute whose local time is past it.
    std::tm tm{};
    tm.tm_year = day.year;
    tm.tm_mon = day.month;
    tm.tm_mday = day.day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_isdst = -1;
    std::time_t guess = std::mktime(&tm);
    std::time_t t = guess - 3 * 3600;
    t -= ((t % 60) + 60) % 60;
    for (int i = 0; i < 6 * 60; ++i, t += 60) {
        if (local_civil(t).key() >= wanted.key()) return t;
    }
    return guess;
}

}  // namespace

std::time_t next_daily_run(std::time_t after, int hour, int minute) {
    Civil today = local_civil(after);
    for (int offset = 0; offset < 3; ++offset) {
        // Noon of the day `offset` days later, to step over dates safely across DST.
        std::tm tm{};
        tm.tm_year = today.year;
        tm.tm_mon = today.month;
        tm.tm_mday = today.day + offset;
        tm.tm_hour = 12;
        tm.tm_isdst = -1;
        std::time_t noon = std::mktime(&tm);
        const Civil day = local_civil(noon);
        const std::time_t t = occurrence_on(day, hour, minute);
        if (t > after) return t;
    }
    return after + kPeriod;   // unreachable for real time zones
}

bool needs_catch_up(std::time_t now, std::optional<std::time_t> last_success) {
    return last_success && now - *last_success > kPeriod;
}

std::time_t next_fire(std::time_t now, std::optional<std::time_t> last_fire, int hour, int minute) {
    const std::time_t reference = last_fire ? std::max(now, *last_fire) : now;
    return next_daily_run(reference, hour, minute);
}

}  // namespace dailysync
