#include <gtest/gtest.h>

#include "core/concurrency.hpp"

using namespace dailysync;

namespace {
// Drives the controller with a work rate that depends on the level it chose, like a NAS
// whose throughput grows with parallelism up to a knee. Returns the levels it visited.
std::vector<int> simulate(double (*rate_at)(int), int seconds, std::optional<double> cpu = 0.3, int ready = 1000) {
    ConcurrencyController c;
    std::vector<int> levels{c.level()};
    double work = 0;
    for (int t = 0; t <= seconds; ++t) {
        if (auto change = c.observe(t, work, cpu, ready)) {
            EXPECT_EQ(change->from, levels.back());
            EXPECT_FALSE(change->evidence.empty());
            levels.push_back(change->to);
        }
        work += rate_at(c.level());
    }
    return levels;
}
}  // namespace

TEST(Concurrency, GrowsWhileItHelpsAndSettlesAtTheKnee) {
    auto levels = simulate([](int n) { return 100.0 * std::min(n, 12); }, 200);
    // Rate grows with the level up to 12 children: it climbs past 12, finds no gain, steps back.
    EXPECT_EQ(levels.front(), 4);
    EXPECT_GE(*std::max_element(levels.begin(), levels.end()), 12);
    const int settled = levels.back();
    EXPECT_GE(settled, 12);
    EXPECT_LE(settled, 19);
}

TEST(Concurrency, GoesBackWhenMoreChildrenDoNotHelp) {
    auto levels = simulate([](int) { return 500.0; }, 60);
    ASSERT_GE(levels.size(), 3u);
    EXPECT_EQ(levels[1], 6);   // the probe
    EXPECT_EQ(levels[2], 4);   // no gain: back
    // and it holds there for a while instead of oscillating
    EXPECT_EQ(levels.size(), 3u);
}

TEST(Concurrency, BacksOffWhenTheHostIsSaturated) {
    auto levels = simulate([](int n) { return 100.0 * n; }, 25, 0.99);
    ASSERT_GE(levels.size(), 2u);
    EXPECT_LT(levels[1], 4);
}

TEST(Concurrency, DoesNotGrowWithoutReadyWork) {
    auto levels = simulate([](int n) { return 100.0 * n; }, 100, 0.2, 3);
    EXPECT_EQ(levels.size(), 1u);
}

TEST(Concurrency, WorksWithoutCpuNumbers) {
    auto levels = simulate([](int n) { return 100.0 * std::min(n, 8); }, 100, std::nullopt);
    EXPECT_GT(levels.size(), 1u);
}

TEST(Concurrency, StartsWhereTheLastRunEndedOrHigherOnANetworkFilesystem) {
    EXPECT_EQ(starting_concurrency(std::nullopt, false), ConcurrencyController::kStart);
    EXPECT_EQ(starting_concurrency(std::nullopt, true), ConcurrencyController::kStartNetwork);
    EXPECT_GT(ConcurrencyController::kStartNetwork, ConcurrencyController::kStart);
    EXPECT_EQ(starting_concurrency(3, true), 3);   // what the last run found wins
    EXPECT_EQ(starting_concurrency(13, false), 13);
    EXPECT_EQ(starting_concurrency(0, false), ConcurrencyController::kMin);    // a damaged state file
    EXPECT_EQ(starting_concurrency(999, true), ConcurrencyController::kMax);
}
