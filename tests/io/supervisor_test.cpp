// The copy phase's io (Supervisor) driven through its ports alone: in-memory trees, a
// scripted launcher, the real scheduler and worker pool. No process is started and no
// file is touched: the seam between the run and what it runs on is proven here.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>

#include "fakes.hpp"
#include "io/supervisor.hpp"

using namespace dailysync;
using namespace dailysync::testing_fakes;
using namespace std::chrono_literals;

namespace {

WorkUnit folder(const std::string &name) {
    WorkUnit u;
    u.name = name;
    u.base = name;
    u.estimated_cost = 10;
    return u;
}

struct Rig {
    boost::asio::io_context io;
    WorkerPool pool{io, 2};
    FakeLauncher launcher{io};
    std::shared_ptr<FakeSource> source = std::make_shared<FakeSource>("/src");
    std::shared_ptr<FakeDestination> destination = std::make_shared<FakeDestination>();
    Config config;
    TreeStats stats;
    Planner planner{stats, 2, Planner::Work::update};
    RunModel model;
    std::shared_ptr<Supervisor> supervisor;
    bool done = false;

    explicit Rig(std::vector<WorkUnit> units) : model("run", units, false, WallClock::now()) {
        config.source = "/src";
        config.destination = "/dst";
        config.retries = 0;
        for (const auto &u : units) source->tree.put(u.base, EntryFacts{true, 0, 0});
        Supervisor::Settings settings{config, "/usr/bin/rsync", false, this_host_only(2), FolderIdentity{1, 2}, 0, {}, {}, {}, {}, {}};
        supervisor = Supervisor::create(io, model, planner, settings, RunPorts{source, destination, {&launcher}, &pool}, nullptr,
                                        [this] { done = true; });
    }
    // Runs the loop until `condition` holds (or 5 s passed).
    bool until(const std::function<bool()> &condition) {
        const auto give_up = std::chrono::steady_clock::now() + 5s;
        while (!condition() && std::chrono::steady_clock::now() < give_up) {
            io.restart();
            io.run_for(10ms);
        }
        return condition();
    }
    const UnitStatus &unit(const std::string &name) const {
        for (const auto &u : model.units())
            if (u.unit.name == name) return u;
        throw std::runtime_error("no unit " + name);
    }
};

TEST(SupervisorWithFakes, AWholeCopyPhaseWithASucceedingAFailingAndAVanishedUnit) {
    Rig rig({folder("a"), folder("b"), folder("c")});
    rig.supervisor->start();
    // Two slots: two units prepare (their folders checked on the fake source) and launch.
    ASSERT_TRUE(rig.until([&] { return rig.launcher.children.size() == 2; }));
    // c vanishes from the source before its turn.
    rig.source->tree.erase("c");
    auto first = rig.launcher.children[0], second = rig.launcher.children[1];
    EXPECT_EQ(first->options.program, "/usr/bin/rsync");
    first->print(">f+++++++++ 1200 " + std::string(first == rig.launcher.child_of("a") ? "a" : "b") + "/new.txt");
    first->exit(0);
    second->exit(23);   // some files could not be transferred
    ASSERT_TRUE(rig.until([&] { return rig.done; }));
    EXPECT_EQ(rig.launcher.children.size(), 2u) << "a unit whose folder vanished must not start";
    const std::string succeeded = first == rig.launcher.child_of("a") ? "a" : "b";
    const std::string failed = succeeded == "a" ? "b" : "a";
    EXPECT_EQ(rig.unit(succeeded).state, UnitState::success);
    EXPECT_EQ(rig.unit(succeeded).files_transferred, 1u);
    EXPECT_NE(rig.unit(failed).state, UnitState::success);
    EXPECT_EQ(rig.unit("c").state, UnitState::failed);
    EXPECT_NE(rig.unit("c").message.find("vanished"), std::string::npos) << rig.unit("c").message;
    EXPECT_EQ(rig.model.result(), RunResult::failed);
}

TEST(SupervisorWithFakes, ACancelTerminatesEveryRunningChildAndCancelsTheRest) {
    Rig rig({folder("a"), folder("b"), folder("c")});
    rig.supervisor->start();
    ASSERT_TRUE(rig.until([&] { return rig.launcher.children.size() == 2; }));
    rig.supervisor->cancel();
    ASSERT_TRUE(rig.until([&] { return rig.done; }));
    for (const auto &child : rig.launcher.children) {
        ASSERT_EQ(child->terminated.size(), 1u);
        EXPECT_EQ(child->terminated[0], std::chrono::seconds(rig.config.cancel_grace_seconds));
        EXPECT_TRUE(child->exited());
    }
    EXPECT_EQ(rig.launcher.children.size(), 2u) << "nothing starts after a cancel";
    EXPECT_EQ(rig.model.result(), RunResult::cancelled);
    for (const auto &u : rig.model.units()) EXPECT_EQ(u.state, UnitState::cancelled) << u.unit.name;
}

TEST(SupervisorWithFakes, ASourceReplacedBeforeItsUnitsStartFailsEachNamingTheSourceAndStartsNothing) {
    Rig rig({folder("a"), folder("b")});
    rig.source->id = FolderIdentity{9, 9};   // another filesystem where the run's source was
    rig.supervisor->start();
    ASSERT_TRUE(rig.until([&] { return rig.done; }));
    EXPECT_TRUE(rig.launcher.children.empty());
    EXPECT_EQ(rig.model.result(), RunResult::failed);
    for (const auto &u : rig.model.units()) {
        EXPECT_EQ(u.state, UnitState::failed) << u.unit.name;
        EXPECT_NE(u.message.find("not started: the source /src disappeared or was replaced"), std::string::npos) << u.message;
    }
}

}  // namespace
