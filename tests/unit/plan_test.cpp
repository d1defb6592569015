#include <gtest/gtest.h>

#include "core/plan.hpp"

using namespace dailysync;

TEST(PlanPerProject, TopLevelFirstThenProjectsLargestFirst) {
    TreeDescription tree;
    tree.top = {{"small", true, 10, 100}, {"README", false, 1, 5}, {"big", true, 1000, 5000},
                {"link", false, 1, 0}, {"mid", true, 50, 1000}};
    auto units = plan_per_project(tree);
    ASSERT_EQ(units.size(), 4u);
    EXPECT_EQ(units[0].name, ".");
    EXPECT_EQ(units[0].path, "");
    EXPECT_FALSE(units[0].recursive);
    EXPECT_FALSE(units[0].after);
    EXPECT_EQ(units[0].estimated_entries, 6u);   // itself + 5 entries
    EXPECT_EQ(units[0].estimated_bytes, 5u);     // only the non-folder entries' bytes
    EXPECT_EQ(units[1].path, "big");
    EXPECT_EQ(units[2].path, "mid");
    EXPECT_EQ(units[3].path, "small");
    for (std::size_t i = 1; i < units.size(); ++i) {
        EXPECT_TRUE(units[i].recursive);
        EXPECT_EQ(units[i].after, 0u);
    }
    EXPECT_EQ(units[1].estimated_entries, 1000u);
    EXPECT_EQ(units[1].estimated_bytes, 5000u);
}

TEST(PlanPerProject, OddNamesKeepRawPathsAndPrintableNames) {
    TreeDescription tree;
    tree.top = {{"new\nline", true, 1, 0}, {"--delete", true, 1, 0}};
    auto units = plan_per_project(tree);
    ASSERT_EQ(units.size(), 3u);
    EXPECT_EQ(units[1].path, "--delete");   // equal size: name order
    EXPECT_EQ(units[2].path, "new\nline");
    EXPECT_EQ(units[2].name, "new\\#012line");
}

TEST(PlanPerProject, EmptySourceStillHasTheTopLevelUnit) {
    auto units = plan_per_project(TreeDescription{});
    ASSERT_EQ(units.size(), 1u);
    EXPECT_EQ(units[0].estimated_entries, 1u);
}
