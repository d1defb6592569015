// The argument vector of one rsync child. Pure.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/plan.hpp"

namespace dailysync {

// Arguments after the program name. Paths are absolute and follow "--", so no name can be
// read as an option; rsync does no globbing of local paths, so '*' and '?' stay literal.
std::vector<std::string> rsync_arguments(const Config &config, const WorkUnit &unit, bool dry_run);

// source/<unit.path>/ and destination/<unit.path>/ (always with the trailing slash).
std::string unit_source(const Config &config, const WorkUnit &unit);
std::string unit_destination(const Config &config, const WorkUnit &unit);

}  // namespace dailysync
