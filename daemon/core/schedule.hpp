// Schedule arithmetic for the daily run. Deterministic for a given time zone: it uses the
// C library's local-time conversion (TZ), reads no clock and keeps no state.
#pragma once

#include <ctime>
#include <optional>

namespace dailysync {

// The first instant strictly after `after` at which the local wall clock shows HH:MM.
// DST: on a day when HH:MM does not exist (clocks jump over it), the run is at the first
// valid minute after it (the instant of the jump); when HH:MM occurs twice (clocks fall
// back), only the first occurrence counts.
std::time_t next_daily_run(std::time_t after, int hour, int minute);

// Whether the daemon should run soon after starting because the last successful run is
// more than one period (24 h) old. No successful run ever: no catch-up (a fresh install
// waits for its schedule instead of starting a full copy at once).
bool needs_catch_up(std::time_t now, std::optional<std::time_t> last_success);

// When to fire next: the daily time after `reference`, where reference is the later of
// now and the last scheduled fire, so a clock set back after a run never repeats it.
std::time_t next_fire(std::time_t now, std::optional<std::time_t> last_fire, int hour, int minute);

}  // namespace dailysync
