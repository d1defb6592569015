#include <gtest/gtest.h>

#include "core/plan.hpp"

using namespace dailysync;

namespace {

// A tree: "big" holds most of the work in four subfolders, "small1..3" are tiny.
TreeStats sample_tree() {
    TreeStats t;
    for (const char *p : {"big", "small1", "small2", "small3"}) t.add_entry("", p, true, 0);
    t.add_entry("", "README", false, 10);
    for (int s = 0; s < 4; ++s) {
        const std::string sub = "sub" + std::to_string(s);
        t.add_entry("big", sub, true, 0);
        for (int f = 0; f < 1000; ++f) t.add_entry("big/" + sub, "f" + std::to_string(f), false, 1000);
    }
    t.add_entry("big", "master.mov", false, 50'000'000);
    for (const char *p : {"small1", "small2", "small3"})
        for (int f = 0; f < 10; ++f) t.add_entry(p, "f" + std::to_string(f), false, 100);
    t.finalize();
    return t;
}

}  // namespace

TEST(TreeStats, TotalsAndRoundTrip) {
    TreeStats t = sample_tree();
    EXPECT_EQ(t.find("big")->tree_entries, 4u + 1u + 4000u);
    EXPECT_EQ(t.find("big")->subdirs, 4u);
    EXPECT_EQ(t.find("")->own_entries, 5u);
    EXPECT_EQ(t.total_entries(), 1u + 5u + 4005u + 30u);
    EXPECT_EQ(t.total_bytes(), 10u + 4'000'000u + 50'000'000u + 3000u);
    auto back = TreeStats::parse(t.serialize());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->total_entries(), t.total_entries());
    EXPECT_EQ(back->find("big/sub3")->own_bytes, 1'000'000u);
    EXPECT_FALSE(TreeStats::parse("garbage"));
    EXPECT_FALSE(TreeStats::parse("dailysyncd-tree-stats 1\n1 2 3 99:short\n"));
}

TEST(TreeStats, OddNamesSurviveSerialization) {
    TreeStats t;
    t.add_entry("", "new\nline", true, 0);
    t.add_entry("new\nline", "x 1:y", false, 5);
    t.finalize();
    auto back = TreeStats::parse(t.serialize());
    ASSERT_TRUE(back);
    ASSERT_NE(back->find("new\nline"), nullptr);
    EXPECT_EQ(back->find("new\nline")->own_bytes, 5u);
}

TEST(Planner, WithoutStatisticsEveryTopLevelFolderIsOneUnit) {
    TreeStats none;
    Planner planner(none, 4, Planner::Work::first_copy);
    auto initial = planner.initial();
    ASSERT_EQ(initial.size(), 1u);
    EXPECT_FALSE(initial[0].recursive);
    EXPECT_TRUE(initial[0].expand);
    EXPECT_EQ(initial[0].base, "");
    auto units = planner.expand("", {"alpha", "beta", "--delete"});
    ASSERT_EQ(units.size(), 3u);
    for (const auto &u : units) {
        EXPECT_TRUE(u.recursive);
        EXPECT_FALSE(u.expand);
        EXPECT_TRUE(u.members.empty());
    }
}

TEST(Planner, OneRsyncLayoutIsTheWholeTreeInOneRecursiveUnit) {
    TreeStats t = sample_tree();
    Planner planner(t, 8, Planner::Work::update, Planner::Layout::one_rsync);
    auto initial = planner.initial();
    ASSERT_EQ(initial.size(), 1u);
    EXPECT_TRUE(initial[0].recursive);
    EXPECT_FALSE(initial[0].expand) << "nothing is planned after it";
    EXPECT_EQ(initial[0].base, "");
    EXPECT_EQ(initial[0].estimated_entries, t.total_entries());
    EXPECT_EQ(initial[0].estimated_bytes, t.total_bytes());
}

TEST(Planner, SplitsTheBigProjectAndPacksTheSmallOnes) {
    TreeStats t = sample_tree();
    Planner planner(t, 4, Planner::Work::first_copy);
    // share = total cost / 16: "big" (~4200) is far over it, the small ones far under.
    EXPECT_GT(planner.share(), Planner::kMinShareFirstCopy);
    auto top = planner.expand("", {"big", "small1", "small2", "small3"});
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].base, "big");
    EXPECT_FALSE(top[0].recursive);
    EXPECT_TRUE(top[0].expand);
    EXPECT_EQ(top[1].base, "");
    EXPECT_EQ(top[1].members, (std::vector<std::string>{"small1", "small2", "small3"}));
    EXPECT_EQ(top[1].estimated_entries, 30u);

    // Each sub folder is over the share but flat (no subfolders to split into): one unit
    // each, never packed together.
    auto inside = planner.expand("big", {"sub0", "sub1", "sub2", "sub3"});
    ASSERT_EQ(inside.size(), 4u);
    for (const auto &u : inside) {
        EXPECT_TRUE(u.recursive);
        EXPECT_TRUE(u.members.empty());
        EXPECT_GT(u.estimated_cost, planner.share());
    }
}

