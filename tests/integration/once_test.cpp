// `dailysyncd --once` against real trees with the real rsync.
#include <csignal>
#include <dirent.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <pwd.h>
#include <thread>
#include <unistd.h>

#include "helpers.hpp"
#include "once_fixture.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

// Whether a unit of the report copies the top-level folder `project` (alone or in a group).
bool covers(const nlohmann::json &unit, const std::string &project) {
    const std::string path = unit["path"];
    if (path == project || path.rfind(project + "/", 0) == 0) return true;
    if (path.empty() && unit.contains("members"))
        for (const auto &m : unit["members"])
            if (m == project) return true;
    return false;
}

std::string result_for(const nlohmann::json &report, const std::string &project) {
    for (const auto &unit : report["units"])
        if (covers(unit, project)) return unit["result"];
    return "<no such unit>";
}

// A backup's snapshot without its versions folder: what must equal the source.
template <typename Snapshot>
Snapshot without_versions(Snapshot s) {
    std::erase_if(s, [](const auto &entry) { return entry.first.rfind(".dailysync-versions", 0) == 0; });
    return s;
}

}  // namespace

TEST(Once, FirstRunMakesAnExactCopyAndNothingRunsFromNames) {
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("delete": true)");
    // Everything under the test folder except the destination and the state: untouched.
    auto outside = [&] {
        Snapshot all = snapshot(f.dir.path());
        std::erase_if(all, [](const auto &entry) { return entry.first.rfind("backup", 0) == 0 || entry.first.rfind("state", 0) == 0; });
        return all;
    };
    const Snapshot before = outside();
    auto r = run({dailysyncd(), "--once", "--config", config}, {}, std::nullopt);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("at first up to 4 rsync processes (concurrency auto)"), std::string::npos) << r.out;   // local disk
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
    Snapshot after = outside();
    after.erase(".");   // its mtime: the state folder was created in it
    Snapshot expected = before;
    expected.erase(".");
    EXPECT_EQ(differences(expected, after), "");
    EXPECT_EQ(::access((f.dir / "pwned").c_str(), F_OK), -1);
    EXPECT_EQ(::access("pwned", F_OK), -1);
    auto report = f.report(r.out);
    EXPECT_EQ(report["result"], "success");
    for (const auto &unit : report["units"]) EXPECT_EQ(unit["result"], "success") << unit.dump();
    EXPECT_EQ(result_for(report, "new\\#012line"), "success");   // names printable in the report
    EXPECT_EQ(result_for(report, "latin1-\\#351t\\#351"), "success");
    // The plain (non-terminal) view and the text report are on stdout.
    EXPECT_NE(r.out.find("TOTAL"), std::string::npos);
}

