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

#include "io/destination.hpp"
#include "io/source.hpp"

namespace dailysync {

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

namespace {

std::string read_mountinfo() {
    std::ifstream in("/proc/self/mountinfo");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// realpath() of the longest part of `path` that exists, with the rest appended: where a
// folder that is yet to be made (a state_dir) will really be.
std::optional<std::string> resolve_as_far_as_it_exists(const std::string &path) {
    std::string head = path, tail;
    for (;;) {
        char real[PATH_MAX];
        if (::realpath(head.c_str(), real)) {
            std::string out = real;
            if (!tail.empty()) out += (out == "/" ? "" : "/") + tail;
            return out;
        }
        if (errno != ENOENT && errno != ENOTDIR) return std::nullopt;
        const auto slash = head.rfind('/');
        if (slash == std::string::npos || head == "/") return std::nullopt;
        tail = head.substr(slash + 1) + (tail.empty() ? "" : "/" + tail);
        head = slash == 0 ? "/" : head.substr(0, slash);
    }
}

}  // namespace

std::string overlap_problem(const std::string &a, const std::string &a_role, const std::string &b, const std::string &b_role,
                            const std::string &consequence) {
    const auto a_real = resolve_as_far_as_it_exists(a), b_real = resolve_as_far_as_it_exists(b);
    if (!a_real || !b_real) return {};
    auto shown = [](const std::string &path, const std::string &real) { return path == real ? path : path + " (really " + real + ")"; };
    const std::string both = ": the " + b_role + " " + shown(b, *b_real) + ", the " + a_role + " " + shown(a, *a_real) + "; " + consequence;
    struct stat sa {}, sb {};
    if (::stat(a_real->c_str(), &sa) == 0 && ::stat(b_real->c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)
        return "the " + b_role + " and the " + a_role + " are the same folder" + both;
    if (auto problem = overlap_of({"", *a_real}, a_role, {"", *b_real}, b_role); !problem.empty()) return problem + both;
    // The same folder of one filesystem reached by two paths: bind mounts.
    const auto mounts = parse_mounts(read_mountinfo());
    if (auto problem = overlap_of(locate(mounts, *a_real), a_role, locate(mounts, *b_real), b_role); !problem.empty())
        return problem + " (through a bind mount)" + both;
    return {};
}

PathsProblem paths_problem(const Config &config) {
    if (auto problem = overlap_problem(config.destination, "destination", config.source, "source",
                                       "a backup there would copy into itself or delete what it copies");
        !problem.empty())
        return {"destination", problem};
    for (const auto &[other, role] : {std::pair<const std::string &, const char *>{config.destination, "destination"}, {config.source, "source"}}) {
        if (auto problem = overlap_problem(config.state_dir, "state_dir", other, role,
                                           "dailysyncd would write its state into the tree it backs up or into the backup");
            !problem.empty())
            return {"state_dir", problem};
    }
    return {};
}

std::optional<FolderIdentity> folder_identity(const std::string &path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    return FolderIdentity{static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino)};
}

std::string source_replaced(const Source &source, const std::optional<FolderIdentity> &identity) {
    if (!identity || source.identity() == identity) return {};
    return "the source " + source.location() + " disappeared or was replaced during the run (unmounted?)";
}

bool is_mount_point(const std::string &path) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved)) return false;
    const auto points = parse_mount_points(read_mountinfo());
    return std::find(points.begin(), points.end(), std::string(resolved)) != points.end();
}

std::string preflight(const Source &source, const Destination &destination, const Config &config, std::uint64_t previous_entries) {
    if (auto problem = destination.check(); !problem.empty()) return problem;
    if (auto problem = source.check(previous_entries); !problem.empty()) return problem;
    // The configuration compares paths as text; symlinks and bind mounts can still make
    // the two trees one. Checked again at every run: mounts change.
    if (auto problem = paths_problem(config); !problem.message.empty()) return problem.message;
    return {};
}

}  // namespace dailysync
