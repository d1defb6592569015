#include "core/alerts.hpp"

#include <gtest/gtest.h>

#include "core/config.hpp"

using namespace dailysync;
using nlohmann::json;

TEST(Alerts, OnlyRunsThatDidNotSucceedNeedAPerson) {
    for (const char *r : {"failed", "cancelled", "interrupted"}) EXPECT_TRUE(run_needs_alert(r)) << r;
    for (const char *r : {"success", "warning", ""}) EXPECT_FALSE(run_needs_alert(r)) << r;
}

TEST(Alerts, TheUnitInstanceIsEscapedAsSystemdEscapeDoes) {
    EXPECT_EQ(alert_unit_name("20261130T020000Z"), "dailysyncd-alert@20261130T020000Z.service");
    EXPECT_EQ(alert_unit_name("20261130T020000Z-2"), "dailysyncd-alert@20261130T020000Z\\x2d2.service");
    EXPECT_EQ(alert_unit_name("stale"), "dailysyncd-alert@stale.service");
    EXPECT_EQ(alert_unit_name(".a b/c"), "dailysyncd-alert@\\x2ea\\x20b-c.service");
}

TEST(Alerts, AStaleBackupAlertsOncePerSpell) {
    const std::int64_t day = 86400;
    StaleWatch watch{1000, 0, std::nullopt, 36 * 3600};
    EXPECT_EQ(stale_at(watch), 1000 + 36 * 3600);
    EXPECT_FALSE(stale_alert_due(watch, 1000 + day));
    EXPECT_TRUE(stale_alert_due(watch, 1000 + 2 * day));
    watch.alerted = 1000 + 2 * day;   // sent
    EXPECT_FALSE(stale_alert_due(watch, 1000 + 3 * day)) << "again in the same spell";
    watch.last_success = 1000 + 4 * day;   // a success: a new spell, alerted again once stale
    EXPECT_FALSE(stale_alert_due(watch, 1000 + 5 * day));
    EXPECT_TRUE(stale_alert_due(watch, 1000 + 6 * day));
    // Before any success: measured from when the daemon started watching.
    EXPECT_TRUE(stale_alert_due(StaleWatch{std::nullopt, 500, std::nullopt, 100}, 600));
    EXPECT_FALSE(stale_alert_due(StaleWatch{std::nullopt, 500, std::nullopt, 100}, 599));
    EXPECT_FALSE(stale_at(StaleWatch{std::nullopt, std::nullopt, std::nullopt, 100}));
    // Off.
    EXPECT_FALSE(stale_alert_due(StaleWatch{1, 1, std::nullopt, 0}, 1'000'000'000));
}

TEST(Alerts, TheWebhookBodySaysWhatHappenedAndWhichUnitsFailed) {
    json report = {{"run_id", "R"}, {"result", "failed"}, {"error", ""}, {"started", "2026-11-30T02:00:00Z"}, {"seconds", 12.5},
                   {"totals", {{"files", 3}}}};
    report["units"] = json::array();
    report["units"].push_back({{"name", "alpha"}, {"result", "success"}});
    for (int i = 0; i < 12; ++i) report["units"].push_back({{"name", "u" + std::to_string(i)}, {"result", "partial"}, {"message", "rsync exit 23\nmore"}});
    const auto body = run_alert_payload(report, "nas-backup");
    EXPECT_EQ(body["event"], "run");
    EXPECT_EQ(body["host"], "nas-backup");
    EXPECT_EQ(body["result"], "failed");
    EXPECT_EQ(body["totals"]["files"], 3);
    ASSERT_EQ(body["failed_units"].size(), 10u);
    EXPECT_EQ(body["failed_units"][0]["unit"], "u0");
    EXPECT_EQ(body["failed_units"][0]["message"], "rsync exit 23");
    EXPECT_EQ(body["more_failed_units"], 2);

    const auto stale = stale_alert_payload(StaleWatch{1000, 0, std::nullopt, 3600}, 1000 + 7200, "R", "failed", "h");
    EXPECT_EQ(stale["event"], "stale");
    EXPECT_EQ(stale["seconds_since_success"], 7200);
    EXPECT_EQ(stale["error"], "no successful backup for 2h 00m 00s");
    EXPECT_EQ(stale["last_result"], "failed");
}

TEST(Alerts, FailuresGoToTheFailureUrlWhenThereIsOne) {
    Alerts alerts;
    alerts.webhook_url = "https://hc-ping.com/u";
    EXPECT_EQ(webhook_target(alerts, true), "https://hc-ping.com/u");
    alerts.webhook_failure_url = "https://hc-ping.com/u/fail";
    EXPECT_EQ(webhook_target(alerts, true), "https://hc-ping.com/u/fail");
    EXPECT_EQ(webhook_target(alerts, false), "https://hc-ping.com/u");
}
