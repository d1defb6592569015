#include <gtest/gtest.h>

#include "ctl/command_line.hpp"

using namespace dailysync::ctl;

TEST(CtlCommandLine, StatusIsTheDefault) {
    auto cl = parse_command_line({});
    EXPECT_EQ(cl.command, Command::status);
    EXPECT_EQ(cl.error, "");
    EXPECT_FALSE(cl.user_bus);
    EXPECT_FALSE(cl.json);
}

TEST(CtlCommandLine, CommandsAndOptionsInAnyOrder) {
    auto cl = parse_command_line({"--user", "start", "--wait"});
    EXPECT_EQ(cl.command, Command::start);
    EXPECT_TRUE(cl.wait);
    EXPECT_TRUE(cl.user_bus);
    cl = parse_command_line({"history", "-n", "3", "--json"});
    EXPECT_EQ(cl.command, Command::history);
    EXPECT_EQ(cl.limit, 3);
    EXPECT_TRUE(cl.json);
    cl = parse_command_line({"history", "--limit=25", "--no-color"});
    EXPECT_EQ(cl.limit, 25);
    EXPECT_FALSE(cl.color);
    cl = parse_command_line({"report", "20261126T160004Z", "--json"});
    EXPECT_EQ(cl.command, Command::report);
    EXPECT_EQ(cl.run_id, "20261126T160004Z");
    EXPECT_EQ(parse_command_line({"watch"}).command, Command::watch);
    EXPECT_EQ(parse_command_line({"cancel"}).command, Command::cancel);
    EXPECT_EQ(parse_command_line({"reload"}).command, Command::reload);
    EXPECT_EQ(parse_command_line({"status", "--help"}).command, Command::help);
    EXPECT_EQ(parse_command_line({"help"}).command, Command::help);
    EXPECT_EQ(parse_command_line({"--version"}).command, Command::version);
}

TEST(CtlCommandLine, UsageErrorsSayWhatIsWrong) {
    EXPECT_NE(parse_command_line({"strat"}).error.find("unknown command \"strat\""), std::string::npos);
    EXPECT_NE(parse_command_line({"--jsn"}).error.find("unknown option \"--jsn\""), std::string::npos);
    EXPECT_NE(parse_command_line({"report"}).error.find("report needs one RUN_ID"), std::string::npos);
    EXPECT_NE(parse_command_line({"report", "a", "b"}).error.find("report needs one RUN_ID"), std::string::npos);
    EXPECT_NE(parse_command_line({"status", "extra"}).error.find("unexpected argument \"extra\""), std::string::npos);
    EXPECT_NE(parse_command_line({"watch", "--wait"}).error.find("--wait goes with start"), std::string::npos);
    EXPECT_NE(parse_command_line({"cancel", "--json"}).error.find("--json goes with"), std::string::npos);
    for (const char *bad : {"0", "-2", "x", "3x", ""})
        EXPECT_NE(parse_command_line({"history", "-n", bad}).error.find("needs a count"), std::string::npos) << bad;
    EXPECT_NE(parse_command_line({"history", "-n"}).error.find("needs a count"), std::string::npos);
}

TEST(CtlCommandLine, HelpNamesEveryCommandAndExitStatus) {
    const std::string help = help_text();
    for (const char *word : {"status", "start [--wait]", "cancel", "reload", "watch", "history [-n N]", "report RUN_ID", "--json",
                             "--user", "io.dailysync1", "Exit status", "64"})
        EXPECT_NE(help.find(word), std::string::npos) << word;
}

TEST(CtlCommandLine, RetryTakesAnOptionalRunIdAndWaits) {
    const auto last = parse_command_line({"retry"});
    EXPECT_EQ(last.error, "");
    EXPECT_EQ(last.command, Command::retry);
    EXPECT_EQ(last.run_id, "");
    const auto one = parse_command_line({"retry", "20261130T020000Z", "--wait", "--json"});
    EXPECT_EQ(one.error, "");
    EXPECT_EQ(one.run_id, "20261130T020000Z");
    EXPECT_TRUE(one.wait);
    EXPECT_NE(parse_command_line({"retry", "a", "b"}).error.find("retry takes one RUN_ID"), std::string::npos);
    EXPECT_NE(parse_command_line({"retry", "--allow-mass-change"}).error.find("--allow-mass-change goes with start"), std::string::npos);
    EXPECT_NE(std::string(help_text()).find("retry [RUN_ID] [--wait]"), std::string::npos);
}
