// Reads the configuration file and checks what validation cannot see without the
// filesystem (the source exists and is a folder).
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"

namespace dailysync {

ConfigResult load_config_file(const std::string &path);

// What a valid configuration still lacks on this machine, for --check-config: an
// rsync_path that is no program, a destination that does not exist or is no folder. Runs
// would fail on each; the service still starts (the NAS may be mounted later).
std::vector<ConfigError> config_warnings(const Config &config);

}  // namespace dailysync
