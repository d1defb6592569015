// Whole runs of service/backup_run (carrying out core/run_lifecycle) on fakes alone: the
// source, the destination, its versions, the state folder and the hooks in memory, rsync
// a scripted child. From the before_run hooks to the rewritten report, with a failing
// unit, a vanished project, a cancel during the versions' merge, a before_run hook that
// fails. No process is started and no file is touched: the seams are proven here, the
// real ones in the integration tests.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>

#include "../io/fakes.hpp"
#include "io/worker_pool.hpp"
#include "service/backup_run.hpp"

using namespace dailysync;
using namespace dailysync::testing_fakes;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kProjects = {"alpha", "beta", "gamma"};

// Three projects of 100 files each, as the last complete run saw them.
TreeStats last_nights_tree() {
    TreeStats stats;
    for (const auto &project : kProjects) {
        stats.add_entry("", project, true, 0);
        for (int i = 0; i < 100; ++i) stats.add_entry(project, "f" + std::to_string(i), false, 1 << 20);
    }
    stats.finalize();
    return stats;
}

bool copies(const FakeChild &child, const std::string &project) {
    for (const auto &argument : child.options.arguments)
        if (argument.find("/./" + project) != std::string::npos) return true;
    return false;
}

// The top's rsync: its source is SRC/./ itself.
bool is_top(const FakeChild &child) {
    for (const auto &argument : child.options.arguments)
        if (argument.ends_with("/./")) return true;
    return false;
}

struct Night {
    boost::asio::io_context io;
    WorkerPool trees{io, 2};
    WorkerPool state{io, 1};
    FakeLauncher launcher{io};
    FakeHooks hooks;
    std::shared_ptr<FakeSource> source = std::make_shared<FakeSource>("/src");
    std::shared_ptr<FakeDestination> destination = std::make_shared<FakeDestination>();
    std::shared_ptr<FakeVersions> versions = std::make_shared<FakeVersions>();
    std::shared_ptr<FakeRecords> records = std::make_shared<FakeRecords>(last_nights_tree());
    Config config;
    std::shared_ptr<BackupRun> run;
    bool done = false;
    RunResult result = RunResult::success;

    Night() {
        config.source = "/src";
        config.destination = "/dst";
        config.state_dir = "/state";
        config.concurrency = 2;
        config.retries = 0;
        config.daemon_compares = false;   // the fakes' trees are not compared: rsync (the fake) does it
        config.versions = VersionsPolicy{0, 0, 0, 1, 0};
        config.hooks.before_run = {{"snapshot"}};
        config.hooks.after_run = {{"report-home"}};
        config.hooks.on_failure = {{"page-someone"}};
        for (const auto &project : kProjects) source->tree.put(project, EntryFacts{true, 0, 0});
    }
    void start() { start_with({}); }
    // `before`: what the caller sets on the run before it starts (a retry's units).
    void start_with(const std::function<void(BackupRun &)> &before) {
        run = BackupRun::create(io, RunWorkers{trees, state, launcher, fake_endpoints(source, destination, versions, records), hooks.starter()},
                                config, false, {}, [this](const RunModel &model) {
                                    done = true;
                                    result = model.result();
                                });
        if (before) before(*run);
        run->start();
    }
    // Runs the loop until `condition` holds (or 10 s passed). Every rsync started ends at
    // once as `exit_for` says for its arguments (0 after printing one copied file; -1:
    // it keeps running).
    bool until(const std::function<bool()> &condition, const std::function<int(const FakeChild &)> &exit_for = {}) {
        const auto give_up = std::chrono::steady_clock::now() + 10s;
        while (!condition() && std::chrono::steady_clock::now() < give_up) {
            io.restart();
            io.run_for(5ms);
            for (const auto &child : launcher.children) {
                if (child->exited()) continue;
                const int code = exit_for ? exit_for(*child) : 0;
                if (code < 0) continue;   // still running
                if (code == 0) {
                    // The top's own rsync (not recursive) lists the projects, which the
                    // planner then gives units of their own; a project's copies a file.
                    if (is_top(*child))
                        for (const auto &project : kProjects) child->print(".d          4096 " + project + "/");
                    else
                        child->print(">f+++++++++ 1048576 new.bin");
                }
                child->exit(code);
            }
        }
        return condition();
    }
    nlohmann::json report() const {
        const auto written = records->reports();
        return written.empty() ? nlohmann::json() : nlohmann::json::parse(written.back());
    }
    nlohmann::json unit(const std::string &name) const {
        const nlohmann::json whole = report();
        for (const auto &u : whole["units"])
            if (u["name"] == name) return u;
        return {};
    }
    std::vector<HookStage> stages() const {
        std::vector<HookStage> out;
        for (const auto &s : hooks.started) out.push_back(s.stage);
        return out;
    }
};

