#include "ctl/versions_commands.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
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

// PATH as the admin wrote it -> relative to the source's top.
std::optional<std::string> relative_to_source(const Config &config, const std::string &path) {
    if (path.empty() || path == "." || path == "/" || path == config.source) return std::string();
    const std::string absolute = normalize_absolute_path(path.front() == '/' ? path : config.source + "/" + path);
    if (absolute.empty() || !path_is_within(absolute, config.source)) return std::nullopt;
    return absolute == config.source ? std::string() : absolute.substr(config.source.size() + 1);
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
        auto relative = relative_to_source(s.config, cl.path);
        if (!relative) {
            s.error = "\"" + printable_name(cl.path) + "\" is not in the source " + printable_name(s.config.source) +
                      " (give a path under it, or one relative to it)";
            return s;
        }
        s.path = *relative;
    }
    const VersionStore store(s.config.destination);
    auto points = store.points();
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

std::string describe(const std::string &file) {
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0) return "unreadable (" + std::string(std::strerror(errno)) + ")";
    const std::string when = format_local_time(st.st_mtim.tv_sec, false);
    if (S_ISDIR(st.st_mode)) return "folder, modified " + when;
    if (S_ISLNK(st.st_mode)) {
        std::string target(4096, '\0');
        const ssize_t n = ::readlink(file.c_str(), target.data(), target.size());
        target.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return "symlink -> " + printable_name(target);
    }
    if (S_ISREG(st.st_mode)) return "file, " + format_bytes(static_cast<std::uint64_t>(st.st_size)) + ", modified " + when;
    return "special file, modified " + when;
}

// The steps of a long walk, shown on a terminal.
std::function<void()> ticker(const char *what) {
    if (!::isatty(STDERR_FILENO)) return {};
    return [what, n = std::uint64_t{0}]() mutable {
        if (++n % 5000 == 0) std::cerr << "\r" << what << ": " << n << " entries" << std::flush;
    };
}

int run_rsync(const std::vector<std::string> &args) {
    std::vector<char *> argv;
    for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (int e = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ); e != 0) {
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
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    if (!cl.have_path) {
        if (!cl.json) std::cout << "VERSION                         WHEN                  KIND      KEPT FOR IT\n";
        for (const auto &point : s.points) {
            const bool broken_before = point.chain_start && &point != &s.points.front();
            const auto usage = store.usage(point.id);
            if (cl.json) {
                rows.push_back({{"version", point.id}, {"at", point.at}, {"kind", point_kind(point)}, {"bytes", usage.bytes},
                                {"entries", usage.entries}, {"chain_start", point.chain_start}});
                continue;
            }
            char line[256];
            std::snprintf(line, sizeof line, "%-31s %-21s %-9s %s in %llu entries%s\n", point.id.c_str(),
                          format_local_time(point.at, false).c_str(), point_kind(point).c_str(), format_bytes(usage.bytes).c_str(),
                          static_cast<unsigned long long>(usage.entries),
                          broken_before ? "  (versions were off before it: older ones are not exact)" : "");
            std::cout << line;
        }
        if (cl.json) std::cout << rows.dump(2) << "\n";
        return kExitOk;
    }
    // One path: what it was at each version.
    const std::string shown = s.path.empty() ? "/" : printable_name(s.path);
    if (!cl.json) std::cout << shown << " in each version kept (the newest is the backup now):\n";
    for (std::size_t i = 0; i < s.points.size(); ++i) {
        auto assembled = store.assemble(s.points, i, s.path, false);
        std::string state;
        bool present = false;
        if (!assembled.error.empty()) {
            state = "cannot be put together (versions were off after it)";
        } else if (auto claim = s.path.empty() ? std::optional<RestoreView::Claim>(RestoreView::Claim{RestoreView::Kind::folder,
                                                                                                       static_cast<int>(assembled.layer_roots.size() - 1)})
                                               : assembled.view.find(s.path);
                   !claim || claim->kind == RestoreView::Kind::absent) {
            state = "absent";
        } else {
            bool inside_absent = false;
            for (const auto &ancestor : ancestors_of(s.path))
                if (auto c = assembled.view.find(ancestor); c && c->kind != RestoreView::Kind::folder) inside_absent = true;
            present = !inside_absent;
            state = present ? describe(assembled.layer_roots[static_cast<std::size_t>(claim->layer)] + (s.path.empty() ? "" : "/" + s.path))
                            : "absent";
        }
        if (cl.json) {
            rows.push_back({{"version", s.points[i].id}, {"at", s.points[i].at}, {"kind", point_kind(s.points[i])}, {"present", present},
                            {"state", state}});
        } else {
            char line[512];
            std::snprintf(line, sizeof line, "  %-31s %-21s %-9s %s\n", s.points[i].id.c_str(),
                          format_local_time(s.points[i].at, false).c_str(), point_kind(s.points[i]).c_str(), state.c_str());
            std::cout << line;
        }
    }
    if (cl.json) std::cout << rows.dump(2) << "\n";
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
    const std::string to = normalize_absolute_path(cl.to.front() == '/' ? cl.to : std::string(cwd) + "/" + cl.to);
    const std::string name = s.path.substr(s.path.rfind('/') + 1);
    const std::string target = s.path.empty() ? to : to + "/" + name;
    if (to.empty()) return fail("--to \"" + printable_name(cl.to) + "\" is not a usable folder");
    if (path_is_within(target, s.config.destination) || path_is_within(s.config.destination, target))
        return fail("--to " + printable_name(to) + ": the restore would write into the backup " + printable_name(s.config.destination));
    if (!cl.into_source && (path_is_within(target, s.config.source) || path_is_within(s.config.source, target)))
        return fail("--to " + printable_name(to) + ": the restore would write over the source " + printable_name(s.config.source) +
                    " (add --into-source if that is what you want)");
    struct stat st {};
    if (::stat(to.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return fail("--to " + printable_name(to) + " is not a folder");

    const VersionStore store(s.config.destination);
    auto assembled = store.assemble(s.points, *choice.index, s.path, true, ticker("reading the versions"));
    if (!assembled.error.empty()) return fail(assembled.error);
    if (!s.path.empty()) {
        auto claim = assembled.view.find(s.path);
        bool absent = !claim || claim->kind == RestoreView::Kind::absent;
        for (const auto &ancestor : ancestors_of(s.path))
            if (auto c = assembled.view.find(ancestor); c && c->kind != RestoreView::Kind::folder) absent = true;
        if (absent) return fail(printable_name(s.path) + " was not in the backup at " + point.id + " (see: dailysyncctl versions " + cl.path + ")");
    }
    auto staged = store.stage(assembled, ticker("assembling"));
    if (!staged.has_value()) return fail(staged.error());
    const std::string staging = staged.value();
    // Removed whatever happens from here on, even on Ctrl-C (rsync gets it too).
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction old_int {}, old_term {};
    ::sigaction(SIGINT, &ignore, &old_int);
    ::sigaction(SIGTERM, &ignore, &old_term);

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
    if (!removed.ok()) std::cerr << "dailysyncctl: " << removed.error() << " (remove it by hand)\n";
    if (status != 0) return fail("rsync ended with status " + std::to_string(status) + ": the restore is incomplete");
    std::cerr << (cl.dry_run ? "dry run done: nothing was changed\n" : "restored\n");
    return kExitOk;
}

}  // namespace dailysync::ctl
