// The safety guards and the faults a backup must survive, each created for real: emptied
// and shrunken sources, max_delete, mount points, the sentinel, symlinks leading out of the
// tree, rsync children killed or stopped, a full destination, vanishing and unreadable
// files, the daemon killed mid-run, a full state directory.
#include <csignal>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "helpers.hpp"
#include "once_fixture.hpp"
#include "service_fixture.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

Result once(const Fixture &f, const std::string &extra) {
    return run({dailysyncd(), "--once", "--config", f.config(extra)});
}

// A tmpfs mounted for the life of the object (tests run as root).
struct Tmpfs {
    std::string path;
    Tmpfs(const std::string &where, const std::string &size) : path(where) {
        make_dirs(where);
        EXPECT_EQ(::mount("tmpfs", where.c_str(), "tmpfs", 0, ("size=" + size).c_str()), 0) << std::strerror(errno);
    }
    ~Tmpfs() { ::umount2(path.c_str(), MNT_DETACH); }
};


}  // namespace

TEST(Safety, AnEmptiedSourceIsRefusedBeforeAnythingIsTouched) {
    Fixture f;
    f.build_tree();
    ASSERT_EQ(once(f, R"("delete": true)").exit_code, 0);
    const auto backup = snapshot(f.destination);
    remove_tree(f.source);
    make_dirs(f.source);   // what an unmounted NAS looks like: its empty mount point
    auto r = once(f, R"("delete": true)");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("error: the source " + f.source + " is empty, but held "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("is it mounted? Nothing was copied or deleted"), std::string::npos) << r.out;
    EXPECT_EQ(differences(backup, snapshot(f.destination)), "");
}

TEST(Safety, ASourceThatLostMostOfItsFilesKeepsTheBackupIntact) {
    Fixture f;
    f.build_tree();
    ASSERT_EQ(once(f, R"("delete": true)").exit_code, 0);
    const auto backup = snapshot(f.destination);
    remove_tree(f.source + "/alpha");   // most of the tree
    for (const auto &name : kOddNames) remove_tree(f.source + "/" + name);
    write_file(f.source + "/beta/new-today", "new");
    age_tree(f.source);
    auto r = once(f, R"("delete": true)");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    auto report = f.report(r.out);
    EXPECT_EQ(report["result"], "failed");
    EXPECT_EQ(report["deletion_guard"]["refused"], true);
    EXPECT_GT(report["deletion_guard"]["pending"].get<int>(), report["deletion_guard"]["allowed"].get<int>());
    EXPECT_NE(report["error"].get<std::string>().find("nothing was deleted"), std::string::npos);
    EXPECT_NE(r.out.find("refused, nothing deleted"), std::string::npos) << r.out;
    auto now = snapshot(f.destination);
    for (const auto &[path, entry] : backup)
        if (path != "beta" && path != ".") {
            EXPECT_TRUE(now.count(path)) << path << " was deleted";
        }
    EXPECT_EQ(read_file(f.destination + "/beta/new-today"), "new") << "copying goes on; only deletions wait";

    // The admin confirms: with a higher limit the deletions are made, exactly.
    auto confirmed = once(f, R"("delete": true, "max_delete": "100%")");
    EXPECT_EQ(confirmed.exit_code, 0) << confirmed.out;
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
    EXPECT_NE(confirmed.out.find(": deleted"), std::string::npos) << confirmed.out;
}

TEST(Safety, MaxDeleteAsACount) {
    Fixture f;
    f.build_tree();
    ASSERT_EQ(once(f, R"("delete": true)").exit_code, 0);
    for (int i = 0; i < 3; ++i) ::unlink((f.source + "/alpha/edit/reel1/shot" + std::to_string(i)).c_str());
    age_tree(f.source);
    auto refused = once(f, R"("delete": true, "max_delete": 2)");
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_EQ(f.report(refused.out)["deletion_guard"]["pending"], 3);
    EXPECT_TRUE(snapshot(f.destination).count("alpha/edit/reel1/shot0"));
    auto allowed = once(f, R"("delete": true, "max_delete": 3)");
    EXPECT_EQ(allowed.exit_code, 0) << allowed.out;
    EXPECT_EQ(f.report(allowed.out)["totals"]["deletions"], 3);
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
}

