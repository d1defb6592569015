#include "io/config_file.hpp"

#include "io/hook_process.hpp"

#include "core/versions.hpp"
#include "io/preflight.hpp"
#include "io/rsync_child.hpp"

#include <cerrno>
#include <optional>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

namespace dailysync {

ConfigResult read_config_file(const std::string &path) {
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
    return parse_config(text);
}

ConfigError paths_config_error(const Problem &problem) { return ConfigError{"/" + paths_problem_field(problem), problem.text, ""}; }

ConfigResult load_config_file(const std::string &path) {
    ConfigResult result = read_config_file(path);
    if (result.config) {
        if (auto problem = paths_problem(*result.config)) {
            result.error = paths_config_error(*problem);
            result.config.reset();
        }
    }
    return result;
}

namespace {
// A warning when the folder `path` (the key `pointer`) cannot be used; `missing` says what
// follows from its absence.
std::optional<ConfigError> folder_warning(const std::string &pointer, const std::string &path, const std::string &missing) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return ConfigError{pointer, std::string("cannot be used: ") + std::strerror(errno) + " (" + missing + ")", "\"" + path + "\""};
    if (!S_ISDIR(st.st_mode)) return ConfigError{pointer, "is not a directory", "\"" + path + "\""};
    return std::nullopt;
}
}  // namespace

std::vector<ConfigError> config_warnings(const Config &config) {
    std::vector<ConfigError> warnings;
    if (auto warning = folder_warning("/source", config.source, "every run fails until it exists")) warnings.push_back(*warning);
    if (struct stat st {}; ::lstat((config.source + "/" + std::string(kVersionsFolder)).c_str(), &st) == 0)
        warnings.push_back({"/source", versions_name_in_source(config.source), "\"" + config.source + "\""});
    if (find_program(config.rsync_path).empty())
        warnings.push_back({"/rsync_path", "is not an executable program here: every run will fail until it is", "\"" + config.rsync_path + "\""});
    if (auto warning = folder_warning("/destination", config.destination, "dailysyncd never creates it; every run fails until it exists"))
        warnings.push_back(*warning);
    const std::pair<const char *, const std::vector<std::vector<std::string>> *> stages[] = {
        {"before_run", &config.hooks.before_run}, {"after_run", &config.hooks.after_run}, {"on_failure", &config.hooks.on_failure}};
    for (const auto &[stage, commands] : stages)
        for (std::size_t i = 0; i < commands->size(); ++i)
            if (const std::string problem = hook_program_problem((*commands)[i].front()); !problem.empty())
                warnings.push_back({"/hooks/" + std::string(stage) + "/" + std::to_string(i) + "/0",
                                    "cannot be started here: " + problem + "; the hook fails at every run until it can", ""});
    return warnings;
}

}  // namespace dailysync
