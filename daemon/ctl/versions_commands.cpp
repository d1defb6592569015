#include "ctl/versions_commands.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/format.hpp"
#include "core/names.hpp"
#include "io/config_file.hpp"
#include "io/preflight.hpp"
#include "io/version_store.hpp"

extern char **environ;

namespace dailysync::ctl {

namespace {

struct Setup {
    Config config;
    std::vector<VersionPoint> points;
    std::string path;    // raw, relative to the source; "" = all of it
    std::string error;   // for the admin
};

int fail(const std::string &message) {
    std::cerr << "dailysyncctl: " << message << "\n";
    return kExitRefused;
}

Setup set_up(const CommandLine &cl) {
    Setup s;
    ConfigResult loaded = load_config_file(cl.config_path);
    if (!loaded.config) {
        s.error = format_config_error(cl.config_path, *loaded.error);
        return s;
    }
    s.config = std::move(*loaded.config);
    if (cl.have_path) {
        auto relative = source_relative(s.config, cl.path);
        if (!relative) {
            s.error = "\"" + printable_name(cl.path) + "\" is not in the source " + printable_name(s.config.source) +
                      " (give a path under it, or one relative to it)";
            return s;
        }
        s.path = *relative;
    }
    const VersionStore store(s.config.destination);
    std::vector<VersionStore::Damaged> damaged;
    auto points = store.points(&damaged);
    for (const auto &d : damaged)
        std::cerr << "dailysyncctl: warning: version " << printable_name(d.id) << " is damaged (" << d.why
                  << "): left out, never followed (the next run sets it aside)\n";
    if (points.status() == Loaded<std::vector<VersionPoint>>::Status::unreadable) {
        s.error = "the versions cannot be read: " + points.error();
    } else if (!points.has_value() || points.value().empty()) {
        s.error = "no versions are kept in " + printable_name(store.root()) +
                  (s.config.versions ? " yet (the first run with \"versions\" starts them)" : " (\"versions\" is not set in " + cl.config_path + ")");
    } else {
        s.points = std::move(points.value());
    }
    return s;
}

// The steps of a long walk, shown on a terminal.
std::function<void()> ticker(const char *what) {
    if (!::isatty(STDERR_FILENO)) return {};
    return [what, n = std::uint64_t{0}]() mutable {
        if (++n % 5000 == 0) std::cerr << "\r" << what << ": " << n << " entries" << std::flush;
    };
}

// The path with every symlink resolved, "" when it cannot be resolved.
std::string real_path(const std::string &path) {
    char *real = ::realpath(path.c_str(), nullptr);
    if (!real) return {};
    std::string out(real);
    std::free(real);
    return out;
}

bool folder_is_empty(const std::string &folder) {
    DIR *dir = ::opendir(folder.c_str());
    if (!dir) return false;
    bool empty = true;
    while (const dirent *e = ::readdir(dir))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
    ::closedir(dir);
    return empty;
}

int run_rsync(const std::vector<std::string> &args) {
    std::vector<char *> argv;
    for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    // dailysyncctl ignores Ctrl-C while rsync runs (to clean up after it); rsync must not.
    posix_spawnattr_t attributes;
    ::posix_spawnattr_init(&attributes);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, signal);
    ::posix_spawnattr_setsigdefault(&attributes, &defaults);
    ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
    const int e = ::posix_spawnp(&pid, argv[0], nullptr, &attributes, argv.data(), environ);
    ::posix_spawnattr_destroy(&attributes);
    if (e != 0) {
        std::cerr << "dailysyncctl: cannot start " << args[0] << ": " << std::strerror(e) << "\n";
        return -1;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int list_versions(const CommandLine &cl) {
    Setup s = set_up(cl);
    if (!s.error.empty()) return fail(s.error);
    const VersionStore store(s.config.destination);
    if (!cl.have_path) {
        const auto rows = versions_json(store, s.points);
        if (cl.json) {
            std::cout << rows.dump(2) << "\n";
            return kExitOk;
        }
        std::cout << "VERSION                         WHEN                  KIND      KEPT FOR IT\n";
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto &row = rows[i];
            char line[256];
            std::snprintf(line, sizeof line, "%-31s %-21s %-9s %s in %llu entries%s\n", s.points[i].id.c_str(),
                          format_local_time(s.points[i].at, false).c_str(), point_kind(s.points[i]).c_str(),
                          format_bytes(row["bytes"].get<std::uint64_t>()).c_str(),
                          static_cast<unsigned long long>(row["entries"].get<std::uint64_t>()),
                          s.points[i].chain_start && i > 0 ? "  (older ones are not exact: versions were off or lost before it)" : "");
            std::cout << line;
        }
        return kExitOk;
    }
    // One path: what it was at each version.
    const auto states = store.path_states(s.points, s.path);
    if (cl.json) {
        std::cout << path_states_json(s.points, states).dump(2) << "\n";
        return kExitOk;
    }
    std::cout << (s.path.empty() ? std::string("/") : printable_name(s.path)) << " in each version kept (the newest is the backup now):\n";
    for (std::size_t i = 0; i < s.points.size(); ++i) {
        char line[512];
        std::snprintf(line, sizeof line, "  %-31s %-21s %-9s %s\n", s.points[i].id.c_str(), format_local_time(s.points[i].at, false).c_str(),
                      point_kind(s.points[i]).c_str(), states[i].state.c_str());
        std::cout << line;
    }
    return kExitOk;
}

int restore(const CommandLine &cl) {
    Setup s = set_up(cl);
    if (!s.error.empty()) return fail(s.error);
    const auto choice = choose_point(VersionStore::dated(s.points), cl.at);
    if (!choice.index) return fail(choice.error);
    const VersionPoint &point = s.points[*choice.index];

    // Where it goes: DIR/NAME (or DIR itself for the whole backup). Never into the backup,
    // never over the source unless asked.
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) return fail("cannot tell the current folder: " + std::string(std::strerror(errno)));
    const std::string given = normalize_absolute_path(cl.to.front() == '/' ? cl.to : std::string(cwd) + "/" + cl.to);
    if (given.empty()) return fail("--to \"" + printable_name(cl.to) + "\" is not a usable folder");
    // Judged where it really is: a symlink on the way (DIR itself or a parent) leads
    // there, and rsync is given the resolved folder, so the check holds for what rsync opens.
    std::string to = real_path(given);
    struct stat st {};
    // A folder not there yet is made (one level, as mkdir does), once every check passed:
    // judged as the folder it will be, inside its real parent.
    bool make_to = false;
    if (to.empty() && given != "/" && ::lstat(given.c_str(), &st) != 0 && errno == ENOENT) {
        const std::string parent = given.substr(0, std::max<std::size_t>(given.rfind('/'), 1));
        const std::string real_parent = real_path(parent);
        if (real_parent.empty() || ::stat(real_parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            return fail("--to " + printable_name(given) + " does not exist, nor does its parent folder " + printable_name(parent) +
                        " (only the last folder is made)");
        to = (real_parent == "/" ? std::string() : real_parent) + given.substr(given.rfind('/'));
        make_to = true;
    } else if (to.empty() || ::stat(to.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return fail("--to " + printable_name(given) + " is not a folder");
    }
    const std::string shown = to == given ? printable_name(to) : printable_name(given) + " (which is " + printable_name(to) + ")";
    const std::string name = s.path.substr(s.path.rfind('/') + 1);
    const std::string target = s.path.empty() ? to : to + "/" + name;
    auto within = [&](const std::string &tree) {
        const std::string real = real_path(tree);
        for (const std::string &t : {tree, real})
            if (!t.empty() && (path_is_within(target, t) || path_is_within(t, target))) return true;
        // The same folder under another path (a bind mount): by identity, DIR/NAME and each
        // folder above it.
        struct stat top {}, at {};
        if (::stat(tree.c_str(), &top) != 0) return false;
        for (std::string p = target; !p.empty(); p = p == "/" ? std::string() : p.substr(0, std::max<std::size_t>(p.rfind('/'), 1)))
            if (::stat(p.c_str(), &at) == 0 && at.st_dev == top.st_dev && at.st_ino == top.st_ino) return true;
        return false;
    };
    if (within(s.config.destination))
        return fail("--to " + shown + ": the restore would write into the backup " + printable_name(s.config.destination));
    if (!cl.into_source && within(s.config.source))
        return fail("--to " + shown + ": the restore would write over the source " + printable_name(s.config.source) +
                    " (add --into-source if that is what you want)");
    // Nothing already there is replaced unasked.
    if (!cl.overwrite && !cl.dry_run && !make_to) {
        if (s.path.empty() ? !folder_is_empty(to) : ::lstat(target.c_str(), &st) == 0)
            return fail((s.path.empty() ? "--to " + shown + " is not empty" : printable_name(target) + " exists already") +
                        ": the restore would write over what is there (add --overwrite to replace same-named files; nothing "
                        "else is removed), or restore into an empty folder");
    }

    if (make_to && !cl.dry_run && ::mkdir(to.c_str(), 0700) != 0)
        return fail("cannot make --to " + shown + ": " + std::strerror(errno));
    const VersionStore store(s.config.destination);
    auto assembled = store.assemble(s.points, *choice.index, s.path, true, ticker("reading the versions"));
    if (!assembled.error.empty()) return fail(assembled.error);
    if (!assembled.view.is_present(s.path)) return fail(printable_name(s.path) + " was not in the backup at " + point.id + " (see: dailysyncctl versions " + cl.path + ")");
    // The staging tree is removed whatever happens from here on, even on Ctrl-C (rsync
    // gets it too, and stops).
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction old_int {}, old_term {}, old_hup {};
    ::sigaction(SIGINT, &ignore, &old_int);
    ::sigaction(SIGTERM, &ignore, &old_term);
    ::sigaction(SIGHUP, &ignore, &old_hup);
    auto staged = store.stage(assembled, ticker("assembling"));
    if (!staged.has_value()) return fail(staged.error());
    const std::string staging = staged.value();

    std::cerr << "restoring " << (s.path.empty() ? std::string("the whole backup") : printable_name(s.path)) << " as of " << point.id
              << " (" << format_local_time(point.at, false) << ", " << point_kind(point) << ") into " << printable_name(target)
              << (cl.dry_run ? " (dry run: nothing is changed)" : "") << "\n";
    std::vector<std::string> args = {s.config.rsync_path, "--archive", "--no-inc-recursive"};
    if (::isatty(STDOUT_FILENO)) args.push_back("--info=progress2");   // rsync's own progress line
    if (s.config.preserve.hard_links) args.push_back("--hard-links");
    if (s.config.preserve.acls) args.push_back("--acls");
    if (s.config.preserve.xattrs) args.push_back("--xattrs");
    if (s.config.preserve.sparse) args.push_back("--sparse");
    if (cl.dry_run) args.insert(args.end(), {"--dry-run", "--itemize-changes"});
    args.push_back("--");
    args.push_back(s.path.empty() ? staging + "/" : staging + "/" + s.path);
    args.push_back(to + "/");
    const int status = run_rsync(args);
    const Done removed = VersionStore::remove_tree(staging);
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
    ::sigaction(SIGHUP, &old_hup, nullptr);
    if (!removed.ok()) std::cerr << "dailysyncctl: " << removed.error() << " (remove it by hand)\n";
    if (status != 0) return fail("rsync ended with status " + std::to_string(status) + ": the restore is incomplete");
    std::cerr << (cl.dry_run ? "dry run done: nothing was changed\n" : "restored\n");
    return kExitOk;
}

}  // namespace dailysync::ctl