TEST(Planner, NewFoldersGetTheirOwnUnitAndLargestComeFirst) {
    TreeStats t = sample_tree();
    Planner planner(t, 2, Planner::Work::first_copy);
    auto units = planner.expand("", {"small1", "brand-new", "small2"});
    bool saw_new = false;
    for (const auto &u : units) saw_new |= u.base == "brand-new" && u.members.empty() && u.recursive;
    EXPECT_TRUE(saw_new);
    for (std::size_t i = 1; i < units.size(); ++i)
        if (!units[i - 1].expand && !units[i].expand) {
            EXPECT_GE(units[i - 1].estimated_cost, units[i].estimated_cost);
        }
}

TEST(Planner, AFolderWithoutSubfoldersIsNotSplitHowEverBig) {
    TreeStats t;
    t.add_entry("", "flat", true, 0);
    for (int f = 0; f < 5000; ++f) t.add_entry("flat", "f" + std::to_string(f), false, 10);
    t.finalize();
    Planner planner(t, 8, Planner::Work::first_copy);
    auto units = planner.expand("", {"flat"});
    ASSERT_EQ(units.size(), 1u);
    EXPECT_TRUE(units[0].recursive);
    EXPECT_EQ(units[0].base, "flat");
}

TEST(Planner, TinyTreesAreNotSplitIntoTinyUnits) {
    TreeStats t;
    for (const char *p : {"a", "b", "c"}) {
        t.add_entry("", p, true, 0);
        t.add_entry(p, "x", false, 1);
    }
    t.finalize();
    Planner planner(t, 16, Planner::Work::first_copy);
    EXPECT_EQ(planner.share(), Planner::kMinShareFirstCopy);
    auto units = planner.expand("", {"a", "b", "c"});
    ASSERT_EQ(units.size(), 1u);   // one rsync for all three
    EXPECT_EQ(units[0].members.size(), 3u);
    EXPECT_NE(units[0].name.find("and 2 more"), std::string::npos);
}

// "p" with 40 subfolders s0..s39; subfolder s holds files_in(s) files of 100 bytes.
static TreeStats forty_subfolders(int (*files_in)(int)) {
    TreeStats t;
    t.add_entry("", "p", true, 0);
    for (int s = 0; s < 40; ++s) {
        const std::string sub = "s" + std::to_string(s);
        t.add_entry("p", sub, true, 0);
        for (int f = 0; f < files_in(s); ++f) t.add_entry("p/" + sub, "f" + std::to_string(f), false, 100);
    }
    t.finalize();
    return t;
}

TEST(Planner, PackedUnitsStayWithinTheShare) {
    TreeStats t = forty_subfolders([](int s) { return 50 + s * 5; });
    Planner planner(t, 2, Planner::Work::first_copy);
    std::vector<std::string> subs;
    for (int s = 0; s < 40; ++s) subs.push_back("s" + std::to_string(s));
    auto units = planner.expand("p", subs);
    std::size_t covered = 0;
    for (const auto &u : units) {
        EXPECT_LE(u.estimated_cost, planner.share() + 1e-9) << u.name;
        covered += u.members.empty() ? 1 : u.members.size();
    }
    EXPECT_EQ(covered, 40u);   // every subfolder exactly once
    EXPECT_GT(units.size(), 2u);
    EXPECT_LT(units.size(), 40u);
}

TEST(Planner, AnUpdatePlansFewerBiggerUnitsThanAFirstCopy) {
    TreeStats t = forty_subfolders([](int) { return 100; });
    std::vector<std::string> subs;
    for (int s = 0; s < 40; ++s) subs.push_back("s" + std::to_string(s));
    Planner first(t, 8, Planner::Work::first_copy), update(t, 8, Planner::Work::update);
    EXPECT_EQ(first.share(), Planner::kMinShareFirstCopy);   // 4,041 entries / 32 is below both floors
    EXPECT_EQ(update.share(), Planner::kMinShareUpdate);
    const auto first_units = first.expand("p", subs), update_units = update.expand("p", subs);
    EXPECT_GE(first_units.size(), 20u);   // two 101-entry folders per unit
    EXPECT_LE(update_units.size(), 5u);   // about nine per unit
    std::size_t covered = 0;
    for (const auto &u : update_units) covered += u.members.size();
    EXPECT_EQ(covered, subs.size());
}

TEST(TreeStats, WalksOfDifferentFoldersAddUp) {
    TreeStats a, b, whole;
    a.add_entry("", "x", true, 0);
    a.add_entry("", "top", false, 5);
    b.add_entry("x", "f", false, 7);
    b.add_entry("x", "y", true, 0);
    for (auto *t : {&whole}) {
        t->add_entry("", "x", true, 0);
        t->add_entry("", "top", false, 5);
        t->add_entry("x", "f", false, 7);
        t->add_entry("x", "y", true, 0);
    }
    TreeStats merged;
    merged.merge(a);
    merged.merge(b);
    merged.finalize();
    whole.finalize();
    EXPECT_EQ(merged.total_entries(), whole.total_entries());
    EXPECT_EQ(merged.total_bytes(), 12u);
    EXPECT_EQ(merged.find("x")->tree_entries, 2u);
    EXPECT_EQ(merged.subfolders(""), std::vector<std::string>{"x"});
    EXPECT_EQ(merged.subfolders("x"), std::vector<std::string>{"y"});
}
