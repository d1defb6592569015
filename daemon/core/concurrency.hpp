// Concurrency "auto": how many rsync children to run, adapted during the run from what
// is measured. Pure: the caller feeds it progress samples about once a second.
//
// The rule (a cautious hill climb):
//  - start at the level the previous complete run ended with; the first time at kStart,
//    or kStartNetwork when the source or the destination is a network filesystem (every
//    file costs round trips there, and more of them in flight hide the latency);
//    every interval (kIntervalSeconds) compare the work rate (entries
//    checked per second plus bytes per second / kBytesPerEntryCost) with the rate at the
//    previous level;
//  - after an increase, keep growing (by half the level, at least 1) while the rate rose
//    by at least kMinGain; otherwise go back to the previous level and hold there;
//  - when the host is saturated (CPU busy >= kSaturatedCpu), step down and hold;
//  - never grow while fewer units are ready than children allowed (no evidence possible);
//  - after kHoldIntervals intervals of holding, probe upwards again.
#pragma once

#include <optional>
#include <string>

namespace dailysync {

struct ConcurrencyChange {
    int from = 0, to = 0;
    std::string evidence;   // one line, with the numbers
};

// Where "auto" starts: `previous`, the level the last complete run ended with, if any.
int starting_concurrency(std::optional<int> previous, bool network_filesystem);

class ConcurrencyController {
public:
    static constexpr int kStart = 4;
    static constexpr int kStartNetwork = 8;
    static constexpr int kMin = 1;
    static constexpr int kMax = 32;
    static constexpr double kIntervalSeconds = 10.0;
    static constexpr double kMinGain = 1.15;
    static constexpr double kSaturatedCpu = 0.95;
    static constexpr int kHoldIntervals = 6;

    explicit ConcurrencyController(int start = kStart) : level_(start) {}

    // now: monotonic seconds; work: cumulative work units done; cpu_busy: 0..1 over the
    // last second (nullopt if unknown); ready_units: units waiting plus running.
    std::optional<ConcurrencyChange> observe(double now, double work, std::optional<double> cpu_busy, int ready_units);
    int level() const { return level_; }

private:
    std::optional<ConcurrencyChange> change_to(int level, std::string evidence, bool hold);

    int level_;
    std::optional<double> interval_start_, work_at_start_;
    int previous_level_ = 0;
    double previous_rate_ = 0;
    bool holding_ = false;
    int held_intervals_ = 0;
    double cpu_sum_ = 0;
    int cpu_samples_ = 0;
};

}  // namespace dailysync
