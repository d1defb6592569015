// What the admin sees: one "last run" in status text, JSON and history; dry runs marked
// and listed path by path; errors on stderr; --check-config warnings; messages without a
// doubled prefix. The real daemon on a private bus, real rsync.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "helpers.hpp"
#include "once_fixture.hpp"
#include "service_fixture.hpp"

using namespace testing_support;

TEST(AdminView, StatusTextJsonAndHistoryAgreeOnTheLastRunAndDryRunsNeverCount) {
    Service s;
    age_tree(s.source);
    s.start();
    ASSERT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    const std::string backup_run = parse_json(s.ctl({"status", "--json"}).out)["last_run_id"];
    // A dry run into the same state folder afterwards: newest in the history, never the last run.
    write_file(s.source + "/beta/new", "n");
    auto dry = run({dailysyncd(), "--once", "--dry-run", "--config", s.config_path});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;

    auto json = parse_json(s.ctl({"status", "--json"}).out);
    EXPECT_EQ(json["last_run_id"], backup_run);
    EXPECT_EQ(json["last_result"], "success");
    EXPECT_TRUE(json.contains("last_run_started")) << json;
    auto text = s.ctl({"status"});
    EXPECT_NE(text.out.find("last run:   " + backup_run + " success, started "), std::string::npos) << text.out;
    // The documented pipeline works.
    auto report = s.ctl({"report", json["last_run_id"]});
    EXPECT_EQ(report.exit_code, 0) << report.err;
    EXPECT_NE(report.out.find("run " + backup_run + ": success"), std::string::npos) << report.out;

    auto history = parse_json(s.ctl({"history", "--json"}).out);
    ASSERT_EQ(history.size(), 2u) << history;
    EXPECT_EQ(history[0]["run_id"], backup_run);
    EXPECT_EQ(history[0]["dry_run"], false);
    EXPECT_EQ(history[1]["dry_run"], true);
    const std::string history_text = s.ctl({"history"}).out;
    const std::string last_line = history_text.substr(history_text.rfind('\n', history_text.size() - 2) + 1);
    EXPECT_NE(last_line.find("dry run"), std::string::npos) << history_text;
    EXPECT_EQ(history_text.substr(0, history_text.find(history[1]["run_id"].get<std::string>())).find("dry run"), std::string::npos)
        << "only the dry run is marked: " << history_text;
}

TEST(AdminView, DryRunListsWhatWouldChangePathByPathAndChangesNothing) {
    Fixture f;
    f.build_tree();
    const std::string config = f.config(R"("delete": true)");
    ASSERT_EQ(run({dailysyncd(), "--once", "--config", config}).exit_code, 0);
    write_file(f.source + "/alpha/new.mov", "new");                          // would copy
    write_file(f.source + "/beta/readme", "beta, edited\n");                 // would update
    ::chmod((f.source + "/alpha/tool.sh").c_str(), 0700);                    // would set attributes
    ::unlink((f.source + "/alpha/edit/reel1/shot3").c_str());                // would delete
    make_dirs(f.source + "/gamma");
    write_file(f.source + "/gamma/g", "g");                                  // a new project
    write_file(f.source + "/odd/new\nline-2", "x");                          // a hostile name, escaped
    const auto before = snapshot(f.destination);
    auto r = run({dailysyncd(), "--once", "--dry-run", "--config", config});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(differences(before, snapshot(f.destination)), "");
    for (const char *line : {"would copy            alpha/new.mov\n", "would update          beta/readme\n",
                             "would set attributes  alpha/tool.sh\n", "would delete          alpha/edit/reel1/shot3\n",
                             "would copy            gamma/\n", "would copy            gamma/g\n", "would copy            odd/new\\#012line-2\n"})
        EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
    EXPECT_EQ(r.out.find("would copy            beta/\n"), std::string::npos) << "up-to-date entries are not listed";
    auto report = f.report(r.out);
    EXPECT_EQ(report["dry_run"], true);
    EXPECT_EQ(report["changes"]["counts"]["delete"], 1);
    EXPECT_EQ(report["changes"]["counts"]["update"], 1);
    EXPECT_EQ(report["changes"]["omitted"], 0);
    bool listed = false;
    for (const auto &c : report["changes"]["listed"]) listed = listed || (c["action"] == "attributes" && c["path"] == "alpha/tool.sh");
    EXPECT_TRUE(listed) << report["changes"];
    EXPECT_NE(r.out.find(" 0 failed, 4 files to copy, 1 to delete\n"), std::string::npos) << r.out;

    // Bounded: 1,200 new files list 1,000 and say how many more.
    make_dirs(f.source + "/many");
    for (int i = 0; i < 1200; ++i) write_file(f.source + "/many/f" + std::to_string(i), "x");
    auto big = run({dailysyncd(), "--once", "--dry-run", "--config", config});
    ASSERT_EQ(big.exit_code, 0) << big.err;
    auto big_report = f.report(big.out);
    EXPECT_EQ(big_report["changes"]["listed"].size(), 1000u);
    const auto omitted = big_report["changes"]["omitted"].get<std::uint64_t>();
    EXPECT_GE(omitted, 200u);
    EXPECT_NE(big.out.find("... and " + std::to_string(omitted) + " more changes (the report lists the first 1000)\n"), std::string::npos);
}

