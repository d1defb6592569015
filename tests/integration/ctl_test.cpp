// dailysyncctl against the real daemon on a private bus: every command's text and JSON,
// exit statuses, watch through a pseudo-terminal and a pipe, no daemon, not authorized.
#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pwd.h>
#include <regex>
#include <thread>

#include "helpers.hpp"
#include "service_fixture.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

Result ctl(const Service &s, std::vector<std::string> args) { return s.ctl(std::move(args)); }

// A run long enough to watch: one big file at a limited rate.
void make_slow(Service &s, const std::string &rate = "--bwlimit=1000") {
    write_file(s.source + "/alpha/big", std::string(3'000'000, 'b'));
    s.write_config(R"("rsync_extra_args": [")" + rate + R"("])");
}

}  // namespace

TEST(Ctl, WithoutADaemonSaysSoAndExits5) {
    TempDir dir;
    PrivateBus bus(dir, false);
    auto r = run({dailysyncctl(), "--user", "status"}, {"DBUS_SESSION_BUS_ADDRESS=" + bus.address()});
    EXPECT_EQ(r.exit_code, 5);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("dailysyncctl: dailysyncd is not running (nobody owns io.dailysync1 on the session bus)"), std::string::npos) << r.err;
    for (const char *command : {"start", "watch", "history", "cancel", "reload"})
        EXPECT_EQ(run({dailysyncctl(), "--user", command}, {"DBUS_SESSION_BUS_ADDRESS=" + bus.address()}).exit_code, 5) << command;
    auto no_bus = run({dailysyncctl(), "status"}, {"DBUS_SYSTEM_BUS_ADDRESS=unix:path=" + (dir / "no-such-socket")});
    EXPECT_EQ(no_bus.exit_code, 5);
    EXPECT_NE(no_bus.err.find("cannot connect to the system bus: "), std::string::npos) << no_bus.err;
}

