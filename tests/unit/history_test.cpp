#include <gtest/gtest.h>

#include "core/history.hpp"
#include "core/report.hpp"

using namespace dailysync;

namespace {
RunSummary run(const std::string &id, std::int64_t started, std::int64_t finished, const std::string &result = "success") {
    return RunSummary{id, result, started, finished, false};
}
Config keep(int runs, int days) {
    Config c;
    c.history_keep_runs = runs;
    c.history_keep_days = days;
    return c;
}
constexpr std::int64_t kDay = 86400;
}  // namespace

TEST(History, TheIndexReadsBackWhatWasWrittenOldestFirst) {
    std::vector<RunSummary> runs;
    record_run(runs, run("b", 200, 210));
    record_run(runs, run("a", 100, 110, "failed"));
    record_run(runs, RunSummary{"c", "success", 300, 310, true});
    ASSERT_EQ(runs.size(), 3u);
    EXPECT_EQ(runs[0].id, "a");
    EXPECT_EQ(runs[2].id, "c");
    const auto back = parse_index(index_json(runs));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, runs);
}

TEST(History, RecordingARunAgainReplacesIt) {
    std::vector<RunSummary> runs = {run("a", 100, 0, "interrupted")};
    record_run(runs, run("a", 100, 150, "success"));
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].result, "success");
}

TEST(History, ADamagedIndexIsNoIndex) {
    EXPECT_FALSE(parse_index("{"));
    EXPECT_FALSE(parse_index("{}"));
    EXPECT_FALSE(parse_index(R"([{"result": "success"}])"));              // no id
    EXPECT_FALSE(parse_index(R"([{"id": "a", "started_epoch": "x"}])"));  // wrong type
    EXPECT_TRUE(parse_index("[]"));
}

TEST(History, RetentionKeepsTheNewestRunsAndDropsTheOldOnes) {
    const std::int64_t now = 1000 * kDay;
    std::vector<RunSummary> runs;
    for (int i = 0; i < 10; ++i) record_run(runs, run("r" + std::to_string(i), now - (10 - i) * kDay, now - (10 - i) * kDay + 60));
    // By count: the 3 newest stay.
    EXPECT_EQ(runs_to_prune(runs, keep(3, 36500), now), (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4", "r5", "r6"}));
    // By age: what finished more than 5 days ago goes (r0..r4 finished 10..6 days ago).
    EXPECT_EQ(runs_to_prune(runs, keep(100, 5), now), (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4"}));
    // Both: the stricter wins for each run.
    EXPECT_EQ(runs_to_prune(runs, keep(8, 9), now).size(), 2u);
    EXPECT_TRUE(runs_to_prune(runs, keep(100, 36500), now).empty());
}

TEST(History, TheNewestRunStaysHoweverOld) {
    const std::int64_t now = 1000 * kDay;
    std::vector<RunSummary> runs = {run("old", now - 900 * kDay, now - 900 * kDay), run("last", now - 800 * kDay, now - 800 * kDay)};
    EXPECT_EQ(runs_to_prune(runs, keep(1, 1), now), std::vector<std::string>{"old"});
    EXPECT_TRUE(runs_to_prune({}, keep(1, 1), now).empty());
}

TEST(History, AReportsSummaryComesFromItsFieldsAndANewerSchemaIsRefused) {
    const auto summary = summary_of_report(
        R"({"schema_version": 2, "run_id": "20261130T020000Z", "result": "warning", "started_epoch": 5, "finished_epoch": 9, "dry_run": true})");
    ASSERT_TRUE(summary);
    EXPECT_EQ(*summary, (RunSummary{"20261130T020000Z", "warning", 5, 9, true}));
    // A report of an older version (no schema_version) still reads.
    EXPECT_TRUE(summary_of_report(R"({"run_id": "x", "result": "success"})"));
    EXPECT_FALSE(summary_of_report(R"({"schema_version": 99, "run_id": "x"})"));
    EXPECT_FALSE(summary_of_report("not json"));
    EXPECT_FALSE(summary_of_report("[]"));
    EXPECT_FALSE(summary_of_report(R"({"schema_version": "2", "run_id": "x"})"));   // never throws
    EXPECT_FALSE(summary_of_report(R"({"run_id": "x", "started_epoch": "soon"})"));
    const ParsedReport newer = parse_report(R"({"schema_version": 99})");
    EXPECT_NE(newer.error.find("newer dailysyncd (schema_version 99"), std::string::npos) << newer.error;
}
