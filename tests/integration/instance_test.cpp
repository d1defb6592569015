// One instance, one run at a time into one backup: a second daemon on the same bus exits,
// and the run lock (STATE_DIR/run.lock) keeps the service, --once and --diagnose from
// ever running into the same destination together. Real daemon, real bus, real rsync.
#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <thread>

#include "helpers.hpp"
#include "service_fixture.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

// A --once run that takes a while: one big file at 1 MB/s.
Spawned slow_once(Service &s) {
    write_file(s.source + "/alpha/big", std::string(4'000'000, 'b'));
    s.write_config(R"("rsync_extra_args": ["--bwlimit=1000"])");
    return spawn({dailysyncd(), "--once", "--config", s.config_path});
}

// Waits until the lock file names a holder (the run has the lock).
nlohmann::json wait_for_holder(const std::string &state) {
    for (int i = 0; i < 300; ++i) {
        auto doc = nlohmann::json::parse(read_file(state + "/run.lock"), nullptr, false);
        if (!doc.is_discarded() && doc.contains("run_id") && !doc["run_id"].get<std::string>().empty()) return doc;
        std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "nobody took the run lock";
    return {};
}

}  // namespace

TEST(Instance, ASecondDaemonOnTheSameBusExits1) {
    Service s;
    s.start();
    auto second = run({dailysyncd(), "--user", "--config", s.config_path}, {"DBUS_SESSION_BUS_ADDRESS=" + s.bus.address()});
    EXPECT_EQ(second.exit_code, 1) << second.err;
    EXPECT_NE(second.err.find("cannot own the bus name io.dailysync1: another process owns it"), std::string::npos) << second.err;
    EXPECT_EQ(second.err.find("ready on the"), std::string::npos) << second.err;
    // The first one still serves.
    auto status = s.ctl({"status"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_NE(status.out.find("dailysyncd: idle"), std::string::npos) << status.out;
}

TEST(Instance, OnceAndTheServiceNeverRunIntoTheSameBackupTogether) {
    Service s;
    const Spawned once = slow_once(s);
    s.start();   // after slow_once wrote the config: the service's own run below is slow too
    const auto holder = wait_for_holder(s.state);
    EXPECT_EQ(holder.value("what", ""), "--once");
    EXPECT_EQ(holder.value("pid", 0), once.pid);

    // The service refuses StartRun with a clear D-Bus error naming the holder.
    auto start = s.ctl({"start"});
    EXPECT_EQ(start.exit_code, 3) << start.out << start.err;
    EXPECT_NE(start.err.find("another run into this backup is in progress"), std::string::npos) << start.err;
    EXPECT_NE(start.err.find("pid " + std::to_string(once.pid) + " (dailysyncd --once), run " + holder["run_id"].get<std::string>() + ", since "),
              std::string::npos)
        << start.err;
    EXPECT_EQ(start.err.find("dailysyncctl: dailysyncd:"), std::string::npos) << start.err;

    // A second --once and --diagnose exit 75 and say who holds the lock.
    auto second = run({dailysyncd(), "--once", "--config", s.config_path});
    EXPECT_EQ(second.exit_code, 75) << second.out << second.err;
    EXPECT_NE(second.err.find("dailysyncd: another run into this backup is in progress: " + s.state + "/run.lock is held by pid " +
                              std::to_string(once.pid)),
              std::string::npos)
        << second.err;
    EXPECT_EQ(second.out, "");
    auto diagnose = run({dailysyncd(), "--diagnose", "--config", s.config_path});
    EXPECT_EQ(diagnose.exit_code, 75) << diagnose.out << diagnose.err;
    EXPECT_NE(diagnose.err.find("is held by pid " + std::to_string(once.pid)), std::string::npos) << diagnose.err;
    for (const auto &entry : std::filesystem::directory_iterator(s.destination))   // the probe did not start
        EXPECT_NE(entry.path().filename().string().rfind(".dailysyncd-probe", 0), 0u) << entry.path();

    auto done = wait_for(once);
    EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
    EXPECT_EQ(read_file(s.state + "/run.lock"), "");   // released and emptied

    // Free again: the service runs (4 MB at 1 MB/s), and while it does, --once is refused.
    write_file(s.source + "/alpha/big2", std::string(4'000'000, 'c'));
    auto started = s.ctl({"start"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    const auto service_holder = wait_for_holder(s.state);
    EXPECT_EQ(service_holder.value("what", ""), "service");
    EXPECT_EQ(service_holder.value("pid", 0), s.daemon.pid);
    auto refused = run({dailysyncd(), "--once", "--config", s.config_path});
    EXPECT_EQ(refused.exit_code, 75) << refused.err;
    EXPECT_NE(refused.err.find("(dailysyncd service), run "), std::string::npos) << refused.err;
    s.ctl({"cancel"});
}

TEST(Instance, TheDailyRunWaitsForTheLockAndSaysSo) {
    // The daily run is overdue (the catch-up fires 30 s after start) while a --once run
    // holds the lock: the daemon logs that it waits for that run, and starts none.
    Service s;
    write_file(s.source + "/alpha/big", std::string(6'000'000, 'b'));
    s.write_config(R"("rsync_extra_args": ["--bwlimit=100"])");   // a minute
    const Spawned once = spawn({dailysyncd(), "--once", "--config", s.config_path});
    const auto holder = wait_for_holder(s.state);
    write_file(s.state + "/state.json", R"({"last_success": 1000, "last_fire": 1000})");
    s.start();
    std::string log;
    for (int i = 0; i < 450 && log.find("the daily run is due, but") == std::string::npos; ++i) {
        std::this_thread::sleep_for(100ms);
        log = read_file(s.daemon.err_path);
    }
    EXPECT_NE(log.find("the daily run is due, but another run into this backup is in progress: " + s.state + "/run.lock is held by pid " +
                       std::to_string(once.pid) + " (dailysyncd --once), run " + holder["run_id"].get<std::string>()),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("it starts when that run ends (checked every 60 s)"), std::string::npos) << log;
    EXPECT_EQ(log.find("started (schedule)"), std::string::npos) << log;
    ::kill(once.pid, SIGINT);
    wait_for(once);
    s.stop();
}

TEST(Instance, TwoConfigurationsWithDifferentStateFoldersNeverShareADestination) {
    // The run lock of the state folder cannot see another state folder; the destination's
    // own lock in /run/dailysyncd can.
    Service s;
    const Spawned first = slow_once(s);
    wait_for_holder(s.state);
    const std::string other = write_config(s.dir, R"({"source": ")" + s.source + R"(", "destination": ")" + s.destination +
                                                      R"(", "state_dir": ")" + (s.dir / "other-state") + R"("})");
    auto second = run({dailysyncd(), "--once", "--config", other});
    EXPECT_EQ(second.exit_code, 75) << second.out << second.err;
    EXPECT_NE(second.err.find("/run/dailysyncd/destination-"), std::string::npos) << second.err;
    EXPECT_NE(second.err.find("is held by pid " + std::to_string(first.pid) + " (dailysyncd --once)"), std::string::npos) << second.err;
    EXPECT_NE(second.err.find("(into " + s.destination + ")"), std::string::npos) << second.err;
    EXPECT_EQ(wait_for(first).exit_code, 0);
    EXPECT_EQ(run({dailysyncd(), "--once", "--config", other}).exit_code, 0) << "free again";
}
