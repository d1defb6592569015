// A NAS that stops answering, for real: the source and the destination are sshfs mounts of
// an sshd in a private network namespace (scripts/simulated-nas.sh), and the NAS is frozen
// (every byte between the mounts and sshd stops) mid-run, before a first run's checks, and
// during the first run's scan. While it is frozen the daemon must answer D-Bus within a
// second, keep feeding systemd's watchdog and stop on SIGTERM within 15 s leaving no rsync;
// the run must end with a clear error; once the NAS answers again the next run succeeds.
// The daemon's own deadline (filesystem_timeout_seconds 3) is shorter than the mounts'
// (about 8 s), so what is tested is the daemon's, not the mount's, giving up.
#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "helpers.hpp"
#include "service_fixture.hpp"
#include "simulated_nas.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

// `projects` folders of `files` small files each, written on the NAS side.
void make_tree(const std::string &root, int projects, int files) {
    for (int p = 0; p < projects; ++p) {
        const std::string project = root + "/p" + std::to_string(p);
        make_dirs(project);
        for (int f = 0; f < files; ++f) write_file(project + "/f" + std::to_string(f), std::string(2000 + f, 'x'));
    }
    age_tree(root);
}

// The service on the NAS's mounts: filesystem calls time out after 3 s, watchdog at 1 s.
struct NasService {
    SimulatedNas nas;
    Service service;
    // The mounts give up on a NAS silent for about 8 s, as real NAS clients do (NFS,
    // SMB): a FUSE request already sent waits uninterruptibly, even through SIGKILL, until
    // the server answers or the client gives up (docs/reliability.md).
    explicit NasService(int rtt_us, const std::string &extra = "") : nas(rtt_us, 8) {
        service.source = nas.mounted("prod");
        service.destination = nas.mounted("backup");
        service.write_config(R"("filesystem_timeout_seconds": 3)" + (extra.empty() ? "" : ", " + extra));
    }
    void start() { service.start({"WATCHDOG_USEC=1000000"}); }
};

// rsync processes working on `path` (the sshfs clients of the mounts name it too).
std::vector<pid_t> rsyncs_on(const std::string &path) {
    std::vector<pid_t> found;
    for (pid_t pid : processes_mentioning(path)) {
        std::string comm = read_file("/proc/" + std::to_string(pid) + "/comm");
        if (comm.rfind("rsync", 0) == 0) found.push_back(pid);
    }
    return found;
}

std::chrono::milliseconds elapsed_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

// busctl on the service's private bus: a real client, timed.
Result busctl(const Service &s, std::vector<std::string> args) {
    args.insert(args.begin(), {"busctl", "--address=" + s.bus.address(), "--timeout=5"});
    return run(args);
}

// What a frozen NAS must not change: State and `dailysyncctl status` answer within a
// second (each tried three times), WATCHDOG=1 keeps coming.
void expect_responsive(Service &s) {
    for (int i = 0; i < 3; ++i) {
        auto start = std::chrono::steady_clock::now();
        auto state = busctl(s, {"get-property", "io.dailysync1", "/io/dailysync1", "io.dailysync1.Manager", "State"});
        EXPECT_EQ(state.exit_code, 0) << state.err;
        EXPECT_LT(elapsed_since(start), 1000ms) << "State took too long";
        start = std::chrono::steady_clock::now();
        auto status = s.ctl({"status"});
        EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
        EXPECT_LT(elapsed_since(start), 1000ms) << "dailysyncctl status took too long";
    }
    s.notify.forget();
    std::this_thread::sleep_for(2500ms);
    int pings = 0;
    for (const auto &message : s.notify.messages()) pings += message.find("WATCHDOG=1") != std::string::npos;
    EXPECT_GE(pings, 3) << "the watchdog stopped while the NAS was frozen";
}

// SIGTERM ends the daemon within 15 s, and no process works on the NAS once the mounts
// give up: an rsync caught in a request waits in the kernel until then, SIGKILLed; the
// daemon does not wait for it (it journals it left behind).
void expect_prompt_stop(NasService &n) {
    const auto start = std::chrono::steady_clock::now();
    const Result stopped = n.service.stop();
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_LT(elapsed_since(start), 15000ms) << "SIGTERM took too long";
    for (int i = 0; i < 150 && !rsyncs_on(n.nas.mounted("")).empty(); ++i) std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(rsyncs_on(n.nas.mounted("")).empty()) << "an rsync on the NAS outlived the mounts' timeout";
}

