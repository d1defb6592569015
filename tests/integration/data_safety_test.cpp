// Issue 14, each case created for real with the real dailysyncd and rsync: the source is
// never harmed (no option that writes or removes source files reaches rsync; overlap judged
// on real folders: symlinks, symlinked ancestors, bind mounts), one bad entry fails only
// itself, a source unmounted mid-run fails the run, state is private, a missing source is a
// failed run and not a configuration error.
#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/xattr.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "helpers.hpp"
#include "once_fixture.hpp"
#include "service_fixture.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

unsigned mode_of(const std::string &path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

// A project big enough that the planner splits it (an update plan keeps units at 1,000
// entries or more): three subfolders of 1,200 files.
void split_sized_project(const std::string &root) {
    for (const char *sub : {"s1", "s2", "s3"}) {
        make_dirs(root + "/" + sub);
        for (int i = 0; i < 1200; ++i) write_file(root + "/" + sub + "/f" + std::to_string(i), "x");
    }
}

}  // namespace

TEST(DataSafety, NoRsyncOptionThatRemovesSourceFilesIsAccepted) {
    Fixture f;
    f.build_tree();
    const auto source = snapshot(f.source);
    for (const char *option : {"--remove-sent-files", "--remove-source-files", "--remove-s", "-avR", "--filter=clear", "--filter=!"}) {
        auto r = run({dailysyncd(), "--once", "--config", f.config(std::string(R"("rsync_extra_args": [")") + option + R"("])")});
        EXPECT_EQ(r.exit_code, 78) << option << ": " << r.out << r.err;
        EXPECT_NE(r.err.find("/rsync_extra_args/0: "), std::string::npos) << r.err;
    }
    EXPECT_EQ(differences(source, snapshot(f.source)), "");
    EXPECT_LE(snapshot(f.destination).size(), 1u) << "nothing but the folder itself";
}

TEST(DataSafety, OverlapIsJudgedOnRealFoldersNotOnPathText) {
    Fixture f;
    f.build_tree();
    const auto source = snapshot(f.source);
    make_dirs(f.destination + "/inner");
    write_file(f.destination + "/inner/kept", "backup data");
    // 1. the source is a symlink to a folder inside the destination
    ::symlink((f.destination + "/inner").c_str(), (f.dir / "source-link").c_str());
    // 2. the destination is a symlink into the source
    ::symlink((f.source + "/alpha").c_str(), (f.dir / "destination-link").c_str());
    // 3. a symlinked ancestor: dir/via -> prod, destination dir/via/beta
    ::symlink(f.source.c_str(), (f.dir / "via").c_str());
    // 4. a bind mount of a source folder
    make_dirs(f.dir / "bound");
    ASSERT_EQ(::mount((f.source + "/beta").c_str(), (f.dir / "bound").c_str(), nullptr, MS_BIND, nullptr), 0) << std::strerror(errno);
    const std::vector<std::pair<std::string, std::string>> cases = {
        {f.dir / "source-link", f.destination},
        {f.source, f.dir / "destination-link"},
        {f.source, f.dir / "via/beta"},
        {f.source, f.dir / "bound"},
        {f.dir / "bound", f.source},
    };
    for (const auto &[src, dst] : cases) {
        const std::string config = write_config(f.dir, R"({"source": ")" + src + R"(", "destination": ")" + dst + R"(", "state_dir": ")" +
                                                           f.state + R"(", "delete": true, "max_delete": "unlimited"})");
        auto r = run({dailysyncd(), "--once", "--config", config});
        EXPECT_EQ(r.exit_code, 78) << src << " -> " << dst << ": " << r.out << r.err;
        EXPECT_NE(r.err.find("/destination: the "), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("a backup there would copy into itself or delete what it copies"), std::string::npos) << r.err;
    }
    auto bind = run({dailysyncd(), "--check-config", "--config",
                     write_config(f.dir, R"({"source": ")" + f.source + R"(", "destination": ")" + (f.dir / "bound") + R"("})")});
    EXPECT_NE(bind.err.find("(through a bind mount)"), std::string::npos) << bind.err;
    ::umount2((f.dir / "bound").c_str(), MNT_DETACH);
    EXPECT_EQ(differences(source, snapshot(f.source)), "");
    EXPECT_EQ(read_file(f.destination + "/inner/kept"), "backup data");
}

