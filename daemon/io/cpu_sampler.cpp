#include "io/cpu_sampler.hpp"

#include <cstdio>

namespace dailysync {

std::optional<double> CpuSampler::busy_fraction() {
    std::FILE *f = std::fopen("/proc/stat", "re");
    if (!f) return std::nullopt;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait, &irq,
                              &softirq, &steal);
    std::fclose(f);
    if (n < 4) return std::nullopt;
    const std::uint64_t total = user + nice + system + idle + iowait + irq + softirq + steal;
    const std::uint64_t idle_all = idle + iowait;
    std::optional<double> busy;
    if (last_total_ && total > *last_total_) {
        const double dt = static_cast<double>(total - *last_total_);
        busy = 1.0 - static_cast<double>(idle_all - *last_idle_) / dt;
    }
    last_total_ = total;
    last_idle_ = idle_all;
    return busy;
}

}  // namespace dailysync
