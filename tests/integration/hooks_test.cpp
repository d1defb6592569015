// Hook commands around a run (dailysyncd --once, real processes): order, environment,
// output, timeout, a before_run that fails the run before anything is copied, the end
// hooks after every run.
#include <csignal>
#include <dirent.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "once_fixture.hpp"

using namespace testing_support;

namespace {

std::string quoted(const std::string &text) { return nlohmann::json(text).dump(); }

// A hook that appends `name` to the order file and saves its environment.
std::string recorder(const Fixture &f, const std::string &name, const std::string &more = "") {
    const std::string script = "echo " + name + " >> " + f.dir / "order" + "; env > " + f.dir / (name + ".env") +
                               "; echo hello from " + name + (more.empty() ? "" : "; " + more);
    return "[\"sh\", \"-c\", " + quoted(script) + "]";
}

std::map<std::string, std::string> environment_in(const std::string &path) {
    std::map<std::string, std::string> env;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        const auto equals = line.find('=');
        if (equals != std::string::npos) env[line.substr(0, equals)] = line.substr(equals + 1);
    }
    return env;
}

// Processes whose command line holds `marker`.
int processes_with(const std::string &marker) {
    int found = 0;
    DIR *proc = ::opendir("/proc");
    while (dirent *entry = ::readdir(proc)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        std::string cmdline = read_file(std::string("/proc/") + entry->d_name + "/cmdline");
        for (char &c : cmdline)
            if (c == '\0') c = ' ';
        if (cmdline.find(marker) != std::string::npos) ++found;
    }
    ::closedir(proc);
    return found;
}

}  // namespace

