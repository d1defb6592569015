// A private dbus-daemon, an sd_notify socket, and dailysyncd in service mode on them: the
// fixture of the daemon and dailysyncctl integration tests.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "helpers.hpp"

namespace testing_support {

// A private dbus-daemon. `system_policy`: a system-bus-like configuration that includes
// the real systemd/io.dailysync1.conf; otherwise a permissive session bus.
class PrivateBus {
public:
    // `extra_policy`: more <policy> XML for the system-like bus (e.g. to let a mock own a name).
    PrivateBus(const TempDir &dir, bool system_policy, const std::string &extra_policy = "");
    ~PrivateBus();
    std::string address() const { return "unix:path=" + socket_; }
    void kill();      // the bus daemon dies (SIGKILL), as a crashed dbus-daemon does
    void restart();   // a new one on the same address

private:
    void start();
    std::string socket_, config_;
    Spawned daemon_;
    bool up_ = false;
};

// Collects sd_notify datagrams sent to NOTIFY_SOCKET.
class NotifySocket {
public:
    explicit NotifySocket(const std::string &path);
    ~NotifySocket();
    const std::string &path() const { return path_; }
    // Reads messages until one contains `needle` or the time is up.
    bool wait_for(const std::string &needle, std::chrono::milliseconds limit = std::chrono::seconds(10));
    std::vector<std::string> messages() const;
    void forget();

private:
    std::string path_;
    int fd_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<std::string> messages_;
    std::thread reader_;
};

// A source tree (alpha/sub with 20 files, beta/b, top), a config, and dailysyncd in
// service mode on a private session bus.
struct Service {
    TempDir dir;
    std::string source = dir / "prod", destination = dir / "backup", state = dir / "state";
    std::string config_path = dir / "config.json";
    PrivateBus bus{dir, false};
    NotifySocket notify{dir / "notify"};
    Spawned daemon{};
    bool running = false;

    explicit Service(const std::string &extra = "");
    void write_config(const std::string &extra);
    void start(const std::vector<std::string> &more_env = {});   // returns once READY=1 arrived
    Result stop();                                               // SIGTERM, then waits
    Result ctl(std::vector<std::string> args) const;             // dailysyncctl --user ARGS on this bus
    ~Service();
};

// dailysyncd in service mode, as root, on a private system-like bus that includes the
// real systemd/io.dailysync1.conf (plus `extra_policy`); source prod/alpha/a, an empty
// destination. Started by the constructor (READY=1 awaited).
struct SystemService {
    TempDir dir;
    PrivateBus bus;
    NotifySocket notify{dir / "notify"};
    Spawned daemon{};
    bool running = false;

    explicit SystemService(const std::string &extra_policy = "");
    std::vector<std::string> env() const { return {"DBUS_SYSTEM_BUS_ADDRESS=" + bus.address()}; }
    Result stop();   // SIGTERM, then waits
    ~SystemService();
};

std::string source_dir();

}  // namespace testing_support
