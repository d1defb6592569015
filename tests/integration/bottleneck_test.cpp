// The bottleneck verdict under conditions created for real: CPU taken by busy processes
// pinned on every core, per-file latency of a NAS (sshd in a private network namespace
// behind a latency proxy, mounted with sshfs), memory pressure in a memory-limited
// cgroup, and runs where nothing is saturated. These tests measure the machine, so ctest
// runs them alone (RUN_SERIAL): another test's load would be a real, different bottleneck.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <sched.h>
#include <sys/wait.h>
#include <thread>

#include "helpers.hpp"
#include "once_fixture.hpp"
#include "simulated_nas.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

// `count` processes spinning, each pinned to one core in turn.
struct BusyLoops {
    std::vector<pid_t> pids;
    explicit BusyLoops(int count) {
        const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
        for (int i = 0; i < count; ++i) {
            const pid_t pid = ::fork();
            if (pid == 0) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(i % cores, &set);
                ::sched_setaffinity(0, sizeof set, &set);
                for (;;) __asm__ __volatile__("");   // spin; the compiler may not drop it
            }
            pids.push_back(pid);
        }
    }
    ~BusyLoops() {
        for (pid_t pid : pids) ::kill(pid, SIGKILL);
        for (pid_t pid : pids) ::waitpid(pid, nullptr, 0);
    }
};

// A memory cgroup limited to `limit_mb` (cgroup v1 memory controller, or v2 memory.max),
// with a swap file so that going over the limit pages out instead of killing; a
// "balloon" process in it keeps `balloon_mb` of memory busy, so whatever else runs there
// waits for memory. Removed, swap off, on destruction.
struct MemoryPressure {
    TempDir dir;
    std::string group, swapfile = dir / "swap";
    pid_t balloon = -1;
    std::string error;

    MemoryPressure(int limit_mb, int balloon_mb) {
        if (run({"sh", "-c", "fallocate -l 512M " + swapfile + " && chmod 600 " + swapfile + " && mkswap " + swapfile +
                             " >/dev/null && swapon " + swapfile}).exit_code != 0) {
            error = "cannot enable a swap file";
            return;
        }
        const bool v1 = ::access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) == 0;
        group = (v1 ? "/sys/fs/cgroup/memory/dailysyncd-test-" : "/sys/fs/cgroup/dailysyncd-test-") + std::to_string(::getpid());
        std::ofstream(v1 ? "/dev/null" : "/sys/fs/cgroup/cgroup.subtree_control") << "+memory";
        if (::mkdir(group.c_str(), 0755) != 0) {
            error = "cannot create the cgroup " + group;
            return;
        }
        std::ofstream(group + (v1 ? "/memory.limit_in_bytes" : "/memory.max")) << limit_mb << "M";
        balloon = ::fork();
        if (balloon == 0) {
            join();
            const std::size_t size = static_cast<std::size_t>(balloon_mb) << 20;
            auto *memory = static_cast<volatile char *>(::malloc(size));
            for (std::size_t i = 0;; i = (i + 4096 * 7919) % size) memory[i] = static_cast<char>(i);   // touch pages all over
        }
    }
    void join() const { std::ofstream(group + "/cgroup.procs") << ::getpid(); }
    // The command run inside the cgroup.
    std::vector<std::string> inside(const std::vector<std::string> &argv) const {
        std::vector<std::string> wrapped = {"sh", "-c", "echo $$ > " + group + "/cgroup.procs && exec \"$@\"", "sh"};
        wrapped.insert(wrapped.end(), argv.begin(), argv.end());
        return wrapped;
    }
    ~MemoryPressure() {
        if (balloon > 0) {
            ::kill(balloon, SIGKILL);
            ::waitpid(balloon, nullptr, 0);
        }
        if (!group.empty()) {
            for (int i = 0; i < 100 && ::rmdir(group.c_str()) != 0; ++i) std::this_thread::sleep_for(50ms);
        }
        run({"swapoff", swapfile});
    }
};

int cores() { return static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)); }

// Projects of big files: rsync's --bwlimit paces the run (about 10 s) without loading anything.
void paced_tree(Fixture &f) {
    for (int p = 0; p < 4; ++p) {
        make_dirs(f.source + "/p" + std::to_string(p));
        write_file(f.source + "/p" + std::to_string(p) + "/take", std::string(5'000'000, static_cast<char>('a' + p)));
    }
}
constexpr const char *kPaced = R"("concurrency": 2, "rsync_extra_args": ["--bwlimit=2000"])";

nlohmann::json bottleneck_of(const Fixture &f, const Result &r) {
    EXPECT_LE(r.exit_code, 1) << r.out << r.err;
    return f.report(r.out)["bottleneck"];
}

}  // namespace

