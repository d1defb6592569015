// Versions with real rsync: each day's backup restored exactly, retention that keeps the
// other days exact, a killed run, the mass-change guard. Days are simulated: after each
// run the test moves that run's version to its day (the clock is an input of retention
// and of --at DATE, never waited for).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <set>
#include <thread>

#include "helpers.hpp"
#include "once_fixture.hpp"
#include "service_fixture.hpp"

using namespace testing_support;

namespace {

const std::string kVersions = ".dailysync-versions";
constexpr long kDay = 86400;

// Version ids in `versions_dir`, oldest first (by their "at").
std::vector<std::pair<long, std::string>> points_in(const std::string &versions_dir) {
    std::vector<std::pair<long, std::string>> out;
    for (const auto &name : list_dir(versions_dir)) {
        if (name.front() == '.') continue;   // set aside by retention, or a restore's staging tree
        const std::string file = versions_dir + "/" + name + "/version.json";
        if (::access(file.c_str(), F_OK) != 0) continue;
        auto doc = nlohmann::json::parse(read_file(file));
        out.emplace_back(doc["at"].get<long>(), name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Moves the newest version in `versions_dir` to `at`; returns its id.
std::string date_newest_in(const std::string &versions_dir, long at) {
    const std::string id = points_in(versions_dir).back().second;
    const std::string file = versions_dir + "/" + id + "/version.json";
    auto doc = nlohmann::json::parse(read_file(file));
    doc["at"] = at;
    write_file(file, doc.dump());
    return id;
}

struct VersionsFixture : Fixture {
    std::string cfg;
    // Who compares on daily runs (the tests that check every day's restore run both).
    std::string compare = R"("daily_compare": "rsync", )";
    long base = static_cast<long>(::time(nullptr)) - 200 * kDay;   // day 0

    std::string versions_dir() const { return destination + "/" + kVersions; }
    std::vector<std::pair<long, std::string>> points() const { return points_in(versions_dir()); }
    // Moves the newest version to noon of `day`; returns its id.
    std::string date_newest(int day) { return date_newest_in(versions_dir(), base + day * kDay); }
    Result backup() { return run({dailysyncd(), "--once", "--config", cfg}); }
    // Restores PATH as of `at` into a new folder; the folder.
    std::string restore(const std::string &path, const std::string &at, const std::string &name) {
        const std::string into = dir / name;
        make_dirs(into);
        const Result r = run({dailysyncctl(), "restore", path, "--at", at, "--to", into, "--config", cfg});
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        return into;
    }
};

// Gives entries changed on `day` an mtime of their own (age_tree's are the same each time
// it runs, and rsync's quick check would take a same-size rewrite for no change).
void stamp(const std::vector<std::string> &paths, int day) {
    long t = 1'700'000'000L + day * 1000L;
    for (const auto &path : paths) set_mtime(path, ++t);
}

// An rsync killed mid-file may leave its temporary ".NAME.XXXXXX" in the backup (the
// daemon removes those it knows of after each attempt; a daemon killed itself cannot),
// and a restore of the whole backup then brings it along: not what these tests are about.
Snapshot without_rsync_temporaries(Snapshot restored, const Snapshot &expected) {
    std::erase_if(restored, [&](const auto &entry) {
        const std::string name = entry.first.substr(entry.first.rfind('/') + 1);
        return !expected.count(entry.first) && name.size() > 8 && name[0] == '.' && name[name.size() - 7] == '.';
    });
    return restored;
}

// Folders' own times are not versioned (docs/operations.md): compare everything else.
Snapshot without_folder_times(Snapshot s) {
    for (auto &[path, entry] : s)
        if (entry.type == 'd') entry.mtime_ns = 0;
    return s;
}

}  // namespace

void every_day_is_restored_exactly(const std::string &compare) {
    VersionsFixture f;
    f.compare = compare;
    f.build_tree();
    // A project big enough to be split (its own entries, then units for its subfolders),
    // beside the small ones packed together; deletions through the guard's second pass.
    for (int d = 0; d < 3; ++d) {
        make_dirs(f.source + "/big/s" + std::to_string(d));
        for (int i = 0; i < 900; ++i) write_file(f.source + "/big/s" + std::to_string(d) + "/f" + std::to_string(i), "v" + std::to_string(i));
    }
    age_tree(f.source);
    f.cfg = f.config(f.compare + R"("delete": true, "max_delete": "10%", "concurrency": 4, "versions": {"keep_daily": 100})");
    std::set<std::string> unit_names;
    std::vector<Snapshot> oracle;
    std::vector<std::string> ids;
    std::vector<std::string> changed;
    auto day = [&](int d) {
        stamp(changed, d);
        changed.clear();
        const Result r = f.backup();
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
        const auto report = f.report(r.out);
        for (const auto &unit : report["units"]) unit_names.insert(unit["name"].get<std::string>());
        oracle.push_back(without_folder_times(snapshot(f.source)));
        ids.push_back(f.date_newest(d));
    };
    day(0);
    // day 1: a file modified in place with the same size, one with a new size
    write_file(f.source + "/alpha/private", "SECRET", 0600);
    write_file(f.source + "/beta/readme", "beta, second edition\n");
    write_file(f.source + "/big/s1/f7", "changed deep in a split project");
    changed = {f.source + "/alpha/private", f.source + "/beta/readme", f.source + "/big/s1/f7"};
    day(1);
    // day 2: files deleted, one with a hostile name
    ::unlink((f.source + "/big/s2/f9").c_str());
    ::unlink((f.source + "/alpha/edit/reel1/shot3").c_str());
    ::unlink((f.source + "/odd/new\nline").c_str());
    day(2);
    // day 3: a folder renamed
    ASSERT_EQ(::rename((f.source + "/alpha/edit").c_str(), (f.source + "/alpha/cut").c_str()), 0);
    day(3);
    // day 4: a file replaced by a symlink, a symlink by a file, a file by a folder
    ::unlink((f.source + "/alpha/tool.sh").c_str());
    ::symlink("cut/master.mov", (f.source + "/alpha/tool.sh").c_str());
    ::unlink((f.source + "/alpha/latest").c_str());
    write_file(f.source + "/alpha/latest", "now a file\n");
    ::unlink((f.source + "/top-level-file").c_str());
    make_dirs(f.source + "/top-level-file");
    write_file(f.source + "/top-level-file/inside", "x\n");
    changed = {f.source + "/alpha/tool.sh", f.source + "/alpha/latest", f.source + "/top-level-file/inside"};
    day(4);
    // day 5: a new file, and the day-1 file modified again
    write_file(f.source + "/beta/new", "new\n");
    write_file(f.source + "/alpha/private", "third", 0600);
    changed = {f.source + "/beta/new", f.source + "/alpha/private"};
    day(5);

    // Every unit shape took part: the split project's own entries, a subfolder of it alone,
    // small projects packed together, the deletion passes.
    std::string names;
    for (const auto &name : unit_names) names += name + "; ";
    EXPECT_NE(names.find("big (own entries)"), std::string::npos) << names;
    EXPECT_NE(names.find("big/s1"), std::string::npos) << names;
    EXPECT_NE(names.find(" more"), std::string::npos) << names;
    EXPECT_NE(names.find("deletions"), std::string::npos) << names;
    for (std::size_t d = 0; d < ids.size(); ++d) {
        const std::string into = f.restore("/", ids[d], "whole" + std::to_string(d));
        EXPECT_EQ(differences(oracle[d], without_folder_times(snapshot(into))), "") << "day " << d;
    }
    // --at DATE names the last version of that day; one folder, by absolute path.
    char date[16];
    const std::time_t t = f.base + 3 * kDay;
    std::strftime(date, sizeof date, "%Y-%m-%d", std::localtime(&t));
    const std::string alpha = f.restore(f.source + "/alpha", date, "alpha3");
    Snapshot expected;
    for (const auto &[path, entry] : oracle[3])
        if (path.rfind("alpha/", 0) == 0 || path == "alpha") expected[path] = entry;
    Snapshot restored = without_folder_times(snapshot(alpha));
    restored.erase(".");   // the folder restored into: the test's own
    EXPECT_EQ(differences(expected, restored), "");
    // One file as of day 0; the versions listing names what it was on each day.
    const std::string one = f.restore("alpha/private", ids[0], "private0");
    EXPECT_EQ(read_file(one + "/private"), "secret");
    const Result listed = run({dailysyncctl(), "versions", "alpha/private", "--config", f.cfg});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_NE(listed.out.find("6 B"), std::string::npos) << listed.out;
    // Nothing is left behind by the restores.
    for (const auto &name : list_dir(f.versions_dir())) EXPECT_EQ(name.rfind(".restore-", 0), std::string::npos) << name;
}

TEST(Versions, EveryDayIsRestoredExactlyWithHostileNamesAndTypeChanges) { every_day_is_restored_exactly(R"("daily_compare": "rsync", )"); }
TEST(Versions, EveryDayIsRestoredExactlyWithHostileNamesAndTypeChangesWhenTheDaemonCompares) { every_day_is_restored_exactly(R"("daily_compare": "daemon", )"); }

void retention_keeps_the_other_days_exact(const std::string &compare) {
    VersionsFixture f;
    f.compare = compare;
    f.build_tree();
    f.cfg = f.config(f.compare + R"("delete": true, "max_delete": "unlimited", "versions": {"keep_daily": 100})");
    std::vector<Snapshot> oracle;
    std::vector<std::string> ids;
    // Ten days of changes to the same few files, so that later versions depend on what
    // earlier ones say.
    for (int d = 0; d < 10; ++d) {
        if (d > 0) {
            std::vector<std::string> changed = {f.source + "/beta/readme"};
            write_file(f.source + "/beta/readme", "beta day " + std::to_string(d) + "\n");
            if (d % 2) {
                ::unlink((f.source + "/alpha/edit/reel1/shot" + std::to_string(d)).c_str());
            } else {
                write_file(f.source + "/alpha/edit/reel1/shot" + std::to_string(d - 1), "back on day " + std::to_string(d));
                changed.push_back(f.source + "/alpha/edit/reel1/shot" + std::to_string(d - 1));
            }
            if (d == 4) {
                ASSERT_EQ(::rename((f.source + "/alpha/empty").c_str(), (f.source + "/alpha/was-empty").c_str()), 0);
            }
            if (d == 6) {
                write_file(f.source + "/alpha/empty", "a file where a folder was\n");
                changed.push_back(f.source + "/alpha/empty");
            }
            stamp(changed, d);
        }
        const Result r = f.backup();
        ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
        oracle.push_back(without_folder_times(snapshot(f.source)));
        ids.push_back(f.date_newest(d * 7));   // days 0, 7, ... 63: each its own ISO week
    }
    // Keep 2 days and 3 weeks: after the next run (today, long after day 63) its own
    // version, day 63's (the second day, and week) and day 56's (the third week) remain.
    f.cfg = f.config(f.compare + R"("delete": true, "max_delete": "unlimited", "versions": {"keep_daily": 2, "keep_weekly": 3})");
    write_file(f.source + "/beta/readme", "today\n");
    stamp({f.source + "/beta/readme"}, 99);
    const Result r = f.backup();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto kept = f.points();
    std::vector<std::string> kept_ids;
    for (const auto &[at, id] : kept) kept_ids.push_back(id);
    ASSERT_EQ(kept_ids.size(), 3u);
    EXPECT_EQ(kept_ids[0], ids[8]);
    EXPECT_EQ(kept_ids[1], ids[9]);
    const auto report = f.report(r.out);
    EXPECT_EQ(report["versions"]["pruned"].size(), 8u) << report.dump(2);
    for (std::size_t d : {8u, 9u}) {
        const std::string into = f.restore("/", ids[d], "kept" + std::to_string(d));
        EXPECT_EQ(differences(oracle[d], without_folder_times(snapshot(into))), "") << "day " << d * 7;
    }
    // What retention set aside is deleted by the next run, while it copies.
    // (That run sets aside the version before it, made the same day.)
    const auto aside = [&] {
        std::set<std::string> names;
        for (const auto &name : list_dir(f.versions_dir()))
            if (name.rfind(".removed-", 0) == 0 && name.find("scratch-") == std::string::npos) names.insert(name);
        return names;
    };
    const auto first_aside = aside();
    EXPECT_EQ(first_aside.size(), 8u);
    ASSERT_EQ(f.backup().exit_code, 0);
    auto left = [&] {
        int n = 0;
        for (const auto &name : aside()) n += first_aside.count(name);
        return n;
    };
    for (int i = 0; i < 100 && left() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(left(), 0);
    EXPECT_EQ(aside().size(), 1u);
}

TEST(Versions, RetentionKeepsTheOtherDaysExact) { retention_keeps_the_other_days_exact(R"("daily_compare": "rsync", )"); }
TEST(Versions, RetentionKeepsTheOtherDaysExactWhenTheDaemonCompares) { retention_keeps_the_other_days_exact(R"("daily_compare": "daemon", )"); }

TEST(Versions, AKilledRunLeavesThePreviousDayRestorable) {
    VersionsFixture f;
    make_dirs(f.source + "/big");
    for (int i = 0; i < 40; ++i) write_file(f.source + "/big/f" + std::to_string(i), std::string(2'000'000, 'a' + i % 26));
    age_tree(f.source);
    f.cfg = f.config(R"("versions": {"keep_daily": 10}, "rsync_extra_args": ["--bwlimit=20000"])");
    ASSERT_EQ(f.backup().exit_code, 0);
    const Snapshot day0 = without_folder_times(snapshot(f.source));
    const std::string id0 = f.date_newest(0);
    // Every file rewritten; the run is killed (SIGKILL, no clean-up) part way.
    std::vector<std::string> rewritten;
    for (int i = 0; i < 40; ++i) {
        rewritten.push_back(f.source + "/big/f" + std::to_string(i));
        write_file(rewritten.back(), std::string(2'000'000, 'A' + i % 26));
    }
    stamp(rewritten, 1);
    const Spawned spawned = spawn({dailysyncd(), "--once", "--config", f.cfg});
    for (int i = 0; i < 200 && f.points().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    ::kill(spawned.pid, SIGKILL);   // the daemon dies without a word; its rsyncs get what systemd sends
    wait_for(spawned);
    for (pid_t pid : processes_mentioning(f.destination)) ::kill(pid, SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto kept = f.points();
    ASSERT_EQ(kept.size(), 2u);
    const Result listed = run({dailysyncctl(), "versions", "--config", f.cfg});
    EXPECT_NE(listed.out.find("partial"), std::string::npos) << listed.out;   // the killed run's version
    const std::string into = f.restore("/", id0, "before-kill");
    EXPECT_EQ(differences(day0, without_rsync_temporaries(without_folder_times(snapshot(into)), day0)), "");
}

TEST(Versions, MassOverwriteTripsTheGuardAndThePreviousContentStaysRestorable) {
    VersionsFixture f;
    make_dirs(f.source + "/project");
    for (int i = 0; i < 50; ++i) write_file(f.source + "/project/doc" + std::to_string(i), "original " + std::to_string(i));
    age_tree(f.source);
    f.cfg = f.config(R"("versions": {"keep_daily": 10}, "max_change": "10%")");
    ASSERT_EQ(f.backup().exit_code, 0);
    const Snapshot before = without_folder_times(snapshot(f.source));
    const std::string id0 = f.date_newest(0);
    // Ransomware-like: every file of the project rewritten.
    std::vector<std::string> encrypted;
    for (int i = 0; i < 50; ++i) {
        encrypted.push_back(f.source + "/project/doc" + std::to_string(i));
        write_file(encrypted.back(), "ENCRYPTED!" + std::to_string(i * 7));
    }
    stamp(encrypted, 1);
    const Result r = f.backup();
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("mass change"), std::string::npos) << r.err;
    const auto report = f.report(r.out);
    EXPECT_EQ(report["result"], "failed");
    EXPECT_NE(report["error"].get<std::string>().find("max_change 10%"), std::string::npos) << report.dump(2);
    // Most files were never overwritten; the ones that were are in the versions.
    int overwritten = 0;
    for (int i = 0; i < 50; ++i) overwritten += read_file(f.destination + "/project/doc" + std::to_string(i)).rfind("ENCRYPTED", 0) == 0;
    EXPECT_LT(overwritten, 25);
    const std::string into = f.restore("/", id0, "before-attack");
    EXPECT_EQ(differences(before, without_rsync_temporaries(without_folder_times(snapshot(into)), before)), "");
}

TEST(Versions, VersionsFolderIsNeitherCopiedNorDeletedAndRestoreNeverWritesOverTheSourceUnasked) {
    VersionsFixture f;
    make_dirs(f.source + "/p");
    write_file(f.source + "/p/a", "a");
    make_dirs(f.source + "/" + kVersions);
    write_file(f.source + "/" + kVersions + "/intruder", "not copied");
    age_tree(f.source);
    f.cfg = f.config(R"("delete": true, "max_delete": "unlimited", "versions": {"keep_daily": 3})");
    // The source's own folder of that name is not backed up, and every run says so.
    const std::string warning = "the source holds " + f.source + "/" + kVersions + ", which is not backed up";
    const Result first = f.backup();
    ASSERT_EQ(first.exit_code, 1) << first.out << first.err;
    EXPECT_NE(first.out.find(warning), std::string::npos) << first.out;
    EXPECT_NE(::access((f.versions_dir() + "/intruder").c_str(), F_OK), 0);
    const std::string id = f.date_newest(0);
    // Versions off: the folder stays (deletes spare it), and the next versioned run
    // starts a new chain, so the old version is no longer offered as exact.
    f.cfg = f.config(R"("delete": true, "max_delete": "unlimited")");
    write_file(f.source + "/p/a", "changed while versions were off");
    stamp({f.source + "/p/a"}, 1);
    const Result off = f.backup();
    ASSERT_EQ(off.exit_code, 1) << off.out << off.err;
    EXPECT_NE(off.out.find(warning), std::string::npos) << off.out;
    EXPECT_EQ(::access((f.versions_dir() + "/" + id + "/version.json").c_str(), F_OK), 0);
    f.cfg = f.config(R"("delete": true, "max_delete": "unlimited", "versions": {"keep_daily": 3})");
    const Result again = f.backup();
    ASSERT_EQ(again.exit_code, 1) << again.out << again.err;
    Result r = run({dailysyncctl(), "restore", "p", "--at", id, "--to", f.dir.path(), "--config", f.cfg});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("versions were not kept between"), std::string::npos) << r.err;
    // Into the source only with --into-source.
    r = run({dailysyncctl(), "restore", "p/a", "--at", f.points().back().second, "--to", f.source + "/p", "--config", f.cfg});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("--into-source"), std::string::npos) << r.err;
    r = run({dailysyncctl(), "restore", "p/a", "--at", "1999-01-01", "--to", f.dir.path(), "--config", f.cfg});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("no version at or before 1999-01-01"), std::string::npos) << r.err;
}

// A restore target is judged where it really is: a --to that is (or lies below) a
// symlink into the source is the source; and nothing already there is replaced unasked.
TEST(Versions, ARestoreFollowsNoSymlinkIntoTheSourceAndOverwritesOnlyWhenAsked) {
    VersionsFixture f;
    make_dirs(f.source + "/p");
    write_file(f.source + "/p/a", "a");
    age_tree(f.source);
    f.cfg = f.config(R"("versions": {"keep_daily": 3})");
    ASSERT_EQ(f.backup().exit_code, 0);
    const std::string at = f.date_newest(0);
    write_file(f.source + "/p/a", "production, newer");
    stamp({f.source + "/p/a"}, 1);
    ASSERT_EQ(f.backup().exit_code, 0);
    f.date_newest(1);
    auto restore = [&](const std::string &path, const std::string &to, std::vector<std::string> more = {}) {
        std::vector<std::string> args{dailysyncctl(), "restore", path, "--at", at, "--to", to, "--config", f.cfg};
        args.insert(args.end(), more.begin(), more.end());
        return run(args);
    };
    // DIR a symlink to a source folder, or a symlink among DIR's parents.
    ASSERT_EQ(::symlink((f.source + "/p").c_str(), (f.dir / "to-prod").c_str()), 0);
    ASSERT_EQ(::symlink(f.source.c_str(), (f.dir / "prod-link").c_str()), 0);
    for (const std::string &to : {f.dir / "to-prod", f.dir / "prod-link/p"}) {
        const Result r = restore("p/a", to, {"--overwrite"});
        EXPECT_EQ(r.exit_code, 3) << to;
        EXPECT_NE(r.err.find("(which is " + f.source + "/p): the restore would write over the source"), std::string::npos) << r.err;
    }
    EXPECT_EQ(read_file(f.source + "/p/a"), "production, newer");
    // The same folders under another path: a bind mount of the source, or of the backup.
    for (const std::string &tree : {f.source, f.destination}) {
        const std::string bound = f.dir / "bound";
        make_dirs(bound);
        ASSERT_EQ(::mount(tree.c_str(), bound.c_str(), nullptr, MS_BIND, nullptr), 0) << std::strerror(errno);
        const Result r = restore("p/a", bound + "/p", {"--overwrite"});
        ::umount2(bound.c_str(), MNT_DETACH);
        EXPECT_EQ(r.exit_code, 3) << r.err;
        EXPECT_NE(r.err.find(tree == f.source ? "would write over the source" : "would write into the backup"), std::string::npos) << r.err;
    }
    EXPECT_EQ(read_file(f.source + "/p/a"), "production, newer");
    // Into a folder that holds the name already, or (the whole backup) is not empty.
    const std::string into = f.dir / "restored";
    make_dirs(into);
    write_file(into + "/a", "the admin's own file");
    Result r = restore("p/a", into);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find(into + "/a exists already: the restore would write over what is there (add --overwrite"), std::string::npos)
        << r.err;
    EXPECT_EQ(read_file(into + "/a"), "the admin's own file");
    r = restore("/", into);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("--to " + into + " is not empty"), std::string::npos) << r.err;
    r = restore("p/a", into, {"--overwrite"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(into + "/a"), "a");
    // A --to not there yet is made (its last folder only, 0700), after the same checks.
    r = restore("p", f.dir / "new-folder");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(f.dir / "new-folder/p/a"), "a");
    struct stat made {};
    ASSERT_EQ(::stat((f.dir / "new-folder").c_str(), &made), 0);
    EXPECT_EQ(made.st_mode & 07777, 0700u);
    r = restore("p", f.dir / "no/such/place");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("does not exist, nor does its parent folder " + f.dir / "no/such"), std::string::npos) << r.err;
    r = restore("p/a", f.dir / "prod-link/new-in-source");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("would write over the source"), std::string::npos) << r.err;
    EXPECT_NE(::access((f.source + "/new-in-source").c_str(), F_OK), 0) << "a refused restore made its folder";
    // Asked for: into the source, over what is there.
    r = restore("p/a", f.dir / "to-prod", {"--into-source", "--overwrite"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(f.source + "/p/a"), "a");
}