TEST(Safety, RequiredMountPointsAndTheSentinel) {
    Fixture f;
    make_dirs(f.source + "/alpha");
    write_file(f.source + "/alpha/a", "a");
    auto unmounted = once(f, R"("require_mountpoint": ["destination"])");
    EXPECT_EQ(unmounted.exit_code, 2);
    EXPECT_NE(unmounted.out.find("the destination " + f.destination + " is not a mount point (require_mountpoint)"),
              std::string::npos) << unmounted.out;
    EXPECT_TRUE(snapshot(f.destination).size() == 1u) << "nothing written to the bare mount point";
    {
        Tmpfs destination(f.destination, "16m");
        auto source_unmounted = once(f, R"("require_mountpoint": ["source", "destination"])");
        EXPECT_NE(source_unmounted.out.find("the source " + f.source + " is not a mount point"), std::string::npos);
        Tmpfs source(f.source, "16m");
        make_dirs(f.source + "/alpha");
        write_file(f.source + "/alpha/a", "a");
        auto mounted = once(f, R"("require_mountpoint": ["source", "destination"])");
        EXPECT_EQ(mounted.exit_code, 0) << mounted.out;
        EXPECT_EQ(read_file(f.destination + "/alpha/a"), "a");

        auto no_sentinel = once(f, R"("source_sentinel": ".dailysync-source")");
        EXPECT_EQ(no_sentinel.exit_code, 2);
        EXPECT_NE(no_sentinel.out.find("the source sentinel " + f.source + "/.dailysync-source is missing"), std::string::npos)
            << no_sentinel.out;
        write_file(f.source + "/.dailysync-source", "");
        EXPECT_EQ(once(f, R"("source_sentinel": ".dailysync-source")").exit_code, 0);
    }
}

TEST(Safety, SymlinksAreCopiedAsLinksAndNeverFollowedOutOfTheTree) {
    Fixture f;
    TempDir outside;
    write_file(outside / "secret", "outside the tree");
    make_dirs(f.source + "/alpha");
    ::symlink(outside.path().c_str(), (f.source + "/project-link").c_str());        // a top-level "project"
    ::symlink(outside.path().c_str(), (f.source + "/alpha/dir-link").c_str());      // inside a project
    ::symlink((outside / "secret").c_str(), (f.source + "/alpha/file-link").c_str());
    age_tree(f.source);
    const auto outside_before = snapshot(outside.path());
    auto r = once(f, "");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (const char *link : {"project-link", "alpha/dir-link", "alpha/file-link"}) {
        struct stat st {};
        ASSERT_EQ(::lstat((f.destination + "/" + link).c_str(), &st), 0) << link;
        EXPECT_TRUE(S_ISLNK(st.st_mode)) << link << " must stay a symlink";
    }
    for (const auto &[path, entry] : snapshot(f.destination))
        EXPECT_NE(entry.content, "outside the tree") << path << ": a file from outside the tree was copied";
    EXPECT_EQ(differences(outside_before, snapshot(outside.path())), "");
}

TEST(Faults, AnRsyncKilledMidRunIsRetriedAndTheRunCompletes) {
    Fixture f;
    f.build_tree();
    // Big enough (4 s at the limit) that the kill lands mid-transfer even on a loaded machine.
    write_file(f.source + "/alpha/edit/big.mov", std::string(6'000'000, 'b'));
    age_tree(f.source);
    auto once_run = spawn({dailysyncd(), "--once", "--config",
                           f.config(R"("retries": 2, "retry_delay_seconds": 1, "rsync_extra_args": ["--bwlimit=1500"])")});
    wait_for_rsync(f.source + "/./alpha");
    for (pid_t pid : processes_mentioning(f.source + "/./alpha")) ::kill(pid, SIGKILL);
    auto r = wait_for(once_run);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
    int retried = 0;
    const auto report = f.report(r.out);
    for (const auto &unit : report["units"]) retried += unit["attempts"].get<int>() > 1;
    EXPECT_GE(retried, 1) << r.out;
}