TEST(InducedBottleneck, BusyProcessesOnEveryCoreMakeItCpu) {
    Fixture f;
    paced_tree(f);
    BusyLoops busy(2 * cores());
    const auto verdict = bottleneck_of(f, run({dailysyncd(), "--once", "--config", f.config(kPaced)}));
    EXPECT_EQ(verdict["resource"], "cpu") << verdict.dump();
    EXPECT_NE(verdict["advice"].get<std::string>().find("processes other than rsync keep the CPU busy"), std::string::npos) << verdict.dump();
}

TEST(InducedBottleneck, ARunThatSaturatesNothingIsUnknown) {
    Fixture f;
    paced_tree(f);
    const auto verdict = bottleneck_of(f, run({dailysyncd(), "--once", "--config", f.config(kPaced)}));
    EXPECT_EQ(verdict["resource"], "unknown") << verdict.dump();
    EXPECT_NE(verdict["evidence"].get<std::string>().find("nothing saturated"), std::string::npos) << verdict.dump();
}

TEST(InducedBottleneck, AFastLocalRunIsNeverConfidentlyWrong) {
    Fixture f;
    f.build_tree();
    const auto verdict = bottleneck_of(f, run({dailysyncd(), "--once", "--config", f.config()}));
    // Local folders, a quick run: whatever it says, it is not the NAS, the network or memory.
    for (const char *wrong : {"per-file-latency", "network", "memory"}) EXPECT_NE(verdict["resource"], wrong) << verdict.dump();
}

TEST(InducedBottleneck, ARunInAMemoryLimitedCgroupIsMemory) {
    Fixture f;
    paced_tree(f);
    MemoryPressure pressure(64, 128);
    ASSERT_EQ(pressure.error, "");
    std::this_thread::sleep_for(2s);   // the balloon fills the limit and starts paging
    const auto verdict = bottleneck_of(f, run(pressure.inside({dailysyncd(), "--once", "--config", f.config(kPaced)})));
    EXPECT_EQ(verdict["resource"], "memory") << verdict.dump();
    std::cout << verdict.dump() << "\n";
}

TEST(InducedBottleneck, SmallFilesOnANasArePerFileLatency) {
    SimulatedNas nas(2000);
    ASSERT_TRUE(nas.up);
    for (int p = 0; p < 6; ++p) {
        const std::string project = nas.served("prod") + "/project" + std::to_string(p);
        make_dirs(project);
        for (int i = 0; i < 150; ++i) write_file(project + "/f" + std::to_string(i), std::string(2000, 'x'));
    }
    TempDir state;
    const std::string config = write_config(state, R"({"source": ")" + nas.mounted("prod") + R"(", "destination": ")" +
                                                       nas.mounted("backup") + R"(", "state_dir": ")" + state.path() +
                                                       R"(/state", "concurrency": 4, "retries": 0})");
    auto r = run({dailysyncd(), "--once", "--config", config});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto at = r.out.find("report: ");
    ASSERT_NE(at, std::string::npos) << r.out;
    const auto report = parsed_report(read_file(r.out.substr(at + 8, r.out.find('\n', at) - at - 8)));
    EXPECT_EQ(report["bottleneck"]["resource"], "per-file-latency") << report["bottleneck"].dump();

    // The probe sees the same: round trips per file, hidden by more workers.
    std::cout << "run: " << report["bottleneck"].dump() << "\n";
    auto probe = run({dailysyncd(), "--diagnose", "--config", config});
    std::cout << probe.out;
    ASSERT_EQ(probe.exit_code, 0) << probe.out << probe.err;
    EXPECT_NE(probe.out.find("verdict: per-file-latency"), std::string::npos) << probe.out;
    const auto rec = probe.out.find("recommended concurrency: ");
    ASSERT_NE(rec, std::string::npos) << probe.out;
    EXPECT_GE(std::stoi(probe.out.substr(rec + 25)), 4) << probe.out;

    // Concurrency "auto" without history starts higher on a network filesystem.
    const std::string automatic = write_config(state, R"({"source": ")" + nas.mounted("prod") + R"(", "destination": ")" +
                                                          nas.mounted("backup") + R"(", "state_dir": ")" + state.path() +
                                                          R"(/auto-state", "retries": 0})");
    auto dry = run({dailysyncd(), "--once", "--dry-run", "--config", automatic});
    ASSERT_EQ(dry.exit_code, 0) << dry.out << dry.err;
    EXPECT_NE(dry.out.find("at first up to 8 rsync processes (concurrency auto)"), std::string::npos) << dry.out;
}