namespace {
// Versions on days 0..n-1: p/a holds "vD" on day D; p/q holds "q0" until the last day,
// when it becomes "q-last" (so only the last run changes it). Returns the ids.
std::vector<std::string> versioned_days(VersionsFixture &f, int days) {
    make_dirs(f.source + "/p");
    f.cfg = f.config(R"("versions": {"keep_daily": 30})");
    std::vector<std::string> ids;
    for (int day = 0; day < days; ++day) {
        write_file(f.source + "/p/a", "v" + std::to_string(day));
        write_file(f.source + "/p/q", day == days - 1 && day > 0 ? "q-last" : "q0");
        if (day == 0) age_tree(f.source);
        else stamp({f.source + "/p/a", f.source + "/p/q"}, day);
        const Result r = f.backup();
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        ids.push_back(f.date_newest(day));
    }
    return ids;
}

bool exists(const std::string &path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

Result restore_at(const VersionsFixture &f, const std::string &path, const std::string &at, const std::string &into) {
    make_dirs(into);
    return run({dailysyncctl(), "restore", path, "--at", at, "--to", into, "--config", f.cfg});
}
}  // namespace

// A version whose record is empty (what a destination that went read-only left) or
// garbage is left out of every listing, set aside by the next run with an alert (the run
// fails once), and backups go on; restores of the versions after it still work, those
// before it are refused (its place in the chain is lost), never served wrong.
TEST(Versions, ADamagedRecordIsSetAsideAndBackupsAndOtherRestoresGoOn) {
    for (const std::string damage : {"", "{not json", R"({"id": "someone-else", "at": 1, "result": "success"})"}) {
        SCOPED_TRACE(damage);
        VersionsFixture f;
        const auto ids = versioned_days(f, 4);
        write_file(f.versions_dir() + "/" + ids[1] + "/version.json", damage);
        Result listed = run({dailysyncctl(), "versions", "--config", f.cfg});
        EXPECT_EQ(listed.exit_code, 0) << listed.err;
        EXPECT_NE(listed.err.find("version " + ids[1] + " is damaged"), std::string::npos) << listed.err;
        EXPECT_EQ(listed.out.find(ids[1] + " "), std::string::npos) << listed.out;
        Result r = restore_at(f, "p/a", ids[2], f.dir / "at2");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(read_file(f.dir / "at2/a"), "v2");
        r = restore_at(f, "p/a", ids[0], f.dir / "at0");
        EXPECT_EQ(r.exit_code, 3) << r.err;
        EXPECT_NE(r.err.find("cannot be put together exactly"), std::string::npos) << r.err;
        EXPECT_FALSE(exists(f.dir / "at0/a"));

        const Result alerted = f.backup();
        EXPECT_EQ(alerted.exit_code, 2) << alerted.out << alerted.err;
        EXPECT_NE(alerted.out.find("versions: version " + ids[1] + " is damaged ("), std::string::npos) << alerted.out;
        EXPECT_NE(alerted.out.find("set aside as .damaged-" + ids[1]), std::string::npos) << alerted.out;
        EXPECT_TRUE(exists(f.versions_dir() + "/.damaged-" + ids[1]));
        const Result next = f.backup();
        EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
        r = restore_at(f, "p", ids[3], f.dir / "at3");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(read_file(f.dir / "at3/p/a"), "v3");
        EXPECT_EQ(read_file(f.dir / "at3/p/q"), "q-last");
    }
}

// Symlinks planted in the version store (by anyone who can write the backup share) are
// damage: never followed, set aside; nothing is written into or moved out of where they
// point.
TEST(Versions, SymlinksPlantedInTheStoreAreNeverFollowed) {
    VersionsFixture f;
    const auto ids = versioned_days(f, 2);
    const std::string outside = f.dir / "outside";
    make_dirs(outside + "/p");
    write_file(outside + "/keep", "mine");
    write_file(outside + "/p/a", "not a version");
    const auto before = snapshot(outside);
    const std::string store = f.versions_dir();
    ASSERT_EQ(::symlink(outside.c_str(), (store + "/20991231T000000Z").c_str()), 0);          // a version
    ASSERT_EQ(::symlink(outside.c_str(), (store + "/" + ids[1] + "/back").c_str()), 0);   // the newest's back/
    ASSERT_EQ(::symlink(outside.c_str(), (store + "/.merging-" + ids[1] + "-into-" + ids[0]).c_str()), 0);   // a merge
    ASSERT_EQ(::symlink(outside.c_str(), (store + "/.scratch-" + ids[1]).c_str()), 0);       // a scratch folder
    write_file(f.source + "/p/a", "changed");
    stamp({f.source + "/p/a"}, 5);
    const Result r = f.backup();
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.out.find("version 20991231T000000Z is damaged (a symlink where a version's folder belongs)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("version " + ids[1] + " is damaged (its back/ is not a folder (a symlink?))"), std::string::npos) << r.out;
    EXPECT_EQ(differences(before, snapshot(outside)), "") << "nothing written into or moved out of the outside folder";
    EXPECT_EQ(read_file(f.source + "/p/a"), "changed");
    EXPECT_EQ(read_file(f.destination + "/p/a"), "changed");
    const Result next = f.backup();
    EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
    EXPECT_EQ(differences(before, snapshot(outside)), "");
}

// A retention merge cut short (a full destination, a stopped daemon) leaves the version
// it goes into lacking what it was to take over: restores through it are refused, saying
// which, until the next run finishes the merge; then they are exact.
TEST(Versions, AVersionUnderRepairIsNeverServedAsComplete) {
    VersionsFixture f;
    const auto ids = versioned_days(f, 3);
    // What retention does first, and where a merge cut short stops: ids[1] out of the
    // list, on its way into ids[0]. Only ids[1] held q's old content ("q0", replaced by the
    // last run), so without it a restore of ids[0] would give the newest q.
    const std::string store = f.versions_dir();
    ASSERT_EQ(::rename((store + "/" + ids[1]).c_str(), (store + "/.merging-" + ids[1] + "-into-" + ids[0]).c_str()), 0);
    Result r = restore_at(f, "p", ids[0], f.dir / "at0");
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("version " + ids[0] + " is under repair (merging version " + ids[1] + " into it was cut short"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(exists(f.dir / "at0/p"));
    r = restore_at(f, "p", ids[2], f.dir / "at2");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(f.dir / "at2/p/q"), "q-last");
    const Result next = f.backup();
    EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
    EXPECT_FALSE(exists(store + "/.merging-" + ids[1] + "-into-" + ids[0]));
    r = restore_at(f, "p", ids[0], f.dir / "at0-repaired");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(f.dir / "at0-repaired/p/a"), "v0");
    EXPECT_EQ(read_file(f.dir / "at0-repaired/p/q"), "q0");
}

// A destination that fills up while the run keeps its version: the versions are part of
// what a run promises, so the run fails (and alerts) instead of saying success; with room
// again the next run succeeds and every version restores.
TEST(Versions, ARunWhoseVersionsCouldNotBeKeptIsNoSuccess) {
    VersionsFixture f;
    ASSERT_EQ(::mount("tmpfs", f.destination.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
    struct Unmount {
        std::string path;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{f.destination};
    const auto ids = versioned_days(f, 2);
    // All but one page taken: this run's version record fits, its end cannot be written.
    struct statvfs fs {};
    ASSERT_EQ(::statvfs(f.destination.c_str(), &fs), 0);
    const std::string filler = f.versions_dir() + "/.filler";
    write_file(filler, std::string(fs.f_bavail * fs.f_frsize - 4096, 'x'));
    const Result full = f.backup();
    EXPECT_EQ(full.exit_code, 2) << full.out << full.err;
    const auto report = f.report(full.out);
    EXPECT_EQ(report["result"], "failed") << report.dump(2);
    EXPECT_NE(report["error"].get<std::string>().find("versions: "), std::string::npos) << report.dump(2);
    EXPECT_NE(report["error"].get<std::string>().find("No space left on device"), std::string::npos) << report.dump(2);
    ASSERT_EQ(::unlink(filler.c_str()), 0);
    const Result next = f.backup();
    EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
    const Result r = restore_at(f, "p", ids[0], f.dir / "at0");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(read_file(f.dir / "at0/p/a"), "v0");
    EXPECT_EQ(read_file(f.dir / "at0/p/q"), "q0");
}

// The service: the guard trips a scheduled-or-started run, dailysyncctl start
// --allow-mass-change (D-Bus StartRunWithOptions) lets the wanted change through, and
// ListVersions lists what is kept, over the bus as a tool would call it.
TEST(Versions, TheServiceTripsTheGuardAndListsVersionsOverTheBus) {
    Service s(R"("versions": {"keep_daily": 5}, "max_change": 3)");
    age_tree(s.source);
    s.start();
    Result r = s.ctl({"start", "--wait"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string versions_dir = s.destination + "/" + kVersions;
    const long now = static_cast<long>(::time(nullptr));
    date_newest_in(versions_dir, now - 3 * kDay);   // each run on a day of its own
    std::vector<std::string> rewritten;
    for (int i = 0; i < 20; ++i) {
        rewritten.push_back(s.source + "/alpha/sub/f" + std::to_string(i));
        write_file(rewritten.back(), std::string(1000 + i, 'Z'));
    }
    stamp(rewritten, 1);
    r = s.ctl({"start", "--wait"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("mass change: more than 3 files"), std::string::npos) << r.out << r.err;
    date_newest_in(versions_dir, now - 2 * kDay);
    r = s.ctl({"start", "--wait", "--allow-mass-change"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_file(s.destination + "/alpha/sub/f7"), std::string(1007, 'Z'));

    auto list = [&](const std::string &path) {
        const Result called = run({"busctl", "--address=" + s.bus.address(), "--json=short", "call", "io.dailysync1", "/io/dailysync1",
                                   "io.dailysync1.Manager", "ListVersions", "s", path});
        EXPECT_EQ(called.exit_code, 0) << called.err;
        if (called.exit_code != 0) return nlohmann::json::array();
        return nlohmann::json::parse(nlohmann::json::parse(called.out)["data"][0].get<std::string>());
    };
    const auto versions = list("");
    ASSERT_EQ(versions.size(), 3u) << versions.dump(2);   // first copy, the stopped run, the allowed one
    EXPECT_EQ(versions[1]["kind"], "partial");
    EXPECT_EQ(versions[2]["kind"], "complete");
    EXPECT_GT(versions[1]["bytes"].get<std::uint64_t>(), 0u);   // what the allowed run replaced
    const auto f7 = list(s.source + "/alpha/sub/f7");
    ASSERT_EQ(f7.size(), 3u) << f7.dump(2);
    EXPECT_NE(f7[0]["state"].get<std::string>().find("1.01 kB"), std::string::npos) << f7.dump(2);
    EXPECT_TRUE(f7[2]["present"].get<bool>());
    const Result outside = run({"busctl", "--address=" + s.bus.address(), "call", "io.dailysync1", "/io/dailysync1",
                                "io.dailysync1.Manager", "ListVersions", "s", "/etc/passwd"});
    EXPECT_NE(outside.exit_code, 0);
    EXPECT_NE(outside.err.find("Not in the source"), std::string::npos) << outside.err;
    const Result unknown = run({"busctl", "--address=" + s.bus.address(), "call", "io.dailysync1", "/io/dailysync1",
                                "io.dailysync1.Manager", "StartRunWithOptions", "a{sv}", "1", "everything", "b", "true"});
    EXPECT_NE(unknown.err.find("Unknown option"), std::string::npos) << unknown.err;
}