TEST(DataSafety, OverlapIsCheckedAgainBeforeEveryRun) {
    // Apart when the daemon starts; the destination becomes a bind mount of the source
    // later (mounts change): the next run fails and touches nothing.
    Service s(R"("max_delete": "unlimited")");
    s.start();
    ASSERT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    const auto source = snapshot(s.source);
    ASSERT_EQ(::mount(s.source.c_str(), s.destination.c_str(), nullptr, MS_BIND, nullptr), 0) << std::strerror(errno);
    auto r = s.ctl({"start", "--wait"});
    ::umount2(s.destination.c_str(), MNT_DETACH);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    const std::string run_id = nlohmann::json::parse(s.ctl({"status", "--json"}).out)["last_run_id"];
    auto report = s.ctl({"report", run_id});
    EXPECT_NE(report.out.find("error: the source and the destination are the same folder"), std::string::npos) << report.out;
    EXPECT_EQ(differences(source, snapshot(s.source)), "");
}

TEST(DataSafety, AProjectReplacedByASymlinkFailsOnlyItself) {
    // delete off (the default): rsync cannot replace the folder at the destination by the
    // symlink ("could not make way"). That entry fails; every other project is copied.
    // Each rsync compares (the unit names are the classic ones).
    Fixture f;
    f.build_tree();
    ASSERT_EQ(run({dailysyncd(), "--once", "--config", f.config(R"("daily_compare": "rsync")")}).exit_code, 0);
    remove_tree(f.source + "/beta");
    ::symlink("alpha", (f.source + "/beta").c_str());
    write_file(f.source + "/alpha/new-today", "new");
    write_file(f.source + "/odd/--delete", "edited");
    make_dirs(f.source + "/gamma");
    write_file(f.source + "/gamma/g", "g");
    for (int night = 0; night < 2; ++night) {
        auto r = run({dailysyncd(), "--once", "--config", f.config(R"("daily_compare": "rsync")")});
        EXPECT_EQ(r.exit_code, 2) << r.out;
        EXPECT_EQ(read_file(f.destination + "/alpha/new-today"), "new") << r.out;
        EXPECT_EQ(read_file(f.destination + "/odd/--delete"), "edited");
        EXPECT_EQ(read_file(f.destination + "/gamma/g"), "g");
        EXPECT_NE(r.err.find("dailysyncd: error: unit . partial"), std::string::npos) << r.err;
    }
}

TEST(DataSafety, ASubfolderReplacedByASymlinkInsideASplitProjectFailsOnlyItself) {
    // The classic split units (daily_compare "rsync").
    Fixture f;
    make_dirs(f.source + "/alpha");
    split_sized_project(f.source + "/alpha");
    age_tree(f.source);
    ASSERT_EQ(run({dailysyncd(), "--once", "--config", f.config(R"("daily_compare": "rsync")")}).exit_code, 0);
    ASSERT_EQ(run({dailysyncd(), "--once", "--config", f.config(R"("daily_compare": "rsync")")}).exit_code, 0);   // statistics: now split
    remove_tree(f.source + "/alpha/s1");
    ::symlink("s2", (f.source + "/alpha/s1").c_str());
    write_file(f.source + "/alpha/s2/new", "2");
    write_file(f.source + "/alpha/s3/new", "3");
    auto r = run({dailysyncd(), "--once", "--config", f.config(R"("daily_compare": "rsync")")});
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("alpha (own entries)"), std::string::npos) << "the project is split: " << r.out;
    EXPECT_EQ(read_file(f.destination + "/alpha/s2/new"), "2") << r.out;
    EXPECT_EQ(read_file(f.destination + "/alpha/s3/new"), "3") << r.out;
}

