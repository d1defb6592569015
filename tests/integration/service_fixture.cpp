#include "service_fixture.hpp"

#include <csignal>
#include <cstdio>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace testing_support {

using namespace std::chrono_literals;

std::string source_dir() { return std::string(SOURCE_DIR); }

PrivateBus::PrivateBus(const TempDir &dir, bool system_policy, const std::string &extra_policy) {
    socket_ = dir / "bus";
    config_ = dir / "bus.conf";
    const std::string &config = config_;
    std::string policy;
    if (system_policy) {
        // The default policy of Debian's system.conf, then the file under test.
        policy = R"(<policy context="default">
<allow user="*"/>
<deny own="*"/>
<deny send_type="method_call"/>
<allow send_type="signal"/>
<allow send_requested_reply="true" send_type="method_return"/>
<allow send_requested_reply="true" send_type="error"/>
<allow receive_type="method_call"/>
<allow receive_type="method_return"/>
<allow receive_type="error"/>
<allow receive_type="signal"/>
<allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
<allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
<allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>)" + source_dir() + R"(/systemd/io.dailysync1.conf</include>)" + extra_policy;
    } else {
        policy = R"(<policy context="default">
<allow user="*"/><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/>
  </policy>
  <limit name="max_replies_per_connection">50000</limit>)";   // as Debian's session.conf
    }
    write_file(config, std::string(R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>)") + (system_policy ? "system" : "session") + R"(</type>
  <listen>unix:path=)" + socket_ + R"(</listen>
  <auth>EXTERNAL</auth>
  )" + policy + R"(
</busconfig>
)");
    start();
}

void PrivateBus::start() {
    daemon_ = spawn({"dbus-daemon", "--config-file=" + config_, "--nofork", "--nopidfile"});
    up_ = true;
    for (int i = 0; i < 100 && ::access(socket_.c_str(), F_OK) != 0; ++i) std::this_thread::sleep_for(20ms);
    ::chmod(socket_.c_str(), 0777);
}

void PrivateBus::kill() {
    if (!up_) return;
    ::kill(daemon_.pid, SIGKILL);
    wait_for(daemon_);
    up_ = false;
}

void PrivateBus::restart() {
    kill();
    ::unlink(socket_.c_str());   // a killed dbus-daemon leaves its socket file
    start();
}

PrivateBus::~PrivateBus() {
    if (!up_) return;
    ::kill(daemon_.pid, SIGTERM);
    wait_for(daemon_);
}

NotifySocket::NotifySocket(const std::string &path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
    // Drained all the time, as systemd does: a full queue (net.unix.max_dgram_qlen, 10
    // here) would block the daemon's sd_notify.
    reader_ = std::thread([this] {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            char buffer[4096];
            const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0) continue;
            std::lock_guard lock(mutex_);
            messages_.emplace_back(buffer, static_cast<std::size_t>(n));
        }
    });
}

NotifySocket::~NotifySocket() {
    stop_ = true;
    reader_.join();
    ::close(fd_);
}

bool NotifySocket::wait_for(const std::string &needle, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    do {
        {
            std::lock_guard lock(mutex_);
            for (const auto &m : messages_)
                if (m.find(needle) != std::string::npos) return true;
        }
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < end);
    return false;
}

std::vector<std::string> NotifySocket::messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
}

void NotifySocket::forget() {
    std::lock_guard lock(mutex_);
    messages_.clear();
}

Service::Service(const std::string &extra) {
    make_dirs(source + "/alpha/sub");
    make_dirs(source + "/beta");
    make_dirs(destination);
    for (int i = 0; i < 20; ++i) write_file(source + "/alpha/sub/f" + std::to_string(i), std::string(1000 + i, 'x'));
    write_file(source + "/beta/b", "b");
    write_file(source + "/top", "t");
    write_config(extra);
}

void Service::write_config(const std::string &extra) {
    write_file(config_path, R"({"source": ")" + source + R"(", "destination": ")" + destination + R"(", "state_dir": ")" + state +
                                R"(", "delete": true, "retries": 0, "cancel_grace_seconds": 2)" + (extra.empty() ? "" : ", " + extra) + "}");
}

void Service::start(const std::vector<std::string> &more_env) {
    std::vector<std::string> env = {"DBUS_SESSION_BUS_ADDRESS=" + bus.address(), "NOTIFY_SOCKET=" + notify.path()};
    env.insert(env.end(), more_env.begin(), more_env.end());
    notify.forget();   // READY=1 must come from this start
    daemon = spawn({dailysyncd(), "--user", "--config", config_path}, env);
    running = true;
    ASSERT_TRUE(notify.wait_for("READY=1")) << "no READY=1";
}

Result Service::stop() {
    running = false;
    ::kill(daemon.pid, SIGTERM);
    return wait_for(daemon);
}

Result Service::ctl(std::vector<std::string> args) const {
    args.insert(args.begin(), {dailysyncctl(), "--user"});
    return run(args, {"DBUS_SESSION_BUS_ADDRESS=" + bus.address()});
}

SystemService::SystemService(const std::string &extra_policy) : bus(dir, true, extra_policy) {
    make_dirs(dir / "prod/alpha");
    write_file(dir / "prod/alpha/a", "a");
    make_dirs(dir / "backup");
    write_file(dir / "config.json", R"({"source": ")" + (dir / "prod") + R"(", "destination": ")" + (dir / "backup") +
                                        R"(", "state_dir": ")" + (dir / "state") + R"("})");
    daemon = spawn({dailysyncd(), "--config", dir / "config.json"}, {"DBUS_SYSTEM_BUS_ADDRESS=" + bus.address(), "NOTIFY_SOCKET=" + notify.path()});
    running = true;
    EXPECT_TRUE(notify.wait_for("READY=1")) << "the daemon did not get its name under the real policy";
}

Result SystemService::stop() {
    running = false;
    ::kill(daemon.pid, SIGTERM);
    return wait_for(daemon);
}

SystemService::~SystemService() {
    if (running) stop();
}

Service::~Service() {
    if (running) stop();
}

}  // namespace testing_support
