// Service mode against a real private dbus-daemon, driven from C++ through sd-bus and with
// busctl, with sd_notify messages caught on a real AF_UNIX datagram socket.
#include <chrono>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <pwd.h>
#include <regex>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <thread>
#include <unistd.h>

#include "helpers.hpp"
#include "service_fixture.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

constexpr const char *kName = "io.dailysync1";
constexpr const char *kPath = "/io/dailysync1";
constexpr const char *kIface = "io.dailysync1.Manager";

// An sd-bus client connection to the private bus, with signal counting.
class Client {
public:
    explicit Client(const std::string &address) {
        sd_bus_new(&bus_);
        sd_bus_set_address(bus_, address.c_str());
        sd_bus_set_bus_client(bus_, 1);
        EXPECT_GE(sd_bus_start(bus_), 0);
        sd_bus_match_signal(bus_, nullptr, kName, kPath, "org.freedesktop.DBus.Properties", "PropertiesChanged", &Client::on_changed, this);
        sd_bus_match_signal(bus_, nullptr, kName, kPath, kIface, "RunFinished", &Client::on_finished, this);
        sd_bus_match_signal(bus_, nullptr, kName, kPath, kIface, "RunStarted", &Client::on_started, this);
    }
    ~Client() { sd_bus_flush_close_unref(bus_); }

    std::string get_string(const char *property) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char *value = nullptr;
        int r = sd_bus_get_property_string(bus_, kName, kPath, kIface, property, &error, &value);
        std::string out = r >= 0 ? value : "<error " + std::string(error.name ? error.name : "?") + ">";
        free(value);
        sd_bus_error_free(&error);
        return out;
    }
    uint64_t get_u64(const char *property) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        uint64_t value = 0;
        sd_bus_get_property_trivial(bus_, kName, kPath, kIface, property, &error, 't', &value);
        sd_bus_error_free(&error);
        return value;
    }
    // Calls a method returning "s" (or nothing); returns {error name or "", string result}.
    std::pair<std::string, std::string> call(const char *method, const char *arg = nullptr, const char *result_type = "s") {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = nullptr;
        int r = arg ? sd_bus_call_method(bus_, kName, kPath, kIface, method, &error, &reply, "s", arg)
                    : sd_bus_call_method(bus_, kName, kPath, kIface, method, &error, &reply, "");
        std::pair<std::string, std::string> out;
        if (r < 0) {
            out.first = error.name ? error.name : "error";
            out.second = error.message ? error.message : "";
        } else if (result_type && std::string(result_type) == "s") {
            const char *s = nullptr;
            if (sd_bus_message_read(reply, "s", &s) >= 0 && s) out.second = s;
        }
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        return out;
    }
    std::vector<std::pair<std::string, std::string>> list_runs() {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = nullptr;
        std::vector<std::pair<std::string, std::string>> runs;
        if (sd_bus_call_method(bus_, kName, kPath, kIface, "ListRuns", &error, &reply, "") >= 0) {
            sd_bus_message_enter_container(reply, 'a', "(ssttb)");
            const char *id, *result;
            uint64_t start, end;
            int dry_run = 0;
            while (sd_bus_message_read(reply, "(ssttb)", &id, &result, &start, &end, &dry_run) > 0) {
                EXPECT_FALSE(dry_run);   // the service never makes dry runs
                runs.emplace_back(id, result);
                EXPECT_LE(start, end);
            }
        }
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        return runs;
    }
    std::string introspect() {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = nullptr;
        std::string xml;
        if (sd_bus_call_method(bus_, kName, kPath, "org.freedesktop.DBus.Introspectable", "Introspect", &error, &reply, "") >= 0) {
            const char *s = nullptr;
            sd_bus_message_read(reply, "s", &s);
            xml = s;
        }
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        return xml;
    }
    // Processes incoming signals until RunFinished arrives for run_id or time is up.
    std::string wait_finished(const std::string &run_id, std::chrono::seconds limit = 60s) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            auto it = finished_.find(run_id);
            if (it != finished_.end()) return it->second;
            int r = sd_bus_process(bus_, nullptr);
            if (r == 0) sd_bus_wait(bus_, 100'000);
        }
        return "<timeout>";
    }
    void pump(std::chrono::milliseconds how_long) {
        const auto end = std::chrono::steady_clock::now() + how_long;
        while (std::chrono::steady_clock::now() < end)
            if (sd_bus_process(bus_, nullptr) == 0) sd_bus_wait(bus_, 20'000);
    }
    int progress_signals = 0;
    std::vector<std::string> started;

private:
    static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *) {
        auto *self = static_cast<Client *>(userdata);
        const char *iface = nullptr;
        sd_bus_message_read(m, "s", &iface);
        sd_bus_message_enter_container(m, 'a', "{sv}");
        const char *name = nullptr;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
            sd_bus_message_read(m, "s", &name);
            if (std::string(name) == "FilesDone") ++self->progress_signals;
            sd_bus_message_skip(m, "v");
            sd_bus_message_exit_container(m);
        }
        return 0;
    }
    static int on_finished(sd_bus_message *m, void *userdata, sd_bus_error *) {
        const char *id = nullptr, *result = nullptr;
        sd_bus_message_read(m, "ss", &id, &result);
        static_cast<Client *>(userdata)->finished_[id] = result;
        return 0;
    }
    static int on_started(sd_bus_message *m, void *userdata, sd_bus_error *) {
        const char *id = nullptr;
        sd_bus_message_read(m, "s", &id);
        static_cast<Client *>(userdata)->started.push_back(id);
        return 0;
    }
    sd_bus *bus_ = nullptr;
    std::map<std::string, std::string> finished_;
};

}  // namespace