TEST(DataSafety, OnAFullDestinationTheReportSaysWhatArrived) {
    // Small projects packed with a big one into one unit: the disk fills up, rsync stops.
    // No file is reported copied that did not arrive, and every member that is not
    // complete at the destination is named.
    Fixture f;
    for (const char *p : {"a", "b", "c"}) {
        make_dirs(f.source + "/" + p);
        write_file(f.source + "/" + p + "/small", p);
    }
    make_dirs(f.source + "/big");
    write_file(f.source + "/big/huge", std::string(3'000'000, 'h'));
    age_tree(f.source);
    make_dirs(f.destination);
    ASSERT_EQ(::mount("tmpfs", f.destination.c_str(), "tmpfs", 0, "size=2m"), 0) << std::strerror(errno);
    auto r = run({dailysyncd(), "--once", "--config", f.config(R"("concurrency": 1)")});
    const auto arrived = snapshot(f.destination);
    ::umount2(f.destination.c_str(), MNT_DETACH);
    EXPECT_EQ(r.exit_code, 2) << r.out;
    auto report = f.report(r.out);
    std::size_t files_at_destination = 0;
    for (const auto &[path, entry] : arrived) files_at_destination += entry.type == 'f';
    EXPECT_LE(report["totals"]["files_transferred"].get<std::size_t>(), files_at_destination) << r.out;
    bool named_or_complete = true;
    for (const auto &unit : report["units"]) {
        if (!unit.contains("members")) continue;
        for (const auto &member : unit["members"]) {
            const std::string name = member;
            const bool listed = unit.contains("members_not_copied") &&
                                std::find(unit["members_not_copied"].begin(), unit["members_not_copied"].end(), name) != unit["members_not_copied"].end();
            const bool complete = name == "big" ? arrived.count("big/huge") : arrived.count(name + "/small");
            if (!listed && !complete) named_or_complete = false;
        }
    }
    EXPECT_TRUE(named_or_complete) << r.out;
    EXPECT_EQ(r.out.find("not copied (whole folder)") == std::string::npos, report.dump().find("members_not_copied") == std::string::npos);
}

TEST(DataSafety, ASourceUnmountedMidRunFailsTheRunAndKeepsTheLastSuccess) {
    Service s(R"("daily_compare": "rsync", "rsync_extra_args": ["--bwlimit=500"], "metrics_file": ")" + (std::string("METRICS")) + R"(")");
    s.write_config(R"("daily_compare": "rsync", "rsync_extra_args": ["--bwlimit=500"], "metrics_file": ")" + (s.dir / "metrics.prom") + R"(")");
    // The source is a mounted file system, as on a NAS. (Each rsync compares: the test
    // finds the rsync copying alpha by its path.)
    remove_tree(s.source);
    make_dirs(s.source);
    ASSERT_EQ(::mount("tmpfs", s.source.c_str(), "tmpfs", 0, "size=20m"), 0) << std::strerror(errno);
    make_dirs(s.source + "/alpha");
    make_dirs(s.source + "/beta");
    write_file(s.source + "/beta/b", "b");
    age_tree(s.source);
    s.start();
    ASSERT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    const std::string metrics_before = read_file(s.dir / "metrics.prom");
    write_file(s.source + "/alpha/big", std::string(3'000'000, 'b'));
    for (int i = 0; i < 600; ++i) write_file(s.source + "/beta/n" + std::to_string(i), "n");
    ASSERT_EQ(s.ctl({"start"}).exit_code, 0);
    wait_for_rsync(s.source + "/./alpha");
    ASSERT_EQ(::umount2(s.source.c_str(), MNT_DETACH), 0) << std::strerror(errno);
    auto waited = s.ctl({"watch"});
    const auto status = nlohmann::json::parse(s.ctl({"status", "--json"}).out);
    EXPECT_EQ(status["last_result"], "failed") << waited.out;
    auto report = s.ctl({"report", status["last_run_id"]});
    EXPECT_NE(report.out.find("disappeared or was replaced during the run"), std::string::npos) << report.out;
    const std::string metrics_after = read_file(s.dir / "metrics.prom");
    auto line = [](const std::string &text) { return text.substr(text.find("dailysync_last_success_timestamp_seconds ")); };
    EXPECT_EQ(line(metrics_after).substr(0, 60), line(metrics_before).substr(0, 60)) << metrics_after;
}

