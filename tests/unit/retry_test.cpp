#include "core/retry.hpp"

#include <gtest/gtest.h>

#include "core/names.hpp"
#include "core/report.hpp"

using namespace dailysync;
using nlohmann::json;

namespace {
json unit(const std::string &path, const std::string &result, bool recursive = true, bool expand = false) {
    json u = {{"name", path.empty() ? "." : path}, {"path", path}, {"recursive", recursive}, {"result", result}};
    if (expand) u["expand"] = true;
    return u;
}
}  // namespace

TEST(Retry, TheUnitsThatDidNotSucceedAreRunAgainAsTheyWerePlanned) {
    json report = {{"result", "failed"}, {"dry_run", false}};
    report["units"] = {unit("alpha", "success"), unit("beta", "partial"), unit("gamma", "failed", false, true), unit("delta", "cancelled"),
                       unit("eps", "warning")};
    report["units"][1]["members"] = {"x", "y"};
    const auto plan = plan_retry("R1", report);
    EXPECT_EQ(plan.error, "");
    EXPECT_EQ(plan.of, "R1");
    ASSERT_EQ(plan.units.size(), 3u);
    EXPECT_EQ(plan.units[0].base, "beta");
    EXPECT_EQ(plan.units[0].members, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(plan.units[1].base, "gamma");
    EXPECT_FALSE(plan.units[1].recursive);
    EXPECT_TRUE(plan.units[1].expand);
    EXPECT_EQ(plan.units[2].base, "delta");
}

TEST(Retry, NamesThatAreNotTextComeBackExactlyThroughTheReport) {
    // The report writes such names in hexadecimal beside their printable form.
    const std::string odd = std::string("caf\xe9\n\\#101", 9);
    WorkUnit w;
    w.name = "odd";
    w.base = odd;
    w.members = {};
    WorkUnit members;
    members.name = "members";
    members.members = {"plain", odd};
    RunModel model("R2", {w, members}, false, WallClock::now());
    const auto report = parse_report(report_json(model, ReportContext{"/s", "/d", 1}));
    ASSERT_EQ(report.error, "");
    json doc = report.doc;
    doc["result"] = "failed";
    for (auto &u : doc["units"]) u["result"] = "failed";
    const auto plan = plan_retry("R2", doc);
    ASSERT_EQ(plan.units.size(), 2u) << plan.error;
    EXPECT_EQ(plan.units[0].base, odd);
    EXPECT_EQ(plan.units[1].members, (std::vector<std::string>{"plain", odd}));
    EXPECT_EQ(to_hex(std::string("\x00\xff", 2)), "00ff");
    EXPECT_EQ(from_hex("00ff"), std::string("\x00\xff", 2));
    EXPECT_FALSE(from_hex("0"));
    EXPECT_FALSE(from_hex("zz"));
}

TEST(Retry, NothingToRetrySaysWhy) {
    EXPECT_NE(plan_retry("R", json{{"result", "success"}, {"units", json::array({unit("a", "success")})}}).error.find("nothing to retry"),
              std::string::npos);
    EXPECT_NE(plan_retry("R", json{{"result", "failed"}, {"dry_run", true}}).error.find("was a dry run"), std::string::npos);
    EXPECT_NE(plan_retry("R", json{{"result", "failed"}, {"dry_run", true}, {"verify", {{"missing", 3}}}}).error.find("was a verify: it copies nothing"),
              std::string::npos);
    const auto early = plan_retry("R", json{{"result", "failed"}, {"error", "the destination /d is not available"}, {"units", json::array()}});
    EXPECT_TRUE(early.units.empty());
    EXPECT_NE(early.error.find("before any unit of it failed (the destination /d is not available)"), std::string::npos) << early.error;
    EXPECT_NE(early.error.find("dailysyncctl start"), std::string::npos);
}

TEST(Retry, AReportThatNamesPathsOutsideTheSourceIsRefused) {
    for (const char *path : {"../etc", "/etc", "a/../../b", "a//b", "a/"}) {
        json report = {{"result", "failed"}, {"units", json::array({unit(path, "failed")})}};
        const auto plan = plan_retry("R", report);
        EXPECT_TRUE(plan.units.empty()) << path;
        EXPECT_NE(plan.error.find("does not say exactly which folders"), std::string::npos) << path;
    }
    json members = {{"result", "failed"}, {"units", json::array({unit("a", "failed")})}};
    members["units"][0]["members"] = {"../x"};
    EXPECT_TRUE(plan_retry("R", members).units.empty());
    json hex = {{"result", "failed"}, {"units", json::array({unit("a", "failed")})}};
    hex["units"][0]["raw"] = {{"path", to_hex("../x")}, {"members", json::array()}};
    EXPECT_TRUE(plan_retry("R", hex).units.empty());
}
