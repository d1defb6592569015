#include "io/preflight.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

#include "core/mountinfo.hpp"

namespace dailysync {

namespace {

bool has_entries(const std::string &folder) {
    DIR *dir = ::opendir(folder.c_str());
    if (!dir) return false;
    bool found = false;
    while (const dirent *entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") {
            found = true;
            break;
        }
    }
    ::closedir(dir);
    return found;
}

std::string check_folder(const std::string &role, const std::string &path, bool must_be_mount_point) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return "the " + role + " " + path + " is not available: " + std::strerror(errno) + " (dailysyncd does not create it; mount or create it first)";
    if (!S_ISDIR(st.st_mode)) return "the " + role + " " + path + " is not a directory";
    if (must_be_mount_point && !is_mount_point(path))
        return "the " + role + " " + path + " is not a mount point (require_mountpoint): is its file system mounted?";
    return {};
}

}  // namespace

std::string overlap_problem(const std::string &source, const std::string &destination) {
    char source_real[PATH_MAX], destination_real[PATH_MAX];
    if (!::realpath(source.c_str(), source_real) || !::realpath(destination.c_str(), destination_real)) return {};
    auto shown = [](const std::string &path, const char *real) { return path == real ? path : path + " (really " + real + ")"; };
    const std::string both = ": the source " + shown(source, source_real) + ", the destination " + shown(destination, destination_real) +
                             "; a backup there would copy into itself or delete what it copies";
    struct stat s {}, d {};
    if (::stat(source_real, &s) == 0 && ::stat(destination_real, &d) == 0 && s.st_dev == d.st_dev && s.st_ino == d.st_ino)
        return "the source and the destination are the same folder" + both;
    const FilesystemLocation text_source{"", source_real}, text_destination{"", destination_real};
    if (auto problem = overlap_of(text_destination, "destination", text_source, "source"); !problem.empty()) return problem + both;
    // The same folder of one filesystem reached by two paths: bind mounts.
    std::ifstream in("/proc/self/mountinfo");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto mounts = parse_mounts(text);
    if (auto problem = overlap_of(locate(mounts, destination_real), "destination", locate(mounts, source_real), "source"); !problem.empty())
        return problem + " (through a bind mount)" + both;
    return {};
}

std::optional<FolderIdentity> folder_identity(const std::string &path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    return FolderIdentity{static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino)};
}

bool is_mount_point(const std::string &path) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved)) return false;
    std::ifstream in("/proc/self/mountinfo");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto points = parse_mount_points(text);
    return std::find(points.begin(), points.end(), std::string(resolved)) != points.end();
}

std::string preflight(const Config &config, std::uint64_t previous_entries) {
    // Never create a missing destination: an unmounted NAS would be "backed up" to the
    // root filesystem underneath its mount point.
    if (auto problem = check_folder("destination", config.destination, config.destination_must_be_mountpoint); !problem.empty())
        return problem;
    if (auto problem = check_folder("source", config.source, config.source_must_be_mountpoint); !problem.empty()) return problem;
    // The configuration compares paths as text; symlinks and bind mounts can still make
    // the two trees one. Checked again at every run: mounts change.
    if (auto problem = overlap_problem(config.source, config.destination); !problem.empty()) return problem;
    if (!config.source_sentinel.empty()) {
        const std::string sentinel = config.source + "/" + config.source_sentinel;
        struct stat st {};
        if (::lstat(sentinel.c_str(), &st) != 0)
            return "the source sentinel " + sentinel + " is missing (source_sentinel): the source is not the expected volume";
    }
    if (previous_entries > 1 && !has_entries(config.source))
        return "the source " + config.source + " is empty, but held " + std::to_string(previous_entries) +
               " entries at the last complete run: is it mounted? Nothing was copied or deleted";
    return {};
}

}  // namespace dailysync
