// Reads the configuration file (at most kMaxConfigBytes + 1 bytes) and validates it.
// Whether the paths exist is not the file's validity: a NAS may be mounted later, and a
// missing source or destination fails each run with its own error instead.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"

namespace dailysync {

ConfigResult load_config_file(const std::string &path);

// What a valid configuration still lacks on this machine, for --check-config: a source or
// destination that does not exist or is no folder, an rsync_path that is no program. Runs
// would fail on each; the service still starts (the NAS may be mounted later).
std::vector<ConfigError> config_warnings(const Config &config);

}  // namespace dailysync
