// Reads the configuration file and checks what validation cannot see without the
// filesystem (the source exists and is a folder).
#pragma once

#include <string>

#include "core/config.hpp"

namespace dailysync {

ConfigResult load_config_file(const std::string &path);

}  // namespace dailysync
