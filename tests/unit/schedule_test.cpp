#include <cstdlib>
#include <ctime>
#include <gtest/gtest.h>

#include "core/schedule.hpp"

using namespace dailysync;

namespace {

// Sets TZ for the test and restores it afterwards.
class Zone {
public:
    explicit Zone(const char *tz) {
        const char *old = std::getenv("TZ");
        if (old) old_ = old;
        had_ = old != nullptr;
        setenv("TZ", tz, 1);
        tzset();
    }
    ~Zone() {
        if (had_) setenv("TZ", old_.c_str(), 1);
        else unsetenv("TZ");
        tzset();
    }

private:
    std::string old_;
    bool had_ = false;
};

// Local "YYYY-MM-DD HH:MM" of t in the current TZ, with the zone abbreviation.
std::string local(std::time_t t) {
    std::tm tm{};
    localtime_r(&t, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M %Z", &tm);
    return buffer;
}

std::time_t utc(int y, int mo, int d, int h, int mi) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return timegm(&tm);
}

}  // namespace

TEST(Schedule, LaterTodayOrTomorrow) {
    Zone zone("Europe/Berlin");
    // 2026-06-10 10:00 UTC = 12:00 CEST
    const std::time_t noon = utc(2026, 6, 10, 10, 0);
    EXPECT_EQ(local(next_daily_run(noon, 14, 30)), "2026-06-10 14:30 CEST");
    EXPECT_EQ(local(next_daily_run(noon, 2, 0)), "2026-06-11 02:00 CEST");
    // Exactly at the time: strictly after, so tomorrow.
    const std::time_t two = next_daily_run(noon, 2, 0);
    EXPECT_EQ(local(next_daily_run(two, 2, 0)), "2026-06-12 02:00 CEST");
    EXPECT_EQ(next_daily_run(two, 2, 0) - two, 24 * 3600);
}

TEST(Schedule, SpringForwardGapRunsAtTheFirstValidMinute) {
    Zone zone("Europe/Berlin");
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
    const std::time_t before = utc(2026, 3, 28, 12, 0);
    const std::time_t t = next_daily_run(before, 2, 30);
    EXPECT_EQ(local(t), "2026-03-29 03:00 CEST");
    EXPECT_EQ(t, utc(2026, 3, 29, 1, 0));
    // And the day after, back to normal, 23 hours later in real time.
    EXPECT_EQ(local(next_daily_run(t, 2, 30)), "2026-03-30 02:30 CEST");
}

TEST(Schedule, FallBackRepeatedHourRunsOnce) {
    Zone zone("Europe/Berlin");
    // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
    const std::time_t before = utc(2026, 10, 24, 12, 0);
    const std::time_t first = next_daily_run(before, 2, 30);
    EXPECT_EQ(local(first), "2026-10-25 02:30 CEST");   // the first occurrence
    EXPECT_EQ(first, utc(2026, 10, 25, 0, 30));
    const std::time_t second = next_daily_run(first, 2, 30);
    EXPECT_EQ(local(second), "2026-10-26 02:30 CET");   // not the repeat an hour later
}

TEST(Schedule, NewYorkTransitions) {
    Zone zone("America/New_York");
    // 2026-03-08: 02:00 EST -> 03:00 EDT
    EXPECT_EQ(local(next_daily_run(utc(2026, 3, 7, 17, 0), 2, 15)), "2026-03-08 03:00 EDT");
    // 2026-11-01: 02:00 EDT -> 01:00 EST; 01:30 twice
    const std::time_t first = next_daily_run(utc(2026, 10, 31, 17, 0), 1, 30);
    EXPECT_EQ(local(first), "2026-11-01 01:30 EDT");
    EXPECT_EQ(local(next_daily_run(first, 1, 30)), "2026-11-02 01:30 EST");
    // Midnight is an ordinary time.
    EXPECT_EQ(local(next_daily_run(utc(2026, 7, 1, 12, 0), 0, 0)), "2026-07-02 00:00 EDT");
}

TEST(Schedule, UtcHasNoSurprises) {
    Zone zone("UTC");
    EXPECT_EQ(next_daily_run(utc(2026, 12, 31, 23, 59), 0, 0), utc(2027, 1, 1, 0, 0));
    EXPECT_EQ(next_daily_run(utc(2028, 2, 28, 3, 0), 2, 0), utc(2028, 2, 29, 2, 0));
}

TEST(Schedule, CatchUpOnlyWhenTheLastSuccessIsOlderThanADay) {
    const std::time_t now = utc(2026, 6, 10, 12, 0);
    EXPECT_FALSE(needs_catch_up(now, std::nullopt));
    EXPECT_FALSE(needs_catch_up(now, now - 3600));
    EXPECT_FALSE(needs_catch_up(now, now - 24 * 3600));
    EXPECT_TRUE(needs_catch_up(now, now - 24 * 3600 - 1));
    EXPECT_TRUE(needs_catch_up(now, now - 30 * 24 * 3600));
}

TEST(Schedule, ClockSetBackAfterARunDoesNotRepeatIt) {
    Zone zone("UTC");
    const std::time_t fired = utc(2026, 6, 10, 2, 0);
    // The clock is set back an hour after the 02:00 run: still tomorrow, not 02:00 again.
    EXPECT_EQ(next_fire(fired - 3600, fired, 2, 0), utc(2026, 6, 11, 2, 0));
    // The clock jumps forward past several days: the next 02:00 after the new now.
    EXPECT_EQ(next_fire(utc(2026, 6, 20, 5, 0), fired, 2, 0), utc(2026, 6, 21, 2, 0));
    EXPECT_EQ(next_fire(utc(2026, 6, 20, 1, 0), std::nullopt, 2, 0), utc(2026, 6, 20, 2, 0));
}