TEST(Daemon, PropertiesStartRunSignalsReportsAndHistory) {
    Service s(R"("rsync_extra_args": ["--bwlimit=200"])");
    write_file(s.source + "/alpha/slow", std::string(500'000, 's'));
    age_tree(s.source);
    s.start();
    Client c(s.bus.address());
    EXPECT_EQ(c.get_string("State"), "idle");
    EXPECT_EQ(c.get_string("LastResult"), "");
    const uint64_t next = c.get_u64("NextRun");
    const uint64_t now_us = static_cast<uint64_t>(std::time(nullptr)) * 1'000'000ULL;
    EXPECT_GT(next, now_us);
    EXPECT_LE(next, now_us + 24ULL * 3600 * 1'000'000ULL + 1'000'000ULL);

    auto [error, run_id] = c.call("StartRun");
    ASSERT_EQ(error, "") << run_id;
    ASSERT_FALSE(run_id.empty());
    EXPECT_EQ(c.get_string("State"), "running");
    auto second = c.call("StartRun");
    EXPECT_EQ(second.first, "io.dailysync1.Error.AlreadyRunning");
    EXPECT_EQ(c.wait_finished(run_id), "success");
    EXPECT_GE(c.progress_signals, 1);
    EXPECT_EQ(c.started, std::vector<std::string>{run_id});

    EXPECT_EQ(differences(snapshot(s.source), snapshot(s.destination)), "");
    EXPECT_EQ(c.get_string("State"), "idle");
    EXPECT_EQ(c.get_string("LastResult"), "success");
    EXPECT_EQ(c.get_string("LastRunId"), run_id);
    auto runs = c.list_runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0], std::make_pair(run_id, std::string("success")));
    auto report = c.call("GetRunReport", run_id.c_str());
    ASSERT_EQ(report.first, "");
    EXPECT_EQ(parsed_report(report.second)["result"], "success");
    // The bottleneck verdict: a run of a few seconds is too short to judge, and says so.
    EXPECT_EQ(c.get_string("Bottleneck"), "unknown");
    EXPECT_NE(c.get_string("BottleneckEvidence").find("too short to judge"), std::string::npos) << c.get_string("BottleneckEvidence");
    EXPECT_EQ(parsed_report(report.second)["bottleneck"]["resource"], "unknown");
    EXPECT_EQ(c.call("GetRunReport", "../../etc/passwd").first, "org.freedesktop.DBus.Error.InvalidArgs");
    EXPECT_EQ(c.call("GetRunReport", "20000101T000000Z").first, "io.dailysync1.Error.NoSuchRun");
    EXPECT_EQ(c.call("CancelRun", nullptr, nullptr).first, "io.dailysync1.Error.NotRunning");
    // busctl, as an admin would use it.
    auto busctl = run({"busctl", "--address=" + s.bus.address(), "get-property", kName, kPath, kIface, "LastResult"});
    EXPECT_EQ(busctl.out, "s \"success\"\n") << busctl.err;

    EXPECT_TRUE(s.notify.wait_for("STATUS=Idle; last run success"));
    bool saw_running_status = false;
    for (const auto &m : s.notify.messages()) saw_running_status |= m.find("STATUS=Running " + run_id) != std::string::npos;
    EXPECT_TRUE(saw_running_status);
    auto stopped = s.stop();
    EXPECT_EQ(stopped.exit_code, 0);
    EXPECT_NE(stopped.err.find("<6>run " + run_id + " finished: success"), std::string::npos) << stopped.err;
    EXPECT_NE(stopped.err.find("; bottleneck unknown ("), std::string::npos) << stopped.err;
}

