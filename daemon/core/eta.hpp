// The time left in a run, estimated so that an admin can trust it:
//
//   left = max(bytes left / byte rate, entries left / entry rate)
//
// with both rates measured over the last 10 s (RateMeter): the run ends when both its data
// and its per-entry work are done, and each rate already includes the time the other kind
// of work took. The estimate appears only once the rates cover kEtaMinSpan seconds of
// progress (earlier ones swing by minutes), and is damped: each new value moves the
// previous estimate (counted down by the time since) kEtaDamping of the way towards the
// raw value, so one burst of small files does not halve it. Pure.
#pragma once

#include <cstdint>
#include <optional>

namespace dailysync {

inline constexpr double kEtaMinSpan = 5.0;   // seconds of rate samples before an estimate is shown
inline constexpr double kEtaDamping = 0.3;   // weight of the newest raw estimate

struct EtaInput {
    double now = 0;                       // monotonic seconds
    double rate_span = 0;                 // seconds the rate samples cover
    std::uint64_t bytes_left = 0, entries_left = 0;
    double bytes_per_second = 0, entries_per_second = 0;
};

// The undamped estimate, or nullopt when the rates cannot tell yet (too short a span, or
// work of one kind left with no progress of that kind measured).
std::optional<double> raw_eta(const EtaInput &in);

class EtaEstimator {
public:
    // Feed once per sample; returns the estimate to show (nullopt: not yet known).
    std::optional<double> update(const EtaInput &in);
    std::optional<double> current() const { return eta_; }

private:
    std::optional<double> eta_;
    double at_ = 0;
};

}  // namespace dailysync