TEST(AdminView, OnceWritesErrorsToStderrAndTheReportToStdout) {
    Fixture f;
    f.build_tree();
    ::rmdir(f.destination.c_str());
    auto r = run({dailysyncd(), "--once", "--config", f.config()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("dailysyncd: error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(f.destination), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("dailysyncd: error"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("TOTAL"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("report: "), std::string::npos) << r.out;

}

TEST(AdminView, CheckConfigWarnsWhatRunsWouldTripOnAndStrictFails) {
    TempDir dir;
    make_dirs(dir / "prod");
    const std::string config = write_config(dir, R"({"source": ")" + (dir / "prod") + R"(", "destination": ")" + (dir / "missing") +
                                                     R"(", "rsync_path": "/nonexistent/rsync"})");
    auto r = run({dailysyncd(), "--check-config", "--config", config});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\"destination\""), std::string::npos) << r.out;   // the effective configuration
    EXPECT_NE(r.err.find("dailysyncd: warning: " + config + ": /rsync_path: is not an executable program here"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("dailysyncd: warning: " + config + ": /destination: cannot be used: No such file or directory"), std::string::npos)
        << r.err;
    auto strict = run({dailysyncd(), "--check-config", "--strict", "--config", config});
    EXPECT_EQ(strict.exit_code, 78) << strict.err;
    EXPECT_EQ(run({dailysyncd(), "--once", "--strict", "--config", config}).exit_code, 64);
    // Nothing to warn about: --strict passes.
    make_dirs(dir / "missing");
    const std::string good = write_config(dir, R"({"source": ")" + (dir / "prod") + R"(", "destination": ")" + (dir / "missing") + R"("})");
    auto fine = run({dailysyncd(), "--check-config", "--strict", "--config", good});
    EXPECT_EQ(fine.exit_code, 0) << fine.err;
    EXPECT_EQ(fine.err, "");
    // A directory given as the configuration file says so.
    auto folder = run({dailysyncd(), "--check-config", "--config", dir / "prod"});
    EXPECT_EQ(folder.exit_code, 78);
    EXPECT_EQ(folder.err, "dailysyncd: " + (dir / "prod") + ": is a directory, not a configuration file\n");
}

TEST(AdminView, ErrorsFromTheDaemonCarryOnePrefix) {
    Service s;
    s.start();
    write_file(s.config_path, R"({"source": ")" + s.source + R"(", "destination": ")" + s.destination + R"(", "concurency": 4})");
    auto r = s.ctl({"reload"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("dailysyncctl: " + s.config_path + ": /concurency: unknown key"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("dailysyncd:"), std::string::npos) << r.err;
}
