#include <gtest/gtest.h>

#include "cli.hpp"

using namespace dailysync;

TEST(CommandLine, Modes) {
    EXPECT_EQ(parse_command_line({"--once"}).mode, Mode::once);
    EXPECT_EQ(parse_command_line({"--check-config", "--config", "/x.json"}).config_path, "/x.json");
    EXPECT_EQ(parse_command_line({"--once", "--config=/y.json", "--dry-run"}).config_path, "/y.json");
    EXPECT_TRUE(parse_command_line({"--once", "--dry-run"}).dry_run);
    EXPECT_EQ(parse_command_line({"--once", "--help"}).mode, Mode::help);
    EXPECT_EQ(parse_command_line({"--version"}).mode, Mode::version);
    EXPECT_EQ(parse_command_line({"--diagnose", "-c", "/z.json"}).mode, Mode::diagnose);
    EXPECT_EQ(parse_command_line({"--once"}).config_path, "/etc/dailysyncd/dailysyncd.json");
}

TEST(CommandLine, UsageErrors) {
    EXPECT_FALSE(parse_command_line({"--bogus"}).error.empty());
    EXPECT_FALSE(parse_command_line({"--once", "--config"}).error.empty());
    EXPECT_FALSE(parse_command_line({"--once", "--check-config"}).error.empty());
    EXPECT_FALSE(parse_command_line({"--check-config", "--dry-run"}).error.empty());
    EXPECT_EQ(parse_command_line({"--diagnose", "--once"}).error, "--once, --check-config and --diagnose exclude each other");
    EXPECT_FALSE(parse_command_line({"--diagnose", "--dry-run"}).error.empty());
    EXPECT_FALSE(parse_command_line({"--diagnose", "--user"}).error.empty());
    EXPECT_FALSE(parse_command_line({"--once", "--config="}).error.empty());
    EXPECT_NE(std::string(help_text()).find("Exit status"), std::string::npos);
}
