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

namespace {
// A compared run's listed unit: `deletions` of its entries found gone, each one entry or not.
WorkUnit listed(const std::string &folder, std::uint64_t deletions, bool counted) {
    WorkUnit u;
    u.name = "changes (" + folder + ")";
    u.files = {folder, folder + "/new"};
    for (std::uint64_t i = 0; i < deletions; ++i) u.files.push_back(folder + "/gone" + std::to_string(i));
    u.folders = {folder};
    u.recursive = false;
    u.deletions = deletions;
    u.deletions_counted = counted;
    return u;
}
}  // namespace

TEST(DeletionGuard, DeletionsTheCompareCountedAreAllowedBeforeCopyingWhenWithinTheLimit) {
    std::vector<WorkUnit> units{listed("a", 30, true), listed("b", 0, true), listed("c", 10, true)};
    // 1000 source entries + 40 deletions: 10 % allows 104.
    EXPECT_EQ(allow_counted_deletions(units, 1000, {DeleteLimit::Kind::percent, 10}), 40u);
    EXPECT_EQ(units[0].max_delete, 30u);
    EXPECT_EQ(units[1].max_delete, 0u);
    EXPECT_EQ(units[2].max_delete, 10u);
    // Exactly at the limit is within it.
    std::vector<WorkUnit> at{listed("a", 40, true)};
    EXPECT_EQ(allow_counted_deletions(at, 1000, {DeleteLimit::Kind::count, 40}), 40u);
    EXPECT_EQ(at[0].max_delete, 40u);
}

TEST(DeletionGuard, BeyondTheLimitOrUncountedEveryFirstPassDeletesNothing) {
    std::vector<WorkUnit> over{listed("a", 30, true), listed("c", 11, true)};
    EXPECT_EQ(allow_counted_deletions(over, 1000, {DeleteLimit::Kind::count, 40}), 0u);
    for (const auto &u : over) EXPECT_EQ(u.max_delete, 0u) << u.name;
    // A folder to delete (its contents go too, uncounted), or a type change beside
    // deletions: the whole run keeps the two passes, the guard decides on rsync's count
    // after the first. (A unit whose only deletion-like change is a type change keeps
    // --max-delete=0 itself: rsync holds the replacement back for the second pass.)
    std::vector<WorkUnit> folder{listed("a", 3, true), listed("c", 1, false)};
    EXPECT_EQ(allow_counted_deletions(folder, 1000, {DeleteLimit::Kind::percent, 50}), 0u);
    for (const auto &u : folder) EXPECT_EQ(u.max_delete, 0u) << u.name;
    // A whole tree rsync compares has deletions nobody counted.
    WorkUnit whole = listed("w", 0, false);
    whole.recursive = true;
    whole.deletions = 1;
    std::vector<WorkUnit> with_whole{listed("a", 3, true), whole};
    EXPECT_EQ(allow_counted_deletions(with_whole, 1000, {DeleteLimit::Kind::percent, 50}), 0u);
    EXPECT_EQ(with_whole[0].max_delete, 0u);
    std::vector<WorkUnit> none{listed("a", 0, true)};
    EXPECT_EQ(allow_counted_deletions(none, 1000, {DeleteLimit::Kind::percent, 50}), 0u);
}

TEST(DeletionGuard, WhatTheFirstPassDeletedCountsWithWhatItHeldBack) {
    // A compared run of 1000 source entries: unit a deleted its 40 (allowed before
    // copying) and held back 2 more (listed files that vanished since the compare).
    RunModel run("r", {listed("a", 40, true), listed("b", 0, true)}, false, WallClock::time_point{});
    run.set_compared_entries(1000);
    for (std::size_t i = 0; i < 2; ++i) {
        run.unit_started(i, WallClock::time_point{});
        TransferCounters counters;
        ErrorSummary errors;
        if (i == 0) counters.deletions = 40, errors.deletions_skipped = 2;
        run.unit_attempt_ended(i, UnitState::success, 0, "", errors, counters, false, WallClock::time_point{});
    }
    auto plan = plan_deletions(run, {DeleteLimit::Kind::count, 50});
    EXPECT_EQ(plan.summary.pending, 42u);
    EXPECT_EQ(plan.summary.before_copying, 40u);
    EXPECT_EQ(plan.summary.destination_entries, 1042u);
    EXPECT_FALSE(plan.summary.refused);
    ASSERT_EQ(plan.units.size(), 1u);
    EXPECT_GE(plan.units[0].max_delete, 2u);
    EXPECT_LE(40 + plan.units[0].max_delete, 50u) << "never more than the limit in the whole run";

    auto refused = plan_deletions(run, {DeleteLimit::Kind::count, 41});
    EXPECT_TRUE(refused.summary.refused);
    EXPECT_TRUE(refused.units.empty());
    EXPECT_EQ(refused.message,
              "refused to delete 42 of 1042 entries at the destination: max_delete is 41 (41 allowed); only the 40 the compare had "
              "found before copying were deleted. If the source is right, raise max_delete for one run");

    // Nothing held back: no second pass, and the summary still says what was deleted.
    RunModel clean("r", {listed("a", 5, true)}, false, WallClock::time_point{});
    clean.set_compared_entries(100);
    clean.unit_started(0, WallClock::time_point{});
    TransferCounters counters;
    counters.deletions = 5;
    clean.unit_attempt_ended(0, UnitState::success, 0, "", {}, counters, false, WallClock::time_point{});
    auto done = plan_deletions(clean, {DeleteLimit::Kind::percent, 50});
    EXPECT_EQ(done.summary.pending, 5u);
    EXPECT_EQ(done.summary.before_copying, 5u);
    EXPECT_TRUE(done.units.empty());
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