TEST(Daemon, CancelRunStopsEveryRsync) {
    Service s(R"("rsync_extra_args": ["--bwlimit=500"])");
    write_file(s.source + "/alpha/huge", std::string(20'000'000, 'h'));
    s.start();
    Client c(s.bus.address());
    auto [error, run_id] = c.call("StartRun");
    ASSERT_EQ(error, "");
    // The unit of alpha (its huge file at 500 KB/s) runs for long; between two shorter
    // units there may be a moment without any rsync (the next unit's folders are checked).
    wait_for_rsync(s.source + "/./alpha");
    EXPECT_EQ(c.call("CancelRun", nullptr, nullptr).first, "");
    EXPECT_EQ(c.wait_finished(run_id, 20s), "cancelled");
    EXPECT_TRUE(processes_mentioning(s.source + "/").empty());
    EXPECT_EQ(c.get_string("LastResult"), "cancelled");
    EXPECT_EQ(c.get_string("State"), "idle");
}

TEST(Daemon, ReloadWithABrokenConfigKeepsServingTheOldOne) {
    Service s;
    s.start();
    Client c(s.bus.address());
    write_file(s.config_path, R"({"source": ")" + s.source + R"(", "destination": ")" + s.destination + R"(", "daily_at": "25:00"})");
    ::kill(s.daemon.pid, SIGHUP);
    EXPECT_TRUE(s.notify.wait_for("RELOADING=1"));
    c.pump(300ms);
    EXPECT_EQ(c.get_string("State"), "idle");
    auto reload = c.call("Reload", nullptr, nullptr);
    EXPECT_EQ(reload.first, "io.dailysync1.Error.InvalidConfig");
    EXPECT_NE(reload.second.find("/daily_at: hour must be from 00 to 23"), std::string::npos) << reload.second;
    // Still working with the old configuration.
    auto [error, run_id] = c.call("StartRun");
    ASSERT_EQ(error, "");
    EXPECT_EQ(c.wait_finished(run_id), "success");
    // A good configuration is taken: the next run moves to the new time.
    s.write_config(R"("daily_at": "00:00")");
    EXPECT_EQ(c.call("Reload", nullptr, nullptr).first, "");
    std::time_t next = static_cast<std::time_t>(c.get_u64("NextRun") / 1'000'000ULL);
    std::tm tm{};
    localtime_r(&next, &tm);
    EXPECT_EQ(tm.tm_hour, 0);
    EXPECT_EQ(tm.tm_min, 0);
    auto stopped = s.stop();
    EXPECT_NE(stopped.err.find("<3>reload refused, keeping the running configuration"), std::string::npos) << stopped.err;
}

TEST(Daemon, SigtermDuringARunCancelsItAndExitsCleanly) {
    Service s(R"("rsync_extra_args": ["--bwlimit=500"])");
    write_file(s.source + "/alpha/huge", std::string(20'000'000, 'h'));
    s.start();
    Client c(s.bus.address());
    ASSERT_EQ(c.call("StartRun").first, "");
    wait_for_rsync(s.source + "/./alpha");
    const auto before = std::chrono::steady_clock::now();
    auto stopped = s.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - before, 15s);
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_TRUE(s.notify.wait_for("STOPPING=1", 1s));
    EXPECT_TRUE(processes_mentioning(s.source + "/").empty());
    // The interrupted run is recorded.
    auto state = nlohmann::json::parse(read_file(s.state + "/state.json"));
    EXPECT_EQ(state["last_result"], "cancelled");
}

