#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "core/versions.hpp"

using namespace dailysync;

namespace {

CivilDate civil(std::chrono::sys_days day) {
    const std::chrono::year_month_day ymd(day);
    return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
            static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

DatedPoint point(const std::string &id, std::chrono::sys_days day, int hour = 2) {
    const auto at = std::chrono::duration_cast<std::chrono::seconds>((day + std::chrono::hours(hour)).time_since_epoch()).count();
    return {VersionPoint{id, at, "success", false}, civil(day)};
}

}  // namespace

TEST(Versions, PointRecordsRoundTripAndRejectWhatIsNotOne) {
    const VersionPoint p{"20261130T020000Z", 1796000000, "warning", true};
    EXPECT_EQ(parse_point(point_json(p)), p);
    for (const char *bad : {"", "{}", "[]", R"({"id": "", "at": 1, "result": "x"})", R"({"id": "a", "at": "1", "result": "x"})",
                            R"({"id": "a", "at": 1})", R"({"id": "a", "at": 1, "result": "x", "chain_start": 1})", "not json"})
        EXPECT_FALSE(parse_point(bad)) << bad;
    EXPECT_EQ(point_kind({"a", 1, "success", false}), "complete");
    EXPECT_EQ(point_kind({"a", 1, "warning", false}), "complete");
    EXPECT_EQ(point_kind({"a", 1, "failed", false}), "partial");
    EXPECT_EQ(point_kind({"a", 1, "running", false}), "partial");   // a run that never ended
    EXPECT_EQ(point_kind({"a", 1, "start", true}), "start");
    EXPECT_EQ(start_point_id("R"), "start-of-R");
}

// 60 days of nightly runs (some days two), retention after each as the daemon does it:
// what remains is exactly the newest of each of the last 7 days, of each of the last 4
// ISO weeks and of each of the last 3 months, computed here from the calendar alone.
TEST(Versions, RetentionOverSixtySimulatedDaysKeepsExactlyTheDocumentedSet) {
    using namespace std::chrono;
    const VersionsPolicy policy{7, 4, 3};
    const sys_days first = sys_days(year(2026) / 9 / 20);
    std::vector<DatedPoint> kept;
    std::vector<DatedPoint> all;
    for (int d = 0; d < 60; ++d) {
        const sys_days day = first + days(d);
        std::vector<DatedPoint> today = {point("d" + std::to_string(d) + "a", day)};
        if (d % 9 == 4) today.push_back(point("d" + std::to_string(d) + "b", day, 14));   // a second run that day
        for (auto &p : today) {
            kept.push_back(p);
            all.push_back(p);
            const auto pruned = versions_to_prune(kept, policy);
            std::erase_if(kept, [&](const DatedPoint &k) { return std::find(pruned.begin(), pruned.end(), k.point.id) != pruned.end(); });
        }
    }
    // The expected set, from the calendar.
    std::set<std::string> expected;
    auto newest_per = [&](auto key, int count) {
        std::vector<long> seen;
        for (auto it = all.rbegin(); it != all.rend() && static_cast<int>(seen.size()) <= count; ++it) {
            const long k = key(*it);
            if (std::find(seen.begin(), seen.end(), k) != seen.end()) continue;
            seen.push_back(k);
            if (static_cast<int>(seen.size()) <= count) expected.insert(it->point.id);
        }
    };
    auto day_of = [](const DatedPoint &p) {
        return static_cast<long>(sys_days(year(p.date.year) / p.date.month / p.date.day).time_since_epoch().count());
    };
    newest_per(day_of, policy.keep_daily);
    newest_per([&](const DatedPoint &p) {   // ISO week: the Monday on or before the day
        const sys_days d = sys_days(year(p.date.year) / p.date.month / p.date.day);
        return static_cast<long>((d - (weekday(d) - Monday)).time_since_epoch().count());
    }, policy.keep_weekly);
    newest_per([](const DatedPoint &p) { return static_cast<long>(p.date.year * 12 + p.date.month); }, policy.keep_monthly);
    std::set<std::string> actual;
    for (const auto &p : kept) actual.insert(p.point.id);
    EXPECT_EQ(actual, expected);
    // Sep 20 .. Nov 18 (a Wednesday): the days Nov 12..18; the weeks add Nov 8 and Nov 1
    // (the other two are among the days); the months add Oct 31 and Sep 30.
    EXPECT_EQ(actual, (std::set<std::string>{"d53a", "d54a", "d55a", "d56a", "d57a", "d58b", "d59a", "d49b", "d42a", "d41a", "d10a"}));
}

TEST(Versions, RetentionNeverRemovesTheNewestButOneThatNeverEndedGoesLikeAnyOther) {
    using namespace std::chrono;
    const sys_days day = sys_days(year(2026) / 11 / 1);
    std::vector<DatedPoint> points = {point("a", day), point("b", day, 3), point("c", day, 4)};
    points[0].point.result = "running";   // a run the daemon did not live to finish
    EXPECT_EQ(versions_to_prune(points, {1, 0, 0}), (std::vector<std::string>{"a", "b"}));
    points[2].point.result = "running";   // the newest stays whatever it says
    EXPECT_EQ(versions_to_prune(points, {1, 0, 0}), (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(versions_to_prune({}, {1, 1, 1}).empty());
}

TEST(Versions, KeepLastAndKeepWithinCountFromTheNewestWhateverTheirDays) {
    using namespace std::chrono;
    const sys_days day = sys_days(year(2026) / 11 / 1);
    // A manual run at 15:00 after a mistake, then the night's run: one day, two points.
    const std::vector<DatedPoint> points = {point("d1", day - days(3)), point("d2", day - days(2)), point("d3", day - days(1)),
                                            point("manual", day, 15), point("night", day + days(1))};
    EXPECT_EQ(versions_to_prune(points, {1, 0, 0}), (std::vector<std::string>{"d1", "d2", "d3", "manual"}));
    VersionsPolicy last{1, 0, 0, 2, 0};
    EXPECT_EQ(versions_to_prune(points, last), (std::vector<std::string>{"d1", "d2", "d3"}));
    // Less than 3 days older than the newest (night, day+1 02:00): manual (11 h) and d3
    // (48 h); d2 is 72 h older, not within.
    VersionsPolicy within{0, 0, 0, 0, 3 * 86400};
    EXPECT_EQ(versions_to_prune(points, within), (std::vector<std::string>{"d1", "d2"}));
    // Measured from the newest point, not from now: a backup that stopped keeps its versions.
    VersionsPolicy both{0, 0, 0, 1, 3600};
    EXPECT_EQ(versions_to_prune(points, both), (std::vector<std::string>{"d1", "d2", "d3", "manual"}));
}

TEST(Versions, AtNamesAVersionOrTheLastOneOfADay) {
    using namespace std::chrono;
    const sys_days day = sys_days(year(2026) / 11 / 10);
    const std::vector<DatedPoint> points = {point("v1", day), point("v2", day, 20), point("v3", day + days(3))};
    EXPECT_EQ(choose_point(points, "v1").index, 0u);
    EXPECT_EQ(choose_point(points, "2026-11-10").index, 1u);
    EXPECT_EQ(choose_point(points, "2026-11-12").index, 1u);   // nothing that day: the one before
    EXPECT_EQ(choose_point(points, "2026-12-31").index, 2u);
    EXPECT_NE(choose_point(points, "2026-11-09").error.find("oldest kept is v1 (2026-11-10)"), std::string::npos);
    for (const char *bad : {"yesterday", "2026-13-01", "2026-11-1", "", "v4"})
        EXPECT_NE(choose_point(points, bad).error.find("is neither a version"), std::string::npos) << bad;
    EXPECT_NE(choose_point({}, "v1").error.find("no versions are kept yet"), std::string::npos);
}

TEST(Versions, AtARunRetentionMergedAwayNamesTheKeptVersionsAroundIt) {
    using namespace std::chrono;
    const sys_days day = sys_days(year(2026) / 11 / 10);
    const std::vector<DatedPoint> points = {point("20261110T020000Z", day), point("20261113T020000Z", day + days(3))};
    const std::string merged = choose_point(points, "20261111T020000Z").error;
    EXPECT_NE(merged.find("version 20261111T020000Z is no longer kept (retention merged it into the version before it): the newest "
                          "kept before it is 20261110T020000Z (2026-11-10), restored with --at 20261110T020000Z; the next kept after "
                          "it is 20261113T020000Z (2026-11-13)"),
              std::string::npos)
        << merged;
    EXPECT_NE(choose_point(points, "20261112T020000Z-2").error.find("is no longer kept"), std::string::npos);
    EXPECT_NE(choose_point(points, "20261101T020000Z").error.find(": the next kept after it is 20261110T020000Z"), std::string::npos);
    EXPECT_NE(choose_point(points, "20261101T020000").error.find("is neither a version"), std::string::npos);
}

TEST(Versions, TheLayersOfAVersionStopAtAGapInTheChain) {
    const std::vector<VersionPoint> points = {{"a", 1, "success", true}, {"b", 2, "success", false}, {"c", 3, "success", true},
                                              {"d", 4, "success", false}};
    EXPECT_EQ(restore_layers(points, 2).points, (std::vector<std::size_t>{2, 3}));
    EXPECT_EQ(restore_layers(points, 3).points, (std::vector<std::size_t>{3}));
    const auto broken = restore_layers(points, 0);
    EXPECT_TRUE(broken.points.empty());
    EXPECT_NE(broken.error.find("versions were not kept between b and c"), std::string::npos) << broken.error;
}

TEST(Versions, TheFirstLayerToSaySomethingAboutAnEntryWins) {
    RestoreView view;
    EXPECT_TRUE(view.claim("a", RestoreView::Kind::other, 0));             // a file at the version
    EXPECT_FALSE(view.claim("a", RestoreView::Kind::folder, 1));           // later layers: ignored
    EXPECT_TRUE(view.claim("d", RestoreView::Kind::absent, 0));            // created after it
    EXPECT_TRUE(view.claim("d/x", RestoreView::Kind::other, 2));           // inside an absent folder: not there
    EXPECT_TRUE(view.claim("e", RestoreView::Kind::folder, 1));
    EXPECT_TRUE(view.claim("e/f", RestoreView::Kind::other, 2));
    EXPECT_FALSE(view.descend("a"));
    EXPECT_FALSE(view.descend("d"));
    EXPECT_TRUE(view.descend("e"));
    EXPECT_TRUE(view.descend("new"));
    std::vector<std::string> present;
    for (const auto &[path, claim] : view.present()) present.push_back(path);
    EXPECT_EQ(present, (std::vector<std::string>{"a", "e", "e/f"}));
    EXPECT_EQ(view.find("e/f")->layer, 2);
    EXPECT_EQ(ancestors_of("a/b/c"), (std::vector<std::string>{"a", "a/b"}));
    EXPECT_TRUE(ancestors_of("a").empty());
}

TEST(Versions, CreationsAreTheItemizedLinesOfNewEntries) {
    auto item = [](const std::string &code, bool deletion = false) {
        ItemLine line;
        line.code = code;
        line.deletion = deletion;
        return line;
    };
    for (const char *code : {">f+++++++++", "cd+++++++++", "cL+++++++++", "hf+++++++++", "cD+++++++++"})
        EXPECT_TRUE(is_creation(item(code))) << code;
    for (const char *code : {">f.st......", ".d..t......", "cL.......", ".f         "}) EXPECT_FALSE(is_creation(item(code))) << code;
    EXPECT_FALSE(is_creation(item("*deleting  ", true)));
}

// A damaged version leaves the chain where it stood, told by its id alone.
TEST(Versions, ADamagedVersionBreaksTheChainWhereItsIdSaysItStood) {
    using Order = std::tuple<std::string, int, int>;
    EXPECT_EQ(point_id_order("20261205T232849Z"), Order("20261205T232849Z", 1, 1));
    EXPECT_EQ(point_id_order("20261205T232849Z-3"), Order("20261205T232849Z", 3, 1));
    EXPECT_EQ(point_id_order("start-of-20261205T232849Z-2"), Order("20261205T232849Z", 2, 0));
    for (const char *junk : {"", "notes", "20261205T232849", "20261205X232849Z", "20261205T232849Z-", "20261205T232849Z-x",
                             "20261205T232849Zextra", ".merging-a-into-b"})
        EXPECT_FALSE(point_id_order(junk)) << junk;
    const std::vector<VersionPoint> points{{"start-of-20261201T020000Z", 10, "start", true},
                                           {"20261201T020000Z", 20, "success", false},
                                           {"20261203T020000Z", 40, "success", false},
                                           {"20261204T020000Z", 50, "success", false}};
    // Between two: the one after it starts a chain.
    auto cut = chain_break_for(points, "20261202T020000Z");
    EXPECT_EQ(cut.restart, 2u);
    EXPECT_FALSE(cut.gap);
    // A run's own point comes after its start point.
    EXPECT_EQ(chain_break_for(points, "start-of-20261203T020000Z").restart, 2u);
    EXPECT_EQ(chain_break_for(points, "20261201T020000Z-2").restart, 2u);
    // After the newest: the next run starts a new chain.
    cut = chain_break_for(points, "20261205T020000Z");
    EXPECT_FALSE(cut.restart);
    EXPECT_TRUE(cut.gap);
    // A name that tells no time: only the newest stays exact, and a new chain follows.
    cut = chain_break_for(points, "planted");
    EXPECT_EQ(cut.restart, 3u);
    EXPECT_TRUE(cut.gap);
    EXPECT_FALSE(chain_break_for({}, "planted").restart);
}
