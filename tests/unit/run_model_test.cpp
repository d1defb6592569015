#include <gtest/gtest.h>

#include "core/run_model.hpp"

using namespace dailysync;

namespace {

WorkUnit unit(const std::string &name, bool recursive, std::uint64_t entries, std::uint64_t bytes) {
    WorkUnit u;
    u.name = name;
    u.base = name == "." ? "" : name;
    u.recursive = recursive;
    u.estimated_entries = entries;
    u.estimated_bytes = bytes;
    return u;
}

std::vector<WorkUnit> two_units() { return {unit(".", false, 3, 10), unit("alpha", true, 100, 1000)}; }

WallClock::time_point at(int seconds) { return WallClock::time_point(std::chrono::seconds(1'700'000'000 + seconds)); }

TransferCounters counters(std::uint64_t entries, std::uint64_t bytes) {
    TransferCounters c;
    c.entries_seen = entries;
    c.bytes_transferred = bytes;
    return c;
}

}  // namespace

TEST(RunModel, StartsFromTheEstimates) {
    RunModel run("r1", two_units(), false, at(0));
    auto t = run.totals();
    EXPECT_EQ(t.files_total, 103u);
    EXPECT_EQ(t.bytes_total, 1010u);
    EXPECT_EQ(t.files_done, 0u);
    EXPECT_DOUBLE_EQ(t.fraction, 0.0);
    EXPECT_FALSE(t.eta_seconds);
    EXPECT_FALSE(run.all_units_final());
}

TEST(RunModel, ProgressAggregatesAndNeverExceedsTotal) {
    RunModel run("r1", two_units(), false, at(0));
    run.unit_started(1, at(1));
    run.unit_progress(1, counters(50, 500), 500);
    auto t = run.totals();
    EXPECT_EQ(t.files_done, 50u);
    EXPECT_EQ(t.bytes_done, 500u);
    EXPECT_EQ(t.units_running, 1u);
    // More than the scan saw: the total grows with it.
    run.unit_progress(1, counters(150, 2000), 2000);
    EXPECT_EQ(run.units()[1].files_total, 150u);
    EXPECT_EQ(run.units()[1].bytes_total, 2000u);
}

TEST(RunModel, RatesAndEtaComeFromTheWindow) {
    RunModel run("r1", two_units(), false, at(0));   // 103 entries, 1010 bytes in all
    run.unit_started(1, at(0));
    run.sample(100.0);
    run.unit_progress(1, counters(10, 50), 50);
    run.sample(101.0);
    auto t = run.totals();
    EXPECT_DOUBLE_EQ(t.bytes_per_second, 50.0);
    EXPECT_DOUBLE_EQ(t.files_per_second, 10.0);
    EXPECT_FALSE(t.eta_seconds);   // one second of rates tells nothing yet
    for (int i = 2; i <= 5; ++i) {
        run.unit_progress(1, counters(10 * i, 50 * i), 50 * i);
        run.sample(100.0 + i);
    }
    t = run.totals();
    ASSERT_TRUE(t.eta_seconds);
    // 50 of 103 entries at 10/s, 250 of 1010 bytes at 50/s: the data takes longer.
    EXPECT_DOUBLE_EQ(*t.eta_seconds, (1010.0 - 250.0) / 50.0);
    run.unit_attempt_ended(1, UnitState::success, 0, "", {}, counters(100, 1000), false, at(6));
    run.unit_attempt_ended(0, UnitState::success, 0, "", {}, counters(3, 10), false, at(6));
    EXPECT_EQ(run.totals().eta_seconds, 0.0);
}

TEST(RateMeter, ForgetsOldSamplesAndIgnoresRestarts) {
    RateMeter meter(10.0);
    meter.record(0, 0, 0);
    meter.record(5, 1000, 10);
    EXPECT_DOUBLE_EQ(meter.bytes_per_second(), 200.0);
    meter.record(20, 1000, 10);
    meter.record(21, 1100, 11);
    EXPECT_DOUBLE_EQ(meter.bytes_per_second(), 100.0);   // only the last 10 s count
    meter.record(22, 0, 0);                             // a retry restarted the counts
    EXPECT_DOUBLE_EQ(meter.bytes_per_second(), 0.0);
}

TEST(RunModel, SuccessTakesRsyncsStatisticsAsTruth) {
    RunModel run("r1", two_units(), false, at(0));
    run.unit_started(1, at(1));
    auto c = counters(90, 900);
    c.stats["Number of files"] = 95;
    c.stats["Total file size"] = 990;
    run.unit_attempt_ended(1, UnitState::success, 0, "", {}, c, false, at(5));
    const auto &u = run.units()[1];
    EXPECT_EQ(u.files_total, 95u);
    EXPECT_EQ(u.files_done, 95u);
    EXPECT_EQ(u.bytes_done, 990u);
    EXPECT_EQ(u.exit_code, 0);
    EXPECT_TRUE(u.finished);
}

TEST(RunModel, ResultRules) {
    auto finish_both = [](UnitState a, UnitState b) {
        RunModel run("r", two_units(), false, at(0));
        run.unit_started(0, at(0));
        run.unit_attempt_ended(0, a, 0, "", {}, {}, false, at(1));
        run.unit_started(1, at(1));
        run.unit_attempt_ended(1, b, 0, "", {}, {}, false, at(2));
        EXPECT_TRUE(run.all_units_final());
        return run.result();
    };
    EXPECT_EQ(finish_both(UnitState::success, UnitState::success), RunResult::success);
    EXPECT_EQ(finish_both(UnitState::success, UnitState::warning), RunResult::warning);
    EXPECT_EQ(finish_both(UnitState::warning, UnitState::partial), RunResult::failed);
    EXPECT_EQ(finish_both(UnitState::failed, UnitState::success), RunResult::failed);
    EXPECT_EQ(finish_both(UnitState::success, UnitState::cancelled), RunResult::cancelled);

    RunModel broken("r", {}, false, at(0));
    EXPECT_EQ(broken.result(), RunResult::success);
    broken.fail_run(Problem{ProblemKind::unavailable, Side::destination, "/d", 2, "destination missing"});
    EXPECT_EQ(broken.result(), RunResult::failed);
}

TEST(RunModel, RetryWaitIsNotFinalAndRequeues) {
    RunModel run("r", two_units(), false, at(0));
    run.unit_started(1, at(0));
    run.unit_attempt_ended(1, UnitState::failed, 12, "stream error", {}, {}, true, at(1));
    EXPECT_EQ(run.units()[1].state, UnitState::retry_wait);
    EXPECT_FALSE(run.all_units_final());
    run.unit_requeue(1);
    EXPECT_EQ(run.units()[1].state, UnitState::pending);
    run.unit_started(1, at(2));
    EXPECT_EQ(run.units()[1].attempts, 2);
    EXPECT_EQ(*run.units()[1].started, at(0));   // the unit's start is its first attempt
}

TEST(RunModel, CancelMarksWaitingUnits) {
    RunModel run("r", two_units(), false, at(0));
    run.unit_started(0, at(0));
    run.mark_cancelled();
    run.cancel_pending(at(1));
    EXPECT_EQ(run.units()[1].state, UnitState::cancelled);
    EXPECT_EQ(run.units()[0].state, UnitState::running);   // the supervisor ends running ones
    EXPECT_EQ(run.result(), RunResult::cancelled);
}

TEST(RunModel, StateNames) {
    EXPECT_EQ(to_string(UnitState::retry_wait), "retry-wait");
    EXPECT_EQ(to_string(RunResult::warning), "warning");
    EXPECT_TRUE(is_final(UnitState::partial));
    EXPECT_FALSE(is_final(UnitState::running));
}

TEST(RunModel, DryRunCountsWhatWouldBeCopied) {
    RunModel run("r", two_units(), true, at(0));
    run.unit_started(1, at(0));
    TransferCounters c;
    c.files_transferred = 3;
    c.bytes_announced = 300;
    run.unit_attempt_ended(1, UnitState::success, 0, "", {}, c, false, at(1));
    EXPECT_EQ(run.units()[1].bytes_transferred, 300u);
    EXPECT_EQ(run.totals().files_transferred, 3u);
}

TEST(RunModel, ExpectedTotalsCoverUnitsNotPlannedYet) {
    RunModel run("r", {unit(".", false, 3, 10)}, false, at(0));
    run.set_expected(1000, 50000);
    EXPECT_EQ(run.totals().files_total, 1000u);
    EXPECT_EQ(run.totals().bytes_total, 50000u);
    run.add_units({unit("alpha", true, 900, 40000)});
    EXPECT_EQ(run.units().size(), 2u);
    EXPECT_EQ(run.totals().files_total, 1000u);
}

TEST(RunModel, ItemizedLinesBecomeChangesOfADryRun) {
    auto item = [](const std::string &code, const std::string &name, bool transferred = false, bool deletion = false) {
        ItemLine i;
        i.code = code;
        i.name = name;
        i.transferred = transferred;
        i.deletion = deletion;
        i.type = deletion ? '?' : code[1];
        return i;
    };
    EXPECT_EQ(change_kind(item(">f+++++++++", "new", true)), ChangeKind::copy);
    EXPECT_EQ(change_kind(item("cd+++++++++", "dir/")), ChangeKind::copy);
    EXPECT_EQ(change_kind(item("cL+++++++++", "link")), ChangeKind::copy);
    EXPECT_EQ(change_kind(item(">f.st......", "changed", true)), ChangeKind::update);
    EXPECT_EQ(change_kind(item(".f...p.....", "mode")), ChangeKind::attributes);
    EXPECT_EQ(change_kind(item("cLc.t......", "link")), ChangeKind::update) << "a symlink whose target changed";
    EXPECT_EQ(change_kind(item(".d..t......", "dir/")), ChangeKind::attributes);
    EXPECT_EQ(change_kind(item("*deleting  ", "gone", false, true)), ChangeKind::remove);
    EXPECT_FALSE(change_kind(item(".f         ", "same")));
    EXPECT_FALSE(change_kind(item(".d         ", "./")));

    WorkUnit sub = unit("alpha/edit", true, 10, 10);
    RunModel run("r", {unit(".", false, 3, 10), sub}, true, at(0));
    run.note_item(0, item(">f+++++++++", "top", true));
    run.note_item(1, item("cd+++++++++", "./"));   // the folder itself: its parent's unit lists it
    run.note_item(1, item(">f.st......", "cut.mov", true));
    ASSERT_EQ(run.changes().listed.size(), 2u);
    EXPECT_EQ(run.changes().listed[0].path, "top");
    EXPECT_EQ(run.changes().listed[1].path, "alpha/edit/cut.mov");
    EXPECT_EQ(run.changes().counts[static_cast<int>(ChangeKind::update)], 1u);
    WorkUnit packed = unit(".", true, 10, 10);
    packed.base = "";
    packed.members = {"beta", "gamma"};
    RunModel with_members("p", {packed}, true, at(0));
    with_members.note_item(0, item(".d..t......", "beta/"));   // the member folder itself: its parent lists it
    with_members.note_item(0, item(">f+++++++++", "beta/new", true));
    ASSERT_EQ(with_members.changes().listed.size(), 1u);
    EXPECT_EQ(with_members.changes().listed[0].path, "beta/new");
    for (std::size_t i = 0; i < ChangeList::kMaxListed + 5; ++i) run.note_item(1, item(">f+++++++++", "n" + std::to_string(i), true));
    EXPECT_EQ(run.changes().listed.size(), ChangeList::kMaxListed);
    EXPECT_EQ(run.changes().omitted, 7u);
}
