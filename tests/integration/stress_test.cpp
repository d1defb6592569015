// Every phase of a run interrupted every way a machine does it: the service (versions,
// hooks, a webhook, verifies) starts runs on a changing tree, and at a random moment of a
// random phase gets SIGTERM, loses its bus daemon, gets both at once, gets SIGHUP, is
// cancelled, or is SIGKILLed and started again. Each time it must end cleanly (exit 0, or
// 1 for a lost bus; never a signal, never a sanitizer report: the suite runs this under
// ASan and UBSan too), leave no process of its own behind, leave a state folder whose
// every file reads, and the next run must complete the backup.
//
// DAILYSYNC_STRESS_ITERATIONS (default 8, sized to the suite's budget) sets the number of
// interruptions; DAILYSYNC_STRESS_SEED replays one sequence (the seed is printed).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "helpers.hpp"
#include "service_fixture.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

enum class Blow { sigterm, bus_death, sigterm_and_bus_death, sighup, cancel, sigkill_and_restart };
constexpr Blow kBlows[] = {Blow::sigterm, Blow::bus_death, Blow::sigterm_and_bus_death, Blow::sighup, Blow::cancel, Blow::sigkill_and_restart};

const char *name_of(Blow blow) {
    switch (blow) {
    case Blow::sigterm: return "SIGTERM";
    case Blow::bus_death: return "the bus daemon's death";
    case Blow::sigterm_and_bus_death: return "SIGTERM and the bus daemon's death";
    case Blow::sighup: return "SIGHUP";
    case Blow::cancel: return "CancelRun";
    case Blow::sigkill_and_restart: return "SIGKILL, then a restart";
    }
    return "?";
}

unsigned from_environment(const char *name, unsigned fallback) {
    const char *value = std::getenv(name);
    return value && *value ? static_cast<unsigned>(std::strtoul(value, nullptr, 10)) : fallback;
}

// What a sanitizer prints when it finds something (the daemon's stderr).
void expect_no_sanitizer_report(const Result &r) {
    for (const char *marker : {"AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer"})
        EXPECT_EQ(r.err.find(marker), std::string::npos) << r.err.substr(0, 6000);
}

// Every file the daemon keeps in its state folder reads as what it is.
void expect_state_folder_readable(const std::string &state) {
    const std::string state_json = state + "/state.json";
    if (::access(state_json.c_str(), F_OK) == 0) {
        EXPECT_FALSE(nlohmann::json::parse(read_file(state_json), nullptr, false).is_discarded()) << read_file(state_json);
    }
    for (const auto &name : list_dir(state + "/runs")) {
        if (name.size() < 5 || name.compare(name.size() - 5, 5, ".json") != 0 || name[0] == '.') continue;
        const std::string text = read_file(state + "/runs/" + name);
        EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded()) << name << ":\n" << text.substr(0, 2000);
    }
}

// No process of the service is left: its rsyncs name the test's folder, its hooks say
// "stress-hook". Given a few seconds (a hook's reaper gives it cancel_grace_seconds).
void expect_nothing_left(const std::string &folder) {
    std::vector<pid_t> left;
    for (int i = 0; i < 100; ++i) {
        left = processes_mentioning("stress-hook");
        for (pid_t pid : processes_mentioning(folder))
            if (read_file("/proc/" + std::to_string(pid) + "/comm").rfind("rsync", 0) == 0) left.push_back(pid);
        if (left.empty()) return;
        std::this_thread::sleep_for(100ms);
    }
    std::string named;
    for (pid_t pid : left) named += std::to_string(pid) + " " + read_file("/proc/" + std::to_string(pid) + "/cmdline") + "\n";
    ADD_FAILURE() << "processes of the service outlived it:\n" << named;
}

bool idle(const Service &s) {
    const auto status = nlohmann::json::parse(s.ctl({"status", "--json"}).out, nullptr, false);
    return status.is_object() && status.value("state", "") == "idle";
}

void wait_until_idle(const Service &s) {
    for (int i = 0; i < 600; ++i) {
        if (idle(s)) return;
        std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "the service did not become idle within 60 s";
}

// Some files rewritten, one added, one removed: each run has copying, keeping and deleting to do.
void change_tree(const std::string &source, std::mt19937 &rng, unsigned round) {
    for (int i = 0; i < 8; ++i) {
        const std::string file = source + "/p" + std::to_string(rng() % 4) + "/f" + std::to_string(rng() % 40);
        write_file(file, "round " + std::to_string(round) + " " + std::string(500 + rng() % 5000, 'c'));
    }
    write_file(source + "/p" + std::to_string(rng() % 4) + "/new" + std::to_string(round), "new");
    const std::string gone = source + "/p" + std::to_string(rng() % 4) + "/new" + std::to_string(rng() % (round + 1));
    ::unlink(gone.c_str());
    age_tree(source);
}

}  // namespace

