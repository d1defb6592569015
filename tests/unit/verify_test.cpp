#include "core/verify.hpp"

#include <gtest/gtest.h>
#include <map>
#include <set>

#include "core/config.hpp"
#include "core/names.hpp"
#include "core/rsync_output.hpp"
#include "core/run_model.hpp"

using namespace dailysync;

namespace {
TreeStats tree_of(int projects) {
    TreeStats t;
    for (int p = 0; p < projects; ++p) {
        const std::string name = "project" + std::to_string(p);
        t.add_entry("", name, true, 0);
        for (int f = 0; f < 5; ++f) t.add_entry(name, "f" + std::to_string(f), false, 100);
    }
    t.add_entry("", "README", false, 10);
    t.finalize();
    return t;
}
}  // namespace

TEST(Verify, EverySliceComesOncePerPeriodWhateverTheStartDay) {
    for (int every : {1, 7, 30}) {
        std::set<int> seen;
        for (std::int64_t day = 20000; day < 20000 + every; ++day) seen.insert(slice_of_day(day, every));
        EXPECT_EQ(seen.size(), static_cast<std::size_t>(every)) << every;
    }
    EXPECT_EQ(slice_of_day(-1, 7), 6);
    EXPECT_EQ(slice_of_day(12345, 1), 0);
}

TEST(Verify, SlicesCoverEveryProjectExactlyOnceAndKeepThemFromOnePeriodToTheNext) {
    const TreeStats stats = tree_of(40);
    const Planner planner(stats, 4, Planner::Work::update);
    std::map<std::string, int> covered;   // project -> slices it was in
    std::size_t top_units = 0;
    for (int slice = 0; slice < 7; ++slice) {
        const auto units = verify_units(VerifyRequest{std::nullopt, 7, slice}, stats, planner);
        for (const auto &unit : units) {
            if (unit.base.empty() && unit.members.empty()) {
                ++top_units;
                EXPECT_FALSE(unit.recursive) << "the top-level unit holds only the source's own entries";
                EXPECT_FALSE(unit.expand);
                continue;
            }
            if (unit.members.empty()) ++covered[unit.base.substr(0, unit.base.find('/'))];
            for (const auto &member : unit.members) ++covered[member];
        }
        EXPECT_EQ(slice_of("project3", 7), slice_of("project3", 7));
    }
    EXPECT_EQ(top_units, 1u);
    EXPECT_EQ(covered.size(), 40u);
    for (const auto &[project, count] : covered) EXPECT_EQ(count, 1) << project;
    // Spread: no slice holds more than half of the projects.
    std::map<int, int> per_slice;
    for (int p = 0; p < 40; ++p) ++per_slice[slice_of("project" + std::to_string(p), 7)];
    for (const auto &[slice, count] : per_slice) EXPECT_LT(count, 20) << slice;
}

TEST(Verify, APathIsOneFolderWholeAndTheScopeSaysWhat) {
    const TreeStats stats = tree_of(3);
    const Planner planner(stats, 4, Planner::Work::update);
    const auto units = verify_units(VerifyRequest{std::string("project1/sub"), 1, 0}, stats, planner);
    ASSERT_EQ(units.size(), 1u);
    EXPECT_EQ(units[0].base, "project1/sub");
    EXPECT_TRUE(units[0].recursive);
    EXPECT_EQ(verify_scope_text(VerifyRequest{std::string("project1/sub"), 1, 0}, units), "project1/sub");
    EXPECT_EQ(verify_scope_text(VerifyRequest{std::string(""), 1, 0}, units), "the whole backup");
    const auto slice = verify_units(VerifyRequest{std::nullopt, 3, 1}, stats, planner);
    EXPECT_EQ(verify_scope_text(VerifyRequest{std::nullopt, 3, 1}, slice).rfind("slice 2 of 3", 0), 0u);
}

