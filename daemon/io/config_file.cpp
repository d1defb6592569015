#include "io/config_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace dailysync {

ConfigResult load_config_file(const std::string &path) {
    ConfigResult result;
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

}  // namespace dailysync
