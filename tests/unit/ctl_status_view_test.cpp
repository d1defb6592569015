#include <gtest/gtest.h>

#include <limits>

#include "ctl/command_line.hpp"
#include "ctl/status_view.hpp"

using namespace dailysync;
using namespace dailysync::ctl;

namespace {
constexpr std::int64_t kNow = 1'795'700'000;
Style plain() {
    return Style{false, kNow, [](std::int64_t t) { return "T" + std::to_string(t - kNow); }};
}
DaemonStatus running_status() {
    DaemonStatus s;
    apply_property(s, "State", std::string("running"));
    apply_property(s, "CurrentRunId", std::string("20261126T160004Z"));
    apply_property(s, "BytesDone", std::uint64_t{500});
    apply_property(s, "BytesTotal", std::uint64_t{1000});
    apply_property(s, "FilesDone", std::uint64_t{5});
    apply_property(s, "FilesTotal", std::uint64_t{10});
    apply_property(s, "EtaSeconds", std::uint64_t{90});
    apply_property(s, "Units", std::vector<UnitProgress>{{"alpha", "running", 500, 1000, 5, 10}, {"beta", "pending", 0, 0, 0, 0}});
    apply_property(s, "NextRun", std::uint64_t(kNow + 3600) * 1'000'000ULL);
    return s;
}
}  // namespace

TEST(CtlStatusView, PropertiesFillTheStatusAndUnknownOnesAreIgnored) {
    DaemonStatus s = running_status();
    apply_property(s, "SomethingNew", std::string("x"));
    apply_property(s, "State", std::uint64_t{3});   // wrong type: ignored
    EXPECT_EQ(s.state, "running");
    EXPECT_EQ(s.progress.bytes_done, 500u);
    EXPECT_EQ(s.progress.eta_seconds, 90.0);
    apply_property(s, "EtaSeconds", std::numeric_limits<std::uint64_t>::max());
    EXPECT_FALSE(s.progress.eta_seconds);
    ASSERT_EQ(s.progress.units.size(), 2u);
    EXPECT_FALSE(s.bottleneck);
    apply_property(s, "Bottleneck", std::string("per-file-latency"));
    EXPECT_EQ(s.bottleneck, "per-file-latency");
}

TEST(CtlStatusView, RunningStatusShowsProgressUnitsAndNextRun) {
    const std::string text = status_text(running_status(), plain());
    EXPECT_NE(text.find("dailysyncd: running, run 20261126T160004Z"), std::string::npos) << text;
    EXPECT_NE(text.find("5/10 files"), std::string::npos) << text;
    EXPECT_NE(text.find("eta 1m 30s"), std::string::npos) << text;
    EXPECT_NE(text.find("alpha"), std::string::npos);
    EXPECT_NE(text.find("next run:   T3600 (in 1h 0m)"), std::string::npos) << text;
    EXPECT_NE(text.find("last run:   none yet"), std::string::npos);
    EXPECT_EQ(text.find("\x1b["), std::string::npos) << "no color unless asked";
}

TEST(CtlStatusView, IdleStatusShowsTheLastRunAndColorsItsResult) {
    DaemonStatus s;
    s.state = "idle";
    s.last_result = "failed";
    s.last_run_id = "20261126T160004Z";
    s.last_run = RunListing{"20261126T160004Z", "failed", kNow - 7200, kNow - 7200 + 65};
    Style style = plain();
    std::string text = status_text(s, style);
    EXPECT_NE(text.find("last run:   20261126T160004Z failed, started T-7200 (2h 0m ago), took 1m 05s"), std::string::npos) << text;
    EXPECT_EQ(text.find("progress"), std::string::npos);
    style.color = true;
    text = status_text(s, style);
    EXPECT_NE(text.find("\x1b[31mfailed\x1b[0m"), std::string::npos) << text;
    s.bottleneck = "cpu";
    s.bottleneck_evidence = "rsync children used 1.9 of 2 cores";
    EXPECT_NE(status_text(s, plain()).find("bottleneck: cpu\n              rsync children used"), std::string::npos);
}

