// The run-wide bandwidth limit (bwlimit) with real rsyncs: over a 20 s copy the whole
// run's rate stays within 15 % above the limit, whether one rsync runs at a time, four,
// or as many as concurrency "auto" decides. (An upper bound: a slow machine only lowers
// the rate. The lower bound is loose: it catches a limit split over rsyncs that never ran.)
#include <gtest/gtest.h>
#include <iostream>
#include <random>

#include "once_fixture.hpp"

using namespace testing_support;

namespace {

constexpr double kLimit = 2.0 * 1024 * 1024;   // "2M"

// Four projects of 10 MiB in 250 files each: a unit each (4 rsyncs at once can run).
void build(const Fixture &f) {
    std::mt19937_64 random(7);
    std::string block(40 * 1024 + 16, '\0');
    for (const char *project : {"alpha", "beta", "gamma", "delta"}) {
        make_dirs(f.source + "/" + project);
        for (int i = 0; i < 250; ++i) {
            for (auto &c : block) c = static_cast<char>(random());
            write_file(f.source + "/" + project + "/f" + std::to_string(i), block);
        }
    }
}

void expect_rate_holds(const std::string &concurrency) {
    Fixture f;
    build(f);
    age_tree(f.source);
    auto r = run({dailysyncd(), "--once", "--config", f.config(R"("bwlimit": "2M", "concurrency": )" + concurrency)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto report = f.report(r.out);
    const double bytes = report["totals"]["bytes_transferred"].get<double>();
    const double seconds = report["seconds"].get<double>();
    ASSERT_GT(bytes, 39.0 * 1024 * 1024);
    const double rate = bytes / seconds;
    std::size_t units = report["units"].size();
    EXPECT_LE(rate, kLimit * 1.15) << "concurrency " << concurrency << ": " << rate / 1024 / 1024 << " MiB/s over " << seconds << " s, " << units
                                   << " units";
    EXPECT_GE(rate, kLimit * 0.5) << "concurrency " << concurrency << ": " << rate / 1024 / 1024 << " MiB/s";
    if (concurrency != "1") {
        EXPECT_GE(units, 4u) << "the projects were packed into fewer units: nothing shared";
    }
    std::cout << "concurrency " << concurrency << ": " << rate / kLimit << " of the limit over " << seconds << " s, " << units << " units\n";
    EXPECT_EQ(differences(snapshot(f.source), snapshot(f.destination)), "");
}

}  // namespace

TEST(Bwlimit, TheWholeRunHoldsTheLimitWithOneRsyncAtATime) { expect_rate_holds("1"); }
TEST(Bwlimit, TheWholeRunHoldsTheLimitWithFourRsyncsAtOnce) { expect_rate_holds("4"); }
TEST(Bwlimit, TheWholeRunHoldsTheLimitWithConcurrencyAuto) { expect_rate_holds("\"auto\""); }