TEST(BackupRunWithFakes, AWholeNightFromTheHooksToTheReportWithAFailingUnit) {
    Night night;
    night.start();
    ASSERT_TRUE(night.until([&] { return night.done; }, [](const FakeChild &child) { return copies(child, "beta") ? 23 : 0; }));
    EXPECT_EQ(night.result, RunResult::failed);
    const auto report = night.report();
    EXPECT_EQ(report["result"], "failed");
    EXPECT_EQ(night.unit("beta")["result"], "partial") << report.dump(1);
    EXPECT_EQ(night.unit("alpha")["result"], "success");
    EXPECT_EQ(night.unit("gamma")["result"], "success");
    // The hooks: before the run, then after it and, as it failed, on_failure; the report
    // written once before them and again naming all three.
    EXPECT_EQ(night.stages(), (std::vector<HookStage>{HookStage::before_run, HookStage::after_run, HookStage::on_failure}));
    EXPECT_EQ(night.records->reports().size(), 2u);
    EXPECT_EQ(report["hooks"].size(), 3u);
    // The version was made before copying and its end recorded; a failed night prunes nothing.
    const auto calls = night.versions->calls();
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.front(), "begin 20261206T020000Z");
    EXPECT_NE(std::find(calls.begin(), calls.end(), "finish 20261206T020000Z failed"), calls.end());
    EXPECT_EQ(std::find(calls.begin(), calls.end(), "prune"), calls.end());
    EXPECT_FALSE(night.records->saved_stats()) << "a failed night's picture must not plan the next";
}

TEST(BackupRunWithFakes, AProjectGoneFromTheSourceFailsItsUnitAndTheRestIsCopied) {
    Night night;
    night.source->tree.erase("gamma");
    night.start();
    ASSERT_TRUE(night.until([&] { return night.done; }));
    EXPECT_EQ(night.report()["result"], "failed");
    EXPECT_EQ(night.unit("gamma")["result"], "failed");
    EXPECT_NE(night.unit("gamma")["message"].get<std::string>().find("vanished"), std::string::npos) << night.unit("gamma");
    EXPECT_EQ(night.unit("alpha")["result"], "success");
    for (const auto &child : night.launcher.children) EXPECT_FALSE(copies(*child, "gamma"));
}

TEST(BackupRunWithFakes, ACancelDuringTheVersionsMergeWaitsForItThenGivesTheEndHooksTheShortTimeout) {
    Night night;
    night.versions->hold_prune = true;
    night.start();
    ASSERT_TRUE(night.until([&] { return night.versions->pruning.load(); }));
    night.run->cancel();
    const auto a_while = std::chrono::steady_clock::now() + 300ms;
    night.until([&] { return std::chrono::steady_clock::now() > a_while; });
    EXPECT_FALSE(night.done) << "a merge cut short would leave a version half merged";
    night.versions->hold_prune = false;
    ASSERT_TRUE(night.until([&] { return night.done; }));
    EXPECT_EQ(night.result, RunResult::success) << "the copy was complete before the stop";
    const auto calls = night.versions->calls();
    EXPECT_NE(std::find(calls.begin(), calls.end(), "finish 20261206T020000Z success"), calls.end());
    EXPECT_EQ(night.report()["versions"]["pruned"], nlohmann::json::array({"20261101T020000Z"}));
    // Stopping: the end hooks get cancel_grace_seconds at most, and a good night no on_failure.
    ASSERT_EQ(night.stages(), (std::vector<HookStage>{HookStage::before_run, HookStage::after_run}));
    EXPECT_EQ(night.hooks.started[0].timeout_seconds, night.config.hooks.timeout_seconds);
    EXPECT_EQ(night.hooks.started[1].timeout_seconds, std::min(night.config.hooks.timeout_seconds, night.config.cancel_grace_seconds));
    EXPECT_LT(night.hooks.started[1].timeout_seconds, night.config.hooks.timeout_seconds);
}

