// The checks before a run touches anything: is the source what it should be, is the
// destination really the backup volume. Each failure is one sentence for the report.
#pragma once

#include <cstdint>
#include <string>

#include "core/config.hpp"

namespace dailysync {

// "" when the run may go ahead. `previous_entries`: what the last complete run saw in the
// source (0 when unknown); a source that is empty now refuses the run.
std::string preflight(const Config &config, std::uint64_t previous_entries);

bool is_mount_point(const std::string &path);   // listed in /proc/self/mountinfo

}  // namespace dailysync
