#include "core/bandwidth.hpp"

#include <gtest/gtest.h>

#include "core/config.hpp"

using namespace dailysync;

TEST(Bandwidth, RatesAreRsyncsUnitsWithSuffixes) {
    EXPECT_EQ(parse_rate("20M").bytes_per_second, 20u * 1024 * 1024);
    EXPECT_EQ(parse_rate("500K").bytes_per_second, 500u * 1024);
    EXPECT_EQ(parse_rate("1G").bytes_per_second, 1024ull * 1024 * 1024);
    EXPECT_EQ(parse_rate("300").bytes_per_second, 300u * 1024) << "a bare number is KiB/s, as for rsync";
    EXPECT_TRUE(parse_rate("off").ok);
    EXPECT_FALSE(parse_rate("off").bytes_per_second);
    for (const char *bad : {"", "0M", "M", "1.5M", "-1M", "20MB", "1000000000000K"}) EXPECT_FALSE(parse_rate(bad).ok) << bad;
    EXPECT_EQ(rate_text(20u * 1024 * 1024), "20M");
    EXPECT_EQ(rate_text(512u * 1024), "512K");
    EXPECT_EQ(rate_text(std::nullopt), "off");
    EXPECT_EQ(bwlimit_option(4 * 1024 * 1024), "--bwlimit=4096");
    EXPECT_EQ(bwlimit_option(100), "--bwlimit=1");
}

TEST(Bandwidth, ATimetableGivesTheRateOfTheHourAndMayPassMidnight) {
    BandwidthSchedule s;
    auto day = *parse_window("08:00-19:00");
    day.bytes_per_second = 20u << 20;
    auto night = *parse_window("19:00-08:00");
    s.windows = {day, night};
    EXPECT_EQ(s.at(8 * 60), 20u << 20);
    EXPECT_EQ(s.at(18 * 60 + 59), 20u << 20);
    EXPECT_FALSE(s.at(19 * 60));
    EXPECT_FALSE(s.at(2 * 60));
    EXPECT_FALSE(s.at(7 * 60 + 59));
    BandwidthSchedule office;
    auto hours = *parse_window("09:00-17:00");
    hours.bytes_per_second = 1u << 20;
    office.windows = {hours};
    EXPECT_FALSE(office.at(20 * 60)) << "outside the timetable: unlimited";
    BandwidthSchedule constant;
    constant.always = 5u << 20;
    EXPECT_EQ(constant.at(3), 5u << 20);
    EXPECT_TRUE(parse_window("22:00-24:00"));
    for (const char *bad : {"8:00-19:00", "08:00-08:00", "25:00-01:00", "08:00 19:00", "08:60-09:00"}) EXPECT_FALSE(parse_window(bad)) << bad;
}

TEST(Bandwidth, AShareIsWhatTheRunningOnesLeaveOverTheSlotsFilling) {
    EXPECT_EQ(launch_share(4000 * 1024, 0, 4), 1000u * 1024);
    EXPECT_EQ(launch_share(4000 * 1024, 3000 * 1024, 1), 1000u * 1024);
    EXPECT_EQ(launch_share(4000 * 1024, 5000 * 1024, 2), kMinShare);
    EXPECT_EQ(launch_share(4000 * 1024, 0, 0), 4000u * 1024);
}

TEST(Bandwidth, TheConfigurationTakesARateOrATimetable) {
    auto parse = [](const std::string &extra) { return parse_config(R"({"source": "/a", "destination": "/b", )" + extra + "}"); };
    const auto flat = parse(R"("bwlimit": "20M")").config;
    ASSERT_TRUE(flat && flat->bwlimit);
    EXPECT_EQ(flat->bwlimit->at(0), 20u << 20);
    const auto table = parse(R"("bwlimit": {"08:00-19:00": "20M", "19:00-08:00": "off"})").config;
    ASSERT_TRUE(table && table->bwlimit);
    EXPECT_EQ(table->bwlimit->windows.size(), 2u);
    const auto again = parse_config(config_to_json(*table)).config;
    ASSERT_TRUE(again && again->bwlimit);
    EXPECT_EQ(again->bwlimit->at(9 * 60), 20u << 20);
    EXPECT_FALSE(again->bwlimit->at(20 * 60));
    EXPECT_EQ(parse_config(config_to_json(*flat)).config->bwlimit->at(0), 20u << 20);
    EXPECT_FALSE(parse(R"("bwlimit": null)").config->bwlimit);
    EXPECT_EQ(parse(R"("bwlimit": "fast")").error->pointer, "/bwlimit");
    EXPECT_EQ(parse(R"("bwlimit": {"8-19": "20M"})").error->pointer, "/bwlimit/8-19");
    EXPECT_EQ(parse(R"("bwlimit": {"08:00-19:00": "lots"})").error->pointer, "/bwlimit/08:00-19:00");
    EXPECT_NE(parse(R"("bwlimit": {"08:00-19:00": "1M", "18:00-20:00": "2M"})").error->message.find("overlaps"), std::string::npos);
    EXPECT_EQ(parse(R"("bwlimit": {})").error->pointer, "/bwlimit");
    const auto both = parse(R"("bwlimit": "20M", "rsync_extra_args": ["--bwlimit=100"])");
    ASSERT_TRUE(both.error);
    EXPECT_EQ(both.error->pointer, "/rsync_extra_args/0");
}
