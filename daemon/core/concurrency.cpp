#include "core/concurrency.hpp"

#include <algorithm>
#include <cstdio>

namespace dailysync {

namespace {
std::string rate_text(double rate) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f", rate);
    return buffer;
}
}  // namespace

int starting_concurrency(std::optional<int> previous, bool network_filesystem) {
    if (previous) return std::clamp(*previous, ConcurrencyController::kMin, ConcurrencyController::kMax);
    return network_filesystem ? ConcurrencyController::kStartNetwork : ConcurrencyController::kStart;
}

std::optional<ConcurrencyChange> ConcurrencyController::change_to(int level, std::string evidence, bool hold) {
    level = std::clamp(level, kMin, kMax);
    holding_ = hold;
    held_intervals_ = 0;
    if (level == level_) return std::nullopt;
    ConcurrencyChange change{level_, level, std::move(evidence)};
    level_ = level;
    return change;
}

std::optional<ConcurrencyChange> ConcurrencyController::observe(double now, double work, std::optional<double> cpu_busy,
                                                                int ready_units) {
    if (cpu_busy) {
        cpu_sum_ += *cpu_busy;
        ++cpu_samples_;
    }
    if (!interval_start_) {
        interval_start_ = now;
        work_at_start_ = work;
        return std::nullopt;
    }
    const double elapsed = now - *interval_start_;
    if (elapsed < kIntervalSeconds) return std::nullopt;
    const double rate = (work - *work_at_start_) / elapsed;
    const double cpu = cpu_samples_ ? cpu_sum_ / cpu_samples_ : 0.0;   // 0 when unknown: never "saturated"
    interval_start_ = now;
    work_at_start_ = work;
    cpu_sum_ = 0;
    cpu_samples_ = 0;

    const int level = level_;
    const std::string here = "work rate " + rate_text(rate) + "/s at " + std::to_string(level) + " children";
    if (cpu >= kSaturatedCpu && level > kMin) {
        previous_level_ = 0;
        return change_to(level - std::max(1, level / 4), here + ", CPU " + rate_text(cpu * 100) + "% busy: the host is saturated", true);
    }
    if (previous_level_ > 0 && previous_level_ < level) {
        // Judge the last increase.
        const double gain = previous_rate_ > 0 ? rate / previous_rate_ : 2.0;
        const std::string compared = here + " vs " + rate_text(previous_rate_) + "/s at " + std::to_string(previous_level_) +
                                     " (x" + rate_text(gain) + ")";
        if (gain < kMinGain) {
            const int back = previous_level_;
            previous_level_ = 0;
            return change_to(back, compared + ": more children did not help", true);
        }
        previous_level_ = level;
        previous_rate_ = rate;
        if (ready_units <= level) return change_to(level, compared + ", no more ready units", true);
        return change_to(level + std::max(1, level / 2), compared + ": more children helped", false);
    }
    if (holding_ && ++held_intervals_ < kHoldIntervals) return std::nullopt;
    if (ready_units <= level) return std::nullopt;   // nothing to gain from more children now
    previous_level_ = level;
    previous_rate_ = rate;
    return change_to(level + std::max(1, level / 2), here + ": probing whether more children help", false);
}

}  // namespace dailysync
