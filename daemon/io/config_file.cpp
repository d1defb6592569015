#include "io/config_file.hpp"

#include "io/rsync_child.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace dailysync {

ConfigResult load_config_file(const std::string &path) {
    ConfigResult result;
    struct stat file {};
    if (::stat(path.c_str(), &file) == 0 && S_ISDIR(file.st_mode)) {
        result.error = ConfigError{"", "is a directory, not a configuration file", ""};
        return result;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        result.error = ConfigError{"", std::string("cannot read the configuration: ") + std::strerror(errno), ""};
        return result;
    }
    std::ostringstream text;
    text << in.rdbuf();
    result = parse_config(text.str());
    if (!result.config) return result;
    struct stat st {};
    const std::string &source = result.config->source;
    if (::stat(source.c_str(), &st) != 0) {
        result.error = ConfigError{"/source", std::string("cannot use the source: ") + std::strerror(errno), "\"" + source + "\""};
        result.config.reset();
    } else if (!S_ISDIR(st.st_mode)) {
        result.error = ConfigError{"/source", "is not a directory", "\"" + source + "\""};
        result.config.reset();
    }
    return result;
}

std::vector<ConfigError> config_warnings(const Config &config) {
    std::vector<ConfigError> warnings;
    if (find_program(config.rsync_path).empty())
        warnings.push_back({"/rsync_path", "is not an executable program here: every run will fail until it is", "\"" + config.rsync_path + "\""});
    struct stat st {};
    if (::stat(config.destination.c_str(), &st) != 0)
        warnings.push_back({"/destination", std::string("cannot be used: ") + std::strerror(errno) +
                                                " (dailysyncd never creates it; every run fails until it exists)",
                            "\"" + config.destination + "\""});
    else if (!S_ISDIR(st.st_mode))
        warnings.push_back({"/destination", "is not a directory", "\"" + config.destination + "\""});
    return warnings;
}

}  // namespace dailysync