TEST(Faults, AStalledRsyncIsKilledAndRetried) {
    Fixture f;
    f.build_tree();
    write_file(f.source + "/alpha/edit/big.mov", std::string(6'000'000, 'b'));
    age_tree(f.source);
    auto once_run = spawn({dailysyncd(), "--once", "--config",
                           f.config(R"("retries": 1, "retry_delay_seconds": 1, "stall_timeout_seconds": 2, "cancel_grace_seconds": 1,
                                       "rsync_extra_args": ["--bwlimit=1500"])")});
    wait_for_rsync(f.source + "/./alpha");
    // A hung NAS: the rsync processes stop answering (SIGSTOP), so no output comes.
    for (pid_t pid : processes_mentioning(f.source + "/./alpha")) ::kill(pid, SIGSTOP);
    auto r = wait_for(once_run);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
    bool stalled = false;
    const auto report = f.report(r.out);
    for (const auto &unit : report["units"])
        stalled |= unit["attempts"].get<int>() == 2 && unit["result"] == "success";
    EXPECT_TRUE(stalled) << r.out;
}

TEST(Faults, AFullDestinationFailsItsUnitOthersGoOnNoPartialFilesLeft) {
    Fixture f;
    make_dirs(f.source + "/big");
    write_file(f.source + "/big/huge", std::string(3'000'000, 'h'));
    // Enough entries that "big" gets a unit of its own instead of sharing one with "small".
    for (int i = 0; i < 300; ++i) write_file(f.source + "/big/f" + std::to_string(i), "f");
    make_dirs(f.source + "/small");
    for (int i = 0; i < 5; ++i) write_file(f.source + "/small/s" + std::to_string(i), "small");
    age_tree(f.source);
    Tmpfs destination(f.destination, "2m");   // room for the small files, not for "huge"
    // One rsync at a time, biggest unit first: the full disk fails "big", its temporary
    // file is removed, and "small" still fits.
    auto r = once(f, R"("concurrency": 1)");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
    for (int i = 0; i < 5; ++i) EXPECT_EQ(read_file(f.destination + "/small/s" + std::to_string(i)), "small");
    for (const auto &[path, entry] : snapshot(f.destination))
        EXPECT_EQ(path.find("/."), std::string::npos) << "rsync's temporary file left behind: " << path;
    auto report = f.report(r.out);
    bool big_failed = false;
    for (const auto &unit : report["units"]) big_failed |= unit["name"] == "big" && unit["result"] != "success";
    EXPECT_TRUE(big_failed) << r.out;
}

TEST(Faults, VanishingSourceFilesMakeAWarningNotAFailure) {
    Fixture f;
    make_dirs(f.source + "/alpha");
    write_file(f.source + "/alpha/a-slow", std::string(1'000'000, 's'));
    for (int i = 0; i < 20; ++i) write_file(f.source + "/alpha/z" + std::to_string(i), "z");
    age_tree(f.source);
    auto once_run = spawn({dailysyncd(), "--once", "--config", f.config(R"("rsync_extra_args": ["--bwlimit=300"])")});
    wait_for_rsync(f.source + "/./alpha/");
    std::this_thread::sleep_for(1s);   // the file list is sent; a-slow is being copied
    for (int i = 0; i < 20; ++i) ::unlink((f.source + "/alpha/z" + std::to_string(i)).c_str());
    auto r = wait_for(once_run);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    auto report = f.report(r.out);
    EXPECT_EQ(report["result"], "warning");
    EXPECT_NE(r.out.find("vanished: "), std::string::npos) << r.out;
}

TEST(Faults, UnreadableFilesAreListedByName) {
    Fixture f;
    make_dirs(f.source + "/alpha");
    write_file(f.source + "/alpha/readable", "r", 0644);
    write_file(f.source + "/alpha/locked", "l", 0600);   // root's; the run is not root's
    make_dirs(f.state);
    const uid_t nobody = ::getpwnam("nobody")->pw_uid;
    for (const auto &dir : {f.destination, f.state, f.dir.path()}) ::chown(dir.c_str(), nobody, 65534);
    const std::string config = f.config("");
    ::chmod(config.c_str(), 0644);
    auto r = run({dailysyncd(), "--once", "--config", config}, {}, nobody);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.out.find("not copied: " + f.source + "/alpha/locked"), std::string::npos) << r.out;
    auto report = f.report(r.out);
    bool listed = false;
    for (const auto &unit : report["units"])
        if (unit.contains("failed_paths"))
            for (const auto &path : unit["failed_paths"]) listed |= path == f.source + "/alpha/locked";
    EXPECT_TRUE(listed);
    EXPECT_EQ(read_file(f.destination + "/alpha/readable"), "r");
}

TEST(Faults, TheDaemonKilledMidRunRecordsTheRunAsInterruptedAndLeavesNoRsync) {
    Service s;
    write_file(s.source + "/alpha/huge", std::string(5'000'000, 'h'));
    age_tree(s.source);
    s.write_config(R"("rsync_extra_args": ["--bwlimit=500"])");
    s.start();
    auto started = s.ctl({"start", "--json"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    const std::string run_id = nlohmann::json::parse(started.out)["run_id"];
    wait_for_rsync(s.source + "/./alpha");   // the unit with the big file, not the quick top-level one
    ::kill(s.daemon.pid, SIGKILL);
    EXPECT_EQ(wait_for(s.daemon).exit_code, 128 + SIGKILL);
    s.running = false;
    for (int i = 0; i < 100 && !processes_mentioning(s.source + "/").empty(); ++i) std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(processes_mentioning(s.source + "/").empty()) << "an rsync outlived the daemon";

    s.write_config("");
    s.start();
    auto status = nlohmann::json::parse(s.ctl({"status", "--json"}).out);
    EXPECT_EQ(status["last_run_id"], run_id);
    EXPECT_EQ(status["last_result"], "interrupted");
    auto report = parsed_report(s.ctl({"report", run_id, "--json"}).out);
    EXPECT_EQ(report["result"], "interrupted");
    EXPECT_NE(s.ctl({"history"}).out.find("interrupted"), std::string::npos);
    auto next = s.ctl({"start", "--wait"});
    EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
    EXPECT_EQ(differences(snapshot(s.source), snapshot(s.destination)), "");
    auto stopped = s.stop();
    EXPECT_NE(stopped.err.find("run " + run_id + " was interrupted"), std::string::npos) << stopped.err;
}

TEST(Faults, AFullStateDirectoryDoesNotStopBackups) {
    Service s;
    Tmpfs state(s.state, "64k");
    auto fill = run({"dd", "if=/dev/zero", "of=" + s.state + "/filler", "bs=4096"});
    ASSERT_NE(fill.err.find("No space left on device"), std::string::npos) << fill.err;
    age_tree(s.source);
    s.start();
    auto r = s.ctl({"start", "--wait"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(differences(snapshot(s.source), snapshot(s.destination)), "");
    EXPECT_EQ(s.ctl({"status"}).exit_code, 0) << "still serving";
    auto stopped = s.stop();
    EXPECT_EQ(stopped.exit_code, 0);
    EXPECT_NE(stopped.err.find("No space left on device"), std::string::npos) << stopped.err;
}

TEST(Faults, TheServiceStaysUpWhenTheDestinationIsFull) {
    Service s;
    write_file(s.source + "/alpha/huge", std::string(2'000'000, 'h'));
    age_tree(s.source);
    Tmpfs destination(s.destination, "1m");
    s.start();
    auto full = s.ctl({"start", "--wait"});
    EXPECT_EQ(full.exit_code, 2) << full.out << full.err;
    auto report = parsed_report(s.ctl({"report", nlohmann::json::parse(s.ctl({"status", "--json"}).out)["last_run_id"], "--json"}).out);
    EXPECT_EQ(report["result"], "failed");
    EXPECT_NE(report.dump().find("No space left on device"), std::string::npos);
    // Space freed: the same daemon backs up the rest at the next run.
    ::unlink((s.source + "/alpha/huge").c_str());
    age_tree(s.source);
    auto next = s.ctl({"start", "--wait"});
    EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
    EXPECT_EQ(differences(snapshot(s.source), snapshot(s.destination)), "");
}

namespace {
// 4 projects of 25 files each in a subfolder: 109 entries with the top folder.
constexpr int kGuardFiles = 100;
std::string guard_file(int i) {
    return "p" + std::to_string(i % 4) + "/sub/f" + std::to_string(i);
}
void build_guard_tree(const Fixture &f) {
    for (int i = 0; i < kGuardFiles; ++i) {
        make_dirs(f.source + "/p" + std::to_string(i % 4) + "/sub");
        write_file(f.source + "/" + guard_file(i), "data " + std::to_string(i));
    }
    age_tree(f.source);
}
}  // namespace

// max_delete's percentage is of what the backup held before the run, so a run that
// replaces the backup's files by new names (a rename to x.locked, as ransomware does, or
// a delete-all-create-all) trips it as deleting them would, in both compare modes; half
// of each is judged as half the backup, not a third.
TEST(Safety, RenamingOrReplacingTheFilesIsCountedAgainstTheBackupBeforeTheRun) {
    enum class Change { rename_all, replace_all, rename_half };
    for (const char *mode : {"daemon", "rsync"})
        for (const Change change : {Change::rename_all, Change::replace_all, Change::rename_half}) {
            SCOPED_TRACE(std::string(mode) + " " + std::to_string(static_cast<int>(change)));
            Fixture f;
            build_guard_tree(f);
            const std::string base = R"("delete": true, "daily_compare": ")" + std::string(mode) + R"(")";
            ASSERT_EQ(once(f, base).exit_code, 0);
            const auto backup = snapshot(f.destination);
            const int changed = change == Change::rename_half ? kGuardFiles / 2 : kGuardFiles;
            for (int i = 0; i < changed; ++i) {
                const std::string path = f.source + "/" + guard_file(i);
                if (change == Change::replace_all) {
                    ::unlink(path.c_str());
                    write_file(f.source + "/p" + std::to_string(i % 4) + "/new" + std::to_string(i), "other");
                } else {
                    ASSERT_EQ(::rename(path.c_str(), (path + ".locked").c_str()), 0);
                }
            }
            age_tree(f.source);
            // Half of the 109 entries: 50 deletions are within 50 % (54) but not 40 % (43);
            // counted on the 159 there after copying they were within both.
            auto r = once(f, base + (change == Change::rename_half ? R"(, "max_delete": "40%")" : ""));
            EXPECT_EQ(r.exit_code, 2) << r.out;
            const auto report = f.report(r.out);
            EXPECT_EQ(report["deletion_guard"]["refused"], true) << report.dump(2);
            EXPECT_EQ(report["deletion_guard"]["pending"], changed);
            EXPECT_EQ(report["deletion_guard"]["destination_entries"], kGuardFiles + 9) << report.dump(2);
            EXPECT_NE(r.out.find("of the 109 entries the backup held before the run: refused, nothing deleted"), std::string::npos)
                << r.out;
            const auto now = snapshot(f.destination);
            for (const auto &[path, entry] : backup) EXPECT_TRUE(now.count(path)) << path << " was deleted";
            // The next night the backup holds old and new names; still refused.
            const auto again = once(f, base + (change == Change::rename_half ? R"(, "max_delete": "40%")" : ""));
            EXPECT_EQ(again.exit_code, 2) << again.out;
            for (const auto &[path, entry] : backup) EXPECT_TRUE(snapshot(f.destination).count(path)) << path << " was deleted the next night";
            if (change != Change::rename_half) continue;
            auto allowed = once(f, base);
            EXPECT_EQ(allowed.exit_code, 0) << allowed.out;
            EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
        }
}
