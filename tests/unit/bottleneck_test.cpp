#include <gtest/gtest.h>

#include "core/bottleneck.hpp"

using namespace dailysync;

namespace {
// `seconds` identical samples of a run with 4 rsyncs copying.
std::vector<ResourceSample> series(ResourceSample s, int seconds = 20) {
    if (s.children == 0) s.children = 4;
    return std::vector<ResourceSample>(static_cast<std::size_t>(seconds), s);
}
ResourceSample quiet() {
    ResourceSample s;
    s.cpu_busy = 0.2;
    s.children_cores = 0.2;
    s.memory_available = 0.6;
    s.files_per_second = 100;
    s.bytes_per_second = 100 * 5'000'000;   // big files
    s.source_disk_busy = 0.3;
    s.destination_disk_busy = 0.3;
    return s;
}
}  // namespace

TEST(Bottleneck, TooShortIsUnknown) {
    auto v = classify_bottleneck(series(quiet(), 3), 2, {});
    EXPECT_EQ(v.resource, "unknown");
    EXPECT_NE(v.evidence.find("too short"), std::string::npos);
    EXPECT_EQ(classify_bottleneck({}, 2, {}).resource, "unknown");
}

TEST(Bottleneck, NothingSaturatedIsUnknownNotAGuess) {
    auto v = classify_bottleneck(series(quiet()), 2, {});
    EXPECT_EQ(v.resource, "unknown");
    EXPECT_NE(v.evidence.find("nothing saturated"), std::string::npos) << v.evidence;
}

TEST(Bottleneck, SaturatedCpu) {
    auto s = quiet();
    s.cpu_busy = 0.97;
    s.children_cores = 0.4;   // others hog the cores
    auto v = classify_bottleneck(series(s), 2, {});
    EXPECT_EQ(v.resource, "cpu");
    EXPECT_NE(v.evidence.find("CPU 97% busy on 2 cores"), std::string::npos) << v.evidence;
    EXPECT_NE(v.advice.find("processes other than rsync"), std::string::npos);
    s.pressure_cpu = 0.8;
    s.cpu_busy = 0.85;
    EXPECT_EQ(classify_bottleneck(series(s), 2, {}).resource, "cpu") << "CPU pressure alone decides";
}

TEST(Bottleneck, MemoryBeforeCpu) {
    auto s = quiet();
    s.cpu_busy = 0.95;
    s.memory_available = 0.02;
    s.swap_pages_per_second = 500;
    auto v = classify_bottleneck(series(s), 2, {});
    EXPECT_EQ(v.resource, "memory");
    EXPECT_NE(v.evidence.find("memory available 2%"), std::string::npos) << v.evidence;
    s.swap_pages_per_second = 0;   // little free memory but no paging: page cache, fine
    EXPECT_NE(classify_bottleneck(series(s), 2, {}).resource, "memory");
}

TEST(Bottleneck, AMemoryLimitedCgroupPagingWhileTheMachineHasPlenty) {
    auto s = quiet();
    s.memory_available = 0.9;
    s.swap_pages_per_second = 300;
    s.pressure_memory = 0.12;
    EXPECT_EQ(classify_bottleneck(series(s), 2, {}).resource, "memory");
    s.pressure_memory = 0.01;   // paging, but nobody waits for it
    EXPECT_NE(classify_bottleneck(series(s), 2, {}).resource, "memory");
    s.swap_pages_per_second = 0;
    s.pressure_memory = 0.3;    // stalled on memory a third of the time, paging or not
    EXPECT_EQ(classify_bottleneck(series(s), 2, {}).resource, "memory");
}

TEST(Bottleneck, SaturatedDisks) {
    auto s = quiet();
    s.source_disk_busy = 0.98;
    EXPECT_EQ(classify_bottleneck(series(s), 2, {}).resource, "disk-read");
    s.source_disk_busy = 0.2;
    s.destination_disk_busy = 0.99;
    auto v = classify_bottleneck(series(s), 2, {});
    EXPECT_EQ(v.resource, "disk-write");
    EXPECT_NE(v.evidence.find("destination disk 99% busy"), std::string::npos);
    s.destination_disk_busy.reset();   // no block device (tmpfs, FUSE): no disk verdict
    EXPECT_EQ(classify_bottleneck(series(s), 2, {}).resource, "unknown");
}

TEST(Bottleneck, SmallFilesWaitingRsyncsArePerFileLatency) {
    ResourceSample s;
    s.cpu_busy = 0.15;
    s.children_cores = 0.3;   // four rsyncs mostly waiting
    s.memory_available = 0.7;
    s.files_per_second = 400;
    s.bytes_per_second = 400 * 20'000;   // 20 kB files
    auto v = classify_bottleneck(series(s), 2, {ConcurrencyNote{12, 8, 12, "work rate 72.0/s at 8 children vs 40.0/s at 4 (x1.8): more children helped"}});
    EXPECT_EQ(v.resource, "per-file-latency");
    EXPECT_NE(v.advice.find("at 8 children vs 40.0/s at 4 (x1.8)"), std::string::npos) << v.advice;
    EXPECT_NE(v.advice.find("raise concurrency"), std::string::npos);
    s.bytes_per_second = 400 * 5'000'000;   // big files: not a per-file cost
    EXPECT_EQ(classify_bottleneck(series(s), 2, {}).resource, "unknown");
}

TEST(Bottleneck, OnlyCopyingSecondsCount) {
    auto idle = quiet();
    idle.children = 0;
    idle.cpu_busy = 1.0;   // the machine was busy before the rsyncs started: ignored
    auto samples = std::vector<ResourceSample>(30, idle);
    auto copying = series(quiet(), 10);
    samples.insert(samples.end(), copying.begin(), copying.end());
    EXPECT_EQ(classify_bottleneck(samples, 2, {}).resource, "unknown");
}

TEST(Bottleneck, SeriesStaysBoundedAndEven) {
    SampleSeries s(100);
    for (int i = 0; i < 10'000; ++i) {
        ResourceSample x;
        x.files_per_second = i;
        s.add(x);
    }
    EXPECT_LT(s.samples().size(), 100u);
    EXPECT_GT(s.samples().size(), 40u);
    EXPECT_EQ(s.samples().front().files_per_second, 0);
    EXPECT_GT(s.samples().back().files_per_second, 9'000);
}
