#include "core/hooks.hpp"

#include <csignal>
#include <gtest/gtest.h>

using namespace dailysync;

TEST(Hooks, TheEnvironmentIsExactlyTheDocumentedOne) {
    const auto env = hook_environment(HookStage::after_run, HookContext{"20261130-020000", "failed", "/var/lib/dailysyncd/runs/x.json",
                                                                        "/data/prod", "/data/prod_backup"});
    EXPECT_EQ(env, (std::vector<std::string>{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
                                             "DAILYSYNC_HOOK=after_run", "DAILYSYNC_RUN_ID=20261130-020000", "DAILYSYNC_RESULT=failed",
                                             "DAILYSYNC_REPORT=/var/lib/dailysyncd/runs/x.json", "DAILYSYNC_SOURCE=/data/prod",
                                             "DAILYSYNC_DESTINATION=/data/prod_backup", "DAILYSYNC_RUN_KIND=backup"}));
}

TEST(Hooks, OutputGoesToTheJournalLineByLineUpToACapAndTheReportKeepsTheTail) {
    HookOutput output;
    EXPECT_EQ(output.feed("first li"), std::vector<std::string>{});
    EXPECT_EQ(output.feed("ne\nsecond\nthi"), (std::vector<std::string>{"first line", "second"}));
    EXPECT_EQ(output.finish(), std::vector<std::string>{"thi"});
    EXPECT_EQ(output.tail(), "first line\nsecond\nthi");
    EXPECT_EQ(output.last_line(), "thi");

    HookOutput chatty;
    std::size_t logged = 0;
    for (int i = 0; i < 250; ++i) logged += chatty.feed("line " + std::to_string(i) + "\n").size();
    EXPECT_EQ(logged, HookOutput::kMaxJournalLines);
    const auto rest = chatty.finish();
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0], "(150 more lines not logged; the report keeps the last 4096 bytes)");
    EXPECT_LE(chatty.tail().size(), HookOutput::kMaxTailBytes);
    EXPECT_EQ(chatty.last_line(), "line 249");

    HookOutput hostile;
    EXPECT_EQ(hostile.feed(std::string("bad \xff byte\r\n")), std::vector<std::string>{"bad \\#377 byte\\#015"});
    HookOutput endless;   // a progress bar without newlines does not grow a line without limit
    endless.feed(std::string(100000, '#'));
    EXPECT_EQ(endless.finish().at(0).size(), HookOutput::kMaxTailBytes);
}

TEST(Hooks, AnOutcomeIsDescribedWithItsCommandAndItsLastOutputLine) {
    HookOutcome o;
    o.stage = HookStage::before_run;
    o.index = 0;
    o.argv = {"pg_dump", "-f", "/data/prod/db.sql", "prod"};
    o.exit_code = 0;
    EXPECT_TRUE(o.ok());
    EXPECT_EQ(o.describe(), "before_run hook 1 (pg_dump -f /data/prod/db.sql prod) succeeded");
    o.exit_code = 1;
    o.output = "connecting\npg_dump: error: connection refused\n\n";
    EXPECT_FALSE(o.ok());
    EXPECT_EQ(o.describe(), "before_run hook 1 (pg_dump -f /data/prod/db.sql prod) failed: exit status 1: pg_dump: error: connection refused");
    o.exit_code = -1;
    o.signal = SIGKILL;
    o.timed_out = true;
    EXPECT_NE(o.describe().find("was killed after its timeout"), std::string::npos);
    o.timed_out = false;
    EXPECT_NE(o.describe().find("was killed by signal KILL"), std::string::npos) << o.describe();
    HookOutcome missing;
    missing.stage = HookStage::on_failure;
    missing.index = 2;
    missing.argv = {"mailx"};
    missing.started = false;
    missing.start_error = "\"mailx\" is not an executable program";
    EXPECT_FALSE(missing.ok());
    EXPECT_EQ(missing.describe(), "on_failure hook 3 (mailx) could not be started: \"mailx\" is not an executable program");
    HookOutcome wide = o;
    wide.argv = {std::string(200, 'x')};
    EXPECT_LT(wide.name().size(), 120u);
}

TEST(Hooks, TheReportFieldNamesEachCommandAndHowItEnded) {
    HookOutcome ok{HookStage::after_run, 0, {"true"}, true, "", 0, 0, false, false, 0.5, "done\n"};
    HookOutcome timed{HookStage::before_run, 1, {"sleep", "9"}, true, "", -1, SIGTERM, true, false, 1.0, std::string("a\n\xff")};
    const auto json = hooks_json({ok, timed});
    ASSERT_EQ(json.size(), 2u);
    EXPECT_EQ(json[0]["stage"], "after_run");
    EXPECT_EQ(json[0]["index"], 1);
    EXPECT_EQ(json[0]["exit_code"], 0);
    EXPECT_TRUE(json[0]["ok"].get<bool>());
    EXPECT_EQ(json[0]["output"], "done\n");
    EXPECT_EQ(json[1]["signal"], SIGTERM);
    EXPECT_TRUE(json[1]["timed_out"].get<bool>());
    EXPECT_FALSE(json[1].contains("exit_code"));
    EXPECT_EQ(json[1]["output"], "a\n\\#377");   // valid UTF-8, line breaks kept
    EXPECT_EQ(json[1]["command"], (nlohmann::json{"sleep", "9"}));
}
