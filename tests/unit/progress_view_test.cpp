#include <gtest/gtest.h>

#include "core/progress_view.hpp"

using namespace dailysync;

namespace {
RunModel running_run() {
    auto unit = [](const std::string &name, std::uint64_t entries, std::uint64_t bytes) {
        WorkUnit u;
        u.name = name;
        u.base = name;
        u.estimated_entries = entries;
        u.estimated_bytes = bytes;
        return u;
    };
    RunModel run("r", {unit(".", 1, 0), unit("alpha", 100, 1000), unit("caf\xc3\xa9-project-with-a-rather-long-name", 100, 1000)},
                 false, WallClock::time_point{});
    run.unit_started(1, WallClock::time_point{});
    run.unit_started(2, WallClock::time_point{});
    TransferCounters c;
    c.entries_seen = 50;
    run.unit_progress(1, c, 500);
    return run;
}
}  // namespace

TEST(ProgressView, Bar) {
    EXPECT_EQ(progress_bar(0.0, 7), "[.....]");
    EXPECT_EQ(progress_bar(0.5, 12), "[#####.....]");
    EXPECT_EQ(progress_bar(1.5, 7), "[#####]");
    EXPECT_EQ(progress_bar(0.5, 2), "");
}

TEST(ProgressView, LiveViewHasOverallLineAndOneLinePerRunningUnit) {
    auto run = running_run();
    auto lines = live_view(snapshot_of(run), 200);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_NE(lines[0].find("units 0/3"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("50/201 files"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("eta --"), std::string::npos);
    EXPECT_NE(lines[1].find("alpha"), std::string::npos);
    EXPECT_NE(lines[1].find(" 50%"), std::string::npos) << lines[1];
}

TEST(ProgressView, LinesFitTheWidthCountingCharactersNotBytes) {
    auto run = running_run();
    for (std::size_t width : {30u, 60u, 79u}) {
        for (const auto &line : live_view(snapshot_of(run), width)) {
            std::size_t columns = 0;
            for (unsigned char c : line) columns += (c & 0xC0) != 0x80;
            EXPECT_LE(columns, width) << line;
        }
    }
}

TEST(ProgressView, At80ColumnsTheLineKeepsItsWidthAndCutsNoField) {
    // The same run at different moments: the first line is exactly as wide each time, and
    // what does not fit is left out whole (no "1.2" of "1.23 GB", no "fil" of "files").
    ProgressSnapshot p;
    p.bytes_total = 987'654'321;
    p.files_total = 123'456;
    p.units = {{"alpha", "running", 0, 1, 0, 1}, {std::string(100, 'x'), "running", 0, 1, 0, 1}};
    std::size_t first_width = 0;
    for (std::uint64_t step : {0ull, 1ull, 7ull, 99ull}) {
        p.bytes_done = p.bytes_total / 100 * step;
        p.files_done = p.files_total / 100 * step;
        p.bytes_per_second = step ? 12'345.0 * static_cast<double>(step * step) : 0;
        p.eta_seconds = step ? std::optional<double>(4000.0 / static_cast<double>(step)) : std::nullopt;
        for (std::size_t width : {80u, 40u}) {
            const auto lines = live_view(p, width);
            if (width == 80) {
                if (!first_width) first_width = lines[0].size();
                EXPECT_EQ(lines[0].size(), first_width) << lines[0];
                EXPECT_NE(lines[0].find(" files"), std::string::npos) << lines[0];
                EXPECT_NE(lines[0].find("eta "), std::string::npos) << lines[0];
            }
            for (const auto &line : lines) EXPECT_LE(line.size(), width) << line;
            // Whatever is shown is whole: a files count ends in " files", a units count has its "/".
            EXPECT_EQ(lines[0].find(" fil") == std::string::npos, lines[0].find(" files") == std::string::npos) << lines[0];
            EXPECT_EQ(lines[2].substr(lines[2].size() - 3), "...") << lines[2];   // a long name is elided, visibly
        }
    }
}

TEST(ProgressView, PlainLineNamesRunningUnits) {
    auto line = plain_progress_line(snapshot_of(running_run()));
    EXPECT_EQ(line.rfind("progress ", 0), 0u);
    EXPECT_NE(line.find("running: alpha, caf"), std::string::npos) << line;
}

TEST(ProgressView, SnapshotFromBusValuesDrawsTheSameView) {
    ProgressSnapshot p;
    p.bytes_done = 500;
    p.bytes_total = 2000;
    p.files_done = 50;
    p.files_total = 201;
    p.units = {{".", "success", 0, 0, 1, 1}, {"alpha", "running", 500, 1000, 50, 100}, {"beta", "pending", 0, 1000, 0, 100}};
    auto lines = live_view(p, 200);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[0].find("units 1/3"), std::string::npos) << lines[0];
    p.units[1].state = "success";
    p.units[2].state = "failed";
    EXPECT_NE(live_view(p, 200)[0].find("100%"), std::string::npos) << "all units final: the run is complete";
    EXPECT_EQ(plain_progress_line(p).find("running"), std::string::npos);
}