nlohmann::json status_json(const Service &s) { return nlohmann::json::parse(s.ctl({"status", "--json"}).out, nullptr, false); }

// Waits until the daemon is idle again after a run; the last run's report.
nlohmann::json wait_for_run_end(const Service &s, std::chrono::seconds limit) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < give_up) {
        auto status = status_json(s);
        if (status.is_object() && status.value("state", "") == "idle" && !status.value("last_run_id", "").empty()) {
            auto report = s.ctl({"report", status["last_run_id"].get<std::string>(), "--json"});
            return parsed_report(report.out);
        }
        std::this_thread::sleep_for(200ms);
    }
    ADD_FAILURE() << "the run did not end within " << limit.count() << " s";
    return {};
}

// A later run on the thawed NAS backs the tree up completely.
void expect_next_run_succeeds(NasService &n) {
    if (!n.service.running) n.start();
    auto r = n.service.ctl({"start", "--wait"});
    const auto last = status_json(n.service).value("last_run_id", "");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << n.service.ctl({"report", last}).out;
    EXPECT_EQ(differences(snapshot(n.nas.served("prod")), snapshot(n.nas.served("backup"))), "");
}

// A run of 600 small files under way, its rsyncs at work on the mounts: the NAS freezes.
void freeze_mid_run(NasService &n) {
    make_tree(n.nas.served("prod"), 4, 150);
    n.start();
    ASSERT_EQ(n.service.ctl({"start"}).exit_code, 0);
    wait_for_rsync(n.nas.mounted("prod"));
    std::this_thread::sleep_for(500ms);
    n.nas.freeze();
}

std::string unit_messages(const nlohmann::json &report) {
    std::string all;
    if (report.contains("units"))
        for (const auto &unit : report["units"]) all += unit.value("message", "") + "\n";
    return all;
}

}  // namespace

TEST(HungNas, FrozenMidRunTheDaemonStillAnswersAndStopsPromptly) {
    NasService n(2000);
    ASSERT_NO_FATAL_FAILURE(freeze_mid_run(n));
    std::this_thread::sleep_for(1s);   // the rsyncs and any call on the mounts now hang
    expect_responsive(n.service);
    expect_prompt_stop(n);
    n.nas.thaw();
    expect_next_run_succeeds(n);
}

TEST(HungNas, ANasThatNeverGivesUpCannotKeepTheDaemonFromEnding) {
    // A backup NAS mounted without a client timeout (sshfs's default): a request the
    // frozen NAS never answers waits in the kernel, through SIGKILL. The rsyncs caught in
    // one cannot die; the daemon leaves them behind, names them, and ends; a new one
    // takes the bus name.
    SimulatedNas nas(2000);
    Service service;
    service.destination = nas.mounted("backup");
    // 160 MB in files of 2 MB, read here: when the NAS freezes, the receivers are writing.
    // cancel_grace_seconds is the default's (10 s): the 15 s are systemd's to count on.
    write_file(service.config_path, R"({"source": ")" + service.source + R"(", "destination": ")" + service.destination +
                                        R"(", "state_dir": ")" + service.state + R"(", "filesystem_timeout_seconds": 3})");
    for (int p = 0; p < 2; ++p) {
        make_dirs(service.source + "/p" + std::to_string(p));
        for (int f = 0; f < 40; ++f)
            write_file(service.source + "/p" + std::to_string(p) + "/f" + std::to_string(f), std::string(2'000'000, 'a' + f % 26));
    }
    age_tree(service.source);
    service.start();
    ASSERT_EQ(service.ctl({"start"}).exit_code, 0);
    wait_for_rsync(nas.mounted("backup"));
    std::this_thread::sleep_for(1500ms);
    nas.freeze();
    std::this_thread::sleep_for(1s);
    // The case at hand: some rsync waits for the NAS inside a FUSE request.
    int in_request = 0;
    std::string seen;
    for (pid_t pid : rsyncs_on(nas.mounted(""))) {
        const std::string wchan = read_file("/proc/" + std::to_string(pid) + "/wchan");
        const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
        const char state = stat.rfind(')') == std::string::npos ? '?' : stat[stat.rfind(')') + 2];
        in_request += wchan == "request_wait_answer";
        seen += std::to_string(pid) + ": " + state + " " + wchan + "\n";
    }
    ASSERT_GT(in_request, 0) << "no rsync was caught in a request to the NAS:\n" << seen;
    const auto start = std::chrono::steady_clock::now();
    const Result stopped = service.stop();
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_LT(elapsed_since(start), 15000ms) << "SIGTERM took too long";
    EXPECT_NE(stopped.err.find("s after SIGKILL: it waits in the kernel for " + service.source + " or " + service.destination +
                               ", which does not answer. It is left behind"),
              std::string::npos)
        << stopped.err;
    EXPECT_EQ(stopped.err.find("vanished"), std::string::npos) << stopped.err;
    // The NAS still frozen: a new daemon owns the name and answers.
    service.start();
    const auto state = busctl(service, {"get-property", "io.dailysync1", "/io/dailysync1", "io.dailysync1.Manager", "State"});
    EXPECT_EQ(state.exit_code, 0) << state.err;
    EXPECT_NE(state.out.find("idle"), std::string::npos) << state.out;
    const auto last = service.ctl({"report", status_json(service).value("last_run_id", "")});
    EXPECT_NE(last.out.find("cancelled"), std::string::npos) << last.out;
    EXPECT_NE(last.out.find("did not end after SIGKILL"), std::string::npos) << last.out;
    EXPECT_EQ(last.out.find("vanished"), std::string::npos) << last.out;
    EXPECT_EQ(service.stop().exit_code, 0);
    nas.thaw();
}

