#include <algorithm>
#include <gtest/gtest.h>

#include "core/rsync_command.hpp"

using namespace dailysync;

namespace {
Config config() {
    Config c;
    c.source = "/data/prod";
    c.destination = "/data/prod_backup";
    return c;
}
bool has(const std::vector<std::string> &args, const std::string &arg) {
    return std::find(args.begin(), args.end(), arg) != args.end();
}
}  // namespace

TEST(RsyncCommand, ProjectUnitEndsWithSeparatorAndAbsolutePaths) {
    WorkUnit unit{"--delete", "--delete", true, 0, 0, 0};
    auto args = rsync_arguments(config(), unit, false);
    ASSERT_GE(args.size(), 3u);
    EXPECT_EQ(args[args.size() - 3], "--");
    EXPECT_EQ(args[args.size() - 2], "/data/prod/--delete/");
    EXPECT_EQ(args[args.size() - 1], "/data/prod_backup/--delete/");
    EXPECT_TRUE(has(args, "--archive"));
    EXPECT_TRUE(has(args, "--out-format=%i %l %n"));
    EXPECT_FALSE(has(args, "--delete"));     // delete is off by default
    EXPECT_FALSE(has(args, "--dirs"));
    EXPECT_FALSE(has(args, "--dry-run"));
}

TEST(RsyncCommand, TopLevelUnitIsNotRecursive) {
    WorkUnit unit{".", "", false, std::nullopt, 0, 0};
    auto c = config();
    c.delete_extraneous = true;
    c.exclude = {"*.tmp"};
    c.rsync_extra_args = {"--numeric-ids"};
    auto args = rsync_arguments(c, unit, true);
    EXPECT_TRUE(has(args, "--no-recursive"));
    EXPECT_TRUE(has(args, "--dirs"));
    EXPECT_TRUE(has(args, "--delete"));
    EXPECT_TRUE(has(args, "--dry-run"));
    EXPECT_TRUE(has(args, "--exclude=*.tmp"));
    EXPECT_TRUE(has(args, "--numeric-ids"));
    EXPECT_EQ(args.back(), "/data/prod_backup/");
    EXPECT_EQ(args[args.size() - 2], "/data/prod/");
    // Options come before "--"; nothing after it but the two paths.
    auto separator = std::find(args.begin(), args.end(), "--");
    EXPECT_EQ(args.end() - separator, 3);
}
