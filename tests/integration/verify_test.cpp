// Verification at rest (service mode, real rsync): a byte damaged in the backup with its
// size and time kept is what a run never sees; a verify finds it, fails loudly, and the
// next run puts the source's content back. The daily run is followed by its slice.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>

#include "helpers.hpp"
#include "service_fixture.hpp"

using namespace testing_support;
using namespace std::chrono_literals;

namespace {

// Flips one byte in the middle of a file, keeping its size and modification time.
void damage(const std::string &path) {
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    std::string content = read_file(path);
    ASSERT_FALSE(content.empty());
    content[content.size() / 2] ^= 0x20;
    write_file(path, content, st.st_mode & 07777);
    const timespec times[2] = {st.st_atim, st.st_mtim};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

nlohmann::json last_report(const Service &s) {
    const std::string run_id = parse_json(s.ctl({"status", "--json"}).out)["last_run_id"];
    return parse_json(s.ctl({"report", run_id, "--json"}).out);
}

}  // namespace

TEST(Verify, ADamagedFileIsFoundReportedAndCopiedAgainByTheNextRun) {
    Service s;
    s.write_config(R"("metrics_file": ")" + s.dir / "metrics.prom" + R"(")");
    age_tree(s.source);
    s.start();
    ASSERT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    auto clean = s.ctl({"verify"});
    EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
    EXPECT_EQ(last_report(s)["verify"]["differing"], 0);
    EXPECT_EQ(last_report(s)["verify"]["scope"], "the whole backup");

    damage(s.destination + "/alpha/sub/f7");
    const std::string before = read_file(s.destination + "/alpha/sub/f7");
    ASSERT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    EXPECT_EQ(read_file(s.destination + "/alpha/sub/f7"), before) << "a run sees nothing: size and time match";

    auto found = s.ctl({"verify"});
    EXPECT_EQ(found.exit_code, 2) << found.out << found.err;
    EXPECT_NE(found.out.find("1 file in the backup differ"), std::string::npos) << found.out;
    const auto report = last_report(s);
    EXPECT_EQ(report["verify"]["differing"], 1);
    EXPECT_EQ(report["verify"]["differing_paths"], nlohmann::json::array({"alpha/sub/f7"}));
    EXPECT_EQ(report["verify"]["marked"], 1);
    EXPECT_EQ(report["result"], "failed");
    const std::string metrics = read_file(s.dir / "metrics.prom");
    EXPECT_NE(metrics.find("dailysync_last_verify_differing_files 1\n"), std::string::npos) << metrics;
    EXPECT_EQ(read_file(s.destination + "/alpha/sub/f7"), before) << "a verify changes no content";

    // The next run copies it again: the backup equals the source.
    ASSERT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    EXPECT_EQ(read_file(s.destination + "/alpha/sub/f7"), read_file(s.source + "/alpha/sub/f7"));
    EXPECT_EQ(differences(snapshot(s.source), snapshot(s.destination)), "");
    // A verify of part of the tree leaves the last complete run's statistics alone (the
    // next run plans from them, and max_change counts against them).
    const std::string stats = read_file(s.state + "/tree-stats");
    EXPECT_EQ(s.ctl({"verify", "alpha"}).exit_code, 0);
    EXPECT_EQ(last_report(s)["verify"]["scope"], "alpha");
    EXPECT_EQ(read_file(s.state + "/tree-stats"), stats);
    const auto stopped = s.stop();
    EXPECT_NE(stopped.err.find("verify: differs from the source: alpha/sub/f7"), std::string::npos) << stopped.err;
}

TEST(Verify, APathOutsideTheSourceIsRefused) {
    Service s;
    s.start();
    ASSERT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    auto outside = s.ctl({"verify", "../etc"});
    EXPECT_EQ(outside.exit_code, 3);
    EXPECT_NE(outside.err.find("is not a folder of the source"), std::string::npos) << outside.err;
    EXPECT_EQ(s.ctl({"verify", s.source + "/alpha"}).exit_code, 0) << "an absolute path below the source is fine";
    EXPECT_EQ(last_report(s)["verify"]["scope"], "alpha");
}

TEST(Verify, TheDailyRunIsFollowedByTodaysSlice) {
    Service s;
    s.write_config(R"("verify": {"every_days": 1})");
    make_dirs(s.state);
    // Two days without a success: the daily run catches up 30 s after the start.
    const long two_days_ago = static_cast<long>(std::time(nullptr)) - 2 * 24 * 3600;
    write_file(s.state + "/state.json", R"({"last_success": )" + std::to_string(two_days_ago) + "}");
    s.start();
    nlohmann::json runs;
    for (int i = 0; i < 600; ++i) {
        runs = parse_json(s.ctl({"history", "--json"}).out);
        if (runs.is_array() && runs.size() >= 2 && parse_json(s.ctl({"status", "--json"}).out)["state"] == "idle") break;
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(runs.is_array() && runs.size() >= 2) << runs.dump(2);
    const auto verify = last_report(s);
    ASSERT_TRUE(verify.contains("verify")) << verify.dump(2);
    EXPECT_EQ(verify["verify"]["scope"], "the whole backup");
    EXPECT_EQ(verify["result"], "success");
    EXPECT_TRUE(verify["dry_run"].get<bool>());
}

// A verify finds damage of every kind: content that differs, entries missing (an empty
// backup is the extreme), and, when the backup mirrors deletions, entries the source no
// longer has; those are listed, never deleted. With delete off they are kept by design:
// listed, not damage. Files changed since the run are listed, not damage.
TEST(Verify, MissingAndExtraneousEntriesAreFoundAndNothingIsDeleted) {
    Service s;   // "delete": true
    age_tree(s.source);
    s.start();
    ASSERT_EQ(s.ctl({"start", "--wait"}).exit_code, 0);
    ASSERT_EQ(::unlink((s.destination + "/alpha/sub/f3").c_str()), 0);
    write_file(s.destination + "/beta/only-in-the-backup", "kept");
    write_file(s.source + "/alpha/sub/f5", "changed in the source since the run, longer than before");
    auto found = s.ctl({"verify"});
    EXPECT_EQ(found.exit_code, 2) << found.out << found.err;
    EXPECT_NE(found.out.find("error: verify: 1 entry of the source missing from the backup (the next run copies them); 1 entry in "
                             "the backup the source no longer has (not deleted by the verify"),
              std::string::npos)
        << found.out;
    auto report = last_report(s);
    EXPECT_EQ(report["result"], "failed");
    EXPECT_EQ(report["verify"]["missing"], 1);
    EXPECT_EQ(report["verify"]["extraneous"], 1);
    EXPECT_EQ(report["verify"]["outdated"], 1);
    EXPECT_EQ(report["verify"]["differing"], 0);
    std::string text = s.ctl({"report", report["run_id"]}).out;
    EXPECT_NE(text.find("    missing: alpha/sub/f3\n"), std::string::npos) << text;
    EXPECT_NE(text.find("verify: 1 entry the source no longer has (not deleted)\n    extraneous: beta/only-in-the-backup\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("verify: 1 file changed since the last run\n    outdated: alpha/sub/f5\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("would "), std::string::npos) << "a verify's findings are not a dry run's plan: " << text;
    EXPECT_EQ(read_file(s.destination + "/beta/only-in-the-backup"), "kept") << "a verify deletes nothing";

    // With delete off the backup keeps what the source deleted by design: listed, not damage.
    s.stop();
    write_file(s.config_path, R"({"source": ")" + s.source + R"(", "destination": ")" + s.destination + R"(", "state_dir": ")" +
                                  s.state + R"(", "retries": 0})");
    s.start();
    found = s.ctl({"verify"});
    EXPECT_EQ(found.exit_code, 2) << found.out << found.err;
    report = last_report(s);
    EXPECT_EQ(report["verify"]["extraneous"], 1) << report.dump(2);
    EXPECT_EQ(report["error"], "verify: 1 entry of the source missing from the backup (the next run copies them)");
    text = s.ctl({"report", report["run_id"]}).out;
    EXPECT_NE(text.find("verify: 1 entry the source no longer has (kept: delete is off)"), std::string::npos) << text;
    EXPECT_EQ(read_file(s.destination + "/beta/only-in-the-backup"), "kept") << "a verify deletes nothing";

    // An empty backup: every entry of the source is missing.
    remove_tree(s.destination);
    make_dirs(s.destination);
    found = s.ctl({"verify"});
    EXPECT_EQ(found.exit_code, 2) << found.out << found.err;
    report = last_report(s);
    EXPECT_EQ(report["result"], "failed");
    EXPECT_GE(report["verify"]["missing"].get<int>(), 24) << report.dump(2);
    EXPECT_EQ(snapshot(s.destination).size(), 1u) << "a verify writes nothing";
}
