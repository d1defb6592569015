// dailysyncd --diagnose on real folders: read-only at the source, its one hidden folder at
// the destination always removed (finished, interrupted, or left by a killed probe).
#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <thread>

#include "helpers.hpp"
#include "once_fixture.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

// Access times of everything under `root` (lstat only: reading would change them).
std::map<std::string, long long> access_times(const std::string &root) {
    std::map<std::string, long long> times;
    for (const auto &entry : std::filesystem::recursive_directory_iterator(root)) {
        struct stat st {};
        ::lstat(entry.path().c_str(), &st);
        times[entry.path().string()] = st.st_atim.tv_sec * 1'000'000'000LL + st.st_atim.tv_nsec;
    }
    return times;
}

// Moves every access time back to 2001 (mtimes untouched): a read would move it on again.
void age_access_times(const std::string &root) {
    const struct timespec times[2] = {{1'000'000'000, 0}, {0, UTIME_OMIT}};
    for (const auto &entry : std::filesystem::recursive_directory_iterator(root))
        ::utimensat(AT_FDCWD, entry.path().c_str(), times, AT_SYMLINK_NOFOLLOW);
}

bool exists(const std::string &path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// A probe started on `f`, once it is at its 4-worker step (its folder full of work).
Spawned probe_at_work(const Fixture &f) {
    auto probe = spawn({dailysyncd(), "--diagnose", "--config", f.config()});
    const std::string worker = f.destination + "/.dailysyncd-probe/w4-0";
    for (int i = 0; i < 600 && !exists(worker); ++i) std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(exists(worker)) << "the probe never reached its 4-worker step";
    return probe;
}

}  // namespace

TEST(Diagnose, ProbesReadOnlyAtTheSourceAndLeavesNothingAtTheDestination) {
    Fixture f;
    f.build_tree();
    write_file(f.source + "/alpha/big", std::string(20'000'000, 'b'));
    age_tree(f.source);
    const Snapshot before = snapshot(f.source);   // reads the files: their access times move
    age_access_times(f.source);
    const auto atimes = access_times(f.source);
    write_file(f.destination + "/kept", "kept");

    auto r = run({dailysyncd(), "--diagnose", "--config", f.config()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("source read"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("dest. write"), std::string::npos) << r.out;
    for (const char *workers : {"\n                1 ", "\n                4 ", "\n                16 "})
        EXPECT_NE(r.out.find(workers), std::string::npos) << workers << r.out;
    EXPECT_NE(r.out.find("verdict: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("recommended concurrency: "), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("per-file work with 16 workers"), std::string::npos) << r.err;   // progress, on stderr

    EXPECT_EQ(access_times(f.source), atimes);   // not even access times changed (O_NOATIME)
    EXPECT_EQ(differences(before, snapshot(f.source)), "");
    EXPECT_FALSE(exists(f.destination + "/.dailysyncd-probe"));
    EXPECT_EQ(read_file(f.destination + "/kept"), "kept");
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(f.destination), std::filesystem::directory_iterator()), 1);
}

TEST(Diagnose, InterruptedItStillRemovesItsFolder) {
    Fixture f;
    f.build_tree();
    auto probe = probe_at_work(f);
    const std::string folder = f.destination + "/.dailysyncd-probe";
    ::kill(probe.pid, SIGINT);
    auto r = wait_for(probe);
    EXPECT_EQ(r.exit_code, 130) << r.out << r.err;
    EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
    EXPECT_FALSE(exists(folder));
    EXPECT_TRUE(processes_mentioning(f.destination).empty());
}

TEST(Diagnose, AFolderLeftByAKilledProbeIsRemovedByTheNextOne) {
    Fixture f;
    f.build_tree();
    auto probe = probe_at_work(f);
    const std::string folder = f.destination + "/.dailysyncd-probe";
    ::kill(probe.pid, SIGKILL);
    wait_for(probe);
    ASSERT_TRUE(exists(folder)) << "SIGKILL leaves the folder";
    for (int i = 0; i < 100 && !processes_mentioning(f.destination).empty(); ++i) std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(processes_mentioning(f.destination).empty()) << "its workers die with it";
    auto r = run({dailysyncd(), "--diagnose", "--config", f.config()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_FALSE(exists(folder));
}

TEST(Diagnose, AFolderOfThatNameThatIsNotOursIsLeftAlone) {
    Fixture f;
    f.build_tree();
    make_dirs(f.destination + "/.dailysyncd-probe");
    write_file(f.destination + "/.dailysyncd-probe/somebodys", "data");
    auto r = run({dailysyncd(), "--diagnose", "--config", f.config()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(f.destination + "/.dailysyncd-probe exists and was not made by dailysyncd --diagnose"), std::string::npos)
        << r.err;
    EXPECT_EQ(read_file(f.destination + "/.dailysyncd-probe/somebodys"), "data");
}

TEST(Diagnose, AMissingDestinationIsNotCreated) {
    Fixture f;
    f.build_tree();
    remove_tree(f.destination);
    auto r = run({dailysyncd(), "--diagnose", "--config", f.config()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(f.destination), std::string::npos) << r.err;
    EXPECT_FALSE(exists(f.destination));
}
