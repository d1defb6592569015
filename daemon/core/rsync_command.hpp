// The argument vector of one rsync child. Pure.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/plan.hpp"

namespace dailysync {

// Arguments after the program name. Paths are absolute and follow "--", so no name can be
// read as an option; rsync does no globbing of local paths, so '*' and '?' stay literal.
//   folder unit:  -- source/base/ destination/base/
//   group unit:   -- source/base/m1 source/base/m2 ... destination/base/
// `backup_dir` (absolute; "" = none): keep what the unit overwrites or deletes there, under
// its path relative to the source (the back/ folder of the newest version, see versions.hpp).
std::vector<std::string> rsync_arguments(const Config &config, const WorkUnit &unit, bool dry_run,
                                         const std::string &backup_dir = {});

// The source paths a unit reads (for checking they still exist before starting it).
std::vector<std::string> unit_sources(const Config &config, const WorkUnit &unit);

}  // namespace dailysync
