// Reads the configuration file (at most kMaxConfigBytes + 1 bytes) and validates it.
// Whether the paths exist is not the file's validity: a NAS may be mounted later, and a
// missing source or destination fails each run with its own error instead.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/problem.hpp"

namespace dailysync {

// Reads and validates the file, and refuses a configuration whose trees overlap as real
// folders (io/preflight paths_problem: a realpath and stat of the source, the destination
// and the state folder, so it blocks while a NAS hangs). For the start of a process.
ConfigResult load_config_file(const std::string &path);
// The file only (a local file: never waits on a NAS): for a reload on the event loop,
// which checks the paths on its workers and refuses with paths_config_error().
ConfigResult read_config_file(const std::string &path);
ConfigError paths_config_error(const Problem &problem);

// What a valid configuration still lacks on this machine, for --check-config: a source or
// destination that does not exist or is no folder, an rsync_path that is no program. Runs
// would fail on each; the service still starts (the NAS may be mounted later).
std::vector<ConfigError> config_warnings(const Config &config);

}  // namespace dailysync