TEST(Verify, DamageIsDifferingContentMissingEntriesAndWhatAMirrorShouldNotHold) {
    VerifyOutcome o;
    EXPECT_FALSE(verify_found_damage(o));
    o.outdated = 5;   // the source changed since the run: the next run copies them
    EXPECT_FALSE(verify_found_damage(o));
    o.extraneous = 2;   // kept by design with delete off
    EXPECT_FALSE(verify_found_damage(o));
    o.mirror = true;
    EXPECT_TRUE(verify_found_damage(o));
    EXPECT_EQ(verify_error(o), "verify: 2 entries in the backup the source no longer has (not deleted by the verify; the next "
                               "run deletes them within max_delete)");
    o = VerifyOutcome{};
    o.missing = 1;
    EXPECT_TRUE(verify_found_damage(o));
    EXPECT_EQ(verify_error(o), "verify: 1 entry of the source missing from the backup (the next run copies them)");
    o.differing = 3;
    o.marked = 3;
    EXPECT_NE(verify_error(o).find("verify: 3 files in the backup differ"), std::string::npos);
    EXPECT_NE(verify_error(o).find("the next run copies them again; 1 entry of the source missing"), std::string::npos);
    o.marked = 2;
    EXPECT_NE(verify_error(o).find("2 of them marked"), std::string::npos);
}

TEST(Verify, FindingsAreCountedAndListedByKind) {
    ChangeList changes;
    changes.counts[static_cast<int>(ChangeKind::copy)] = 30;
    changes.counts[static_cast<int>(ChangeKind::remove)] = 1;
    changes.counts[static_cast<int>(ChangeKind::update)] = 2;
    for (int i = 0; i < 30; ++i) changes.listed.push_back({ChangeKind::copy, "a/m" + std::to_string(i)});
    changes.listed.push_back({ChangeKind::remove, "a/old"});
    changes.listed.push_back({ChangeKind::update, "a/u"});
    changes.listed.push_back({ChangeKind::attributes, "."});
    VerifyOutcome o;
    note_verify_findings(o, changes);
    EXPECT_EQ(o.missing, 30u);
    EXPECT_EQ(o.missing_paths.size(), VerifyOutcome::kListed);
    EXPECT_EQ(o.missing_paths.front(), "a/m0");
    EXPECT_EQ(o.extraneous, 1u);
    EXPECT_EQ(o.extraneous_paths, std::vector<std::string>{"a/old"});
    EXPECT_EQ(o.outdated, 2u);
    EXPECT_EQ(o.outdated_paths, std::vector<std::string>{"a/u"});
}

TEST(Verify, OnlyAContentDifferenceWithEqualSizeAndTimeIsDamage) {
    auto kind = [](const std::string &line) { return change_kind(*parse_item_line(line)); };
    EXPECT_EQ(kind(">fc........ 7 alpha/f7"), ChangeKind::differs);
    EXPECT_EQ(kind(">fcst...... 7 alpha/f7"), ChangeKind::update) << "changed in the source since: not damage";
    EXPECT_EQ(kind(">f..t...... 7 alpha/f7"), ChangeKind::update);
    EXPECT_EQ(kind(">f+++++++++ 3 alpha/new"), ChangeKind::copy);
    EXPECT_EQ(kind(".L..t...... 1 alpha/link -> x"), ChangeKind::attributes);
    WorkUnit alpha;
    alpha.name = alpha.base = "alpha";
    RunModel model("R", {alpha}, true, WallClock::now());
    model.note_item(0, *parse_item_line(">fc........ 9 sub/f7"));
    model.note_item(0, *parse_item_line(">fcs....... 9 sub/f8"));
    EXPECT_EQ(model.changes().differing, std::vector<std::string>{"alpha/sub/f7"});
    EXPECT_EQ(model.changes().counts[static_cast<int>(ChangeKind::differs)], 1u);
}

TEST(Verify, TheConfigurationNamesAPeriod) {
    const auto config = parse_config(R"({"source": "/a", "destination": "/b", "verify": {"every_days": 7}})").config;
    ASSERT_TRUE(config);
    EXPECT_EQ(config->verify_every_days, 7);
    EXPECT_EQ(parse_config(config_to_json(*config)).config->verify_every_days, 7);
    EXPECT_EQ(parse_config(R"({"source": "/a", "destination": "/b"})").config->verify_every_days, 0);
    for (const char *bad : {R"("verify": {})", R"("verify": {"every_days": 0})", R"("verify": {"every_day": 7})", R"("verify": 7)"}) {
        const auto result = parse_config(std::string(R"({"source": "/a", "destination": "/b", )") + bad + "}");
        ASSERT_TRUE(result.error) << bad;
        EXPECT_EQ(result.error->pointer.rfind("/verify", 0), 0u) << bad;
    }
    EXPECT_TRUE(is_safe_relative_path("alpha/edit"));
    EXPECT_TRUE(is_safe_relative_path(""));
    for (const char *bad : {"../x", "/a", "a/", "a//b", "a/./b", "."}) EXPECT_FALSE(is_safe_relative_path(bad)) << bad;
}
