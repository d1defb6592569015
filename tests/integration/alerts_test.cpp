// Alerts (service mode on a private session bus): the alert unit is started through a
// mock of systemd's D-Bus API (python-dbusmock, calls logged), the webhook is POSTed to an
// HTTP listener the test runs; a failed run, a successful one (the nightly ping), a stale
// backup alerting once and only once, across a restart.
#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <gtest/gtest.h>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "helpers.hpp"
#include "service_fixture.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

// Accepts HTTP requests on 127.0.0.1 and answers 200 (or `status`), keeping each request.
class HttpListener {
public:
    struct Request {
        std::string target, body;
    };
    explicit HttpListener(int status = 200) : status_(status) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(fd_, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 || ::listen(fd_, 8) != 0) throw std::runtime_error("listen");
        socklen_t length = sizeof address;
        ::getsockname(fd_, reinterpret_cast<sockaddr *>(&address), &length);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~HttpListener() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    std::string url(const std::string &path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    std::vector<Request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    // Waits until at least `count` requests arrived.
    bool wait_for(std::size_t count, std::chrono::milliseconds limit = 15s) const {
        for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(20ms))
            if (requests().size() >= count) return true;
        return false;
    }

private:
    void serve() {
        while (!stop_) {
            const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) continue;
            std::string data;
            char buffer[4096];
            std::size_t want = std::string::npos;
            while (want == std::string::npos || data.size() < want) {
                const ssize_t n = ::read(client, buffer, sizeof buffer);
                if (n <= 0) break;
                data.append(buffer, static_cast<std::size_t>(n));
                const auto end = data.find("\r\n\r\n");
                if (end != std::string::npos && want == std::string::npos) {
                    const auto at = data.find("Content-Length: ");
                    want = end + 4 + (at == std::string::npos || at > end ? 0 : std::stoul(data.substr(at + 16)));
                }
            }
            const auto first_space = data.find(' ');
            const auto end = data.find("\r\n\r\n");
            if (first_space != std::string::npos && end != std::string::npos) {
                std::lock_guard lock(mutex_);
                requests_.push_back({data.substr(0, data.find(' ', first_space + 1)), data.substr(end + 4)});
            }
            const std::string answer = "HTTP/1.1 " + std::to_string(status_) + " OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            (void)!::write(client, answer.data(), answer.size());
            ::close(client);
        }
    }
    int status_;
    int fd_ = -1;
    unsigned short port_ = 0;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<Request> requests_;
    std::thread thread_;
};

// The systemd mock on the service's bus; `started()` lists the units StartUnit was asked for.
struct SystemdMock {
    const Service &service;
    std::string log;
    Spawned process{};
    SystemdMock(const Service &s) : service(s), log(s.dir / "systemd-calls.log") {
        process = spawn({"/usr/bin/python3", "-m", "dbusmock", "-l", log, "--template", std::string(SOURCE_DIR) + "/tests/integration/mocks/systemd_manager.py"},
                        {"DBUS_SESSION_BUS_ADDRESS=" + s.bus.address()});
        for (int i = 0; i < 200; ++i) {
            if (run({"busctl", "--address=" + s.bus.address(), "status", "org.freedesktop.systemd1"}).exit_code == 0) return;
            std::this_thread::sleep_for(25ms);
        }
        ADD_FAILURE() << "the systemd mock did not appear";
    }
    ~SystemdMock() {
        ::kill(process.pid, SIGTERM);
        wait_for(process);
    }
    std::vector<std::string> started() const {
        std::vector<std::string> units;
        const std::string text = read_file(log);
        for (std::size_t at = text.find("StartUnit "); at != std::string::npos; at = text.find("StartUnit ", at + 1))
            units.push_back(text.substr(at + 10, text.find('\n', at) - at - 10));
        return units;
    }
    bool wait_for_starts(std::size_t count, std::chrono::milliseconds limit = 15s) const {
        for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(20ms))
            if (started().size() >= count) return true;
        return false;
    }
};

}  // namespace

