// polkit authorization of StartRun, CancelRun and Reload on a system-like private bus,
// with python3-dbusmock's polkitd template as the authority: allow, deny, polkit hanging
// (the daemon keeps answering) and polkit not running (deny). Root never needs polkit.
#include <csignal>
#include <gtest/gtest.h>
#include <pwd.h>
#include <thread>

#include "helpers.hpp"
#include "service_fixture.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

// The real polkit daemon's D-Bus policy, reduced: root owns the name, everybody may call it.
const char *kPolkitPolicy = R"(
  <policy user="root"><allow own="org.freedesktop.PolicyKit1"/></policy>
  <policy context="default"><allow send_destination="org.freedesktop.PolicyKit1"/></policy>)";

struct PolkitSetup {
    SystemService service{kPolkitPolicy};
    const PrivateBus &bus = service.bus;
    Spawned polkit{};
    bool polkit_running = false;
    uid_t nobody = ::getpwnam("nobody")->pw_uid;

    void start_polkit() {
        polkit = spawn({"/usr/bin/python3", "-m", "dbusmock", "--template", "polkitd"}, {"DBUS_SYSTEM_BUS_ADDRESS=" + bus.address()});
        polkit_running = true;
        for (int i = 0; i < 200; ++i) {
            if (busctl({"status", "org.freedesktop.PolicyKit1"}).exit_code == 0) return;
            std::this_thread::sleep_for(25ms);
        }
        ADD_FAILURE() << "the polkit mock did not appear";
    }
    void stop_polkit() {
        ::kill(polkit.pid, SIGTERM);
        wait_for(polkit);
        polkit_running = false;
    }
    Result busctl(std::vector<std::string> args) const {
        args.insert(args.begin(), {"busctl", "--address=" + bus.address()});
        return run(args);
    }
    Result mock(const std::string &method, const std::vector<std::string> &args) const {
        std::vector<std::string> call = {"call", "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                                         "org.freedesktop.DBus.Mock", method};
        call.insert(call.end(), args.begin(), args.end());
        return busctl(call);
    }
    Result ctl(const std::vector<std::string> &args, std::optional<uid_t> as) const {
        std::vector<std::string> argv = {dailysyncctl()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, {"DBUS_SYSTEM_BUS_ADDRESS=" + bus.address()}, as);
    }
    ~PolkitSetup() {
        if (polkit_running) stop_polkit();
    }
};

}  // namespace

TEST(Authorization, PolkitAllowsOrDeniesEveryoneButRoot) {
    PolkitSetup p;
    p.start_polkit();
    // The mock denies everything until told otherwise.
    for (const char *command : {"start", "cancel", "reload"}) {
        auto denied = p.ctl({command}, p.nobody);
        EXPECT_EQ(denied.exit_code, 4) << command << ": " << denied.out << denied.err;
        EXPECT_NE(denied.err.find("not authorized to "), std::string::npos) << denied.err;
    }
    EXPECT_EQ(p.ctl({"status"}, p.nobody).exit_code, 0) << "reading needs no authorization";
    EXPECT_EQ(p.ctl({"start", "--wait"}, std::nullopt).exit_code, 0) << "root needs no polkit";

    ASSERT_EQ(p.mock("SetAllowed", {"as", "1", "io.dailysync1.manage"}).exit_code, 0);
    auto allowed = p.ctl({"start", "--wait"}, p.nobody);
    EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
    EXPECT_EQ(p.ctl({"reload"}, p.nobody).exit_code, 0);
    EXPECT_EQ(p.ctl({"cancel"}, p.nobody).exit_code, 3) << "authorized, and told no run is active";
}

TEST(Authorization, AHangingPolkitNeverBlocksTheDaemon) {
    PolkitSetup p;
    p.start_polkit();
    ASSERT_EQ(p.mock("SetAllowed", {"as", "1", "io.dailysync1.manage"}).exit_code, 0);
    ASSERT_EQ(p.mock("SimulateHang", {"b", "true"}).exit_code, 0);
    auto waiting = spawn({dailysyncctl(), "start"}, {"DBUS_SYSTEM_BUS_ADDRESS=" + p.bus.address()}, p.nobody);
    for (int i = 0; i < 200 && p.mock("HaveHangingCalls", {}).out != "b true\n"; ++i) std::this_thread::sleep_for(25ms);
    ASSERT_EQ(p.mock("HaveHangingCalls", {}).out, "b true\n") << "the daemon asked polkit";
    // While polkit sits on the question, the daemon answers everyone else.
    auto status = p.ctl({"status", "--json"}, p.nobody);
    EXPECT_EQ(status.exit_code, 0);
    EXPECT_NE(status.out.find("\"state\": \"idle\""), std::string::npos) << status.out;
    ASSERT_EQ(p.mock("ReleaseHangingCalls", {}).exit_code, 0);
    auto started = wait_for(waiting);
    EXPECT_EQ(started.exit_code, 0) << started.out << started.err;
    EXPECT_NE(started.out.find(" started"), std::string::npos) << started.out;
}

TEST(Authorization, WithoutPolkitOnlyRootMayAct) {
    PolkitSetup p;   // no polkit on this bus
    auto denied = p.ctl({"start"}, p.nobody);
    EXPECT_EQ(denied.exit_code, 4) << denied.out << denied.err;
    EXPECT_NE(denied.err.find("not authorized to StartRun"), std::string::npos) << denied.err;
    p.start_polkit();
    p.stop_polkit();   // polkit gone again
    EXPECT_EQ(p.ctl({"start"}, p.nobody).exit_code, 4);
    EXPECT_EQ(p.ctl({"start", "--wait"}, std::nullopt).exit_code, 0);
}
