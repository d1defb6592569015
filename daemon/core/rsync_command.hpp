// The argument vector of one rsync child. Pure.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/plan.hpp"

namespace dailysync {

// Arguments after the program name. Paths are absolute and follow "--", so no name can be
// read as an option; rsync does no globbing of local paths, so '*' and '?' stay literal.
// Every rsync's names are paths from the source's top, as one rsync of the whole tree
// would see them (--relative, the split point after "/./"), so the excludes and the
// backup folder mean the same whatever the plan:
//   folder unit:  -- source/./base/ destination/
//   group unit:   -- source/./base/m1 source/./base/m2 ... destination/
//   listed unit:  -- source/ destination/   (the entries on stdin, files_from_input)
// `backup_dir` (absolute; "" = none): keep what the unit overwrites or deletes there, under
// its path relative to the source (the back/ folder of the newest version, see versions.hpp).
std::vector<std::string> rsync_arguments(const Config &config, const WorkUnit &unit, bool dry_run,
                                         const std::string &backup_dir = {});

// What rsync prints before each name of a unit's output: the unit's folder ("base/"), or
// "" where the names are already those of the unit's own (a listed or top-level unit).
// The output parser takes it off, so every name downstream is relative to the unit's
// folder ("./" for the folder itself).
std::string rsync_name_prefix(const WorkUnit &unit);

// A listed unit's entries for rsync's stdin (--files-from=- --from0): NUL-separated, a
// name that rsync would read as a comment made "./name".
std::string files_from_input(const std::vector<std::string> &files);

}  // namespace dailysync