TEST(Once, SecondRunAfterEditsAdditionsAndDeletionsMatchesTheSourceAgain) {
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("delete": true)");
    ASSERT_EQ(run({dailysyncd(), "--once", "--config", config}).exit_code, 0);

    write_file(f.source + "/alpha/edit/reel1/shot1", std::string(101, 'Z'));   // same size, new content
    set_mtime(f.source + "/alpha/edit/reel1/shot1", 1'300'000'000);
    write_file(f.source + "/alpha/new-file", "new");
    make_dirs(f.source + "/alpha/new/deep/folder");
    write_file(f.source + "/alpha/new/deep/folder/x", "x");
    ::unlink((f.source + "/alpha/edit/reel1/shot2").c_str());                // file deleted
    remove_tree(f.source + "/alpha/empty");                                   // folder deleted
    remove_tree(f.source + "/beta");                                          // whole project deleted
    ::unlink((f.source + "/alpha/tool.sh").c_str());                          // file -> folder
    make_dirs(f.source + "/alpha/tool.sh");
    write_file(f.source + "/alpha/tool.sh/now-a-dir", "d");
    remove_tree(f.source + "/" + kOddNames[0]);                               // project folder -> file
    write_file(f.source + "/" + kOddNames[0], "now a file");
    make_dirs(f.source + "/gamma");                                           // new project
    write_file(f.source + "/gamma/g", "g");
    ::chmod((f.source + "/alpha/private").c_str(), 0640);                     // mode change only
    age_tree(f.source);

    auto r = run({dailysyncd(), "--once", "--config", config});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
    auto report = f.report(r.out);
    EXPECT_GE(report["totals"]["deletions"].get<int>(), 3);
    EXPECT_GE(report["totals"]["files_transferred"].get<int>(), 4);
}

TEST(Once, WithoutDeleteExtraFilesStayAtTheDestination) {
    Fixture f;
    f.build_tree();
    const std::string config = f.config();
    ASSERT_EQ(run({dailysyncd(), "--once", "--config", config}).exit_code, 0);
    // Gone from the source: a file, a whole folder with files, a whole project, a file
    // with a hostile name. Extra at the destination only: a file matching an exclude.
    // Changed type at the source: a file that became a folder.
    ::unlink((f.source + "/beta/readme").c_str());
    ASSERT_EQ(run({"rm", "-r", f.source + "/alpha/edit/reel1"}).exit_code, 0);
    ASSERT_EQ(run({"rm", "-r", f.source + "/--delete"}).exit_code, 0);
    ::unlink((f.source + "/odd/-e sh -c 'touch pwned'").c_str());
    write_file(f.destination + "/alpha/scratch.tmp", "excluded\n");
    ::unlink((f.source + "/alpha/private").c_str());
    make_dirs(f.source + "/alpha/private");
    write_file(f.source + "/alpha/private/now-a-folder", "x");
    auto r = run({dailysyncd(), "--once", "--config", f.config(R"("exclude": ["*.tmp"])")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_file(f.destination + "/beta/readme"), "beta\n");
    EXPECT_EQ(read_file(f.destination + "/alpha/edit/reel1/shot7"), std::string(107, 'h'));
    EXPECT_EQ(read_file(f.destination + "/--delete/inside"), "project --delete");
    EXPECT_EQ(read_file(f.destination + "/odd/-e sh -c 'touch pwned'"), "file -e sh -c 'touch pwned'");
    EXPECT_EQ(read_file(f.destination + "/alpha/scratch.tmp"), "excluded\n");
    EXPECT_EQ(read_file(f.destination + "/alpha/private/now-a-folder"), "x");
    EXPECT_EQ(f.report(r.out)["totals"]["deletions"], 0);
}

TEST(Once, AProjectThatCannotBeWrittenFailsAloneWithExitStatus2) {
    Fixture f;
    f.build_tree();
    // Run as an unprivileged user: root would write anyway. beta's destination folder
    // belongs to root and has the source folder's group, mode and time, so the top-level
    // unit has nothing to change on it, but the beta unit cannot create anything inside.
    const uid_t nobody = ::getpwnam("nobody")->pw_uid;
    ASSERT_EQ(run({"chown", "-R", "nobody:nogroup", f.dir.path()}).exit_code, 0);
    make_dirs(f.destination + "/beta");
    ASSERT_EQ(::chown((f.destination + "/beta").c_str(), 0, 65534), 0);   // root:nogroup, like the source's group
    ::chmod((f.destination + "/beta").c_str(), 0755);
    ::chmod((f.source + "/beta").c_str(), 0755);
    set_mtime(f.source + "/beta", 1'400'000'000);
    set_mtime(f.destination + "/beta", 1'400'000'000);
    const std::string config = f.config();
    ASSERT_EQ(run({"chown", "nobody:nogroup", config}).exit_code, 0);

    auto r = run({dailysyncd(), "--once", "--config", config}, {}, nobody);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    auto report = f.report(r.out);
    EXPECT_EQ(report["result"], "failed");
    for (const auto &unit : report["units"]) {
        if (covers(unit, "beta")) {
            EXPECT_TRUE(unit["result"] == "partial" || unit["result"] == "failed") << unit.dump();
            EXPECT_NE(unit["message"].get<std::string>().find("Permission denied"), std::string::npos) << unit.dump();
        } else {
            EXPECT_EQ(unit["result"], "success") << unit.dump(2);
        }
    }
    // Everything but beta arrived (a unit that holds beta with other projects copied those).
    auto expected = snapshot(f.source), actual = snapshot(f.destination);
    for (auto *s : {&expected, &actual}) {
        for (auto it = s->begin(); it != s->end();) it = it->first.rfind("beta", 0) == 0 ? s->erase(it) : std::next(it);
    }
    EXPECT_EQ(differences(expected, actual), "");
    EXPECT_NE(r.out.find("not copied: "), std::string::npos) << r.out;
    // The failure also goes to stderr, naming the unit; stdout keeps the report.
    EXPECT_NE(r.err.find("dailysyncd: error: unit "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("dailysyncd: error"), std::string::npos) << r.out;
}

TEST(Once, DryRunChangesNothingAndReportsWhatWouldChange) {
    Fixture f;
    f.build_tree();
    write_file(f.destination + "/stale", "would be deleted");
    const auto before = snapshot(f.destination);
    auto r = run({dailysyncd(), "--once", "--dry-run", "--config", f.config(R"("delete": true)")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(differences(before, snapshot(f.destination)), "");
    auto report = f.report(r.out);
    EXPECT_EQ(report["dry_run"], true);
    EXPECT_GT(report["totals"]["files_transferred"].get<int>(), 40);
    EXPECT_GT(report["totals"]["bytes_transferred"].get<int>(), 3'000'000);   // what would be copied
    // The deletion guard judges what a real run would delete, and the dry run lists it.
    EXPECT_EQ(report["totals"]["deletions"], 1);
    EXPECT_EQ(report["deletion_guard"]["pending"], 1);
    EXPECT_EQ(report["deletion_guard"]["refused"], false);
    EXPECT_NE(r.out.find("dry run"), std::string::npos);
    EXPECT_NE(r.out.find("deletion guard: 1 deletion found, max_delete 50%"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("a real run would delete them"), std::string::npos) << r.out;
    // Without the guard, rsync's own dry run lists the deletion.
    auto unguarded = run({dailysyncd(), "--once", "--dry-run", "--config", f.config(R"("delete": true, "max_delete": "unlimited")")});
    ASSERT_EQ(unguarded.exit_code, 0) << unguarded.out << unguarded.err;
    EXPECT_EQ(f.report(unguarded.out)["totals"]["deletions"], 1);
}

TEST(Once, MissingDestinationIsNeverCreated) {
    Fixture f;
    f.build_tree();
    remove_tree(f.destination);
    auto r = run({dailysyncd(), "--once", "--config", f.config()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(::access(f.destination.c_str(), F_OK), -1);
    EXPECT_NE(r.out.find("is not available"), std::string::npos) << r.out;
    EXPECT_EQ(f.report(r.out)["result"], "failed");
}

TEST(Once, MissingRsyncFailsTheRunClearly) {
    Fixture f;
    f.build_tree();
    auto r = run({dailysyncd(), "--once", "--config", f.config(R"("rsync_path": "/nonexistent/rsync")")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("rsync not found"), std::string::npos) << r.out;
}

TEST(Once, InterruptCancelsAndLeavesNoRsyncBehind) {
    Fixture f;
    f.build_tree();
    write_file(f.source + "/alpha/huge", std::string(20'000'000, 'h'));
    auto child = spawn({dailysyncd(), "--once", "--config", f.config(R"("rsync_extra_args": ["--bwlimit=2000"], "cancel_grace_seconds": 2)")});
    // Wait until rsync children are at work on our tree.
    wait_for_rsync(f.source + "/./alpha");
    ::kill(child.pid, SIGINT);
    auto r = wait_for(child);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("cancelling"), std::string::npos);
    EXPECT_TRUE(processes_mentioning(f.source + "/").empty());
    EXPECT_EQ(f.report(r.out)["result"], "cancelled");
}

TEST(Once, PlainProgressLinesWhenNotATerminal) {
    Fixture f;
    f.build_tree();
    write_file(f.source + "/alpha/huge", std::string(14'000'000, 'h'));
    auto r = run({dailysyncd(), "--once", "--config", f.config(R"("rsync_extra_args": ["--bwlimit=2000"])")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("progress "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("running: alpha"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("\x1b["), std::string::npos);   // no terminal control codes in a pipe
    // The first line comes before the rates cover 5 s: no made-up estimate.
    const auto first = r.out.find("progress ");
    EXPECT_NE(r.out.substr(first, r.out.find('\n', first) - first).find(" eta -- "), std::string::npos) << r.out;
}

TEST(Once, TerminalGetsALiveRedrawnView) {
    Fixture f;
    f.build_tree();
    write_file(f.source + "/alpha/huge", std::string(6'000'000, 'h'));
    // script(1) gives the program a pseudo-terminal and records what it draws.
    const std::string typescript = f.dir / "typescript";
    auto r = run({"script", "-qec",
                  dailysyncd() + " --once --config " + f.config(R"("rsync_extra_args": ["--bwlimit=3000"])"), typescript});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string screen = read_file(typescript);
    EXPECT_NE(screen.find("\x1b[2K"), std::string::npos);   // lines are redrawn in place
    EXPECT_NE(screen.find("files"), std::string::npos);
    EXPECT_NE(screen.find("eta"), std::string::npos);
    EXPECT_NE(screen.find("TOTAL"), std::string::npos);
    // At 80 columns every line of the live view fits, the fields whole.
    write_file(f.source + "/alpha/huge", std::string(6'000'000, 'i'));
    auto narrow = run_in_pty({dailysyncd(), "--once", "--config", f.config(R"("rsync_extra_args": ["--bwlimit=3000"])")}, {}, 80);
    ASSERT_EQ(narrow.exit_code, 0) << narrow.out;
    const auto live = narrow.out.substr(narrow.out.find('\n') + 1);   // after the header naming the paths
    EXPECT_LE(widest_drawn_line(live.substr(0, live.find("UNIT "))), 80u) << narrow.out;
    EXPECT_NE(live.find(" files  "), std::string::npos) << narrow.out;
    EXPECT_NE(live.find("] "), std::string::npos) << "80 columns leave room for a bar: " << narrow.out;
}

TEST(CheckConfig, InvalidConfigIsOneLineAndExitStatus78) {
    TempDir dir;
    const std::string path = write_config(dir, R"({"source": "/data/prod", "destination": "/backup", "concurrency": 0})");
    auto r = run({dailysyncd(), "--check-config", "--config", path});
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_EQ(r.err, "dailysyncd: " + path + ": /concurrency: must be from 1 to 256 (got 0)\n");
    EXPECT_EQ(r.out, "");
    // --once refuses the same file the same way.
    EXPECT_EQ(run({dailysyncd(), "--once", "--config", path}).exit_code, 78);
}

TEST(CheckConfig, NonexistentSourceAndUnreadableFile) {
    // A missing source is no configuration error (a NAS mounts later): --check-config
    // warns, and a run fails with its own clear error, exit 2, with a report.
    TempDir dir;
    make_dirs(dir / "backup");
    const std::string config = write_config(dir, R"({"source": "/nonexistent/prod", "destination": ")" + (dir / "backup") +
                                                     R"(", "state_dir": ")" + (dir / "state") + R"("})");
    auto r = run({dailysyncd(), "--check-config", "--config", config});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("warning: " + config + ": /source: cannot be used: No such file or directory (every run fails until it exists) (got \"/nonexistent/prod\")"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(run({dailysyncd(), "--check-config", "--strict", "--config", config}).exit_code, 78);
    auto once = run({dailysyncd(), "--once", "--config", config});
    EXPECT_EQ(once.exit_code, 2) << once.out << once.err;
    EXPECT_NE(once.err.find("dailysyncd: error: the source /nonexistent/prod is not available: No such file or directory"), std::string::npos)
        << once.err;
    EXPECT_NE(once.out.find("report: "), std::string::npos) << once.out;
    r = run({dailysyncd(), "--check-config", "--config", dir / "missing.json"});
    EXPECT_EQ(r.exit_code, 78);
    EXPECT_NE(r.err.find("cannot read the configuration"), std::string::npos) << r.err;
}

TEST(CheckConfig, ValidConfigPrintsTheEffectiveConfig) {
    TempDir dir;
    make_dirs(dir / "src");
    auto r = run({dailysyncd(), "--check-config", "--config",
                  write_config(dir, R"({"source": ")" + (dir / "src") + R"(", "destination": "/backup"})")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto effective = nlohmann::json::parse(r.out);
    EXPECT_EQ(effective["daily_at"], "02:00");
    EXPECT_EQ(effective["concurrency"], "auto");
}

TEST(CommandLine, UsageErrorsAndHelp) {
    EXPECT_EQ(run({dailysyncd(), "--bogus"}).exit_code, 64);
    auto help = run({dailysyncd(), "--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("--once"), std::string::npos);
}

TEST(Once, SplitFoldersKeepDeletionsAndTypeChangesExact) {
    Fixture f;   // the classic planner's split units: each rsync compares
    // "big" is most of the tree: split into its own entries and packed subfolders; "heavy"
    // inside it is big enough to be split again, also when planned as an update (where a
    // unit must be worth Planner::kMinShareUpdate entries).
    for (int s = 0; s < 4; ++s)
        for (int d = 0; d < 3; ++d) {
            const std::string dir = f.source + "/big/sub" + std::to_string(s) + "/d" + std::to_string(d);
            make_dirs(dir);
            for (int i = 0; i < 30; ++i) write_file(dir + "/f" + std::to_string(i), "x" + std::to_string(i));
        }
    for (int d = 0; d < 4; ++d) {
        const std::string dir = f.source + "/big/heavy/part" + std::to_string(d);
        make_dirs(dir);
        for (int i = 0; i < 270; ++i) write_file(dir + "/f" + std::to_string(i), "h");
    }
    write_file(f.source + "/big/own-file", "own");
    write_file(f.source + "/big/becomes-dir", "file now");
    make_dirs(f.source + "/big/heavy/becomes-file");
    write_file(f.source + "/big/heavy/becomes-file/inner", "inner");
    make_dirs(f.source + "/small");
    write_file(f.source + "/small/s", "s");
    age_tree(f.source);
    const std::string config = f.config(R"("daily_compare": "rsync", "delete": true, "concurrency": 2)");

    auto first = run({dailysyncd(), "--once", "--config", config});
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
    auto expect_split = [](const nlohmann::json &report) {
        bool split_big = false, split_heavy = false;
        for (const auto &unit : report["units"]) {
            split_big |= unit["path"] == "big" && unit["recursive"] == false;
            split_heavy |= unit["path"] == "big/heavy" && unit["recursive"] == false;
        }
        EXPECT_TRUE(split_big) << report.dump(1);
        EXPECT_TRUE(split_heavy) << report.dump(1);
    };
    expect_split(f.report(first.out));
    ASSERT_EQ(::access((f.state + "/tree-stats").c_str(), F_OK), 0);

    // Changes inside split folders, planned from the first run's statistics.
    ::unlink((f.source + "/big/own-file").c_str());                        // file deleted in a split folder
    remove_tree(f.source + "/big/sub1");                                    // folder deleted (it was in a packed unit)
    remove_tree(f.source + "/big/heavy/part2");                             // folder deleted in a split-again folder
    ::unlink((f.source + "/big/becomes-dir").c_str());                      // file -> folder
    make_dirs(f.source + "/big/becomes-dir/deeper");
    write_file(f.source + "/big/becomes-dir/deeper/x", "x");
    remove_tree(f.source + "/big/heavy/becomes-file");                      // folder -> file
    write_file(f.source + "/big/heavy/becomes-file", "a file now");
    make_dirs(f.source + "/big/brand-new/inside");                          // folder unknown to the statistics
    write_file(f.source + "/big/brand-new/inside/n", "n");
    write_file(f.source + "/big/sub0/d0/f0", "changed content");           // change in a packed folder
    age_tree(f.source);

    auto second = run({dailysyncd(), "--once", "--config", config});
    ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
    auto report2 = f.report(second.out);
    expect_split(report2);
    EXPECT_GE(report2["totals"]["deletions"].get<int>(), 3);

    // Nothing changed: nothing copied, still identical.
    auto third = run({dailysyncd(), "--once", "--config", config});
    ASSERT_EQ(third.exit_code, 0) << third.out << third.err;
    EXPECT_EQ(f.report(third.out)["totals"]["files_transferred"], 0);
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
}

// daily_compare "daemon": the daemon compares both trees and rsync copies only what
// differs, through the deletion guard's two passes and into the version, with deletions,
// type changes both ways and new folders; nothing changed: no rsync at all.
TEST(Once, TheDaemonsCompareCopiesOnlyWhatChanged) {
    Fixture f;
    auto mirror = [&f] { return without_versions(snapshot(f.destination)); };
    for (int s = 0; s < 4; ++s)
        for (int i = 0; i < 30; ++i) {
            make_dirs(f.source + "/big/sub" + std::to_string(s));
            write_file(f.source + "/big/sub" + std::to_string(s) + "/f" + std::to_string(i), "x" + std::to_string(i));
        }
    write_file(f.source + "/big/own-file", "own");
    write_file(f.source + "/big/becomes-dir", "file now");
    make_dirs(f.source + "/big/becomes-file");
    write_file(f.source + "/big/becomes-file/inner", "inner");
    write_file(f.source + "/small", "s");
    age_tree(f.source);
    const std::string config =
        f.config(R"("delete": true, "concurrency": 2, "daily_compare": "daemon", "versions": {"keep_daily": 3})");
    auto first = run({dailysyncd(), "--once", "--config", config});
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    EXPECT_FALSE(f.report(first.out).contains("compare"));   // a first copy: nothing to compare with

    ::unlink((f.source + "/big/own-file").c_str());
    remove_tree(f.source + "/big/sub1");
    ::unlink((f.source + "/big/becomes-dir").c_str());
    make_dirs(f.source + "/big/becomes-dir/deeper");
    write_file(f.source + "/big/becomes-dir/deeper/x", "x");
    remove_tree(f.source + "/big/becomes-file");
    write_file(f.source + "/big/becomes-file", "a file now");
    write_file(f.source + "/big/sub0/f0", "changed content");
    age_tree(f.source);
    auto second = run({dailysyncd(), "--once", "--config", config});
    ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
    EXPECT_EQ(differences(snapshot(f.source), mirror()), "");
    const auto report = f.report(second.out);
    ASSERT_TRUE(report.contains("compare")) << report.dump(1);
    EXPECT_TRUE(report["compare"]["used"].get<bool>());
    EXPECT_EQ(report["compare"]["deleted"], 2);   // own-file and sub1 (a folder counts once)
    EXPECT_EQ(report["compare"]["replaced"], 2);
    // The daemon's own peak memory (getrusage), in bytes: a real process holds megabytes.
    EXPECT_GT(report["memory"]["daemon_peak_rss_bytes"].get<double>(), 1e6) << report.dump(1);
    EXPECT_LT(report["memory"]["daemon_peak_rss_bytes"].get<double>(), 1e9) << report.dump(1);
    EXPECT_GE(report["totals"]["deletions"].get<int>(), 2);
    for (const auto &unit : report["units"]) EXPECT_TRUE(unit.contains("listed")) << unit.dump();
    // What the run replaced or deleted is in its version.
    EXPECT_NE(run({"sh", "-c", "find '" + f.destination + "/.dailysync-versions' -name own-file | grep -q ."}).exit_code, 1);

    auto third = run({dailysyncd(), "--once", "--config", config});
    ASSERT_EQ(third.exit_code, 0) << third.out << third.err;
    const auto quiet = f.report(third.out);
    EXPECT_EQ(quiet["units"].size(), 0u) << quiet.dump(1);
    EXPECT_EQ(quiet["compare"]["created"], 0);
    EXPECT_EQ(differences(snapshot(f.source), mirror()), "");
}

// The deletions the compare found, when each is one file, are allowed by the guard before
// copying: the listed rsyncs delete them in their only pass (no second pass), into the
// version. Beyond max_delete, every first pass deletes nothing and the guard refuses.
TEST(Once, TheDaemonsCompareDeletesCountedFilesInOnePassWithinTheLimit) {
    Fixture f;
    auto mirror = [&f] { return without_versions(snapshot(f.destination)); };
    for (int s = 0; s < 3; ++s) {
        make_dirs(f.source + "/p" + std::to_string(s));
        for (int i = 0; i < 20; ++i) write_file(f.source + "/p" + std::to_string(s) + "/f" + std::to_string(i), "x" + std::to_string(i));
    }
    age_tree(f.source);
    auto config = [&f](const std::string &limit) {
        return f.config(R"("delete": true, "max_delete": )" + limit + R"(, "daily_compare": "daemon", "versions": {"keep_daily": 3})");
    };
    auto first = run({dailysyncd(), "--once", "--config", config("3")});
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;

    for (const char *gone : {"/p0/f1", "/p1/f2", "/p2/f3"}) ::unlink((f.source + gone).c_str());
    write_file(f.source + "/p0/new", "new");
    age_tree(f.source);
    auto second = run({dailysyncd(), "--once", "--config", config("3")});
    ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
    EXPECT_EQ(differences(snapshot(f.source), mirror()), "");
    const auto report = f.report(second.out);
    EXPECT_EQ(report["compare"]["deleted"], 3);
    EXPECT_EQ(report["totals"]["deletions"], 3);
    EXPECT_EQ(report["deletion_guard"]["pending"], 3);
    EXPECT_EQ(report["deletion_guard"]["before_copying"], 3);
    for (const auto &unit : report["units"])
        EXPECT_EQ(unit["name"].get<std::string>().find("(deletions)"), std::string::npos) << "no second pass: " << unit.dump();
    EXPECT_NE(second.out.find("deletions found, max_delete 3 allows 3 of "), std::string::npos) << second.out;
    EXPECT_NE(second.out.find("deleted (3 allowed before copying)"), std::string::npos) << second.out;
    EXPECT_EQ(run({"sh", "-c", "find '" + f.destination + "/.dailysync-versions' -name f2 | grep -q ."}).exit_code, 0)
        << "the deleted file is kept in the version";

    // Four gone, three allowed: nothing is deleted, the run fails with the numbers.
    for (const char *gone : {"/p0/f4", "/p1/f5", "/p2/f6", "/p2/f7"}) ::unlink((f.source + gone).c_str());
    auto third = run({dailysyncd(), "--once", "--config", config("3")});
    EXPECT_EQ(third.exit_code, 2) << third.out << third.err;
    const auto refused = f.report(third.out);
    EXPECT_TRUE(refused["deletion_guard"]["refused"].get<bool>()) << refused.dump(1);
    EXPECT_EQ(refused["deletion_guard"]["before_copying"], 0);
    EXPECT_EQ(refused["totals"]["deletions"], 0);
    for (const char *kept : {"/p0/f4", "/p1/f5", "/p2/f6", "/p2/f7"})
        EXPECT_TRUE(std::filesystem::exists(f.destination + kept)) << kept;
}

TEST(Once, AOnceKilledDuringItsRunIsRecordedAsInterruptedByWhoeverRunsNext) {
    // The service records its own killed runs from state.json; a --once leaves its run id
    // in the run lock it held, and the next holder (a --once or the service) records it.
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("rsync_extra_args": ["--bwlimit=200"])");
    auto spawned = spawn({dailysyncd(), "--once", "--config", config});
    wait_for_rsync(f.source);
    const std::string holder = read_file(f.state + "/run.lock");
    const auto doc = nlohmann::json::parse(holder, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << holder;
    const std::string killed = doc.value("run_id", "");
    ASSERT_FALSE(killed.empty()) << holder;
    ::kill(spawned.pid, SIGKILL);
    wait_for(spawned);
    EXPECT_NE(::access((f.state + "/runs/" + killed + ".json").c_str(), F_OK), 0) << "a killed --once wrote its report";

    auto r = run({dailysyncd(), "--once", "--config", f.config()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("warning: run " + killed + " (dailysyncd --once) was interrupted: its process ended without finishing it"),
              std::string::npos)
        << r.err;
    const auto recorded = parsed_report(read_file(f.state + "/runs/" + killed + ".json"));
    EXPECT_EQ(recorded.value("result", ""), "interrupted") << recorded.dump(2);
    const auto index = read_file(f.state + "/runs/index.json");
    EXPECT_NE(index.find(killed), std::string::npos) << index;
    // Recorded once: the run after finds nothing left behind.
    r = run({dailysyncd(), "--once", "--config", f.config()});
    EXPECT_EQ(r.err.find("was interrupted"), std::string::npos) << r.err;
}