TEST(Ctl, UsageErrorsExit64AndHelpExits0) {
    auto bad = run({dailysyncctl(), "frobnicate"});
    EXPECT_EQ(bad.exit_code, 64);
    EXPECT_NE(bad.err.find("unknown command \"frobnicate\""), std::string::npos);
    auto help = run({dailysyncctl(), "--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("Usage:"), std::string::npos);
    EXPECT_EQ(run({dailysyncctl(), "--version"}).out.rfind("dailysyncctl ", 0), 0u);
}

TEST(Ctl, StatusStartWaitHistoryReportAndErrors) {
    Service s;
    age_tree(s.source);
    s.start();
    auto idle = ctl(s, {"status"});
    EXPECT_EQ(idle.exit_code, 0) << idle.err;
    EXPECT_NE(idle.out.find("dailysyncd: idle"), std::string::npos) << idle.out;
    EXPECT_NE(idle.out.find("last run:   none yet"), std::string::npos);
    EXPECT_NE(idle.out.find("next run:   "), std::string::npos);
    auto idle_json = parse_json(ctl(s, {"status", "--json"}).out);
    EXPECT_EQ(idle_json["state"], "idle");
    EXPECT_GT(idle_json["next_run"].get<long long>(), static_cast<long long>(std::time(nullptr)));
    EXPECT_EQ(ctl(s, {"history"}).out, "no runs yet\n");

    auto waited = ctl(s, {"start", "--wait"});
    EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err;
    const std::string run_id = parse_json(ctl(s, {"status", "--json"}).out)["last_run_id"];
    EXPECT_NE(waited.out.find("run " + run_id + " started\nrun " + run_id + " finished: success"), std::string::npos) << waited.out;
    EXPECT_EQ(differences(snapshot(s.source), snapshot(s.destination)), "");

    auto after = ctl(s, {"status"});
    EXPECT_NE(after.out.find("last run:   " + run_id + " success, started "), std::string::npos) << after.out;
    auto after_json = parse_json(ctl(s, {"status", "--json"}).out);
    EXPECT_EQ(after_json["last_result"], "success");
    EXPECT_LE(after_json["last_run_started"].get<long long>(), after_json["last_run_finished"].get<long long>());

    auto json_wait = parse_json(ctl(s, {"start", "--wait", "--json"}).out);
    EXPECT_EQ(json_wait["result"], "success");
    const std::string second_id = json_wait["run_id"];

    // history: both runs, oldest first, with totals from the reports
    auto history = ctl(s, {"history"});
    EXPECT_EQ(history.exit_code, 0);
    EXPECT_LT(history.out.find(run_id), history.out.find(second_id)) << history.out;
    EXPECT_NE(history.out.find("RUN ID"), std::string::npos);
    auto history_json = parse_json(ctl(s, {"history", "--json"}).out);
    ASSERT_EQ(history_json.size(), 2u);
    auto report = parsed_report(read_file(s.state + "/runs/" + run_id + ".json"));
    EXPECT_EQ(history_json[0]["run_id"], run_id);
    EXPECT_EQ(history_json[0]["files"], report["totals"]["files"]);
    EXPECT_EQ(history_json[0]["bytes"], report["totals"]["bytes"]);
    auto last_one = parse_json(ctl(s, {"history", "-n", "1", "--json"}).out);
    ASSERT_EQ(last_one.size(), 1u);
    EXPECT_EQ(last_one[0]["run_id"], second_id);

    // report: text and the JSON exactly as written
    auto text = ctl(s, {"report", run_id});
    EXPECT_EQ(text.exit_code, 0);
    EXPECT_NE(text.out.find("TOTAL"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("run " + run_id + ": success"), std::string::npos) << text.out;
    EXPECT_EQ(ctl(s, {"report", run_id, "--json"}).out, read_file(s.state + "/runs/" + run_id + ".json"));
    auto missing = ctl(s, {"report", "20000101T000000Z"});
    EXPECT_EQ(missing.exit_code, 3);
    EXPECT_NE(missing.err.find("No report for run 20000101T000000Z"), std::string::npos) << missing.err;

    // refusals
    auto cancel = ctl(s, {"cancel"});
    EXPECT_EQ(cancel.exit_code, 3);
    EXPECT_EQ(cancel.err, "dailysyncctl: No run is active\n");
    auto watch_idle = ctl(s, {"watch"});
    EXPECT_EQ(watch_idle.exit_code, 0);
    EXPECT_EQ(watch_idle.out.rfind("no run is active\n", 0), 0u) << watch_idle.out;

    // reload: a good file is taken, a broken one refused with the daemon's message
    EXPECT_EQ(ctl(s, {"reload"}).exit_code, 0);
    write_file(s.config_path, R"({"source": "relative/path", "destination": ")" + s.destination + R"("})");
    auto broken = ctl(s, {"reload"});
    EXPECT_EQ(broken.exit_code, 3);
    EXPECT_NE(broken.err.find(s.config_path), std::string::npos) << broken.err;
    EXPECT_NE(broken.err.find("/source"), std::string::npos) << broken.err;
    EXPECT_EQ(parse_json(ctl(s, {"status", "--json"}).out)["state"], "idle") << "still serving";
}

TEST(Ctl, StartWaitExitStatusIsTheRunsResult) {
    Service s;
    s.start();
    remove_tree(s.destination);   // the run fails: the destination is missing
    auto failed = ctl(s, {"start", "--wait"});
    EXPECT_EQ(failed.exit_code, 2) << failed.out << failed.err;
    EXPECT_NE(failed.out.find("finished: failed"), std::string::npos) << failed.out;
    // Why, without a second command.
    EXPECT_NE(failed.out.find("\n  error: the destination " + s.destination + " is not available"), std::string::npos) << failed.out;
    make_dirs(s.destination);
    auto started = ctl(s, {"start"});
    EXPECT_EQ(started.exit_code, 0);
    EXPECT_NE(started.out.find(" started (follow it: dailysyncctl watch)"), std::string::npos) << started.out;
}

TEST(Ctl, WatchAsPlainTextEndsWithTheSummary) {
    Service s;
    make_slow(s);
    s.start();
    auto started = ctl(s, {"start", "--json"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    const std::string run_id = parse_json(started.out)["run_id"];
    auto watched = ctl(s, {"watch"});
    EXPECT_EQ(watched.exit_code, 0) << watched.err;
    EXPECT_EQ(watched.out.rfind("progress ", 0), 0u) << watched.out;
    EXPECT_NE(watched.out.find(" files "), std::string::npos);
    EXPECT_EQ(watched.out.find("\x1b["), std::string::npos) << "no terminal codes into a pipe";
    EXPECT_NE(watched.out.find("TOTAL"), std::string::npos) << watched.out;
    EXPECT_NE(watched.out.find("run " + run_id + ": success"), std::string::npos) << watched.out;
}

TEST(Ctl, WatchOnATerminalDrawsBarsInPlace) {
    Service s;
    make_slow(s);
    s.start();
    ASSERT_EQ(ctl(s, {"start"}).exit_code, 0);
    auto watched = run_in_pty({dailysyncctl(), "--user", "watch"}, {"DBUS_SESSION_BUS_ADDRESS=" + s.bus.address()}, 90);
    EXPECT_EQ(watched.exit_code, 0) << watched.out;
    EXPECT_NE(watched.out.find("\r\x1b[2K["), std::string::npos) << "lines are cleared and redrawn";
    EXPECT_TRUE(std::regex_search(watched.out, std::regex("\x1b\\[[0-9]+A"))) << "the cursor moves back up to redraw";
    EXPECT_NE(watched.out.find("  ["), std::string::npos) << "a bar per running unit";
    EXPECT_NE(watched.out.find("alpha"), std::string::npos);
    EXPECT_NE(watched.out.find("TOTAL"), std::string::npos);
    EXPECT_LE(widest_drawn_line(watched.out), 90u);   // every drawn line fits the 90 columns
    // status on a terminal is colored
    auto status = run_in_pty({dailysyncctl(), "--user", "status"}, {"DBUS_SESSION_BUS_ADDRESS=" + s.bus.address()});
    EXPECT_NE(status.out.find("\x1b[32msuccess\x1b[0m"), std::string::npos) << status.out;
    auto no_color = run_in_pty({dailysyncctl(), "--user", "--no-color", "status"}, {"DBUS_SESSION_BUS_ADDRESS=" + s.bus.address()});
    EXPECT_EQ(no_color.out.find("\x1b[32m"), std::string::npos) << no_color.out;
}

TEST(Ctl, WatchJsonAndCancelDuringARun) {
    Service s;
    make_slow(s, "--bwlimit=300");
    s.start();
    ASSERT_EQ(ctl(s, {"start"}).exit_code, 0);
    auto watcher = spawn({dailysyncctl(), "--user", "watch", "--json"}, {"DBUS_SESSION_BUS_ADDRESS=" + s.bus.address()});
    std::this_thread::sleep_for(2500ms);
    auto cancel = ctl(s, {"cancel"});
    EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
    auto watched = wait_for(watcher);
    EXPECT_EQ(watched.exit_code, 2) << "cancelled: " << watched.out << watched.err;
    std::vector<nlohmann::json> lines;
    std::size_t start = 0;
    for (std::size_t end; (end = watched.out.find('\n', start)) != std::string::npos; start = end + 1)
        if (end > start) lines.push_back(parse_json(watched.out.substr(start, end - start)));
    ASSERT_GE(lines.size(), 2u) << watched.out;
    EXPECT_EQ(lines.front()["state"], "running");
    EXPECT_TRUE(lines.front()["progress"]["units"].is_array());
    EXPECT_EQ(lines.back()["result"], "cancelled") << "the report comes last";
}

TEST(Ctl, NotAuthorizedToActButFreeToRead) {
    SystemService s;
    const uid_t nobody = ::getpwnam("nobody")->pw_uid;
    const std::vector<std::string> env = s.env();
    auto status = run({dailysyncctl(), "status"}, env, nobody);
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_NE(status.out.find("dailysyncd: idle"), std::string::npos);
    EXPECT_EQ(run({dailysyncctl(), "history"}, env, nobody).exit_code, 0);
    for (const char *command : {"start", "cancel", "reload"}) {
        auto refused = run({dailysyncctl(), command}, env, nobody);
        EXPECT_EQ(refused.exit_code, 4) << command << ": " << refused.err;
        EXPECT_NE(refused.err.find("not authorized to "), std::string::npos) << refused.err;
    }
    EXPECT_EQ(run({dailysyncctl(), "start", "--wait"}, env).exit_code, 0) << "root may";
    EXPECT_EQ(s.stop().exit_code, 0);
}

TEST(Ctl, BashCompletionOffersCommandsOptionsAndRunIds) {
    Service s;
    s.start();
    auto started = parse_json(ctl(s, {"start", "--wait", "--json"}).out);
    const std::string run_id = started["run_id"];
    const std::string bin_dir = dailysyncctl().substr(0, dailysyncctl().rfind('/'));
    auto complete = [&](const std::string &line) {
        const std::string script = "source /usr/share/bash-completion/bash_completion; source " + source_dir() +
                                   "/packaging/bash-completion/dailysyncctl; COMP_LINE='" + line +
                                   "'; COMP_POINT=${#COMP_LINE}; read -ra COMP_WORDS <<< \"$COMP_LINE\"; "
                                   "[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=(''); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                                   "_dailysyncctl; printf '%s\\n' \"${COMPREPLY[@]}\"";
        return run({"bash", "-c", script}, {"PATH=" + bin_dir + ":/usr/bin:/bin", "DBUS_SESSION_BUS_ADDRESS=" + s.bus.address()}).out;
    };
    EXPECT_EQ(complete("dailysyncctl st"), "status\nstart\n");
    EXPECT_NE(complete("dailysyncctl start --").find("--wait"), std::string::npos);
    EXPECT_NE(complete("dailysyncctl history -").find("--limit"), std::string::npos);
    EXPECT_EQ(complete("dailysyncctl --user report "), run_id + "\n");
}

TEST(Ctl, RetryRunsAgainOnlyTheUnitsThatFailedAsANewRunLinkedToIt) {
    Service s;
    // Two projects big enough for a unit each; beta's rsync fails until "fixed" exists.
    make_dirs(s.source + "/alpha/many");
    make_dirs(s.source + "/beta/many");
    for (int i = 0; i < 400; ++i) {
        write_file(s.source + "/alpha/many/a" + std::to_string(i), "a");
        write_file(s.source + "/beta/many/b" + std::to_string(i), "b");
    }
    const std::string wrapper = s.dir / "rsync-wrapper";
    write_file(wrapper,
               "#!/bin/sh\ncase \"$*\" in *beta*) if [ ! -e " + s.dir / "fixed" +
                   " ]; then echo 'rsync: simulated network failure' >&2; exit 12; fi;; esac\nexec rsync \"$@\"\n",
               0755);
    s.write_config(R"("rsync_path": ")" + wrapper + R"(", "concurrency": 2)");
    s.start();
    EXPECT_EQ(ctl(s, {"retry"}).exit_code, 3) << "nothing has run yet";
    auto first = ctl(s, {"start", "--wait", "--json"});
    EXPECT_EQ(first.exit_code, 2) << first.out << first.err;
    const auto status = parse_json(ctl(s, {"status", "--json"}).out);
    const std::string failed_run = status["last_run_id"];
    const auto report = parse_json(ctl(s, {"report", failed_run, "--json"}).out);
    std::size_t failed_units = 0, good_units = 0;
    for (const auto &unit : report["units"]) (unit["result"] == "success" ? good_units : failed_units) += 1;
    ASSERT_GT(failed_units, 0u) << report.dump(2);
    ASSERT_GT(good_units, 0u) << "alpha and beta were planned as one unit: " << report.dump(2);
    EXPECT_FALSE(std::filesystem::exists(s.destination + "/beta/many/b1"));

    // Overnight: both projects change; only beta's unit runs again.
    write_file(s.dir / "fixed", "");
    write_file(s.source + "/alpha/many/new-in-alpha", "x");
    write_file(s.source + "/beta/many/new-in-beta", "y");
    auto retried = ctl(s, {"retry", failed_run, "--wait"});
    EXPECT_EQ(retried.exit_code, 0) << retried.out << retried.err;
    EXPECT_EQ(read_file(s.destination + "/beta/many/b399"), "b");
    EXPECT_EQ(read_file(s.destination + "/beta/many/new-in-beta"), "y");
    EXPECT_FALSE(std::filesystem::exists(s.destination + "/alpha/many/new-in-alpha")) << "retry ran a unit that had succeeded";
    const std::string retry_run = parse_json(ctl(s, {"status", "--json"}).out)["last_run_id"];
    const auto retry_report = parse_json(ctl(s, {"report", retry_run, "--json"}).out);
    EXPECT_EQ(retry_report["retry_of"], failed_run);
    // The failed units again (one that expands into its subfolders does so again), nothing else.
    for (const auto &unit : retry_report["units"])
        EXPECT_EQ(unit["path"].get<std::string>().rfind("beta", 0), 0u) << unit.dump(2);
    EXPECT_EQ(retry_report["result"], "success");

    // The retry succeeded: retrying it (the last run) has nothing to do, and says so.
    auto again = ctl(s, {"retry"});
    EXPECT_EQ(again.exit_code, 3);
    EXPECT_NE(again.err.find("ended success: no unit failed, nothing to retry"), std::string::npos) << again.err;
    auto unknown = ctl(s, {"retry", "20000101T000000Z"});
    EXPECT_EQ(unknown.exit_code, 3);
    EXPECT_NE(unknown.err.find("no report of run 20000101T000000Z"), std::string::npos) << unknown.err;
}

// A daily run where the daemon compared the trees: its units are lists of what changed. A
// retry copies the folders of the failed list whole (rsync compares them, the report of
// the failed run says which), and nothing of the lists that succeeded.
TEST(Ctl, RetryOfACompareRunCopiesTheFailedListsFoldersWhole) {
    Service s;
    make_dirs(s.source + "/alpha/many");
    make_dirs(s.source + "/beta/many");
    write_file(s.source + "/alpha/many/a", "a");
    write_file(s.source + "/beta/many/b", "b");
    // rsync fails while "fixed" is missing when its list (stdin) holds an entry of beta/many/.
    const std::string wrapper = s.dir / "rsync-wrapper";
    const std::string list = s.dir / "list";
    write_file(wrapper,
               "#!/bin/sh\ncase \"$*\" in *--files-from=-*)\n  cat > " + list + ".$$\n  if [ ! -e " + s.dir / "fixed" + " ] && tr '\\0' '\\n' < " +
                   list + ".$$ | grep -q '^beta/many/'; then echo 'rsync: simulated network failure' >&2; exit 12; fi\n  exec rsync \"$@\" < " +
                   list + ".$$;;\nesac\nexec rsync \"$@\"\n",
               0755);
    s.write_config(R"("rsync_path": ")" + wrapper + R"(", "concurrency": 2, "daily_compare": "daemon")");
    s.start();
    ASSERT_EQ(ctl(s, {"start", "--wait"}).exit_code, 0) << "the first copy, which learns the statistics";

    // Changes in both folders: a list each (one per folder group, as concurrency allows).
    for (int i = 0; i < 300; ++i) {
        write_file(s.source + "/alpha/many/n" + std::to_string(i), "x");
        write_file(s.source + "/beta/many/n" + std::to_string(i), "y");
    }
    auto daily = ctl(s, {"start", "--wait"});
    EXPECT_EQ(daily.exit_code, 2) << daily.out << daily.err;
    const std::string failed_run = parse_json(ctl(s, {"status", "--json"}).out)["last_run_id"];
    const auto report = parse_json(ctl(s, {"report", failed_run, "--json"}).out);
    ASSERT_TRUE(report.contains("compare") && report["compare"]["used"].get<bool>()) << report.dump(2);
    std::size_t failed = 0;
    for (const auto &unit : report["units"]) {
        ASSERT_TRUE(unit.contains("listed")) << unit.dump(2);
        if (unit["result"] == "success") continue;
        ++failed;
        EXPECT_EQ(unit["listed"]["folders"], nlohmann::json::array({"beta/many"})) << unit.dump(2);
    }
    ASSERT_EQ(failed, 1u) << report.dump(2);
    EXPECT_TRUE(std::filesystem::exists(s.destination + "/alpha/many/n299"));
    EXPECT_FALSE(std::filesystem::exists(s.destination + "/beta/many/n0"));

    // Fixed; meanwhile both folders changed again: only beta/many is copied, whole.
    write_file(s.dir / "fixed", "");
    write_file(s.source + "/alpha/many/late", "x");
    write_file(s.source + "/beta/many/late", "y");
    auto retried = ctl(s, {"retry", failed_run, "--wait"});
    EXPECT_EQ(retried.exit_code, 0) << retried.out << retried.err;
    EXPECT_EQ(read_file(s.destination + "/beta/many/n299"), "y");
    EXPECT_EQ(read_file(s.destination + "/beta/many/late"), "y");
    EXPECT_FALSE(std::filesystem::exists(s.destination + "/alpha/many/late")) << "the retry copied a list that had succeeded";
    const std::string retry_run = parse_json(ctl(s, {"status", "--json"}).out)["last_run_id"];
    const auto retry_report = parse_json(ctl(s, {"report", retry_run, "--json"}).out);
    EXPECT_EQ(retry_report["retry_of"], failed_run);
    ASSERT_EQ(retry_report["units"].size(), 1u) << retry_report.dump(2);
    const auto &unit = retry_report["units"][0];
    EXPECT_TRUE(unit["recursive"].get<bool>()) << unit.dump(2);
    EXPECT_EQ(unit["listed"]["folders"], nlohmann::json::array({"beta/many"})) << unit.dump(2);
    EXPECT_EQ(retry_report["result"], "success");
}