TEST(DataSafety, AProjectThatVanishesMidRunFailsItsUnit) {
    Fixture f;
    make_dirs(f.source + "/alpha");
    write_file(f.source + "/alpha/a-slow", std::string(1'000'000, 's'));
    for (int i = 0; i < 50; ++i) write_file(f.source + "/alpha/z" + std::to_string(i), "z");
    make_dirs(f.source + "/beta");
    write_file(f.source + "/beta/b", "b");
    age_tree(f.source);
    auto once_run = spawn({dailysyncd(), "--once", "--config", f.config(R"("rsync_extra_args": ["--bwlimit=300"])")});
    wait_for_rsync(f.source + "/./alpha");
    std::this_thread::sleep_for(1s);
    // Removed while being copied (rsync reads through its open folder, so a rename would
    // not stop it): its files vanish one after the other.
    remove_tree(f.source + "/alpha");
    auto r = wait_for(once_run);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.out.find("the folder alpha vanished from the source during the run"), std::string::npos) << r.out;
    EXPECT_EQ(f.report(r.out)["result"], "failed");
}

TEST(DataSafety, StateIsPrivateAndIdsFromItNeverBecomePaths) {
    Fixture f;
    f.build_tree();
    auto r = run({dailysyncd(), "--once", "--config", f.config()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(mode_of(f.state), 0700u) << "made by dailysyncd";
    EXPECT_EQ(mode_of(f.state + "/runs"), 0700u);
    // A state folder the admin made keeps its mode (it may be shared); runs/ is ours.
    const std::string shared = f.dir / "shared-state";
    make_dirs(shared + "/runs");
    ::chmod(shared.c_str(), 01777);
    ::chmod((shared + "/runs").c_str(), 0755);   // as an earlier version made it
    write_file(f.dir / "shared.json", R"({"source": ")" + f.source + R"(", "destination": ")" + f.destination + R"(", "state_dir": ")" + shared + R"("})");
    ASSERT_EQ(run({dailysyncd(), "--once", "--config", f.dir / "shared.json"}).exit_code, 0);
    EXPECT_EQ(mode_of(shared), 01777u);
    EXPECT_EQ(mode_of(shared + "/runs"), 0700u);
    EXPECT_EQ(mode_of(shared + "/tree-stats"), 0600u);
    EXPECT_EQ(mode_of(f.state + "/tree-stats"), 0600u);
    for (const auto &entry : std::filesystem::directory_iterator(f.state + "/runs")) EXPECT_EQ(mode_of(entry.path()), 0600u) << entry.path();

    // A state.json naming a run id that is a path: set aside, nothing written outside.
    Service s;
    make_dirs(s.state);
    write_file(s.state + "/state.json", R"({"active_run_id": "../../x/y", "last_run_id": "../z"})");
    s.start();
    auto stopped = s.stop();
    EXPECT_NE(stopped.err.find("is not a run id); moved aside"), std::string::npos) << stopped.err;
    EXPECT_FALSE(std::filesystem::exists(s.dir / "x"));
    EXPECT_FALSE(std::filesystem::exists(s.state + "/x/y.json"));
    EXPECT_EQ(mode_of(s.state + "/state.json"), 0600u);
}

TEST(DataSafety, AMissingSourceAtStartIsAFailedRunNotAConfigurationError) {
    Service s;
    remove_tree(s.source);
    s.start();   // READY=1: the service runs
    auto r = s.ctl({"start", "--wait"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    const auto status = nlohmann::json::parse(s.ctl({"status", "--json"}).out);
    EXPECT_EQ(status["state"], "idle");
    auto report = s.ctl({"report", status["last_run_id"]});
    EXPECT_NE(report.out.find("the source " + s.source + " is not available: No such file or directory"), std::string::npos) << report.out;
    auto stopped = s.stop();
    EXPECT_EQ(stopped.exit_code, 0);
}

TEST(DataSafety, FidelityHardLinksAcrossSplitFoldersSparseFilesAclsAndXattrs) {
    Fixture f;
    make_dirs(f.source + "/alpha");
    split_sized_project(f.source + "/alpha");   // big enough to be split without hard_links
    write_file(f.source + "/alpha/s1/linked", "one content, three names");
    ASSERT_EQ(::link((f.source + "/alpha/s1/linked").c_str(), (f.source + "/alpha/s3/linked-too").c_str()), 0);
    make_dirs(f.source + "/beta");
    ASSERT_EQ(::link((f.source + "/alpha/s1/linked").c_str(), (f.source + "/beta/linked-elsewhere").c_str()), 0);
    {   // 20 MB with one byte of data at the end: sparse
        const int fd = ::open((f.source + "/beta/sparse.img").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::pwrite(fd, "x", 1, 20'000'000), 1);
        ::close(fd);
    }
    ASSERT_EQ(::setxattr((f.source + "/beta/sparse.img").c_str(), "user.project", "beta", 4, 0), 0) << std::strerror(errno);
    // An access ACL granting user 65534 read-write, in the kernel's xattr form (what
    // setfacl -m u:65534:rw writes): version 2, then (tag, perm, id) entries.
    const std::vector<std::uint32_t> acl_words = {2,          0x00060001, 0xffffffff, 0x00060002, 65534, 0x00040004,
                                                  0xffffffff, 0x00060010, 0xffffffff, 0x00040020, 0xffffffff};
    std::string acl;
    for (std::size_t i = 0; i < acl_words.size(); ++i) {   // little-endian: u32 version, then u16 tag, u16 perm, u32 id
        const std::uint32_t w = acl_words[i];
        if (i == 0 || i % 2 == 0) {
            for (int b = 0; b < 4; ++b) acl += static_cast<char>((w >> (8 * b)) & 0xff);
        } else {
            const std::uint16_t tag = w & 0xffff, perm = w >> 16;
            for (int b = 0; b < 2; ++b) acl += static_cast<char>((tag >> (8 * b)) & 0xff);
            for (int b = 0; b < 2; ++b) acl += static_cast<char>((perm >> (8 * b)) & 0xff);
        }
    }
    ASSERT_EQ(::setxattr((f.source + "/beta/linked-elsewhere").c_str(), "system.posix_acl_access", acl.data(), acl.size(), 0), 0)
        << std::strerror(errno);
    auto acl_of = [](const std::string &path) {
        std::string value(256, '\0');
        const ssize_t n = ::getxattr(path.c_str(), "system.posix_acl_access", value.data(), value.size());
        value.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return value;
    };
    const std::string source_acl = acl_of(f.source + "/beta/linked-elsewhere");
    ASSERT_FALSE(source_acl.empty());
    age_tree(f.source);
    auto inode = [](const std::string &path) {
        struct stat st {};
        ::lstat(path.c_str(), &st);
        return st.st_ino;
    };
    auto blocks = [](const std::string &path) {
        struct stat st {};
        ::lstat(path.c_str(), &st);
        return static_cast<long long>(st.st_blocks) * 512;
    };
    // Defaults: sparse kept, links and xattrs not.
    ASSERT_EQ(run({dailysyncd(), "--once", "--config", f.config()}).exit_code, 0);
    EXPECT_LT(blocks(f.destination + "/beta/sparse.img"), 1'000'000);
    EXPECT_NE(inode(f.destination + "/alpha/s1/linked"), inode(f.destination + "/alpha/s3/linked-too"));
    EXPECT_TRUE(acl_of(f.destination + "/beta/linked-elsewhere").empty());
    // Asked for: the links hold across what the planner would split, and across projects.
    const std::string config = f.config(R"("preserve": {"hard_links": true, "xattrs": true, "acls": true})");
    for (int night = 0; night < 2; ++night) {   // first copy and update (the latter would be split)
        auto r = run({dailysyncd(), "--once", "--config", config});
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
        EXPECT_EQ(f.report(r.out)["units"].size(), 1u) << "one rsync sees every link";
        const auto ino = inode(f.destination + "/alpha/s1/linked");
        EXPECT_EQ(inode(f.destination + "/alpha/s3/linked-too"), ino);
        EXPECT_EQ(inode(f.destination + "/beta/linked-elsewhere"), ino);
        char value[16] = {};
        EXPECT_EQ(::getxattr((f.destination + "/beta/sparse.img").c_str(), "user.project", value, sizeof value), 4);
        EXPECT_STREQ(value, "beta");
        EXPECT_EQ(acl_of(f.destination + "/beta/linked-elsewhere"), source_acl);
    }
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
}

TEST(DataSafety, NoDeletionPassRunsOnASourceUnmountedDuringTheFirstPass) {
    // The guard's second pass would run rsync --delete on the source's root; unmounted by
    // then, the root is an empty mount point, and the pass would delete whole projects
    // (within the guard's slack). It must not start.
    Fixture f;
    ASSERT_EQ(::mount("tmpfs", f.source.c_str(), "tmpfs", 0, "size=20m"), 0) << std::strerror(errno);
    for (const char *p : {"alpha", "beta", "gamma", "delta"}) {
        make_dirs(f.source + "/" + p);
        write_file(f.source + "/" + p + "/file", p);
    }
    write_file(f.source + "/top", "top");
    age_tree(f.source);
    const std::string config = f.config(R"("daily_compare": "rsync", "delete": true, "max_delete": "100%", "rsync_extra_args": ["--bwlimit=500"])");
    ASSERT_EQ(run({dailysyncd(), "--once", "--config", config}).exit_code, 0);
    const auto backup = snapshot(f.destination);
    ::unlink((f.source + "/top").c_str());        // the top-level unit holds one deletion back
    write_file(f.source + "/alpha/big", std::string(2'000'000, 'b'));   // a slow first pass
    auto once_run = spawn({dailysyncd(), "--once", "--config", config});
    wait_for_rsync(f.source + "/./alpha");
    ASSERT_EQ(::umount2(f.source.c_str(), MNT_DETACH), 0) << std::strerror(errno);
    auto r = wait_for(once_run);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    for (const char *p : {"alpha", "beta", "gamma", "delta"}) EXPECT_EQ(read_file(f.destination + "/" + p + "/file"), p) << r.out;
    EXPECT_EQ(read_file(f.destination + "/top"), "top") << "nothing is deleted after the source went away";
    EXPECT_NE(r.out.find("nothing was deleted"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("(deletions)  success"), std::string::npos) << r.out;
}

TEST(DataSafety, TheStateFolderStaysOutOfTheSourceAndTheBackupHoweverReached) {
    Fixture f;
    f.build_tree();
    ::symlink(f.destination.c_str(), (f.dir / "backup-link").c_str());
    ::symlink(f.source.c_str(), (f.dir / "source-link").c_str());
    for (const std::string &state : {f.dir / "backup-link/.state", f.dir / "source-link/.state", f.dir / "source-link"}) {
        const std::string config = write_config(f.dir, R"({"source": ")" + f.source + R"(", "destination": ")" + f.destination +
                                                           R"(", "state_dir": ")" + state + R"(", "delete": true})");
        auto r = run({dailysyncd(), "--once", "--config", config});
        EXPECT_EQ(r.exit_code, 78) << state << ": " << r.out << r.err;
        EXPECT_NE(r.err.find(": /state_dir: the "), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("dailysyncd would write its state into the tree it backs up or into the backup"), std::string::npos) << r.err;
    }
    EXPECT_FALSE(std::filesystem::exists(f.destination + "/.state"));
    EXPECT_FALSE(std::filesystem::exists(f.source + "/.state"));
}