TEST(Daemon, CatchUpAfterDowntimeAndCorruptStateIsSetAside) {
    Service s;
    make_dirs(s.state);
    const long two_days_ago = static_cast<long>(std::time(nullptr)) - 2 * 24 * 3600;
    write_file(s.state + "/state.json", R"({"last_success": )" + std::to_string(two_days_ago) + "}");
    s.start();
    Client c(s.bus.address());
    const uint64_t next = c.get_u64("NextRun") / 1'000'000ULL;
    EXPECT_LE(next, static_cast<uint64_t>(std::time(nullptr)) + 31);   // soon, not at the daily time
    auto stopped = s.stop();
    EXPECT_NE(stopped.err.find("catching up in 30 s"), std::string::npos) << stopped.err;

    write_file(s.state + "/state.json", "{ truncated");
    s.start();
    auto again = s.stop();
    EXPECT_NE(again.err.find("<4>the state file"), std::string::npos) << again.err;
    EXPECT_EQ(read_file(s.state + "/state.json.corrupt"), "{ truncated");
}

TEST(Daemon, WatchdogIsPettedWhenEnabled) {
    Service s;
    s.start({"WATCHDOG_USEC=400000"});
    EXPECT_TRUE(s.notify.wait_for("WATCHDOG=1", 2s));
}

TEST(Daemon, LiveIntrospectionMatchesTheDocumentedInterface) {
    Service s;
    s.start();
    Client c(s.bus.address());
    auto normalise = [](const std::string &xml) {
        auto begin = xml.find("<interface name=\"io.dailysync1.Manager\">");
        auto end = xml.find("</interface>", begin);
        std::string block = xml.substr(begin, end - begin);
        block = std::regex_replace(block, std::regex("<annotation[^>]*/>"), "");
        block = std::regex_replace(block, std::regex("\\s+"), " ");
        return block;
    };
    const std::string documented = read_file(source_dir() + "/docs/io.dailysync1.Manager.xml");
    EXPECT_EQ(normalise(c.introspect()), normalise(documented));
    // Every documented property says that it announces changes.
    std::size_t count = 0, annotated = 0;
    for (std::size_t at = documented.find("<property"); at != std::string::npos; at = documented.find("<property", at + 1)) {
        ++count;
        auto close = documented.find("</property>", at);
        annotated += documented.substr(at, close - at).find("EmitsChangedSignal\" value=\"true\"") != std::string::npos;
    }
    EXPECT_EQ(count, 14u);
    EXPECT_EQ(annotated, count);
}

TEST(Daemon, SystemBusPolicyLetsEveryoneReadAndOnlyRootActWithoutPolkit) {
    SystemService s;   // service mode on the "system" bus (no --user), as root
    const std::string address = s.bus.address();
    const uid_t nobody = ::getpwnam("nobody")->pw_uid;
    auto read = run({"busctl", "--address=" + address, "get-property", kName, kPath, kIface, "State"}, {}, nobody);
    EXPECT_EQ(read.out, "s \"idle\"\n") << read.err;
    auto list = run({"busctl", "--address=" + address, "call", kName, kPath, kIface, "ListRuns"}, {}, nobody);
    EXPECT_EQ(list.exit_code, 0) << list.err;
    for (const char *method : {"StartRun", "CancelRun", "Reload"}) {
        auto refused = run({"busctl", "--address=" + address, "call", kName, kPath, kIface, method}, {}, nobody);
        EXPECT_NE(refused.exit_code, 0) << method;
        EXPECT_EQ(refused.err, "Call failed: Access denied\n") << method;
    }
    auto root_call = run({"busctl", "--address=" + address, "call", kName, kPath, kIface, "StartRun"});
    EXPECT_EQ(root_call.exit_code, 0) << root_call.err;
    auto stopped = s.stop();
    EXPECT_EQ(stopped.exit_code, 0);
    // The policy lets the calls through; the daemon refused them, having no polkit to ask.
    EXPECT_NE(stopped.err.find("refused StartRun from "), std::string::npos) << stopped.err;
    EXPECT_NE(stopped.err.find("Not authorized: polkit did not answer"), std::string::npos) << stopped.err;
}