TEST(Hooks, RunInOrderWithTheDocumentedEnvironmentAndTheirOutputIsLoggedAndReported) {
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("hooks": {"before_run": [)" + recorder(f, "before1") + ", " + recorder(f, "before2") +
                                        R"(], "after_run": [)" + recorder(f, "after", "cp \"$DAILYSYNC_REPORT\" " + f.dir / "report-copy") +
                                        R"(], "on_failure": [)" + recorder(f, "failure") + "]}");
    auto r = run({dailysyncd(), "--once", "--config", config}, {"LEAKED_FROM_THE_DAEMON=1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(f.dir / "order"), "before1\nbefore2\nafter\n");   // on_failure only after a failure
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");

    const auto before = environment_in(f.dir / "before1.env");
    const auto report = f.report(r.out);
    const std::string run_id = report.value("run_id", "");
    ASSERT_FALSE(run_id.empty());
    EXPECT_EQ(before.count("LEAKED_FROM_THE_DAEMON"), 0u);
    EXPECT_EQ(before.count("HOME"), 0u);
    EXPECT_EQ(before.at("PATH"), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    EXPECT_EQ(before.at("DAILYSYNC_HOOK"), "before_run");
    EXPECT_EQ(before.at("DAILYSYNC_RUN_ID"), run_id);
    EXPECT_EQ(before.at("DAILYSYNC_RESULT"), "");
    EXPECT_EQ(before.at("DAILYSYNC_REPORT"), "");
    EXPECT_EQ(before.at("DAILYSYNC_SOURCE"), f.source);
    EXPECT_EQ(before.at("DAILYSYNC_DESTINATION"), f.destination);
    EXPECT_EQ(before.at("DAILYSYNC_RUN_KIND"), "backup");
    const auto after = environment_in(f.dir / "after.env");
    EXPECT_EQ(after.at("DAILYSYNC_HOOK"), "after_run");
    EXPECT_EQ(after.at("DAILYSYNC_RESULT"), "success");
    EXPECT_EQ(after.at("DAILYSYNC_RUN_ID"), run_id);
    // The report existed when after_run ran; the final one also names after_run itself.
    EXPECT_EQ(parsed_report(read_file(f.dir / "report-copy")).value("run_id", ""), run_id);
    ASSERT_TRUE(report.contains("hooks")) << report.dump(2);
    ASSERT_EQ(report["hooks"].size(), 3u) << report["hooks"].dump(2);
    EXPECT_EQ(report["hooks"][0]["stage"], "before_run");
    EXPECT_EQ(report["hooks"][1]["index"], 2);
    EXPECT_EQ(report["hooks"][2]["stage"], "after_run");
    for (const auto &hook : report["hooks"]) {
        EXPECT_TRUE(hook["ok"].get<bool>()) << hook.dump();
        EXPECT_EQ(hook["exit_code"], 0);
    }
    EXPECT_NE(report["hooks"][2]["output"].get<std::string>().find("hello from after"), std::string::npos);
    EXPECT_NE(r.err.find("before_run hook 2 (sh -c "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("hello from before2"), std::string::npos) << r.err;
}

TEST(Hooks, AFailingBeforeRunFailsTheRunWithNothingCopiedAndTheEndHooksStillRun) {
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("hooks": {"before_run": [["sh", "-c", "echo cannot snapshot the source >&2; exit 3"], )" +
                                        recorder(f, "before2") + R"(], "after_run": [)" + recorder(f, "after") +
                                        R"(], "on_failure": [)" + recorder(f, "failure") + "]}");
    auto r = run({dailysyncd(), "--once", "--config", config});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(list_dir(f.destination).empty()) << "copied although before_run failed";
    EXPECT_EQ(read_file(f.dir / "order"), "after\nfailure\n");   // the second before_run never ran
    const auto report = f.report(r.out);
    EXPECT_EQ(report["result"], "failed");
    const std::string error = report.value("error", "");
    EXPECT_NE(error.find("before_run hook 1 (sh -c echo cannot snapshot"), std::string::npos) << error;
    EXPECT_NE(error.find("exit status 3: cannot snapshot the source"), std::string::npos) << error;
    EXPECT_EQ(environment_in(f.dir / "failure.env").at("DAILYSYNC_RESULT"), "failed");
    EXPECT_EQ(report["hooks"].size(), 3u);
}

TEST(Hooks, WithBeforeRunFailureWarnTheRunGoesAheadAndEndsInAWarning) {
    Fixture f;
    f.build_tree();
    const std::string config =
        f.config(R"("hooks": {"before_run": [["no-such-program-anywhere"]], "before_run_failure": "warn", "on_failure": [)" +
                 recorder(f, "failure") + "]}");
    auto r = run({dailysyncd(), "--once", "--config", config});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
    const auto report = f.report(r.out);
    EXPECT_EQ(report["result"], "warning");
    ASSERT_TRUE(report.contains("warnings"));
    EXPECT_NE(report["warnings"][0].get<std::string>().find("\"no-such-program-anywhere\" is not an executable program"), std::string::npos)
        << report["warnings"].dump();
    EXPECT_NE(r.out.find("warning: before_run hook 1 (no-such-program-anywhere) could not be started"), std::string::npos) << r.out;
    EXPECT_FALSE(::access((f.dir / "order").c_str(), F_OK) == 0) << "on_failure ran after a warning";
}

TEST(Hooks, AHookPastItsTimeoutIsKilledWithWhatItStartedAndFailsTheRun) {
    Fixture f;
    f.build_tree();
    const std::string marker = "3600.4242";
    const std::string config =
        f.config(R"("cancel_grace_seconds": 1, "hooks": {"timeout_seconds": 1, "before_run": [["sh", "-c", "echo waiting; sleep )" + marker +
                 " & sleep " + marker + R"("]]})");
    auto r = run({dailysyncd(), "--once", "--config", config}, {}, std::nullopt);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(list_dir(f.destination).empty());
    const auto report = f.report(r.out);
    EXPECT_NE(report.value("error", "").find("was killed after its timeout (hooks.timeout_seconds): waiting"), std::string::npos)
        << report.dump(2);
    EXPECT_TRUE(report["hooks"][0].value("timed_out", false));
    EXPECT_EQ(processes_with("sleep " + marker), 0) << "the hook's background process outlived it";
}

TEST(Hooks, CancellingDuringBeforeRunStopsTheHookAndStillRunsAfterRun) {
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("hooks": {"before_run": [["sh", "-c", "touch )" + f.dir / "started" +
                                        R"(; exec sleep 3600.4343"]], "after_run": [)" + recorder(f, "after") + "]}");
    auto spawned = spawn({dailysyncd(), "--once", "--config", config});
    for (int i = 0; i < 500 && ::access((f.dir / "started").c_str(), F_OK) != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::kill(spawned.pid, SIGTERM);
    auto r = wait_for(spawned, std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(list_dir(f.destination).empty());
    EXPECT_EQ(read_file(f.dir / "order"), "after\n");
    EXPECT_EQ(environment_in(f.dir / "after.env").at("DAILYSYNC_RESULT"), "cancelled");
    EXPECT_EQ(processes_with("sleep 3600.4343"), 0);
}

TEST(Hooks, ADryRunRunsNoHook) {
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("hooks": {"before_run": [)" + recorder(f, "before") + R"(], "after_run": [)" +
                                        recorder(f, "after") + "]}");
    auto r = run({dailysyncd(), "--once", "--dry-run", "--config", config});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(::access((f.dir / "order").c_str(), F_OK) == 0) << read_file(f.dir / "order");
}

TEST(Hooks, AStopDuringTheCopyGivesTheEndHooksOnlyTheCancelGrace) {
    // The service's stop must finish within systemd's TimeoutStopSec: end hooks after a
    // cancel get cancel_grace_seconds each, not their 10 minutes.
    Fixture f;
    make_dirs(f.source + "/alpha");
    write_file(f.source + "/alpha/big", std::string(4'000'000, 'b'));
    const std::string config = f.config(R"("cancel_grace_seconds": 1, "rsync_extra_args": ["--bwlimit=100"],
        "hooks": {"after_run": [["sleep", "3600.4545"]], "on_failure": [["sleep", "3600.4646"]]})");
    auto spawned = spawn({dailysyncd(), "--once", "--config", config});
    for (int i = 0; i < 500 && processes_with("rsync") == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto asked = std::chrono::steady_clock::now();
    ::kill(spawned.pid, SIGTERM);
    auto r = wait_for(spawned, std::chrono::seconds(60));
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_LT(took, 30.0) << "the end hooks held the stop";
    const auto report = f.report(r.out);
    ASSERT_EQ(report["hooks"].size(), 2u) << report.dump(2);
    EXPECT_TRUE(report["hooks"][0].value("timed_out", false));
    EXPECT_EQ(report["hooks"][1]["stage"], "on_failure");
    EXPECT_EQ(processes_with("sleep 3600.4"), 0);
}

namespace {
// A hook that leaves its process group and its parent: a child in a session of its own
// holding the hook's output, a double-forked grandchild that ignores SIGTERM, then a wait.
// `tag` makes its sleeps findable.
std::string escaping_hook(const std::string &tag, const std::string &then) {
    const std::string script = "echo waiting; setsid sleep 3600." + tag + "1 & (trap '' TERM; sleep 3600." + tag +
                               "2 & ) ; " + then;
    return R"([["sh", "-c", )" + quoted(script) + "]]";
}
}  // namespace

TEST(Hooks, AtItsTimeoutAHookEndsWithEverythingItStartedWhateverSessionOrSignalsTheyChose) {
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("cancel_grace_seconds": 1, "hooks": {"timeout_seconds": 2, "before_run": )" +
                                        escaping_hook("61", "sleep 3600.613") + "}");
    const auto start = std::chrono::steady_clock::now();
    auto r = run({dailysyncd(), "--once", "--config", config}, {}, std::nullopt);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_LT(took, 15.0) << "the hook's children held the run past its timeout";
    const auto report = f.report(r.out);
    EXPECT_NE(report.value("error", "").find("was killed after its timeout (hooks.timeout_seconds): waiting"), std::string::npos)
        << report.dump(2);
    EXPECT_EQ(processes_with("sleep 3600.61"), 0) << "a process the hook started outlived its timeout";
}

TEST(Hooks, AHookThatExitsTakesWhatItLeftBehindWithIt) {
    // Its background children hold its output: the run must not wait for them.
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("hooks": {"timeout_seconds": 60, "before_run": )" + escaping_hook("62", "echo ready") + "}");
    const auto start = std::chrono::steady_clock::now();
    auto r = run({dailysyncd(), "--once", "--config", config});
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LT(took, 30.0) << "the run waited for the hook's background processes";
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
    EXPECT_EQ(processes_with("sleep 3600.62"), 0) << "a process the hook left behind outlived it";
}

TEST(Hooks, SigtermDuringAHookEndsItsWholeTreeAndTheRun) {
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("cancel_grace_seconds": 1, "hooks": {"before_run": )" +
                                        escaping_hook("63", "touch " + f.dir / "started" + "; sleep 3600.633") + "}");
    auto spawned = spawn({dailysyncd(), "--once", "--config", config});
    for (int i = 0; i < 500 && ::access((f.dir / "started").c_str(), F_OK) != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto asked = std::chrono::steady_clock::now();
    ::kill(spawned.pid, SIGTERM);
    auto r = wait_for(spawned, std::chrono::seconds(60));
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_LT(took, 15.0);
    EXPECT_EQ(processes_with("sleep 3600.63"), 0) << "a process the hook started outlived the stop";
}

TEST(Hooks, CheckConfigStrictNamesAHookProgramThatCannotBeStarted) {
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("hooks": {"before_run": [["no-such-hook-anywhere"]], "after_run": [["logger", "x"], ["/opt/nowhere/notify"]]})");
    auto r = run({dailysyncd(), "--check-config", "--strict", "--config", config});
    EXPECT_NE(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("/hooks/before_run/0/0: cannot be started here: \"no-such-hook-anywhere\" is not an executable program (looked up in /usr/local/sbin:"),
              std::string::npos) << r.err;
    // A path is not looked up anywhere: the message says only that it is not there.
    EXPECT_NE(r.err.find("/hooks/after_run/1/0: cannot be started here: \"/opt/nowhere/notify\" is not an executable program;"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("/hooks/after_run/0/0"), std::string::npos) << r.err;
}
