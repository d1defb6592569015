#include "core/eta.hpp"

#include <algorithm>

namespace dailysync {

std::optional<double> raw_eta(const EtaInput &in) {
    if (in.bytes_left == 0 && in.entries_left == 0) return 0.0;
    if (in.rate_span < kEtaMinSpan) return std::nullopt;
    double left = 0;
    if (in.bytes_left > 0) {
        if (!(in.bytes_per_second > 0)) return std::nullopt;
        left = std::max(left, static_cast<double>(in.bytes_left) / in.bytes_per_second);
    }
    if (in.entries_left > 0) {
        if (!(in.entries_per_second > 0)) return std::nullopt;
        left = std::max(left, static_cast<double>(in.entries_left) / in.entries_per_second);
    }
    return left;
}

std::optional<double> EtaEstimator::update(const EtaInput &in) {
    const std::optional<double> raw = raw_eta(in);
    if (raw && *raw == 0) {
        eta_ = 0.0;
    } else if (eta_) {
        // The previous estimate, counted down to now; moved towards the new one if any.
        const double counted_down = std::max(0.0, *eta_ - std::max(0.0, in.now - at_));
        if (raw) eta_ = counted_down + kEtaDamping * (*raw - counted_down);
        else if (counted_down > 0) eta_ = counted_down;
        else eta_.reset();   // counted down to nothing with no new measure: unknown again
    } else {
        eta_ = raw;
    }
    at_ = in.now;
    return eta_;
}

}  // namespace dailysync