TEST(BackupRunWithFakes, ACancelDuringTheCopyStopsTheRsyncsReportsCancelledAndPrunesNothing) {
    Night night;
    night.start();
    // The top's rsync lists the projects; their rsyncs then run until the cancel.
    ASSERT_TRUE(night.until([&] { return night.launcher.children.size() >= 3; },
                            [](const FakeChild &child) { return is_top(child) ? 0 : -1; }));
    night.run->cancel();
    ASSERT_TRUE(night.until([&] { return night.done; }, [](const FakeChild &child) { return is_top(child) ? 0 : -1; }));
    EXPECT_EQ(night.result, RunResult::cancelled);
    for (const auto &child : night.launcher.children)
        if (!is_top(*child)) {
            EXPECT_EQ(child->terminated.size(), 1u);
        }
    EXPECT_EQ(night.report()["result"], "cancelled");
    const auto a_while = std::chrono::steady_clock::now() + 200ms;
    night.until([&] { return std::chrono::steady_clock::now() > a_while; });
    const auto calls = night.versions->calls();
    EXPECT_EQ(std::find(calls.begin(), calls.end(), "prune"), calls.end()) << "stopping: no merge the process may not live to finish";
    EXPECT_EQ(night.stages(), (std::vector<HookStage>{HookStage::before_run, HookStage::after_run, HookStage::on_failure}));
    EXPECT_EQ(night.hooks.started[1].timeout_seconds, std::min(night.config.hooks.timeout_seconds, night.config.cancel_grace_seconds));
}

// Nothing to copy (a quiet night of the daemon's compare takes the same path; here a
// retry of no units): a stop while the last retention's leftovers are deleted leaves the
// night a success, and the version's end is not waited for, so no merge starts that the
// stopping process might cut short.
TEST(BackupRunWithFakes, AStopOnANightWithNothingToCopyStartsNoMergeItWouldNotWaitFor) {
    Night night;
    night.versions->hold_trash = true;
    night.run = nullptr;
    night.start_with([](BackupRun &run) { run.retry(RetryPlan{"20261205T020000Z", {}, {}}); });
    const auto trashing = std::chrono::steady_clock::now() + 200ms;
    night.until([&] { return std::chrono::steady_clock::now() > trashing; });
    EXPECT_EQ(night.run->phase(), BackupRun::Phase::finishing) << "nothing is being copied";
    night.run->cancel();
    night.versions->hold_trash = false;
    ASSERT_TRUE(night.until([&] { return night.done; }));
    EXPECT_EQ(night.result, RunResult::success);
    const auto a_while = std::chrono::steady_clock::now() + 200ms;
    night.until([&] { return std::chrono::steady_clock::now() > a_while; });
    const auto calls = night.versions->calls();
    EXPECT_EQ(std::find(calls.begin(), calls.end(), "prune"), calls.end());
    EXPECT_NE(std::find(calls.begin(), calls.end(), "finish 20261206T020000Z success"), calls.end()) << "its end is still recorded";
}

// The source unmounted (another filesystem at its path) while the last units ran: they
// succeeded, but what vanished was deleted by no one, and this night is no backup of it.
TEST(BackupRunWithFakes, ASourceReplacedWhileTheLastUnitsRanFailsTheNightAtItsEndCheck) {
    Night night;
    night.config.concurrency = 3;   // every project's rsync at once
    night.start();
    ASSERT_TRUE(night.until([&] { return night.launcher.children.size() >= 4; },
                            [](const FakeChild &child) { return is_top(child) ? 0 : -1; }));
    night.source->id = FolderIdentity{9, 9};
    ASSERT_TRUE(night.until([&] { return night.done; }));
    for (const auto &project : kProjects) EXPECT_EQ(night.unit(project)["result"], "success") << project;
    const auto report = night.report();
    EXPECT_EQ(report["result"], "failed");
    ASSERT_EQ(report["failures"].size(), 1u) << report.dump(1);
    EXPECT_EQ(report["failures"][0]["kind"], "unavailable");
    EXPECT_EQ(report["failures"][0]["side"], "source");
    EXPECT_NE(report["failures"][0]["text"].get<std::string>().find("disappeared or was replaced during the run (unmounted?): what was "
                                                                    "not copied before is missing from this backup"),
              std::string::npos)
        << report["failures"][0];
    EXPECT_FALSE(night.records->saved_stats());
}

TEST(BackupRunWithFakes, ABeforeRunHookThatFailsStopsTheRunBeforeAnythingIsTouched) {
    Night night;
    night.hooks.exit_code[HookStage::before_run] = 1;
    night.start();
    ASSERT_TRUE(night.until([&] { return night.done; }));
    EXPECT_TRUE(night.launcher.children.empty());
    EXPECT_TRUE(night.versions->calls().empty());
    const auto report = night.report();
    EXPECT_EQ(report["result"], "failed");
    ASSERT_EQ(report["failures"].size(), 1u) << report.dump(1);
    EXPECT_EQ(report["failures"][0]["kind"], "refused");
    EXPECT_EQ(night.stages(), (std::vector<HookStage>{HookStage::before_run, HookStage::after_run, HookStage::on_failure}));
}

}  // namespace