TEST(CtlStatusView, StatusJsonForScripts) {
    auto doc = status_json(running_status());
    EXPECT_EQ(doc["state"], "running");
    EXPECT_EQ(doc["current_run_id"], "20261126T160004Z");
    EXPECT_EQ(doc["next_run"], kNow + 3600);
    EXPECT_EQ(doc["progress"]["files_done"], 5);
    EXPECT_EQ(doc["progress"]["eta_seconds"], 90.0);
    EXPECT_EQ(doc["progress"]["units"][0]["name"], "alpha");
    DaemonStatus idle;
    idle.state = "idle";
    auto idle_doc = status_json(idle);
    EXPECT_FALSE(idle_doc.contains("progress"));
    EXPECT_TRUE(idle_doc["next_run"].is_null());
    EXPECT_FALSE(idle_doc.contains("bottleneck"));
}

TEST(CtlStatusView, RelativeTimes) {
    EXPECT_EQ(relative_time(kNow + 30, kNow), "in 30s");
    EXPECT_EQ(relative_time(kNow - 300, kNow), "5m ago");
    EXPECT_EQ(relative_time(kNow + 3 * 3600 + 120, kNow), "in 3h 2m");
    EXPECT_EQ(relative_time(kNow - 2 * 86400 - 3600, kNow), "2d 1h ago");
}

TEST(CtlStatusView, HistoryTableAndJsonTakeTotalsFromReports) {
    auto report = nlohmann::json::parse(R"({"totals": {"files": 775, "bytes": 41600000, "bytes_transferred": 1000}})");
    std::vector<HistoryRow> rows = {history_row({"20261125T020000Z", "success", kNow - 86400, kNow - 86400 + 3723}, report),
                                    history_row({"20261126T020000Z", "warning", kNow, kNow + 5}, std::nullopt)};
    const std::string text = history_text(rows, plain());
    EXPECT_NE(text.find("RUN ID"), std::string::npos);
    EXPECT_NE(text.find("20261125T020000Z    T-86400"), std::string::npos) << text;
    EXPECT_NE(text.find("1h 02m 03s"), std::string::npos) << text;
    EXPECT_NE(text.find("775"), std::string::npos);
    EXPECT_NE(text.find("41.6 MB"), std::string::npos) << text;
    EXPECT_NE(text.find("warning"), std::string::npos);
    Style colored = plain();
    colored.color = true;
    EXPECT_NE(history_text(rows, colored).find("\x1b[33mwarning\x1b[0m   "), std::string::npos) << "padding kept after the color";
    auto doc = history_json(rows);
    EXPECT_EQ(doc[0]["files"], 775);
    EXPECT_EQ(doc[0]["seconds"], 3723);
    EXPECT_EQ(doc[0]["bytes_copied"], 1000);
    EXPECT_TRUE(doc[1]["files"].is_null());
    EXPECT_EQ(history_text({}, plain()), "no runs yet\n");
}

TEST(CtlStatusView, ExitStatusesForResults) {
    EXPECT_EQ(exit_status_for_result("success"), kExitOk);
    EXPECT_EQ(exit_status_for_result("warning"), kExitRunWarning);
    EXPECT_EQ(exit_status_for_result("failed"), kExitRunFailed);
    EXPECT_EQ(exit_status_for_result("cancelled"), kExitRunFailed);
}

