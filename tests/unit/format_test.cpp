#include <gtest/gtest.h>

#include "core/format.hpp"

using namespace dailysync;

TEST(Format, Bytes) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(999), "999 B");
    EXPECT_EQ(format_bytes(1000), "1.00 kB");
    EXPECT_EQ(format_bytes(1'500'000'000), "1.50 GB");
    EXPECT_EQ(format_bytes(25'000'000), "25.0 MB");
    EXPECT_EQ(format_bytes(999'000'000), "999 MB");
}

TEST(Format, RatesDurationsAndTimes) {
    EXPECT_EQ(format_rate(0), "0 B/s");
    EXPECT_EQ(format_rate(-5), "0 B/s");
    EXPECT_EQ(format_rate(2'500'000), "2.50 MB/s");
    // Units spelled out: "0:20" could be minutes or hours.
    EXPECT_EQ(format_duration(0), "0s");
    EXPECT_EQ(format_duration(20), "20s");
    EXPECT_EQ(format_duration(75), "1m 15s");
    EXPECT_EQ(format_duration(3723), "1h 02m 03s");
    EXPECT_EQ(format_eta(std::nullopt), "--");
    EXPECT_EQ(format_eta(61.4), "1m 01s");
    EXPECT_EQ(format_eta(3723), "1h 02m");   // an estimate of hours needs no seconds
    EXPECT_EQ(format_eta(-3), "0s");
    EXPECT_EQ(format_utc(std::chrono::system_clock::time_point(std::chrono::seconds(0))), "1970-01-01T00:00:00Z");
}
