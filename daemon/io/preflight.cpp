#include "io/preflight.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <memory>
#include <tuple>
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

std::optional<Problem> check_folder(Side side, const std::string &path, bool must_be_mount_point) {
    const std::string role(to_string(side));
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int error = errno;
        // Not there is the usual state of an unmounted NAS; any other error is one of reading it.
        const ProblemKind kind = error == ENOENT || error == ENOTDIR ? ProblemKind::unavailable : ProblemKind::unreadable;
        return Problem{kind, side, path, error,
                       "the " + role + " " + path + " is not available: " + std::strerror(error) +
                           " (dailysyncd does not create it; mount or create it first)"};
    }
    if (!S_ISDIR(st.st_mode)) return Problem{ProblemKind::unavailable, side, path, ENOTDIR, "the " + role + " " + path + " is not a directory"};
    if (must_be_mount_point && !is_mount_point(path))
        return Problem{ProblemKind::unavailable, side, path, 0,
                       "the " + role + " " + path + " is not a mount point (require_mountpoint): is its file system mounted?"};
    return std::nullopt;
}

std::string read_mountinfo() {
    std::ifstream in("/proc/self/mountinfo");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::optional<Place> resolve_place(const std::string &path) {
    // realpath() of the longest part of `path` that exists, with the rest appended: where a
    // folder that is yet to be made (a state_dir) will really be.
    std::string head = path, tail;
    for (;;) {
        char real[PATH_MAX];
        if (::realpath(head.c_str(), real)) {
            Place place{real, std::nullopt};
            if (!tail.empty()) place.real += (place.real == "/" ? "" : "/") + tail;
            struct stat st {};
            if (::stat(place.real.c_str(), &st) == 0)
                place.identity = FolderIdentity{static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino)};
            return place;
        }
        if (errno != ENOENT && errno != ENOTDIR) return std::nullopt;
        const auto slash = head.rfind('/');
        if (slash == std::string::npos || head == "/") return std::nullopt;
        tail = head.substr(slash + 1) + (tail.empty() ? "" : "/" + tail);
        head = slash == 0 ? "/" : head.substr(0, slash);
    }
}

std::string overlap_problem(const std::string &a, const std::optional<Place> &a_place, const std::string &a_role, const std::string &b,
                            const std::optional<Place> &b_place, const std::string &b_role, const std::string &consequence,
                            const std::string &mountinfo) {
    if (!a_place || !b_place) return {};
    auto shown = [](const std::string &path, const std::string &real) { return path == real ? path : path + " (really " + real + ")"; };
    const std::string both =
        ": the " + b_role + " " + shown(b, b_place->real) + ", the " + a_role + " " + shown(a, a_place->real) + "; " + consequence;
    if (a_place->identity && a_place->identity == b_place->identity) return "the " + b_role + " and the " + a_role + " are the same folder" + both;
    if (auto problem = overlap_of({"", a_place->real}, a_role, {"", b_place->real}, b_role); !problem.empty()) return problem + both;
    // The same folder of one filesystem reached by two paths: bind mounts.
    const auto mounts = parse_mounts(mountinfo);
    if (auto problem = overlap_of(locate(mounts, a_place->real), a_role, locate(mounts, b_place->real), b_role); !problem.empty())
        return problem + " (through a bind mount)" + both;
    return {};
}

std::optional<Problem> paths_problem(const Config &config, const ConfigPlaces &places, const std::string &mountinfo) {
    if (auto problem = overlap_problem(config.destination, places.destination, "destination", config.source, places.source, "source",
                                       "a backup there would copy into itself or delete what it copies", mountinfo);
        !problem.empty())
        return Problem{ProblemKind::refused, Side::destination, config.destination, 0, problem};
    auto state_dir_within = [&](const std::string &other, const std::optional<Place> &place, const char *role) {
        return overlap_problem(config.state_dir, places.state_dir, "state_dir", other, place, role,
                               "dailysyncd would write its state into the tree it backs up or into the backup", mountinfo);
    };
    for (auto problem : {state_dir_within(config.destination, places.destination, "destination"),
                         state_dir_within(config.source, places.source, "source")})
        if (!problem.empty()) return Problem{ProblemKind::refused, Side::state, config.state_dir, 0, problem};
    return std::nullopt;
}

std::optional<Problem> paths_problem(const Config &config) {
    const ConfigPlaces places{resolve_place(config.source), resolve_place(config.destination), resolve_place(config.state_dir)};
    return paths_problem(config, places, read_mountinfo());
}

std::string paths_problem_field(const Problem &problem) {
    return problem.side == Side::state ? "state_dir" : problem.side == Side::source ? "source" : "destination";
}

std::optional<FolderIdentity> folder_identity(const std::string &path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    return FolderIdentity{static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino)};
}

std::optional<Problem> source_replaced(const Source &source, const std::optional<FolderIdentity> &identity) {
    if (!identity || source.identity() == identity) return std::nullopt;
    return Problem{ProblemKind::unavailable, Side::source, source.location(), 0,
                   "the source " + source.location() + " disappeared or was replaced during the run (unmounted?)"};
}

bool is_mount_point(const std::string &path) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved)) return false;
    const auto points = parse_mount_points(read_mountinfo());
    return std::find(points.begin(), points.end(), std::string(resolved)) != points.end();
}

std::optional<Problem> preflight(const Source &source, const Destination &destination, const Config &config,
                                 std::uint64_t previous_entries) {
    if (auto problem = destination.check()) return problem;
    if (auto problem = source.check(previous_entries)) return problem;
    // The configuration compares paths as text; symlinks and bind mounts can still make
    // the two trees one. Checked again at every run: mounts change.
    return paths_problem(config);
}

void check_places(WorkerPool &pool, const Config &config, std::chrono::milliseconds deadline, const std::string &while_doing,
                  std::function<void(std::optional<Problem>)> done) {
    struct Pending {
        Config config;
        ConfigPlaces places;
        std::optional<Problem> unanswered;
        int waiting = 3;
        std::function<void(std::optional<Problem>)> done;
    };
    auto pending = std::make_shared<Pending>(Pending{config, {}, std::nullopt, 3, std::move(done)});
    const Config &c = pending->config;
    for (auto [side, path, place] : {std::tuple{Side::source, c.source, &pending->places.source},
                                     std::tuple{Side::destination, c.destination, &pending->places.destination},
                                     std::tuple{Side::state, c.state_dir, &pending->places.state_dir}}) {
        pool.run<std::optional<Place>>(
            deadline, [path = path](WorkProgress &) { return resolve_place(path); },
            [pending, side = side, path = path, place = place, deadline, while_doing](Worked<std::optional<Place>> resolved) {
                if (resolved) *place = *resolved;
                else if (!pending->unanswered) {
                    const std::string what = (side == Side::state ? "the state folder " : "the " + std::string(to_string(side)) + " ") + path;
                    pending->unanswered = resolved.crashed() ? resolved.problem(side, path, what, 0)
                                                             : Problem{ProblemKind::not_answering, side, path, 0,
                                                                       what + " did not answer for " +
                                                                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(deadline).count()) +
                                                                           " s" + while_doing + ": is the NAS hung or its network down?"};
                }
                if (--pending->waiting > 0) return;
                if (pending->unanswered) return pending->done(std::move(pending->unanswered));
                pending->done(paths_problem(pending->config, pending->places, read_mountinfo()));
            });
    }
}

}  // namespace dailysync