TEST(Alerts, AFailedRunStartsTheAlertUnitAndPostsToTheFailureUrlASuccessPingsTheWebhook) {
    HttpListener http;
    Service s;
    s.write_config(R"("alerts": {"webhook_url": ")" + http.url("/ping/uuid") + R"(", "webhook_failure_url": ")" + http.url("/ping/uuid/fail") +
                   R"("})");
    SystemdMock systemd(s);
    s.start();

    ASSERT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    ASSERT_TRUE(http.wait_for(1)) << "no success ping";
    auto requests = http.requests();
    EXPECT_EQ(requests[0].target, "POST /ping/uuid");
    const auto ping = parse_json(requests[0].body);
    EXPECT_EQ(ping["event"], "run");
    EXPECT_EQ(ping["result"], "success");
    EXPECT_TRUE(systemd.started().empty()) << "an alert unit for a successful run";

    remove_tree(s.destination);   // the next run fails: the destination is missing
    auto failed = s.ctl({"start", "--wait"});
    EXPECT_EQ(failed.exit_code, 2);
    const std::string run_id = parse_json(s.ctl({"status", "--json"}).out)["last_run_id"];
    ASSERT_TRUE(systemd.wait_for_starts(1));
    std::string instance = run_id;   // as systemd-escape writes it: "-" is "\x2d"
    for (auto at = instance.find('-'); at != std::string::npos; at = instance.find('-', at)) instance.replace(at, 1, "\\x2d");
    EXPECT_EQ(systemd.started(), std::vector<std::string>{"\"dailysyncd-alert@" + instance + ".service\" \"replace\""});
    ASSERT_TRUE(http.wait_for(2));
    requests = http.requests();
    EXPECT_EQ(requests[1].target, "POST /ping/uuid/fail");
    const auto alert = parse_json(requests[1].body);
    EXPECT_EQ(alert["run_id"], run_id);
    EXPECT_EQ(alert["result"], "failed");
    EXPECT_NE(alert["error"].get<std::string>().find("is not available"), std::string::npos) << alert.dump(2);
    s.stop();
}

TEST(Alerts, AStaleBackupAlertsOnceNotOverAndOverAndNotAgainAfterARestart) {
    HttpListener http;
    Service s;
    s.write_config(R"("daily_at": ")" + std::string("04:17") + R"(", "alerts": {"webhook_url": ")" + http.url("/hook") +
                   R"(", "stale_after": "2s"})");
    SystemdMock systemd(s);
    s.start();   // no run has ever succeeded: stale 2 s after the daemon started watching
    ASSERT_TRUE(systemd.wait_for_starts(1, 20s));
    EXPECT_EQ(systemd.started()[0], "\"dailysyncd-alert@stale.service\" \"replace\"");
    ASSERT_TRUE(http.wait_for(1));
    EXPECT_EQ(parse_json(http.requests()[0].body)["event"], "stale");
    std::this_thread::sleep_for(5s);
    EXPECT_EQ(systemd.started().size(), 1u) << "alerted again within one stale spell";
    EXPECT_EQ(http.requests().size(), 1u);
    s.stop();
    s.start();
    std::this_thread::sleep_for(3s);
    EXPECT_EQ(systemd.started().size(), 1u) << "alerted again after a restart";

    // A success ends the spell (a success ping); 2 s later the backup is stale again: one more alert.
    ASSERT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    ASSERT_TRUE(systemd.wait_for_starts(2, 20s));
    EXPECT_EQ(systemd.started()[1], "\"dailysyncd-alert@stale.service\" \"replace\"");
    ASSERT_TRUE(http.wait_for(3));
    EXPECT_EQ(parse_json(http.requests()[1].body)["result"], "success");
    EXPECT_EQ(parse_json(http.requests()[2].body)["event"], "stale");
    EXPECT_NE(parse_json(http.requests()[2].body)["error"].get<std::string>().find("no successful backup for"), std::string::npos);
}

TEST(Alerts, AVerifyThatFindsDamageAlertsOneThatFindsNothingStaysQuiet) {
    HttpListener http;
    Service s;
    s.write_config(R"("alerts": {"webhook_url": ")" + http.url("/ok") + R"(", "webhook_failure_url": ")" + http.url("/fail") + R"("})");
    SystemdMock systemd(s);
    s.start();
    ASSERT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    ASSERT_TRUE(http.wait_for(1));
    ASSERT_EQ(s.ctl({"verify"}).exit_code, 0);
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(http.requests().size(), 1u) << "a clean verify is no backup: no ping";
    // Damage one byte, keeping size and time.
    const std::string path = s.destination + "/alpha/sub/f3";
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    std::string content = read_file(path);
    content[10] ^= 1;
    write_file(path, content);
    const timespec times[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
    EXPECT_EQ(s.ctl({"verify"}).exit_code, 2);
    ASSERT_TRUE(http.wait_for(2));
    const auto alert = http.requests()[1];
    EXPECT_EQ(alert.target, "POST /fail");
    const auto body = parse_json(alert.body);
    EXPECT_EQ(body["verify"]["differing"], 1) << body.dump(2);
    EXPECT_TRUE(systemd.wait_for_starts(1));
}
