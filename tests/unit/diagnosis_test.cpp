#include <gtest/gtest.h>

#include "core/diagnosis.hpp"

using namespace dailysync;

namespace {
MetadataLevel level(int workers, double files_per_second, double create_ms = 0.1) {
    MetadataLevel l;
    l.workers = workers;
    l.seconds = 2;
    l.files = static_cast<std::uint64_t>(files_per_second * 2);
    l.stat_ms = l.create_ms = l.rename_ms = l.unlink_ms = create_ms;
    return l;
}
// A quiet machine, 10,000 files of `file_bytes` each, data at the given rates (B/s).
ProbeMeasurements measured(double file_bytes, double read_rate, double write_rate, std::vector<MetadataLevel> levels) {
    ProbeMeasurements m;
    m.cores = 2;
    m.cpu_idle = 0.95;
    m.tree_files = 10'000;
    m.tree_bytes = static_cast<std::uint64_t>(file_bytes * 10'000);
    m.tree_complete = true;
    m.read_bytes = m.write_bytes = 500'000'000;
    m.read_seconds = 500e6 / read_rate;
    m.write_seconds = 500e6 / write_rate;
    m.levels = std::move(levels);
    return m;
}
}  // namespace

TEST(Diagnosis, SmallFilesOnASlowServerArePerFileLatencyAndScaleWithWorkers) {
    // 300 files/s alone, 1,100 with 4, 2,600 with 16; 20 kB files at 100 MB/s take 0.2 ms.
    const auto d = diagnose(measured(20'000, 100e6, 100e6, {level(1, 300, 1.1), level(4, 1100), level(16, 2600)}));
    EXPECT_EQ(d.resource, "per-file-latency");
    EXPECT_EQ(d.recommended_concurrency, 16);
    EXPECT_NE(d.evidence.find("3.33 ms"), std::string::npos) << d.evidence;   // 1 / 300 files/s
    EXPECT_NE(d.evidence.find("8.7x from 1 to 16"), std::string::npos) << d.evidence;
}

TEST(Diagnosis, RecommendsTheFewestWorkersWithin80PercentOfTheBest) {
    const auto d = diagnose(measured(20'000, 100e6, 100e6, {level(1, 300), level(4, 1000), level(16, 1150)}));
    EXPECT_EQ(d.resource, "per-file-latency");
    EXPECT_EQ(d.recommended_concurrency, 4);   // 1000 >= 0.8 * 1150
}

TEST(Diagnosis, LatencyThatWorkersDoNotHideSaysSo) {
    const auto d = diagnose(measured(20'000, 100e6, 100e6, {level(1, 300), level(4, 310), level(16, 290)}));
    EXPECT_EQ(d.resource, "per-file-latency");
    EXPECT_EQ(d.recommended_concurrency, 1);
    EXPECT_NE(d.advice.find("did not help"), std::string::npos) << d.advice;
}

TEST(Diagnosis, BigFilesOnLocalDisksAreLimitedByTheSlowerSide) {
    // 50 MB files: 0.5 s of data at 100 MB/s, 0.05 ms of metadata.
    auto d = diagnose(measured(50e6, 400e6, 100e6, {level(1, 20000), level(4, 50000), level(16, 30000)}));
    EXPECT_EQ(d.resource, "disk-write");
    EXPECT_EQ(d.recommended_concurrency, 4);
    EXPECT_NE(d.evidence.find("destination writes 100 MB/s"), std::string::npos) << d.evidence;
    d = diagnose(measured(50e6, 80e6, 300e6, {level(1, 20000), level(4, 21000), level(16, 20000)}));
    EXPECT_EQ(d.resource, "disk-read");
    EXPECT_EQ(d.recommended_concurrency, 2);   // never fewer than 2: one opens files while the other copies
}

TEST(Diagnosis, AThroughputLimitOnANetworkMountIsNetwork) {
    auto m = measured(50e6, 80e6, 300e6, {level(1, 2000), level(4, 2100), level(16, 2000)});
    m.source_remote = true;
    const auto d = diagnose(m);
    EXPECT_EQ(d.resource, "network");
    EXPECT_NE(d.advice.find("the link or the NAS"), std::string::npos) << d.advice;
}

TEST(Diagnosis, ABusyMachineIsCpu) {
    auto m = measured(20'000, 100e6, 100e6, {level(1, 300), level(4, 1100), level(16, 2600)});
    m.cpu_idle = 0.1;
    const auto d = diagnose(m);
    EXPECT_EQ(d.resource, "cpu");
    EXPECT_NE(d.evidence.find("0.2 of 2 cores idle"), std::string::npos) << d.evidence;
}

TEST(Diagnosis, TooLittleDataForThroughputStillJudgesPerFileCostAgainstTheOtherSide) {
    auto m = measured(20'000, 100e6, 100e6, {level(1, 300), level(4, 1100), level(16, 2600)});
    m.read_bytes = 1'000'000;   // a tiny source: its read rate is not trusted
    const auto d = diagnose(m);
    EXPECT_EQ(d.resource, "per-file-latency");
    m.write_bytes = 1'000'000;  // nothing trusted: per-file cost is all we know
    EXPECT_EQ(diagnose(m).resource, "per-file-latency");
}

TEST(Diagnosis, NoCompletedFileOrEmptySourceIsUnknown) {
    auto m = measured(20'000, 100e6, 100e6, {});
    auto d = diagnose(m);
    EXPECT_EQ(d.resource, "unknown");
    EXPECT_EQ(d.recommended_concurrency, 0);
    m = measured(20'000, 100e6, 100e6, {level(1, 300)});
    m.tree_files = 0;
    EXPECT_EQ(diagnose(m).resource, "unknown");
}

TEST(Diagnosis, TextShowsEveryMeasurementAndTheVerdict) {
    const auto m = measured(20'000, 100e6, 100e6, {level(1, 300, 1.1), level(4, 1100), level(16, 2600)});
    const std::string text = diagnosis_text(m, diagnose(m));
    EXPECT_NE(text.find("source read   100 MB/s"), std::string::npos) << text;
    EXPECT_NE(text.find("dest. write   100 MB/s"), std::string::npos) << text;
    EXPECT_NE(text.find("95% idle (1.9 of 2 cores free)"), std::string::npos) << text;
    EXPECT_NE(text.find("16             2600"), std::string::npos) << text;
    EXPECT_NE(text.find("verdict: per-file-latency: "), std::string::npos) << text;
    EXPECT_NE(text.find("recommended concurrency: 16 "), std::string::npos) << text;
}
