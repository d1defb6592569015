// The state folder on a real disk: reports with their index and retention, and reads that
// tell a missing file from an unreadable one.
#include <gtest/gtest.h>

#include <ctime>
#include <sys/stat.h>
#include <unistd.h>

#include "io/state_store.hpp"

using namespace dailysync;

namespace {
struct Folder {
    std::string path;
    Folder() {
        char dir[] = "/tmp/dailysyncd-state.XXXXXX";
        path = ::mkdtemp(dir);
    }
    ~Folder() { std::system(("rm -rf '" + path + "'").c_str()); }
};
Config config_in(const std::string &dir, int keep_runs = 400, int keep_days = 400) {
    Config c;
    c.state_dir = dir;
    c.history_keep_runs = keep_runs;
    c.history_keep_days = keep_days;
    return c;
}
std::string report(const std::string &id, std::int64_t started) {
    return R"({"schema_version": 2, "run_id": ")" + id + R"(", "result": "success", "started_epoch": )" + std::to_string(started) +
           R"(, "finished_epoch": )" + std::to_string(started + 60) + "}";
}
}  // namespace

TEST(StateStore, ReportsAreListedFromTheIndexAndPrunedByCount) {
    Folder dir;
    StateStore store(config_in(dir.path, 3));
    const std::int64_t now = std::time(nullptr);
    for (int i = 0; i < 5; ++i) {
        const std::string id = "2026110" + std::to_string(i) + "T020000Z";
        ASSERT_TRUE(store.write_report(id, report(id, now - (5 - i) * 3600)).ok());
    }
    auto runs = store.list_runs();
    ASSERT_TRUE(runs.has_value());
    ASSERT_EQ(runs.value().size(), 3u);
    EXPECT_EQ(runs.value().front().id, "20261102T020000Z");
    EXPECT_EQ(::access(store.report_path("20261100T020000Z").c_str(), F_OK), -1) << "a pruned report stayed";
    EXPECT_EQ(::access(store.report_path("20261104T020000Z").c_str(), F_OK), 0);
    EXPECT_EQ(::access(store.index_path().c_str(), F_OK), 0);
}

TEST(StateStore, OldReportsGoByAgeButTheLastRunStays) {
    Folder dir;
    StateStore store(config_in(dir.path, 400, 30));
    const std::int64_t now = std::time(nullptr);
    ASSERT_TRUE(store.write_report("20250101T020000Z", report("20250101T020000Z", now - 100 * 86400)).ok());
    ASSERT_TRUE(store.write_report("20250102T020000Z", report("20250102T020000Z", now - 90 * 86400)).ok());
    auto runs = store.list_runs();
    ASSERT_TRUE(runs.has_value());
    ASSERT_EQ(runs.value().size(), 1u);
    EXPECT_EQ(runs.value().front().id, "20250102T020000Z");
}

TEST(StateStore, AMissingIndexIsRebuiltFromTheReports) {
    Folder dir;
    StateStore store(config_in(dir.path));
    const std::int64_t now = std::time(nullptr);
    ASSERT_TRUE(store.write_report("20261101T020000Z", report("20261101T020000Z", now - 7200)).ok());
    ASSERT_TRUE(store.write_report("20261102T020000Z", report("20261102T020000Z", now - 3600)).ok());
    ASSERT_EQ(::unlink(store.index_path().c_str()), 0);   // as left by a version before the index
    auto runs = store.list_runs();
    ASSERT_TRUE(runs.has_value());
    EXPECT_EQ(runs.value().size(), 2u);
    EXPECT_EQ(::access(store.index_path().c_str(), F_OK), 0) << "the rebuilt index was not kept";
}

TEST(StateStore, MissingAndUnreadableAreDifferentAnswers) {
    Folder dir;
    StateStore store(config_in(dir.path));
    EXPECT_EQ(store.read_report("20261101T020000Z").status(), Loaded<std::string>::Status::missing);
    EXPECT_EQ(store.read_report("../etc/passwd").status(), Loaded<std::string>::Status::missing);
    ASSERT_TRUE(make_private_directory(store.report_path("20261101T020000Z")).ok());   // a folder where a report should be
    const auto unreadable = store.read_report("20261101T020000Z");
    EXPECT_EQ(unreadable.status(), Loaded<std::string>::Status::unreadable);
    EXPECT_NE(unreadable.error().find("not a regular file"), std::string::npos) << unreadable.error();
    EXPECT_EQ(store.load_tree_stats().status(), Loaded<TreeStats>::Status::missing);
    ASSERT_TRUE(write_file_atomically(store.tree_stats_path(), "garbage").ok());
    EXPECT_EQ(store.load_tree_stats().status(), Loaded<TreeStats>::Status::unreadable);
    EXPECT_EQ(store.load_concurrency().status(), Loaded<int>::Status::missing);
    ASSERT_TRUE(store.save_concurrency(6).ok());
    EXPECT_EQ(store.load_concurrency().value(), 6);
}

TEST(StateStore, AWriteThatCannotHappenSaysWhy) {
    Folder dir;
    ASSERT_TRUE(write_file_atomically(dir.path + "/file", "x").ok());
    StateStore store(config_in(dir.path + "/file/below"));   // a file where a folder must be
    const Done done = store.save_concurrency(3);
    EXPECT_FALSE(done.ok());
    EXPECT_NE(done.error().find(dir.path + "/file"), std::string::npos) << done.error();
}
