#include <gtest/gtest.h>

#include "core/eta.hpp"

using namespace dailysync;

namespace {
EtaInput input(double now, double span, std::uint64_t bytes_left, std::uint64_t entries_left, double bps, double eps) {
    EtaInput in;
    in.now = now;
    in.rate_span = span;
    in.bytes_left = bytes_left;
    in.entries_left = entries_left;
    in.bytes_per_second = bps;
    in.entries_per_second = eps;
    return in;
}
}  // namespace

TEST(Eta, TheSlowerOfDataAndEntriesDecides) {
    EXPECT_DOUBLE_EQ(*raw_eta(input(0, 10, 1000, 10, 100, 10)), 10.0);    // data: 10 s, entries: 1 s
    EXPECT_DOUBLE_EQ(*raw_eta(input(0, 10, 1000, 500, 100, 10)), 50.0);   // entries: 50 s
    EXPECT_DOUBLE_EQ(*raw_eta(input(0, 10, 0, 500, 0, 10)), 50.0);        // no data left: no byte rate needed
}

TEST(Eta, UnknownUntilTheRatesCoverFiveSecondsOrWhileOneKindIsStalled) {
    EXPECT_FALSE(raw_eta(input(0, 4.9, 1000, 10, 100, 10)));
    EXPECT_TRUE(raw_eta(input(0, kEtaMinSpan, 1000, 10, 100, 10)));
    EXPECT_FALSE(raw_eta(input(0, 10, 1000, 10, 0, 10)));   // data left, none moving
    EXPECT_FALSE(raw_eta(input(0, 10, 1000, 10, 100, 0)));
    EXPECT_DOUBLE_EQ(*raw_eta(input(0, 0, 0, 0, 0, 0)), 0.0);   // nothing left
}

TEST(Eta, DampedTowardsEachNewEstimateAndCountedDownInBetween) {
    EtaEstimator eta;
    EXPECT_FALSE(eta.update(input(0, 1, 1000, 10, 100, 10)));
    EXPECT_DOUBLE_EQ(*eta.update(input(5, 5, 1000, 10, 100, 10)), 10.0);   // the first estimate as measured
    // A burst: the raw estimate drops to 2 s. The shown one moves 30 % of the way from
    // 9 (10 counted down by 1 s) towards it.
    EXPECT_DOUBLE_EQ(*eta.update(input(6, 5, 200, 10, 100, 10)), 9.0 + kEtaDamping * (2.0 - 9.0));
    // No new measure (a stall): counted down, then unknown once it reaches zero.
    const double before = *eta.current();
    EXPECT_DOUBLE_EQ(*eta.update(input(7, 5, 200, 10, 0, 10)), before - 1.0);
    EXPECT_FALSE(eta.update(input(100, 5, 200, 10, 0, 10)));
    // Done: zero at once.
    EXPECT_DOUBLE_EQ(*eta.update(input(101, 5, 0, 0, 0, 0)), 0.0);
}