TEST(CtlStatusView, BusErrorsBecomeAdviceAndExitStatuses) {
    auto gone = explain_bus_error("org.freedesktop.DBus.Error.ServiceUnknown", "The name is not activatable", "StartRun", false);
    EXPECT_EQ(gone.exit_status, kExitNoDaemon);
    EXPECT_NE(gone.message.find("dailysyncd is not running"), std::string::npos);
    EXPECT_NE(gone.message.find("systemctl start dailysyncd"), std::string::npos);
    EXPECT_EQ(explain_bus_error("org.freedesktop.DBus.Error.NameHasNoOwner", "", "x", true).message.find("systemctl"), std::string::npos);
    auto denied = explain_bus_error("org.freedesktop.DBus.Error.AccessDenied", "Rejected send message", "StartRun", false);
    EXPECT_EQ(denied.exit_status, kExitDenied);
    EXPECT_NE(denied.message.find("not authorized to StartRun"), std::string::npos);
    auto busy = explain_bus_error("io.dailysync1.Error.AlreadyRunning", "Run 20261126T160004Z is active", "StartRun", false);
    EXPECT_EQ(busy.exit_status, kExitRefused);
    EXPECT_EQ(busy.message, "Run 20261126T160004Z is active");
    auto odd = explain_bus_error("org.freedesktop.DBus.Error.UnknownMethod", "no such method", "Reload", false);
    EXPECT_EQ(odd.exit_status, kExitRefused);
    EXPECT_NE(odd.message.find("Reload failed: no such method (org.freedesktop.DBus.Error.UnknownMethod)"), std::string::npos);
    auto no_bus = explain_connect_error("No such file or directory", false);
    EXPECT_EQ(no_bus.exit_status, kExitNoDaemon);
    EXPECT_EQ(no_bus.message, "cannot connect to the system bus: No such file or directory");
}

TEST(StatusView, ProblemsOfARunNameItsErrorAndEveryUnitThatDidNotSucceed) {
    const auto report = nlohmann::json::parse(R"({
        "result": "failed", "error": "refused to delete 9 of 10 entries\nsecond line",
        "units": [
            {"name": "alpha", "result": "success"},
            {"name": "beta", "result": "partial", "message": "rsync exit 23 (partial transfer due to error): rsync: [receiver] mkstemp failed"},
            {"name": "gamma", "result": "warning", "message": "2 source files vanished during the copy"},
            {"name": "delta", "result": "failed"}
        ]})");
    const auto lines = ctl::problems_of(report);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], "  error: refused to delete 9 of 10 entries");
    EXPECT_EQ(lines[1], "  unit beta: partial: rsync exit 23 (partial transfer due to error): rsync: [receiver] mkstemp failed");
    EXPECT_EQ(lines[2], "  unit gamma: warning: 2 source files vanished during the copy");
    EXPECT_EQ(lines[3], "  unit delta: failed");
    EXPECT_EQ(ctl::problems_of(report, 1).back(), "  ... and 2 more units");
    EXPECT_TRUE(ctl::problems_of(nlohmann::json::parse(R"({"result": "success", "units": [{"name": "a", "result": "success"}]})")).empty());
    EXPECT_TRUE(ctl::problems_of(nlohmann::json::array()).empty());
}

// dailysyncctl verify (--wait) names what it found, not only how many.
TEST(StatusView, AVerifysProblemsNameItsFindings) {
    const auto report = nlohmann::json::parse(R"({
        "run_id": "R", "result": "failed", "error": "verify: 1 file in the backup differ ...",
        "verify": {"differing_paths": ["alpha/f7"], "missing_paths": ["beta/b", "beta/c"], "extraneous_paths": ["old"], "mirror": false},
        "units": [{"name": "alpha", "result": "success"}]})");
    const auto lines = ctl::problems_of(report);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[1], "  differs: alpha/f7");
    EXPECT_EQ(lines[2], "  missing: beta/b");
    EXPECT_EQ(lines[3], "  missing: beta/c");
    const auto few = ctl::problems_of(report, 2);
    EXPECT_EQ(few.back(), "  ... (dailysyncctl report R lists more)");
    auto mirror = report;
    mirror["verify"]["mirror"] = true;
    EXPECT_EQ(ctl::problems_of(mirror).back(), "  extraneous: old");
}
