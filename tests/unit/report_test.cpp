#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/report.hpp"

using namespace dailysync;

namespace {
WallClock::time_point at(int seconds) { return WallClock::time_point(std::chrono::seconds(1'700'000'000 + seconds)); }

RunModel finished_run() {
    WorkUnit top;
    top.name = ".";
    top.recursive = false;
    top.estimated_entries = 2;
    WorkUnit bad;
    bad.name = "bad\\#377";
    bad.base = "bad\xff";
    bad.estimated_entries = 10;
    bad.estimated_bytes = 100;
    RunModel run("20231114T221320Z", {top, bad}, false, at(0));
    run.unit_started(0, at(0));
    TransferCounters ok;
    ok.stats["Number of files"] = 2;
    run.unit_attempt_ended(0, UnitState::success, 0, "", {}, ok, false, at(1));
    run.unit_started(1, at(1));
    ErrorSummary errors;
    errors.failed_paths = {"/src/bad\\#377/x"};
    errors.failed_count = 3;
    TransferCounters partial;
    partial.files_transferred = 4;
    partial.bytes_transferred = 40;
    run.unit_attempt_ended(1, UnitState::partial, 23, "rsync exit 23 (partial transfer due to error): denied", errors, partial,
                           false, at(3));
    run.finish(at(3));
    return run;
}
}  // namespace

TEST(Report, JsonHoldsRunUnitsAndFailures) {
    auto run = finished_run();
    auto doc = nlohmann::json::parse(report_json(run, ReportContext{"/src", "/dst", 4}));
    EXPECT_EQ(doc["run_id"], "20231114T221320Z");
    EXPECT_EQ(doc["result"], "failed");
    EXPECT_EQ(doc["started"], "2023-11-14T22:13:20Z");
    EXPECT_EQ(doc["seconds"], 3.0);
    EXPECT_EQ(doc["concurrency"], 4);
    EXPECT_EQ(doc["totals"]["units_failed"], 1);
    EXPECT_EQ(doc["totals"]["files_transferred"], 4);
    ASSERT_EQ(doc["units"].size(), 2u);
    const auto &bad = doc["units"][1];
    EXPECT_EQ(bad["path"], "bad\\#377");   // raw bytes made printable, JSON stays UTF-8
    EXPECT_EQ(bad["result"], "partial");
    EXPECT_EQ(bad["exit_code"], 23);
    EXPECT_EQ(bad["exit_meaning"], "partial transfer due to error");
    EXPECT_EQ(bad["failed_count"], 3);
    EXPECT_EQ(bad["failed_paths"][0], "/src/bad\\#377/x");
    EXPECT_EQ(bad["seconds"], 2.0);
}

TEST(Report, TextListsUnitsFailuresAndTotals) {
    auto run = finished_run();
    std::string text = report_text(nlohmann::json::parse(report_json(run, {})));
    EXPECT_NE(text.find("UNIT"), std::string::npos);
    EXPECT_NE(text.find("partial"), std::string::npos);
    EXPECT_NE(text.find("not copied: /src/bad\\#377/x"), std::string::npos);
    EXPECT_NE(text.find("... and 2 more"), std::string::npos);
    EXPECT_NE(text.find("TOTAL"), std::string::npos);
    EXPECT_NE(text.find(": failed, 2 units, 1 failed"), std::string::npos) << text;
}

TEST(Report, EveryFailureIsKeptInOrderAndTheErrorJoinsThem) {
    RunModel run("r", {}, false, at(0));
    run.fail_run(Problem{ProblemKind::copy_failed, Side::none, "", 0, "2 units failed"});
    run.fail_run(Problem{ProblemKind::defect, Side::source, "/src", 0, "dailysyncd failed while working on the source /src: boom"});
    run.finish(at(0));
    auto doc = nlohmann::json::parse(report_json(run, {}));
    EXPECT_EQ(doc["result"], "failed");
    EXPECT_EQ(doc["error"], "2 units failed; dailysyncd failed while working on the source /src: boom");
    ASSERT_EQ(doc["failures"].size(), 2u);
    EXPECT_EQ(doc["failures"][0], nlohmann::json::parse(R"({"kind": "copy_failed", "text": "2 units failed"})"));
    EXPECT_EQ(doc["failures"][1]["kind"], "defect");
    EXPECT_EQ(doc["failures"][1]["side"], "source");
}

TEST(Report, RunErrorIsShown) {
    RunModel run("r", {}, true, at(0));
    run.fail_run(Problem{ProblemKind::unavailable, Side::destination, "/x", 2, "the destination /x is not available"});
    run.finish(at(0));
    auto doc = nlohmann::json::parse(report_json(run, {}));
    EXPECT_EQ(doc["error"], "the destination /x is not available");
    EXPECT_EQ(doc["failures"], nlohmann::json::parse(R"([{"kind": "unavailable", "side": "destination", "path": "/x", "errno": 2,
                                                         "text": "the destination /x is not available"}])"));
    EXPECT_EQ(doc["dry_run"], true);
    const std::string text = report_text(doc);
    EXPECT_NE(text.find("error: the destination"), std::string::npos);
    EXPECT_NE(text.find("dry run"), std::string::npos);
}

TEST(Report, TextToleratesMissingAndMistypedFields) {
    const std::string text = report_text(nlohmann::json::parse(R"({"run_id": 7, "units": [{"name": "a", "files": "x"}, 3]})"));
    EXPECT_NE(text.find("TOTAL"), std::string::npos);
    EXPECT_NE(text.find("\na  "), std::string::npos) << text;
    EXPECT_NE(report_text(nlohmann::json::object()).find("0 units"), std::string::npos);
}

TEST(Report, ExitStatuses) {
    EXPECT_EQ(exit_status_for(RunResult::success), 0);
    EXPECT_EQ(exit_status_for(RunResult::warning), 1);
    EXPECT_EQ(exit_status_for(RunResult::failed), 2);
    EXPECT_EQ(exit_status_for(RunResult::cancelled), 2);
}

TEST(Report, PackedMembersThatDidNotArriveAreNamed) {
    UnitStatus u;
    u.unit.base = "";
    u.unit.members = {"a", "big", "c"};
    u.state = UnitState::success;
    EXPECT_TRUE(members_not_copied(u).empty());
    u.state = UnitState::failed;   // rsync stopped part-way: none is known complete
    EXPECT_EQ(members_not_copied(u), (std::vector<std::string>{"a", "big", "c"}));
    u.state = UnitState::partial;   // rsync went on: only those it complained about
    u.errors.failed_paths = {"/data/prod_backup/big/huge", "c/x"};
    EXPECT_EQ(members_not_copied(u), (std::vector<std::string>{"big", "c"}));
    u.unit.base = "alpha";
    u.errors.failed_paths = {"/data/prod/alpha/a/locked"};
    EXPECT_EQ(members_not_copied(u), (std::vector<std::string>{"alpha/a"}));
    u.errors.failed_paths = {"/data/prod/alphabet/a/x"};
    EXPECT_TRUE(members_not_copied(u).empty()) << "a longer name is another folder";
}

TEST(Report, AWholeTreeUnitCoversEveryProjectItCopied) {
    UnitStatus whole;
    whole.unit.base = "";
    whole.unit.recursive = true;
    whole.projects = {"alpha", "new\nline"};
    EXPECT_EQ(covered_projects(whole), (std::vector<std::string>{"alpha", "new\\#012line"}));
    UnitStatus top;   // the non-recursive unit of the source's own entries covers none
    top.unit.recursive = false;
    top.projects = {"alpha"};
    EXPECT_TRUE(covered_projects(top).empty());
    UnitStatus project;
    project.unit.base = "alpha/edit";
    EXPECT_EQ(covered_projects(project), (std::vector<std::string>{"alpha"}));
}

TEST(Report, TheComparesTimeAndCountsAreSplitFromTheCopy) {
    auto run = finished_run();
    ReportContext context;
    CompareOutcome compare;
    compare.used = true;
    compare.seconds = 1.5;
    compare.cpu_seconds = 0.4;
    compare.threads = 16;
    compare.compared = 22023;
    compare.created = 105;
    compare.updated = 211;
    compare.attributes = 123;
    compare.deleted = 42;
    context.compare = compare;
    const auto doc = nlohmann::json::parse(report_json(run, context));
    EXPECT_EQ(doc["compare"]["entries_compared"], 22023);
    EXPECT_EQ(doc["compare"]["deleted"], 42);
    EXPECT_GE(doc["compare"]["copy_seconds"].get<double>(), 0.0);
    const std::string text = report_text(doc);
    EXPECT_NE(text.find("compare: 22023 entries in 1.5 s (16 threads, 0.4 s CPU): 316 to copy, 123 to fix, 42 to delete; then "),
              std::string::npos)
        << text;
    context.compare = CompareOutcome{};
    context.compare->why_not = "preserve.hard_links is on";
    EXPECT_NE(report_text(nlohmann::json::parse(report_json(run, context))).find("compare: by each rsync (preserve.hard_links is on)"),
              std::string::npos);
}

TEST(Report, TheDeletionGuardsLineSaysWhatWasDeletedAndWhyNotMore) {
    struct Case {
        DeletionSummary summary;
        std::uint64_t deleted;   // by the run's rsyncs (totals.deletions)
        std::string expected;
    };
    auto summary = [](std::uint64_t before_copying, bool refused, std::string why) {
        DeletionSummary s;
        s.limit = "50%";
        s.pending = 42;
        s.before_copying = before_copying;
        s.allowed = 100;
        s.destination_entries = 200;
        s.refused = refused;
        s.not_deleted_because = std::move(why);
        return s;
    };
    const std::string found = "deletion guard: 42 deletions found, max_delete 50% allows 100 of the 200 entries the backup held before the run: ";
    const std::vector<Case> cases = {
        {summary(0, false, ""), 42, found + "deleted\n"},
        {summary(40, false, ""), 42, found + "deleted (40 allowed before copying)\n"},
        {summary(0, true, ""), 0, found + "refused, nothing deleted\n"},
        {summary(40, true, ""), 40, found + "refused all but the 40 allowed before copying\n"},
        {summary(0, false, "the source check failed"), 0, found + "nothing deleted (the source check failed)\n"},
        {summary(40, false, "the run halted"), 40, found + "40 deleted (the run halted)\n"},
        {summary(0, false, "the run was cancelled"), 0, found + "nothing deleted (the run was cancelled)\n"},
        {summary(0, false, "the run was cancelled during its deletions"), 17, found + "17 deleted (the run was cancelled during its deletions)\n"},
    };
    for (const auto &c : cases) {
        WorkUnit unit;
        unit.name = "alpha";
        RunModel run("R", {unit}, false, at(0));
        run.unit_started(0, at(0));
        TransferCounters counters;
        counters.deletions = c.deleted;
        run.unit_attempt_ended(0, UnitState::success, 0, "", {}, counters, false, at(1));
        run.note_deletions(c.summary);
        run.finish(at(1));
        const auto doc = nlohmann::json::parse(report_json(run, ReportContext{"/s", "/d", 1}));
        EXPECT_EQ(doc["totals"]["deletions"], c.deleted);
        EXPECT_EQ(doc["deletion_guard"].value("not_deleted_because", ""), c.summary.not_deleted_because);
        const std::string text = report_text(doc);
        EXPECT_NE(text.find(c.expected), std::string::npos) << text;
    }
}