TEST(HungNas, AStalledRsyncFailsItsUnitClearlyAndTheNextRunSucceeds) {
    NasService n(2000, R"("stall_timeout_seconds": 2)");
    ASSERT_NO_FATAL_FAILURE(freeze_mid_run(n));
    expect_responsive(n.service);
    // Each rsync stalls, is killed after 2 s (SIGKILL 5 s later); the clean-up after it
    // meets the 3 s deadline; the run ends without the NAS ever answering.
    const auto report = wait_for_run_end(n.service, 60s);
    EXPECT_EQ(report.value("result", ""), "failed") << report.dump(2);
    EXPECT_NE(unit_messages(report).find("rsync printed nothing for 2 s and was killed"), std::string::npos) << report.dump(2);
    n.nas.thaw();
    // 2 s of silence is normal on this slow NAS once it answers again: the default back.
    n.service.write_config(R"("filesystem_timeout_seconds": 3)");
    ASSERT_EQ(n.service.ctl({"reload"}).exit_code, 0);
    expect_next_run_succeeds(n);
}

TEST(HungNas, FrozenBeforeAFirstRunItsChecksTimeOutReloadIsRefusedNamingTheSideSigtermStillStopsAndTheDaemonStillStarts) {
    NasService n(2000);
    make_tree(n.nas.served("prod"), 2, 20);
    n.start();
    n.nas.freeze();
    ASSERT_EQ(n.service.ctl({"start"}).exit_code, 0);
    expect_responsive(n.service);   // meanwhile the destination's check met its deadline
    const auto report = wait_for_run_end(n.service, 20s);
    EXPECT_EQ(report.value("result", ""), "failed");
    EXPECT_NE(report.value("error", "").find("did not answer for 3 s (filesystem_timeout_seconds)"), std::string::npos) << report.dump(2);
    // A reload while it is frozen (SIGHUP, then D-Bus Reload): the file is read on the loop,
    // the trees' places are checked on the workers. The bus answers meanwhile, and the
    // reload is refused naming the side that did not answer. (It moves the destination to a
    // folder of the NAS not looked up yet: the mount's caches cannot answer for it.)
    const std::string destination = n.service.destination;
    n.service.destination = n.nas.mounted("backup") + "/elsewhere";
    n.service.write_config(R"("filesystem_timeout_seconds": 3, "daily_at": "03:30")");
    n.service.destination = destination;
    n.service.notify.forget();
    ::kill(n.service.daemon.pid, SIGHUP);
    EXPECT_TRUE(n.service.notify.wait_for("RELOADING=1", 2s));
    const auto asked = std::chrono::steady_clock::now();
    auto reload = std::async(std::launch::async, [&] {
        return busctl(n.service, {"call", "io.dailysync1", "/io/dailysync1", "io.dailysync1.Manager", "Reload"});
    });
    std::this_thread::sleep_for(500ms);
    const auto start = std::chrono::steady_clock::now();
    const auto state = busctl(n.service, {"get-property", "io.dailysync1", "/io/dailysync1", "io.dailysync1.Manager", "State"});
    EXPECT_EQ(state.exit_code, 0) << state.err;
    EXPECT_LT(elapsed_since(start), 2000ms) << "the bus waited for the reload's checks";
    const Result refused = reload.get();
    EXPECT_LT(elapsed_since(asked), 6000ms) << "Reload was not answered at its 3 s deadline";
    EXPECT_NE(refused.exit_code, 0) << refused.out;
    EXPECT_NE(refused.err.find("did not answer for 3 s while the new configuration was checked"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("/destination: the destination " + destination + "/elsewhere did not answer"), std::string::npos)
        << refused.err;
    EXPECT_TRUE(n.service.notify.wait_for("READY=1", 5s)) << "the SIGHUP's reload never ended";
    n.service.write_config(R"("filesystem_timeout_seconds": 3)");   // what the next start reads
    // A second run hangs in its checks too; SIGTERM ends it and the daemon at once.
    ASSERT_EQ(n.service.ctl({"start"}).exit_code, 0);
    std::this_thread::sleep_for(500ms);
    expect_prompt_stop(n);
    // Started while the NAS freezes again (on a destination folder not looked up yet):
    // where the trees really are is looked up on the workers under the deadline, so the
    // daemon starts anyway, says why, and serves. (By now the mounts gave up on the first
    // freeze: thawed, they answer again, then freeze anew.)
    n.nas.thaw();
    ASSERT_EQ(run({"ls", n.nas.mounted("backup")}).exit_code, 0) << "the mount did not come back";
    n.service.destination = n.nas.mounted("backup") + "/elsewhere-too";
    n.service.write_config(R"("filesystem_timeout_seconds": 3)");
    n.service.destination = destination;
    n.nas.freeze();
    const auto starting = std::chrono::steady_clock::now();
    n.start();   // (asserts READY=1)
    EXPECT_LT(elapsed_since(starting), 8000ms) << "the start waited for the NAS";
    const auto answered = busctl(n.service, {"get-property", "io.dailysync1", "/io/dailysync1", "io.dailysync1.Manager", "State"});
    EXPECT_EQ(answered.exit_code, 0) << answered.err;
    const Result ended = n.service.stop();
    EXPECT_NE(ended.err.find("did not answer for 3 s while the configuration was checked at start: is the NAS hung or its network down?; "
                             "starting anyway"),
              std::string::npos)
        << ended.err;
    n.service.write_config(R"("filesystem_timeout_seconds": 3)");
    n.nas.thaw();
    expect_next_run_succeeds(n);
}

TEST(HungNas, FrozenDuringTheFirstRunsScanTheRunFailsAndTheNextSucceeds) {
    // 20 ms per round trip: the scan of 80 folders takes seconds, long enough to catch.
    NasService n(20000);
    // Each file 100 folders deep: a walk of sequential round trips (seconds), however many
    // threads scan.
    for (int p = 0; p < 4; ++p) {
        std::string deep = n.nas.served("prod") + "/p" + std::to_string(p);
        for (int d = 0; d < 100; ++d) deep += "/d" + std::to_string(d);
        make_dirs(deep);
        write_file(deep + "/f", "x");
    }
    age_tree(n.nas.served("prod"));
    n.start();
    ASSERT_EQ(n.service.ctl({"start"}).exit_code, 0);
    // The service's own status line (sd_notify STATUS=) names the phase; dailysyncctl
    // status says only "before copying".
    ASSERT_TRUE(n.service.notify.wait_for("scanning the source", 10s)) << "the run never showed its scan";
    n.nas.freeze();
    expect_responsive(n.service);
    const auto report = wait_for_run_end(n.service, 20s);
    EXPECT_EQ(report.value("result", ""), "failed");
    EXPECT_NE(report.value("error", "").find("(while it was scanned) did not answer for 3 s"), std::string::npos) << report.dump(2);
    n.nas.thaw();
    expect_next_run_succeeds(n);
}
