#include <gtest/gtest.h>

#include "core/metrics.hpp"

using namespace dailysync;

TEST(Metrics, EveryMetricHasHelpTypeAndValue) {
    MetricsSnapshot s;
    s.last_success = 1'795'708'804;
    s.last_duration_seconds = 12.5;
    s.last_bytes = 4096;
    s.last_files = 3;
    s.last_result = "warning";
    s.project_last_success = {{"alpha", 1'795'708'800}, {"we\"ird\\name\n", 5}};
    const std::string text = format_metrics(s);
    for (const char *name : {"dailysync_last_success_timestamp_seconds", "dailysync_last_run_duration_seconds", "dailysync_last_run_bytes",
                             "dailysync_last_run_files", "dailysync_last_run_result", "dailysync_project_last_success_timestamp_seconds"}) {
        EXPECT_NE(text.find(std::string("# HELP ") + name + " "), std::string::npos) << name;
        EXPECT_NE(text.find(std::string("# TYPE ") + name + " gauge\n"), std::string::npos) << name;
    }
    EXPECT_NE(text.find("dailysync_last_success_timestamp_seconds 1795708804\n"), std::string::npos) << text;
    EXPECT_NE(text.find("dailysync_last_run_duration_seconds 12.5\n"), std::string::npos);
    EXPECT_NE(text.find("dailysync_last_run_result{result=\"warning\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("dailysync_last_run_result{result=\"success\"} 0\n"), std::string::npos);
    EXPECT_NE(text.find("{project=\"we\\\"ird\\\\name\\n\"} 5\n"), std::string::npos) << text;
}

TEST(Metrics, BeforeTheFirstRun) {
    const std::string text = format_metrics(MetricsSnapshot{});
    EXPECT_NE(text.find("dailysync_last_success_timestamp_seconds 0\n"), std::string::npos);
    EXPECT_EQ(text.find("dailysync_project_last_success_timestamp_seconds{"), std::string::npos);
}
