// The run's lifecycle without a process or a file: every step reached, every event
// delivered in it (its own answer, with and without a problem, every other step's
// answer, a cancel, a second cancel), and the commands that come out, as a table.
// Whole runs are written out too: a backup from hooks to the rewritten report, a verify,
// a first run, each way of failing.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <stdexcept>

#include "core/run_lifecycle.hpp"

using namespace dailysync;

namespace {

std::string text(const LifecycleCommands &commands) {
    std::string out;
    for (const auto &command : commands) {
        if (!out.empty()) out += ", ";
        if (const auto *d = std::get_if<lifecycle::Do>(&command)) {
            out += "do " + std::string(to_string(d->step)) + (d->short_timeout ? " short" : "") + (d->wait ? "" : " unwaited");
        } else if (const auto *f = std::get_if<lifecycle::Fail>(&command)) {
            out += "fail " + std::string(to_string(f->problem.kind));
        } else if (std::holds_alternative<lifecycle::MarkCancelled>(command)) {
            out += "cancelled";
        } else if (std::holds_alternative<lifecycle::CancelCall>(command)) {
            out += "cancel call";
        } else if (std::holds_alternative<lifecycle::CancelCopy>(command)) {
            out += "cancel copy";
        } else if (std::holds_alternative<lifecycle::StopHooks>(command)) {
            out += "stop hooks";
        } else if (std::holds_alternative<lifecycle::Conclude>(command)) {
            out += "conclude";
        } else if (std::holds_alternative<lifecycle::Finish>(command)) {
            out += "finish";
        }
    }
    return out;
}

Problem problem(ProblemKind kind, Side side = Side::source) { return Problem{kind, side, "/src", 0, "it went wrong"}; }

// A backup with every hook stage and versions; a verify (a dry run) with hooks.
LifecycleSettings backup() { return LifecycleSettings{true, true, true, false, true, false, "/src"}; }
LifecycleSettings verify() { return LifecycleSettings{true, true, true, true, false, true, "/src"}; }

// Every event the lifecycle takes, by name, with no problem (the step's good answer).
struct Event {
    std::string name;
    std::function<LifecycleCommands(RunLifecycle &)> deliver;
};
const std::vector<Event> &answers() {
    static const std::vector<Event> events = {
        {"hooks_done", [](RunLifecycle &l) { return l.hooks_done(std::nullopt); }},
        {"state_loaded", [](RunLifecycle &l) { return l.state_loaded(std::nullopt); }},
        {"destination_checked", [](RunLifecycle &l) { return l.destination_checked(std::nullopt); }},
        {"source_checked", [](RunLifecycle &l) { return l.source_checked(std::nullopt, Preparation::scan); }},
        {"scanned", [](RunLifecycle &l) { return l.scanned(std::nullopt); }},
        {"compared", [](RunLifecycle &l) { return l.compared(std::nullopt); }},
        {"versions_begun", [](RunLifecycle &l) { return l.versions_begun(std::nullopt); }},
        {"copy_finished", [](RunLifecycle &l) { return l.copy_finished(CopyEnd{true, false, false}); }},
        {"end_checked", [](RunLifecycle &l) { return l.end_checked(std::nullopt); }},
        {"verify_judged", [](RunLifecycle &l) { return l.verify_judged(std::nullopt); }},
        {"versions_finished", [](RunLifecycle &l) { return l.versions_finished(std::nullopt); }},
        {"report_written", [](RunLifecycle &l) { return l.report_written(false); }},
        {"report_rewritten", [](RunLifecycle &l) { return l.report_rewritten(); }},
    };
    return events;
}
const Event &answer(const std::string &name) {
    for (const auto &event : answers())
        if (event.name == name) return event;
    throw std::invalid_argument("no event " + name);
}
// The event that answers each step.
const std::map<RunStep, std::string> kAnswerOf = {
    {RunStep::hooks_before, "hooks_done"},           {RunStep::load_state, "state_loaded"},
    {RunStep::check_destination, "destination_checked"}, {RunStep::check_source, "source_checked"},
    {RunStep::scan, "scanned"},                      {RunStep::compare, "compared"},
    {RunStep::note_unversioned, "versions_begun"},   {RunStep::begin_versions, "versions_begun"},
    {RunStep::copy, "copy_finished"},                {RunStep::check_source_at_end, "end_checked"},
    {RunStep::verify_findings, "verify_judged"},     {RunStep::finish_versions, "versions_finished"},
    {RunStep::write_report, "report_written"},       {RunStep::hooks_after, "hooks_done"},
    {RunStep::hooks_on_failure, "hooks_done"},       {RunStep::rewrite_report, "report_rewritten"},
};

// A lifecycle brought to `step` along the good path (a failed run for on_failure's hooks).
RunLifecycle at(RunStep step) {
    LifecycleSettings settings = step == RunStep::verify_findings ? verify() : backup();
    if (step == RunStep::note_unversioned) settings.versions = false;
    RunLifecycle l(settings);
    l.start();
    const auto walk = [&](const std::function<LifecycleCommands()> &event) {
        if (l.step() != step) event();
    };
    walk([&] { return l.hooks_done(std::nullopt); });
    walk([&] { return l.state_loaded(std::nullopt); });
    walk([&] { return l.destination_checked(std::nullopt); });
    walk([&] { return l.source_checked(std::nullopt, step == RunStep::compare ? Preparation::compare : Preparation::scan); });
    walk([&] { return l.scanned(std::nullopt); });
    walk([&] { return l.versions_begun(std::nullopt); });
    walk([&] { return l.copy_finished(CopyEnd{true, false, false}); });
    walk([&] { return l.end_checked(std::nullopt); });
    walk([&] { return l.verify_judged(std::nullopt); });
    walk([&] { return l.versions_finished(std::nullopt); });
    walk([&] { return l.report_written(true); });
    walk([&] { return l.hooks_done(std::nullopt); });
    walk([&] { return l.hooks_done(std::nullopt); });
    walk([&] { return l.report_rewritten(); });
    EXPECT_EQ(l.step(), step) << "could not reach " << to_string(step);
    return l;
}

const std::vector<RunStep> kEveryStep = {
    RunStep::hooks_before,   RunStep::load_state,       RunStep::check_destination, RunStep::check_source,
    RunStep::scan,           RunStep::compare,          RunStep::note_unversioned,  RunStep::begin_versions,
    RunStep::copy,           RunStep::check_source_at_end, RunStep::verify_findings, RunStep::finish_versions,
    RunStep::write_report,   RunStep::hooks_after,      RunStep::hooks_on_failure,  RunStep::rewrite_report,
    RunStep::done,
};

TEST(RunLifecycle, EveryStepIsReachedAndIgnoresEveryAnswerButItsOwn) {
    for (const RunStep step : kEveryStep) {
        for (const auto &event : answers()) {
            const auto own = kAnswerOf.find(step);
            if (own != kAnswerOf.end() && own->second == event.name) continue;
            RunLifecycle l = at(step);
            EXPECT_EQ(text(event.deliver(l)), "") << to_string(step) << " took " << event.name;
            EXPECT_EQ(l.step(), step) << to_string(step) << " moved on " << event.name;
        }
    }
}

// One row: a step, what is delivered there, what must come out and where it stands then.
struct Row {
    RunStep step;
    std::string event;   // "ok", "problem", "cancel", "cancel twice"
    std::string commands;
    RunStep after;
};

LifecycleCommands deliver_problem(RunLifecycle &l) {
    switch (l.step()) {
    case RunStep::hooks_before: return l.hooks_done(problem(ProblemKind::refused, Side::none));
    case RunStep::load_state: return l.state_loaded(problem(ProblemKind::not_answering, Side::state));
    case RunStep::check_destination: return l.destination_checked(problem(ProblemKind::unavailable, Side::destination));
    case RunStep::check_source: return l.source_checked(problem(ProblemKind::refused), Preparation::plan);
    case RunStep::scan: return l.scanned(problem(ProblemKind::unreadable));
    case RunStep::compare: return l.compared(problem(ProblemKind::defect));
    case RunStep::note_unversioned:
    case RunStep::begin_versions: return l.versions_begun(problem(ProblemKind::unwritable, Side::destination));
    case RunStep::copy: return l.copy_finished(CopyEnd{true, true, false});   // the copy failed the run (a guard)
    case RunStep::check_source_at_end: return l.end_checked(problem(ProblemKind::unavailable));
    case RunStep::verify_findings: return l.verify_judged(problem(ProblemKind::damage_found, Side::destination));
    case RunStep::finish_versions: return l.versions_finished(problem(ProblemKind::unwritable, Side::destination));
    case RunStep::write_report: return l.report_written(true);   // the report says failed
    case RunStep::hooks_after:
    case RunStep::hooks_on_failure: return l.hooks_done(problem(ProblemKind::refused, Side::none));   // a warning only
    case RunStep::rewrite_report: return l.report_rewritten();
    case RunStep::done: return {};
    }
    return {};
}

TEST(RunLifecycle, EveryStepAnsweredWellBadlyOrCancelledAsTheTableSays) {
    // A failure before the copy ends the run there: the model concluded, the report
    // written (the version, not begun, has nothing to finish), the end hooks then.
    const std::string ends_failed = "conclude, do write_report";
    const std::vector<Row> table = {
        {RunStep::hooks_before, "ok", "do load_state", RunStep::load_state},
        {RunStep::hooks_before, "problem", "fail refused, " + ends_failed, RunStep::write_report},
        {RunStep::hooks_before, "cancel", "stop hooks", RunStep::hooks_before},
        {RunStep::hooks_before, "cancel twice", "", RunStep::hooks_before},
        {RunStep::load_state, "ok", "do check_destination", RunStep::check_destination},
        {RunStep::load_state, "problem", "fail not_answering, " + ends_failed, RunStep::write_report},
        {RunStep::load_state, "cancel", "cancelled, conclude, do write_report", RunStep::write_report},
        {RunStep::check_destination, "ok", "do check_source", RunStep::check_source},
        {RunStep::check_destination, "problem", "fail unavailable, " + ends_failed, RunStep::write_report},
        {RunStep::check_destination, "cancel", "cancelled, conclude, do write_report", RunStep::write_report},
        {RunStep::check_source, "ok", "do scan", RunStep::scan},
        {RunStep::check_source, "problem", "fail refused, " + ends_failed, RunStep::write_report},
        {RunStep::check_source, "cancel", "cancelled, conclude, do write_report", RunStep::write_report},
        {RunStep::scan, "ok", "do begin_versions", RunStep::begin_versions},
        {RunStep::scan, "problem", "fail unreadable, " + ends_failed, RunStep::write_report},
        {RunStep::scan, "cancel", "cancel call, cancelled, conclude, do write_report", RunStep::write_report},
        {RunStep::compare, "ok", "do begin_versions", RunStep::begin_versions},
        {RunStep::compare, "problem", "fail defect, " + ends_failed, RunStep::write_report},
        {RunStep::compare, "cancel", "cancel call, cancelled, conclude, do write_report", RunStep::write_report},
        {RunStep::note_unversioned, "ok", "do copy", RunStep::copy},
        {RunStep::note_unversioned, "problem", "fail unwritable, " + ends_failed, RunStep::write_report},
        {RunStep::note_unversioned, "cancel", "cancelled, conclude, do write_report", RunStep::write_report},
        {RunStep::begin_versions, "ok", "do copy", RunStep::copy},
        {RunStep::begin_versions, "problem", "fail unwritable, " + ends_failed, RunStep::write_report},
        {RunStep::begin_versions, "cancel", "cancelled, conclude, do write_report", RunStep::write_report},
        // After the copy the source is checked once more; a failed copy skips that check
        // and still records the version's end.
        {RunStep::copy, "ok", "conclude, do check_source_at_end", RunStep::check_source_at_end},
        {RunStep::copy, "problem", "conclude, do finish_versions", RunStep::finish_versions},
        {RunStep::copy, "cancel", "cancel copy", RunStep::copy},
        {RunStep::copy, "cancel twice", "", RunStep::copy},
        {RunStep::check_source_at_end, "ok", "do finish_versions", RunStep::finish_versions},
        {RunStep::check_source_at_end, "problem", "fail unavailable, do finish_versions", RunStep::finish_versions},
        // Stopping: reported as interrupted without the check; the version's end not waited for.
        {RunStep::check_source_at_end, "cancel", "fail interrupted, do finish_versions unwaited, do write_report", RunStep::write_report},
        {RunStep::verify_findings, "ok", "do write_report", RunStep::write_report},
        {RunStep::verify_findings, "problem", "fail damage_found, do write_report", RunStep::write_report},
        {RunStep::verify_findings, "cancel", "cancel call", RunStep::verify_findings},
        {RunStep::verify_findings, "cancel twice", "", RunStep::verify_findings},
        {RunStep::finish_versions, "ok", "do write_report", RunStep::write_report},
        {RunStep::finish_versions, "problem", "fail unwritable, do write_report", RunStep::write_report},
        {RunStep::finish_versions, "cancel", "", RunStep::finish_versions},
        {RunStep::write_report, "ok", "do hooks_after", RunStep::hooks_after},
        {RunStep::write_report, "problem", "do hooks_after", RunStep::hooks_after},
        {RunStep::write_report, "cancel", "", RunStep::write_report},
        // The walk to hooks_after wrote a failed report: on_failure's hooks follow.
        {RunStep::hooks_after, "ok", "do hooks_on_failure", RunStep::hooks_on_failure},
        {RunStep::hooks_after, "problem", "do hooks_on_failure", RunStep::hooks_on_failure},
        {RunStep::hooks_after, "cancel", "stop hooks", RunStep::hooks_after},
        {RunStep::hooks_after, "cancel twice", "", RunStep::hooks_after},
        {RunStep::hooks_on_failure, "ok", "do rewrite_report", RunStep::rewrite_report},
        {RunStep::hooks_on_failure, "problem", "do rewrite_report", RunStep::rewrite_report},
        {RunStep::hooks_on_failure, "cancel", "stop hooks", RunStep::hooks_on_failure},
        {RunStep::rewrite_report, "ok", "finish", RunStep::done},
        {RunStep::rewrite_report, "cancel", "", RunStep::rewrite_report},
        {RunStep::done, "cancel", "", RunStep::done},
    };
    for (const auto &row : table) {
        RunLifecycle l = at(row.step);
        LifecycleCommands out;
        if (row.event == "ok") {
            out = answer(kAnswerOf.at(row.step)).deliver(l);
        } else if (row.event == "problem") {
            out = deliver_problem(l);
        } else if (row.event == "cancel") {
            out = l.cancel();
        } else {
            l.cancel();
            out = l.cancel();
        }
        EXPECT_EQ(text(out), row.commands) << to_string(row.step) << " / " << row.event;
        EXPECT_EQ(l.step(), row.after) << to_string(row.step) << " / " << row.event;
        if (row.event.starts_with("cancel")) {
            EXPECT_TRUE(l.stopping());
        }
    }
}

TEST(RunLifecycle, AWholeBackupFromTheHooksToTheRewrittenReport) {
    RunLifecycle l(backup());
    EXPECT_EQ(text(l.start()), "do hooks_before");
    EXPECT_EQ(text(l.start()), "") << "started once";
    EXPECT_EQ(text(l.hooks_done(std::nullopt)), "do load_state");
    EXPECT_EQ(text(l.state_loaded(std::nullopt)), "do check_destination");
    EXPECT_EQ(text(l.destination_checked(std::nullopt)), "do check_source");
    EXPECT_EQ(text(l.source_checked(std::nullopt, Preparation::compare)), "do compare");
    EXPECT_EQ(text(l.compared(std::nullopt)), "do begin_versions");
    EXPECT_EQ(text(l.versions_begun(std::nullopt)), "do copy");
    EXPECT_TRUE(l.before_copying() == false);
    EXPECT_EQ(text(l.copy_finished(CopyEnd{true, false, false})), "conclude, do check_source_at_end");
    EXPECT_EQ(text(l.end_checked(std::nullopt)), "do finish_versions");
    EXPECT_EQ(text(l.versions_finished(std::nullopt)), "do write_report");
    // A good run: after_run only, then the report again with its outcomes.
    EXPECT_EQ(text(l.report_written(false)), "do hooks_after");
    EXPECT_EQ(text(l.hooks_done(std::nullopt)), "do rewrite_report");
    EXPECT_EQ(text(l.report_rewritten()), "finish");
    EXPECT_FALSE(l.failed());
    EXPECT_FALSE(l.stopping());
}

TEST(RunLifecycle, ADryRunWithoutHooksMakesNoVersionAndWritesTheReportOnce) {
    RunLifecycle l(LifecycleSettings{false, false, false, true, true, false, "/src"});
    EXPECT_EQ(text(l.start()), "do load_state");
    l.state_loaded(std::nullopt);
    l.destination_checked(std::nullopt);
    EXPECT_EQ(text(l.source_checked(std::nullopt, Preparation::plan)), "do copy") << "a dry run keeps no version";
    EXPECT_EQ(text(l.copy_finished(CopyEnd{true, false, false})), "conclude, do check_source_at_end");
    EXPECT_EQ(text(l.end_checked(std::nullopt)), "do write_report");
    EXPECT_EQ(text(l.report_written(false)), "finish");
}

TEST(RunLifecycle, NothingToCopySkipsTheEndCheckButStillEndsTheVersion) {
    RunLifecycle l(LifecycleSettings{false, false, false, false, true, false, "/src"});
    l.start();
    l.state_loaded(std::nullopt);
    l.destination_checked(std::nullopt);
    l.source_checked(std::nullopt, Preparation::compare);
    l.compared(std::nullopt);
    l.versions_begun(std::nullopt);
    EXPECT_EQ(text(l.copy_finished(CopyEnd{false, false, false})), "conclude, do finish_versions");
}

TEST(RunLifecycle, UnreadFoldersOfTheCompareFailTheRunAtTheEndUnlessItFailedOtherwise) {
    const auto through_compare = [](bool copy_failed) {
        RunLifecycle l(LifecycleSettings{false, false, false, false, false, false, "/src"});
        l.start();
        l.state_loaded(std::nullopt);
        l.destination_checked(std::nullopt);
        l.source_checked(std::nullopt, Preparation::compare);
        EXPECT_EQ(text(l.compared(std::nullopt, problem(ProblemKind::unreadable))), "do note_unversioned");
        l.versions_begun(std::nullopt);
        return text(l.copy_finished(CopyEnd{true, copy_failed, false}));
    };
    // The rest was copied; the unread folders fail it, so the source is not checked again.
    EXPECT_EQ(through_compare(false), "conclude, fail unreadable, do write_report");
    EXPECT_EQ(through_compare(true), "conclude, do write_report");
}

TEST(RunLifecycle, ACancelledCopyIsNotCheckedAgainAndItsVersionsEndUnwaitedThenTheEndHooksAreShort) {
    RunLifecycle l = at(RunStep::copy);
    EXPECT_EQ(text(l.cancel()), "cancel copy");
    EXPECT_EQ(text(l.copy_finished(CopyEnd{true, false, true})), "conclude, do finish_versions unwaited, do write_report");
    EXPECT_EQ(text(l.report_written(true)), "do hooks_after short");
    EXPECT_EQ(text(l.hooks_done(std::nullopt)), "do hooks_on_failure short");
    EXPECT_EQ(text(l.hooks_done(std::nullopt)), "do rewrite_report");
    EXPECT_EQ(text(l.report_rewritten()), "finish");
}

TEST(RunLifecycle, AStopDuringTheVersionsMergeWaitsForItAndGivesTheEndHooksTheShortTimeout) {
    RunLifecycle l = at(RunStep::finish_versions);
    EXPECT_EQ(text(l.cancel()), "") << "a merge cut short would leave a version half merged";
    EXPECT_EQ(text(l.versions_finished(std::nullopt)), "do write_report");
    EXPECT_EQ(text(l.report_written(true)), "do hooks_after short");
}

TEST(RunLifecycle, AStopDuringAnEndStageSkipsTheStagesAfterIt) {
    RunLifecycle l = at(RunStep::hooks_after);
    EXPECT_EQ(text(l.cancel()), "stop hooks");
    EXPECT_EQ(text(l.hooks_done(std::nullopt)), "do rewrite_report") << "on_failure is skipped";
}

TEST(RunLifecycle, ACancelDuringTheBeforeHooksEndsTheRunCancelledOnceTheyStopped) {
    RunLifecycle l(backup());
    l.start();
    EXPECT_EQ(text(l.cancel()), "stop hooks");
    EXPECT_EQ(text(l.hooks_done(std::nullopt)), "cancelled, conclude, do write_report");
    EXPECT_EQ(text(l.report_written(true)), "do hooks_after short");
}

TEST(RunLifecycle, AnAnswerAfterACancelEndedTheRunIsDropped) {
    RunLifecycle l = at(RunStep::scan);
    l.cancel();
    EXPECT_EQ(text(l.scanned(std::nullopt)), "");
    EXPECT_EQ(l.step(), RunStep::write_report);
}

TEST(RunLifecycle, AVerifyJudgesItsFindingsAfterACopyAndNotWhenItEndedBeforeOne) {
    RunLifecycle v(verify());
    v.start();
    v.hooks_done(std::nullopt);
    v.state_loaded(std::nullopt);
    EXPECT_EQ(text(v.destination_checked(problem(ProblemKind::unavailable, Side::destination))),
              "fail unavailable, conclude, do write_report")
        << "no copy, so no findings";
    RunLifecycle w(verify());
    w.start();
    w.hooks_done(std::nullopt);
    w.state_loaded(std::nullopt);
    w.destination_checked(std::nullopt);
    EXPECT_EQ(text(w.source_checked(std::nullopt, Preparation::plan)), "do copy");
    EXPECT_EQ(text(w.copy_finished(CopyEnd{true, false, false})), "conclude, do check_source_at_end");
    EXPECT_EQ(text(w.end_checked(std::nullopt)), "do verify_findings");
    EXPECT_EQ(text(w.verify_judged(problem(ProblemKind::damage_found, Side::destination))), "fail damage_found, do write_report");
    EXPECT_TRUE(w.failed());
}

TEST(RunLifecycle, TheEndCheckNamesWhatTheBackupMisses) {
    RunLifecycle l = at(RunStep::check_source_at_end);
    const auto out = l.end_checked(Problem{ProblemKind::unavailable, Side::source, "/src", 0, "the source /src disappeared"});
    ASSERT_FALSE(out.empty());
    const auto &fail = std::get<lifecycle::Fail>(out.front());
    EXPECT_EQ(fail.problem.text, "the source /src disappeared: what was not copied before is missing from this backup");
    EXPECT_EQ(fail.problem.side, Side::source);
}

}  // namespace
