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
// Each unit is a project folder: its rsync counts the folder too, which the top folder's
// unit lists (not part of this run), so rsync's count is one more than its entries.
RunModel first_pass(const std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t, UnitState>> &units) {
    std::vector<WorkUnit> planned;
    for (const auto &[name, entries, pending, state] : units) planned.push_back(unit(name));
    RunModel run("r", planned, false, WallClock::time_point{});
    for (std::size_t i = 0; i < units.size(); ++i) {
        const auto &[name, entries, pending, state] = units[i];
        run.unit_started(i, WallClock::time_point{});
        TransferCounters counters;
        counters.stats["Number of files"] = entries + 1;
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
              "refused to delete 997 of the 1000 entries the backup held before this run: max_delete is 50% (500 allowed); nothing was deleted. "
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
    EXPECT_EQ(run.totals().files_total, 101u);   // rsync's count of the first pass alone
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
    EXPECT_EQ(allow_counted_deletions(units, 1000, 0, {DeleteLimit::Kind::percent, 10}), 40u);
    EXPECT_EQ(units[0].max_delete, 30u);
    EXPECT_EQ(units[1].max_delete, 0u);
    EXPECT_EQ(units[2].max_delete, 10u);
    // Exactly at the limit is within it.
    std::vector<WorkUnit> at{listed("a", 40, true)};
    EXPECT_EQ(allow_counted_deletions(at, 1000, 0, {DeleteLimit::Kind::count, 40}), 40u);
    EXPECT_EQ(at[0].max_delete, 40u);
}

TEST(DeletionGuard, BeyondTheLimitOrUncountedEveryFirstPassDeletesNothing) {
    std::vector<WorkUnit> over{listed("a", 30, true), listed("c", 11, true)};
    EXPECT_EQ(allow_counted_deletions(over, 1000, 0, {DeleteLimit::Kind::count, 40}), 0u);
    for (const auto &u : over) EXPECT_EQ(u.max_delete, 0u) << u.name;
    // A folder to delete (its contents go too, uncounted), or a type change beside
    // deletions: the whole run keeps the two passes, the guard decides on rsync's count
    // after the first. (A unit whose only deletion-like change is a type change keeps
    // --max-delete=0 itself: rsync holds the replacement back for the second pass.)
    std::vector<WorkUnit> folder{listed("a", 3, true), listed("c", 1, false)};
    EXPECT_EQ(allow_counted_deletions(folder, 1000, 0, {DeleteLimit::Kind::percent, 50}), 0u);
    for (const auto &u : folder) EXPECT_EQ(u.max_delete, 0u) << u.name;
    // A whole tree rsync compares has deletions nobody counted.
    WorkUnit whole = listed("w", 0, false);
    whole.recursive = true;
    whole.deletions = 1;
    std::vector<WorkUnit> with_whole{listed("a", 3, true), whole};
    EXPECT_EQ(allow_counted_deletions(with_whole, 1000, 0, {DeleteLimit::Kind::percent, 50}), 0u);
    EXPECT_EQ(with_whole[0].max_delete, 0u);
    std::vector<WorkUnit> none{listed("a", 0, true)};
    EXPECT_EQ(allow_counted_deletions(none, 1000, 0, {DeleteLimit::Kind::percent, 50}), 0u);
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
              "refused to delete 42 of the 1042 entries the backup held before this run: max_delete is 41 (41 allowed); only the 40 the compare had "
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

namespace {
// One unit's first pass over a backup of `files` files in `folders` folders (and the
// top) after the source renamed (or replaced by new names) `renamed` of them: the source
// holds as many entries as before, rsync created `renamed` and held back as many
// deletions.
RunModel renamed_first_pass(std::uint64_t files, std::uint64_t folders, std::uint64_t renamed) {
    RunModel run("r", {unit("")}, false, WallClock::time_point{});
    run.unit_started(0, WallClock::time_point{});
    TransferCounters counters;
    counters.stats["Number of files"] = files + folders + 1;
    for (std::uint64_t i = 0; i < renamed; ++i) {
        ItemLine item;
        item.code = ">f+++++++++";
        item.type = 'f';
        item.transferred = true;
        item.name = "f" + std::to_string(i) + ".locked";
        run.note_creation(0, item);
    }
    ErrorSummary errors;
    errors.deletions_skipped = renamed;
    run.unit_attempt_ended(0, UnitState::success, 0, "", errors, counters, false, WallClock::time_point{});
    return run;
}
}  // namespace

// The percentage is of what the backup held before the run: a run that renames every
// file (x to x.locked) or deletes every file and creates as many new ones deletes the
// whole backup, whatever it created beside. Counted on the backup after copying (old
// and new names), the same run looked like deleting half.
TEST(DeletionGuard, RenamingOrReplacingEveryFileIsDeletingTheWholeBackup) {
    for (const std::uint64_t files : {100ull, 10000ull}) {
        const auto plan = plan_deletions(renamed_first_pass(files, 4, files), {DeleteLimit::Kind::percent, 50});
        EXPECT_EQ(plan.summary.destination_entries, files + 5) << files;
        EXPECT_EQ(plan.summary.pending, files);
        EXPECT_TRUE(plan.summary.refused) << files;
        EXPECT_TRUE(plan.units.empty());
        EXPECT_NE(plan.message.find("refused to delete " + std::to_string(files) + " of the " + std::to_string(files + 5) +
                                    " entries the backup held before this run"),
                  std::string::npos)
            << plan.message;
    }
}

TEST(DeletionGuard, RenamingHalfIsHalfTheBackupNotAThird) {
    // 100 files, 50 renamed: 50 of the 105 entries there before (48 %), not of the 155
    // there after copying (32 %).
    const auto plan = plan_deletions(renamed_first_pass(100, 4, 50), {DeleteLimit::Kind::percent, 40});
    EXPECT_EQ(plan.summary.destination_entries, 105u);
    EXPECT_EQ(plan.summary.allowed, 42u);
    EXPECT_TRUE(plan.summary.refused);
    const auto within = plan_deletions(renamed_first_pass(100, 4, 50), {DeleteLimit::Kind::percent, 50});
    EXPECT_FALSE(within.summary.refused);
    ASSERT_EQ(within.units.size(), 1u);
    EXPECT_LE(within.units[0].max_delete, 52u);
}

TEST(DeletionGuard, TheCompareCountsWhatItCreatesOutOfTheBackupBeforeTheRun) {
    // The compare found 100 files renamed in a source of 106 entries: 100 deletions of a
    // backup of 106, not of 206.
    std::vector<WorkUnit> renamed{listed("a", 100, true)};
    EXPECT_EQ(allow_counted_deletions(renamed, 106, 100, {DeleteLimit::Kind::percent, 50}), 0u);
    EXPECT_EQ(renamed[0].max_delete, 0u);
    EXPECT_EQ(backup_before_run(106, 100, 100), 106u);
    // Half of them: 50 of 106 is within 50 %.
    std::vector<WorkUnit> half{listed("a", 50, true)};
    EXPECT_EQ(allow_counted_deletions(half, 106, 50, {DeleteLimit::Kind::percent, 50}), 50u);
    // Created never counts below what is to be deleted (those were there).
    EXPECT_EQ(backup_before_run(3, 10, 50), 10u);
}

// A split or packed run's rsyncs count each unit's own folder (or a group's members) as
// the unit above lists it too: the backup's count takes each once.
TEST(DeletionGuard, FoldersTwoUnitsListAreCountedOnce) {
    WorkUnit top = unit("");
    top.recursive = false;
    WorkUnit group = unit("");
    group.members = {"p0", "p1", "p2", "p3"};
    WorkUnit folder = unit("q");
    RunModel run("r", {top, group, folder}, false, WallClock::time_point{});
    // top: itself, p0..p3, q; the group: p0..p3, 4 subfolders, 100 files; q: itself, 9 files.
    const std::uint64_t counts[] = {6, 108, 10};
    for (std::size_t i = 0; i < 3; ++i) {
        run.unit_started(i, WallClock::time_point{});
        TransferCounters counters;
        counters.stats["Number of files"] = counts[i];
        ErrorSummary errors;
        errors.deletions_skipped = i == 2 ? 9 : 0;
        run.unit_attempt_ended(i, UnitState::success, 0, "", errors, counters, false, WallClock::time_point{});
    }
    const auto plan = plan_deletions(run, {DeleteLimit::Kind::percent, 50});
    EXPECT_EQ(plan.summary.destination_entries, 6u + 104u + 9u + 9u);
    // Created on a first run: the top unit and the group both itemize p0 (and q lists
    // itself as "./"); it was created once.
    auto made = [](const char *code, const char *name, char type) {
        ItemLine item;
        item.code = code;
        item.name = name;
        item.type = type;
        return item;
    };
    run.note_creation(0, made("cd+++++++++", "p0/", 'd'));
    run.note_creation(1, made("cd+++++++++", "p0/", 'd'));
    run.note_creation(1, made("cd+++++++++", "p0/sub/", 'd'));
    run.note_creation(1, made(">f+++++++++", "p0/sub/f", 'f'));
    run.note_creation(2, made("cd+++++++++", "./", 'd'));
    run.note_creation(2, made(">f.st......", "changed", 'f'));
    EXPECT_EQ(run.units()[0].created + run.units()[1].created + run.units()[2].created, 3u);
}

// A refused run still copies: the next night the backup holds old and new names, and the
// same deletions would be within the limit of that. Counted against the backup at the last
// complete run, they are refused again until the admin raises max_delete.
TEST(DeletionGuard, TheNightAfterARefusalCountsAgainstTheLastCompleteBackup) {
    // The second night: 100 originals and 100 renamed, nothing new created.
    const auto next = renamed_first_pass(200, 4, 0);
    EXPECT_FALSE(plan_deletions(next, {DeleteLimit::Kind::percent, 50}).summary.refused);
    RunModel held("r", {unit("")}, false, WallClock::time_point{});
    held.unit_started(0, WallClock::time_point{});
    TransferCounters counters;
    counters.stats["Number of files"] = 105;   // the source: 100 renamed files, 4 folders, the top
    ErrorSummary errors;
    errors.deletions_skipped = 100;
    held.unit_attempt_ended(0, UnitState::success, 0, "", errors, counters, false, WallClock::time_point{});
    EXPECT_FALSE(plan_deletions(held, {DeleteLimit::Kind::percent, 50}).summary.refused) << "100 of 205";
    const auto plan = plan_deletions(held, {DeleteLimit::Kind::percent, 50}, 105);
    EXPECT_TRUE(plan.summary.refused);
    EXPECT_EQ(plan.summary.destination_entries, 105u);
    std::vector<WorkUnit> counted{listed("a", 100, true)};
    EXPECT_EQ(allow_counted_deletions(counted, 105, 0, {DeleteLimit::Kind::percent, 50}), 100u) << "100 of 205";
    std::vector<WorkUnit> capped{listed("a", 100, true)};
    EXPECT_EQ(allow_counted_deletions(capped, 105, 0, {DeleteLimit::Kind::percent, 50}, 105), 0u);
}