namespace {

// Runs `argv` as `uid` in a private mount namespace whose /run/systemd/journal/socket is
// a datagram socket of ours, with stderr going to a file named by JOURNAL_STREAM: the
// program then sees "stderr is the journal" and sends native journal entries to us.
// The datagrams (KEY=VALUE lines) are collected into `entries_file`, one per line block.
pid_t spawn_with_journal(const std::vector<std::string> &argv, const std::vector<std::string> &env, uid_t uid,
                         const std::string &stderr_file, const std::string &entries_file) {
    pid_t pid = ::fork();
    if (pid != 0) return pid;
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(90);
    ::mkdir("/run/systemd", 0755);
    ::mkdir("/run/systemd/journal", 0755);
    if (::mount("tmpfs", "/run/systemd/journal", "tmpfs", 0, "mode=0755") != 0) ::_exit(91);
    int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "/run/systemd/journal/socket");
    if (::bind(sock, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) ::_exit(92);
    ::chmod(addr.sun_path, 0666);
    pid_t program = ::fork();
    if (program == 0) {
        int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ::dup2(err, 2);
        struct stat st {};
        ::fstat(2, &st);
        std::string stream = "JOURNAL_STREAM=" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
        ::putenv(const_cast<char *>(stream.c_str()));
        for (const auto &e : env) ::putenv(const_cast<char *>(e.c_str()));
        ::setgroups(0, nullptr);
        if (::setgid(65534) != 0 || ::setuid(uid) != 0) ::_exit(93);
        std::vector<char *> args;
        for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    // SIGTERM to this holder process is meant for the program.
    static pid_t forward_to;
    forward_to = program;
    ::signal(SIGTERM, [](int) { ::kill(forward_to, SIGTERM); });
    int out = ::open(entries_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    for (;;) {
        pollfd p{sock, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) {
            char buffer[65536];
            ssize_t n = ::recv(sock, buffer, sizeof buffer, 0);
            if (n > 0) {
                std::string entry(buffer, static_cast<std::size_t>(n));
                entry += "\n--\n";
                ::write(out, entry.data(), entry.size());
            }
            continue;
        }
        int status = 0;
        if (::waitpid(program, &status, WNOHANG) == program) ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 99);
    }
}

std::vector<std::string> journal_entries(const std::string &file) {
    std::vector<std::string> entries;
    const std::string text = read_file(file);
    for (std::size_t at = 0; at < text.size();) {
        auto end = text.find("\n--\n", at);
        if (end == std::string::npos) break;
        entries.push_back(text.substr(at, end - at));
        at = end + 4;
    }
    return entries;
}

}  // namespace

TEST(Daemon, StructuredJournalEntriesForRunsAndFailedProjects) {
    Service s;
    // As in the --once test: run unprivileged; beta's destination is root's, so beta fails.
    const uid_t nobody = ::getpwnam("nobody")->pw_uid;
    ASSERT_EQ(run({"chown", "-R", "nobody:nogroup", s.dir.path()}).exit_code, 0);
    ::chmod(s.dir.path().c_str(), 0755);
    make_dirs(s.destination + "/beta");
    ASSERT_EQ(::chown((s.destination + "/beta").c_str(), 0, 65534), 0);
    set_mtime(s.source + "/beta", 1'400'000'000);
    set_mtime(s.destination + "/beta", 1'400'000'000);
    const std::string entries_file = s.dir / "journal.entries";
    pid_t daemon = spawn_with_journal({dailysyncd(), "--user", "--config", s.config_path},
                                      {"DBUS_SESSION_BUS_ADDRESS=" + s.bus.address()}, nobody, s.dir / "stderr", entries_file);
    Client c(s.bus.address());
    std::string run_id, last_error;
    for (int i = 0; i < 100; ++i) {
        auto [error, id] = c.call("StartRun");
        if (error.empty()) {
            run_id = id;
            break;
        }
        last_error = error + ": " + id;
        std::this_thread::sleep_for(50ms);   // not on the bus yet
    }
    ASSERT_FALSE(run_id.empty()) << last_error << "\n" << read_file(s.dir / "stderr") << read_file(entries_file);
    EXPECT_EQ(c.wait_finished(run_id), "failed");
    ::kill(daemon, SIGTERM);
    int status = 0;
    ::waitpid(daemon, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_EQ(read_file(s.dir / "stderr"), "");   // everything went to the journal

    bool started = false, finished = false, unit_failed = false;
    for (const auto &e : journal_entries(entries_file)) {
        auto has = [&](const std::string &line) { return e.find(line + "\n") != std::string::npos || (e.size() >= line.size() && e.compare(e.size() - line.size(), line.size(), line) == 0); };
        if (has("MESSAGE_ID=b8b4206e60d547f6a074c5b6a79eaa06")) {
            started = has("DAILYSYNC_RUN_ID=" + run_id) && has("PRIORITY=6");
        } else if (has("MESSAGE_ID=82f7f69e85c04d3b8321b8d47d995504")) {
            finished = has("DAILYSYNC_RUN_ID=" + run_id) && has("DAILYSYNC_RESULT=failed") && has("PRIORITY=3") &&
                       e.find("DAILYSYNC_BYTES=") != std::string::npos && e.find("DAILYSYNC_FILES=") != std::string::npos &&
                       e.find("DAILYSYNC_BOTTLENECK=") != std::string::npos;
        } else if (has("MESSAGE_ID=b94b35e88f974001a6758e2331b74b5a")) {
            unit_failed = has("DAILYSYNC_PROJECT=beta") && has("DAILYSYNC_EXIT_CODE=23") && has("PRIORITY=3") &&
                          has("DAILYSYNC_RUN_ID=" + run_id);
        }
    }
    EXPECT_TRUE(started) << read_file(entries_file);
    EXPECT_TRUE(finished) << read_file(entries_file);
    EXPECT_TRUE(unit_failed) << read_file(entries_file);
}

namespace {

// A small parser of the Prometheus text format: samples by "name{labels}", and the names
// that have # HELP and # TYPE lines.
struct Metrics {
    std::map<std::string, double> samples;
    std::set<std::string> helped, typed;
};

Metrics parse_metrics(const std::string &text) {
    Metrics m;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("# HELP ", 0) == 0) m.helped.insert(line.substr(7, line.find(' ', 7) - 7));
        else if (line.rfind("# TYPE ", 0) == 0) m.typed.insert(line.substr(7, line.find(' ', 7) - 7));
        else if (!line.empty()) {
            auto space = line.rfind(' ');
            m.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
        }
    }
    return m;
}

// The metrics file is written by a worker thread after the event that changes it: waits
// (up to 10 s) until the file holds the sample, then parses it.
Metrics metrics_once(const std::string &path, const std::string &sample, bool nonzero) {
    Metrics m;
    for (int i = 0; i < 100; ++i) {
        m = parse_metrics(read_file(path));
        auto found = m.samples.find(sample);
        if (found != m.samples.end() && (!nonzero || found->second != 0)) return m;
        std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << path << " never held " << sample << (nonzero ? " above 0" : "");
    return m;
}

}  // namespace

TEST(Daemon, MetricsFileForTheTextfileCollector) {
    Service s;
    const std::string metrics = s.dir / "dailysync.prom";
    s.write_config(R"("metrics_file": ")" + metrics + R"(")");
    s.start();
    auto at_start = metrics_once(metrics, "dailysync_last_success_timestamp_seconds", false);   // written at start, before any run
    EXPECT_EQ(at_start.samples.at("dailysync_last_success_timestamp_seconds"), 0);

    Client c(s.bus.address());
    auto [error, run_id] = c.call("StartRun");
    ASSERT_EQ(error, "");
    ASSERT_EQ(c.wait_finished(run_id), "success");
    auto m = metrics_once(metrics, "dailysync_last_success_timestamp_seconds", true);
    for (const auto &[sample, value] : m.samples) {
        const std::string name = sample.substr(0, sample.find('{'));
        EXPECT_TRUE(m.helped.count(name)) << name;
        EXPECT_TRUE(m.typed.count(name)) << name;
    }
    auto report = parsed_report(c.call("GetRunReport", run_id.c_str()).second);
    const double now = static_cast<double>(std::time(nullptr));
    EXPECT_NEAR(m.samples.at("dailysync_last_success_timestamp_seconds"), now, 30);
    EXPECT_EQ(m.samples.at("dailysync_last_run_files"), report["totals"]["files_transferred"].get<double>());
    EXPECT_EQ(m.samples.at("dailysync_last_run_bytes"), report["totals"]["bytes_transferred"].get<double>());
    EXPECT_NEAR(m.samples.at("dailysync_last_run_duration_seconds"), report["seconds"].get<double>(), 1.5);
    EXPECT_EQ(m.samples.at("dailysync_last_run_result{result=\"success\"}"), 1);
    EXPECT_EQ(m.samples.at("dailysync_last_run_result{result=\"failed\"}"), 0);
    EXPECT_NEAR(m.samples.at("dailysync_project_last_success_timestamp_seconds{project=\"alpha\"}"), now, 30);
    EXPECT_NEAR(m.samples.at("dailysync_project_last_success_timestamp_seconds{project=\"beta\"}"), now, 30);
}
