// dailysyncd --diagnose on real folders: read-only at the source, its one hidden folder at
// the destination always removed (finished, interrupted, or left by a killed probe).
#include <gtest/gtest.h>

#include <algorithm>
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

// The probe folders (".dailysyncd-probe-XXXXXX") at the destination.
std::vector<std::string> probe_folders(const std::string &destination) {
    std::vector<std::string> found;
    for (const auto &entry : std::filesystem::directory_iterator(destination))
        if (entry.path().filename().string().rfind(".dailysyncd-probe-", 0) == 0) found.push_back(entry.path());
    return found;
}

// A probe started on `f`, once it is at its 4-worker step (its folder full of work);
// *folder receives that folder.
Spawned probe_at_work(const Fixture &f, std::string *folder = nullptr) {
    const auto before = probe_folders(f.destination);
    auto probe = spawn({dailysyncd(), "--diagnose", "--config", f.config()});
    std::string found;
    auto at_work = [&] {
        for (const auto &candidate : probe_folders(f.destination))
            if (std::find(before.begin(), before.end(), candidate) == before.end() && exists(candidate + "/w4-0")) found = candidate;
        return !found.empty();
    };
    for (int i = 0; i < 600 && !at_work(); ++i) std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(at_work()) << "the probe never reached its 4-worker step";
    if (folder) *folder = found;
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
    EXPECT_TRUE(probe_folders(f.destination).empty());
    EXPECT_EQ(read_file(f.destination + "/kept"), "kept");
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(f.destination), std::filesystem::directory_iterator()), 1);
}

TEST(Diagnose, InterruptedItStillRemovesItsFolder) {
    Fixture f;
    f.build_tree();
    std::string folder;
    auto probe = probe_at_work(f, &folder);
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
    std::string folder;
    auto probe = probe_at_work(f, &folder);
    ::kill(probe.pid, SIGKILL);
    wait_for(probe);
    ASSERT_TRUE(exists(folder)) << "SIGKILL leaves the folder";
    for (int i = 0; i < 100 && !processes_mentioning(f.destination).empty(); ++i) std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(processes_mentioning(f.destination).empty()) << "its workers die with it";
    auto r = run({dailysyncd(), "--diagnose", "--config", f.config()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_FALSE(exists(folder));
    EXPECT_NE(r.err.find("removed " + folder + ", left by a probe that was killed"), std::string::npos) << r.err;
    EXPECT_TRUE(probe_folders(f.destination).empty());
}

TEST(Diagnose, TouchesNothingItDidNotCreateWhateverItsName) {
    // Source projects named like the probe's folders, one holding a file named like its
    // marker, are backed up; the probe leaves their copies alone. So does it a folder a
    // killed probe "left" whose marker lacks the recorded token.
    Fixture f;
    f.build_tree();
    for (const char *project : {".dailysyncd-probe", ".dailysyncd-probe-abc123"}) {
        make_dirs(f.source + "/" + project);
        write_file(f.source + "/" + project + "/DAILYSYNCD-PROBE", "not a token\n");
        write_file(f.source + "/" + project + "/f1", "work");
        make_dirs(f.source + "/" + project + "/w4-0");
    }
    ASSERT_EQ(run({dailysyncd(), "--once", "--config", f.config()}).exit_code, 0);
    make_dirs(f.state);
    write_file(f.state + "/probe", f.destination + "/.dailysyncd-probe-abc123\n0123456789abcdef0123456789abcdef\n");
    const Snapshot before = snapshot(f.destination);
    auto r = run({dailysyncd(), "--diagnose", "--config", f.config()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find(f.destination + "/.dailysyncd-probe-abc123 was left alone: it does not hold the token"), std::string::npos) << r.err;
    auto without_root = [](Snapshot s) {   // creating and removing its folder touches the destination's mtime
        s.erase(".");
        s.erase("");
        return s;
    };
    EXPECT_EQ(differences(without_root(before), without_root(snapshot(f.destination))), "");

    // Something else written into the probe's own folder while it works stays too.
    std::string folder;
    auto probe = probe_at_work(f, &folder);
    ASSERT_FALSE(folder.empty());
    write_file(folder + "/somebodys", "data");
    auto done = wait_for(probe);
    EXPECT_EQ(done.exit_code, 0) << done.err;
    EXPECT_EQ(read_file(folder + "/somebodys"), "data");
    EXPECT_FALSE(exists(folder + "/write-test"));
    EXPECT_FALSE(exists(folder + "/w4-0"));
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
