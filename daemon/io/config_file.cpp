#include "io/config_file.hpp"

#include "io/preflight.hpp"
#include "io/rsync_child.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
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
    // One byte more than the limit is enough for parse_config to refuse the size.
    std::string text(kMaxConfigBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    result = parse_config(text);
    if (result.config) {
        if (auto problem = paths_problem(*result.config); !problem.message.empty()) {
            result.error = ConfigError{"/" + problem.field, problem.message, ""};
            result.config.reset();
        }
    }
    return result;
}

std::vector<ConfigError> config_warnings(const Config &config) {
    std::vector<ConfigError> warnings;
    struct stat source {};
    if (::stat(config.source.c_str(), &source) != 0)
        warnings.push_back({"/source", std::string("cannot be used: ") + std::strerror(errno) + " (every run fails until it exists)",
                            "\"" + config.source + "\""});
    else if (!S_ISDIR(source.st_mode))
        warnings.push_back({"/source", "is not a directory", "\"" + config.source + "\""});
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
