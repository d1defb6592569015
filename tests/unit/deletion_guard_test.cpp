#include <gtest/gtest.h>

#include "core/deletion_guard.hpp"
#include "core/mountinfo.hpp"

using namespace dailysync;

namespace {
WorkUnit unit(const std::string &name) {
    WorkUnit u;
    u.name = name;
    u.base = name;
    return u;
}
// A run whose first pass is over: units with (entries, held-back deletions, outcome).
RunModel first_pass(const std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t, UnitState>> &units) {
    std::vector<WorkUnit> planned;
    for (const auto &[name, entries, pending, state] : units) planned.push_back(unit(name));
    RunModel run("r", planned, false, WallClock::time_point{});
    for (std::size_t i = 0; i < units.size(); ++i) {
        const auto &[name, entries, pending, state] = units[i];
        run.unit_started(i, WallClock::time_point{});
        TransferCounters counters;
        counters.stats["Number of files"] = entries;
        ErrorSummary errors;
        errors.deletions_skipped = pending;
        run.unit_attempt_ended(i, state, 0, "", errors, counters, false, WallClock::time_point{});
    }
    return run;
}
}  // namespace

TEST(DeletionGuard, NothingHeldBackNothingToDo) {
    auto plan = plan_deletions(first_pass({{"a", 100, 0, UnitState::success}}), {DeleteLimit::Kind::percent, 10});
    EXPECT_EQ(plan.summary.pending, 0u);
    EXPECT_FALSE(plan.summary.refused);
    EXPECT_TRUE(plan.units.empty());
}

TEST(DeletionGuard, WithinTheLimitEachHoldingUnitGetsASecondPass) {
    auto run = first_pass({{"a", 900, 30, UnitState::success}, {"b", 50, 0, UnitState::success}, {"c", 20, 10, UnitState::warning}});
    auto plan = plan_deletions(run, {DeleteLimit::Kind::percent, 10});
    EXPECT_EQ(plan.summary.pending, 40u);
    EXPECT_EQ(plan.summary.destination_entries, 1010u);
    EXPECT_EQ(plan.summary.allowed, 101u);
    EXPECT_FALSE(plan.summary.refused);
    ASSERT_EQ(plan.units.size(), 2u);
    EXPECT_EQ(plan.units[0].name, "a (deletions)");
    EXPECT_TRUE(plan.units[0].deletion_pass);
    EXPECT_FALSE(plan.units[0].expand);
    EXPECT_EQ(plan.units[0].base, "a");
    EXPECT_GE(plan.units[0].max_delete, 30u);
    EXPECT_GE(plan.units[1].max_delete, 10u);
    EXPECT_LE(plan.units[0].max_delete + plan.units[1].max_delete, plan.summary.allowed) << "never more than the limit in total";
}

TEST(DeletionGuard, AnEmptiedSourceIsRefusedWithTheNumbers) {
    // The source lost almost everything: the first pass copied 3 entries and held back 997.
    auto plan = plan_deletions(first_pass({{"a", 3, 997, UnitState::success}}), {DeleteLimit::Kind::percent, 50});
    EXPECT_TRUE(plan.summary.refused);
    EXPECT_TRUE(plan.units.empty());
    EXPECT_EQ(plan.message,
              "refused to delete 997 of 1000 entries at the destination: max_delete is 50% (500 allowed); nothing was deleted. "
              "If the source is right, raise max_delete for one run");
    auto count = plan_deletions(first_pass({{"a", 100, 3, UnitState::success}}), {DeleteLimit::Kind::count, 2});
    EXPECT_TRUE(count.summary.refused);
    EXPECT_FALSE(plan_deletions(first_pass({{"a", 100, 2, UnitState::success}}), {DeleteLimit::Kind::count, 2}).summary.refused);
}

TEST(DeletionGuard, FailedUnitsKeepTheirDeletionsBack) {
    auto plan = plan_deletions(first_pass({{"a", 100, 5, UnitState::partial}, {"b", 100, 0, UnitState::success}}),
                               {DeleteLimit::Kind::percent, 50});
    EXPECT_EQ(plan.summary.pending, 0u);
    EXPECT_TRUE(plan.units.empty());
}

TEST(DeletionGuard, SecondPassUnitsAreNotCountedTwice) {
    auto run = first_pass({{"a", 100, 5, UnitState::success}});
    auto plan = plan_deletions(run, {DeleteLimit::Kind::percent, 50});
    run.add_units(plan.units);
    EXPECT_EQ(run.totals().files_total, 100u);
}

TEST(MountInfo, MountPointsWithEscapes) {
    const std::string text =
        "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
        "40 22 0:35 / /data/prod rw,nosuid shared:20 - fuse.sshfs nas:/prod rw\n"
        "41 22 0:36 / /mnt/with\\040space\\134x rw - tmpfs tmpfs rw\n"
        "garbage\n";
    EXPECT_EQ(parse_mount_points(text), (std::vector<std::string>{"/", "/data/prod", "/mnt/with space\\x"}));
    EXPECT_TRUE(parse_mount_points("").empty());
}