TEST(Stress, EveryPhaseInterruptedEveryWayEndsCleanlyAndTheNextRunCompletes) {
    const unsigned iterations = from_environment("DAILYSYNC_STRESS_ITERATIONS", 8);
    const unsigned seed = from_environment("DAILYSYNC_STRESS_SEED", std::random_device{}());
    std::printf("stress: seed %u, %u interruptions (DAILYSYNC_STRESS_SEED, DAILYSYNC_STRESS_ITERATIONS)\n", seed, iterations);
    RecordProperty("seed", std::to_string(seed));
    std::mt19937 rng(seed);

    // Hooks that take a moment (so a blow can land in them), a webhook nobody answers
    // (port 9: refused at once), versions, and a copy slowed enough to be caught.
    const std::string hook = R"(["sh", "-c", "sleep 0.3; echo done; : stress-hook"])";
    Service s(R"("versions": {"keep_daily": 3, "keep_last": 2}, "rsync_extra_args": ["--bwlimit=20000"],
        "hooks": {"before_run": [)" + hook + R"(], "after_run": [)" + hook + R"(], "on_failure": [)" + hook + R"(], "timeout_seconds": 30},
        "alerts": {"webhook_url": "http://127.0.0.1:9/stress", "webhook_timeout_seconds": 2})");
    for (int p = 0; p < 4; ++p) {
        make_dirs(s.source + "/p" + std::to_string(p));
        for (int f = 0; f < 40; ++f) write_file(s.source + "/p" + std::to_string(p) + "/f" + std::to_string(f), std::string(1000 + f, 'a'));
        write_file(s.source + "/p" + std::to_string(p) + "/big", std::string(1'500'000, 'b'));
    }
    age_tree(s.source);
    s.start();

    for (unsigned round = 1; round <= iterations; ++round) {
        const Blow blow = kBlows[rng() % std::size(kBlows)];
        const bool verify = rng() % 4 == 0;
        const auto delay = std::chrono::milliseconds(rng() % 2500);
        SCOPED_TRACE("round " + std::to_string(round) + ": " + (verify ? "a verify" : "a run") + ", " + name_of(blow) + " after " +
                     std::to_string(delay.count()) + " ms (seed " + std::to_string(seed) + ")");
        change_tree(s.source, rng, round);
        // A verify needs a complete run first; refused or not, the blow comes.
        (void)s.ctl({verify ? "verify" : "start"});
        std::this_thread::sleep_for(delay);

        switch (blow) {
        case Blow::sigterm:
        case Blow::sigterm_and_bus_death:
        case Blow::bus_death: {
            if (blow != Blow::bus_death) ::kill(s.daemon.pid, SIGTERM);
            if (blow != Blow::sigterm) s.bus.kill();
            const Result ended = wait_for(s.daemon, 60s);
            s.running = false;
            // SIGTERM: 0. The bus gone first: 1 ("the D-Bus connection was lost").
            if (blow == Blow::sigterm) EXPECT_EQ(ended.exit_code, 0) << ended.err.substr(0, 4000);
            else EXPECT_TRUE(ended.exit_code == 0 || ended.exit_code == 1) << ended.exit_code << "\n" << ended.err.substr(0, 4000);
            expect_no_sanitizer_report(ended);
            if (blow != Blow::sigterm) s.bus.restart();
            expect_nothing_left(s.dir.path());
            s.start();
            break;
        }
        case Blow::sighup:
            ::kill(s.daemon.pid, SIGHUP);
            wait_until_idle(s);
            break;
        case Blow::cancel:
            (void)s.ctl({"cancel"});
            wait_until_idle(s);
            break;
        case Blow::sigkill_and_restart: {
            ::kill(s.daemon.pid, SIGKILL);
            const Result killed = wait_for(s.daemon, 60s);
            s.running = false;
            EXPECT_EQ(killed.exit_code, 128 + SIGKILL);
            expect_no_sanitizer_report(killed);
            expect_nothing_left(s.dir.path());
            s.start();
            // A run it was in is recorded as interrupted, never left "running".
            const auto history = nlohmann::json::parse(s.ctl({"history", "--json"}).out, nullptr, false);
            ASSERT_TRUE(history.is_array() || history.is_object()) << s.ctl({"history", "--json"}).out;
            EXPECT_EQ(history.dump().find("\"running\""), std::string::npos) << history.dump(2);
            break;
        }
        }
        wait_until_idle(s);
        expect_state_folder_readable(s.state);
        if (HasFatalFailure()) return;
    }

    // Nothing in the way: the next run completes the backup, versions and all.
    const Result last = s.ctl({"start", "--wait"});
    EXPECT_EQ(last.exit_code, 0) << last.out << last.err;
    Snapshot backup = snapshot(s.destination);
    std::erase_if(backup, [](const auto &entry) { return entry.first.rfind(".dailysync-versions", 0) == 0; });
    EXPECT_EQ(differences(snapshot(s.source), backup), "");
    const Result stopped = s.stop();
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err.substr(0, 4000);
    expect_no_sanitizer_report(stopped);
    expect_state_folder_readable(s.state);
}
