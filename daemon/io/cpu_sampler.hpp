// How busy the machine's CPUs were since the previous sample (/proc/stat).
#pragma once

#include <cstdint>
#include <optional>

namespace dailysync {

class CpuSampler {
public:
    // Fraction of CPU time spent neither idle nor waiting for I/O since the last call;
    // nullopt on the first call or when /proc/stat cannot be read.
    std::optional<double> busy_fraction();

private:
    std::optional<std::uint64_t> last_total_, last_idle_;
};

}  // namespace dailysync
