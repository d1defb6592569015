#include "io/version_store.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "core/format.hpp"
#include "core/names.hpp"
#include "io/state_store.hpp"

namespace dailysync {

namespace {

constexpr const char *kPointFile = "version.json";
// A removed version waits under this name until empty_trash() deletes its files.
constexpr const char *kTrashPrefix = ".removed-";
// Where a unit's later rsyncs keep their files: ".scratch-POINT/N".
constexpr const char *kScratchPrefix = ".scratch-";
// A version being merged into the one before: ".merging-ID-into-BEFORE".
constexpr const char *kMergingPrefix = ".merging-";
constexpr const char *kMergingInto = "-into-";
// Threads removing a version's files at once (see remove_tree).
constexpr std::size_t kRemovers = 8;
// Left by a run without versions: the kept versions stop being exact there.
constexpr const char *kGapMarker = "unversioned-run";
// A version found damaged, moved aside for the admin to look at (never removed by us).
constexpr const char *kDamagedPrefix = ".damaged-";

std::string join(const std::string &a, const std::string &b) {
    if (b.empty()) return a;
    if (a.empty()) return b;
    return a + "/" + b;
}

std::string errno_text(const std::string &what, const std::string &path) { return what + " " + printable_name(path) + ": " + std::strerror(errno); }

Loaded<std::string> read_text(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return errno == ENOENT ? Loaded<std::string>::missing() : Loaded<std::string>::unreadable(errno_text("cannot read", path));
    std::ostringstream text;
    text << in.rdbuf();
    return Loaded<std::string>::found(text.str());
}

// Names in a folder, without "." and ".."; empty when it cannot be read.
std::vector<std::string> names_in(const std::string &folder) {
    std::vector<std::string> names;
    DIR *dir = ::opendir(folder.c_str());
    if (!dir) return names;
    while (const dirent *e = ::readdir(dir)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

std::optional<struct stat> lstat_of(const std::string &path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
    return st;
}

std::set<std::string> read_created(const std::string &path) {
    std::set<std::string> entries;
    auto text = read_text(path);
    if (!text.has_value()) return entries;
    const std::string &all = text.value();
    for (std::size_t start = 0; start < all.size();) {
        const std::size_t end = all.find('\0', start);
        const std::size_t stop = end == std::string::npos ? all.size() : end;
        if (stop > start) entries.insert(all.substr(start, stop - start));
        start = stop + 1;
    }
    return entries;
}

// Whether a tree holds a symlink anywhere (walked with lstat: none is followed).
bool holds_symlink(const std::string &folder) {
    for (const auto &name : names_in(folder)) {
        const auto st = lstat_of(folder + "/" + name);
        if (!st) continue;
        if (S_ISLNK(st->st_mode)) return true;
        if (S_ISDIR(st->st_mode) && holds_symlink(folder + "/" + name)) return true;
    }
    return false;
}

// Why a version's folder (or a merge's, a scratch attempt's) cannot be trusted: a symlink
// where the folder or one of its parts belongs. "" when sound.
std::string unsound_parts(const std::string &folder) {
    const auto st = lstat_of(folder);
    if (!st) return "";
    if (S_ISLNK(st->st_mode)) return "a symlink where a version's folder belongs";
    if (!S_ISDIR(st->st_mode)) return "not a folder";
    if (const auto back = lstat_of(folder + "/back"); back && !S_ISDIR(back->st_mode)) return "its back/ is not a folder (a symlink?)";
    if (const auto created = lstat_of(folder + "/created"); created && !S_ISREG(created->st_mode))
        return "its created list is not a file (a symlink?)";
    if (const auto record = lstat_of(folder + "/" + kPointFile); record && !S_ISREG(record->st_mode))
        return "its record version.json is not a file (a symlink?)";
    return "";
}

bool under_or_at(const std::string &path, const std::string &top) {
    return top.empty() || path == top || (path.size() > top.size() && path.compare(0, top.size(), top) == 0 && path[top.size()] == '/');
}

}  // namespace

VersionStore::VersionStore(std::string destination) : destination_(std::move(destination)), append_lock_(std::make_shared<std::mutex>()) {}

Loaded<std::vector<VersionPoint>> VersionStore::points(std::vector<Damaged> *damaged) const {
    const auto top = lstat_of(root());
    if (!top) return Loaded<std::vector<VersionPoint>>::missing();
    if (!S_ISDIR(top->st_mode))
        return Loaded<std::vector<VersionPoint>>::unreadable(printable_name(root()) + " is not a folder (a symlink? it is never followed)");
    std::vector<VersionPoint> points;
    std::vector<Damaged> found_damaged;
    for (const auto &name : names_in(root())) {
        // Only names not starting with '.' are versions (not a restore's staging folder,
        // what retention set aside); a file there (the gap marker) is none either.
        if (name.front() == '.') continue;
        const std::string folder = root() + "/" + name;
        const auto st = lstat_of(folder);
        if (!st || (!S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode))) continue;
        if (std::string why = unsound_parts(folder); !why.empty()) {
            found_damaged.push_back({name, std::move(why)});
            continue;
        }
        auto text = read_text(folder + "/" + kPointFile);
        if (text.status() == Loaded<std::string>::Status::missing) continue;   // made, not yet recorded
        if (!text.has_value()) return Loaded<std::vector<VersionPoint>>::unreadable(text.error());   // an I/O error is no damage
        auto point = parse_point(text.value());
        if (!point || point->id != name) {
            found_damaged.push_back({name, text.value().empty() ? "its record version.json is empty" : "its record version.json is not a version record"});
            continue;
        }
        points.push_back(std::move(*point));
    }
    std::sort(points.begin(), points.end(), [](const VersionPoint &a, const VersionPoint &b) { return std::tie(a.at, a.id) < std::tie(b.at, b.id); });
    for (const auto &d : found_damaged)
        if (const auto cut = chain_break_for(points, d.id); cut.restart) points[*cut.restart].chain_start = true;
    if (damaged) *damaged = std::move(found_damaged);
    return Loaded<std::vector<VersionPoint>>::found(std::move(points));
}

Done VersionStore::set_aside(const std::vector<Damaged> &damaged, std::vector<std::string> &notes) const {
    if (damaged.empty()) return Done::success();
    // The chain as it stands (the breaks marked), before the damaged ones leave it.
    auto listed = points();
    if (listed.status() == Loaded<std::vector<VersionPoint>>::Status::unreadable) return Done::failure(listed.error());
    const std::vector<VersionPoint> valid = std::move(listed).take().value_or(std::vector<VersionPoint>{});
    bool gap = false;
    for (const auto &d : damaged) {
        std::string aside = root() + "/" + kDamagedPrefix + d.id;
        for (int n = 2; lstat_of(aside); ++n) aside = root() + "/" + kDamagedPrefix + d.id + "-" + std::to_string(n);
        if (::rename((root() + "/" + d.id).c_str(), aside.c_str()) != 0) return Done::failure(errno_text("cannot move aside", root() + "/" + d.id));
        const auto cut = chain_break_for(valid, d.id);
        if (cut.restart)
            if (auto written = write_point(valid[*cut.restart]); !written.ok()) return written;
        gap = gap || cut.gap;
        notes.push_back("version " + printable_name(d.id) + " is damaged (" + d.why + "): set aside as " +
                        printable_name(aside.substr(root().size() + 1)) + " in " + printable_name(root()) + ", not followed" +
                        (cut.restart ? "; the versions before it can no longer be restored exactly" : ""));
    }
    if (gap)
        if (auto written = write_file_atomically(root() + "/" + kGapMarker, "a damaged version was set aside after the last version\n"); !written.ok())
            return written;
    return Done::success();
}

std::vector<std::pair<std::string, std::string>> VersionStore::pending_merges() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto &name : names_in(root())) {
        if (name.rfind(kMergingPrefix, 0) != 0) continue;
        const auto into_at = name.find(kMergingInto);
        if (into_at == std::string::npos) continue;
        out.emplace_back(name.substr(std::string(kMergingPrefix).size(), into_at - std::string(kMergingPrefix).size()),
                         name.substr(into_at + std::string(kMergingInto).size()));
    }
    return out;
}

std::vector<DatedPoint> VersionStore::dated(const std::vector<VersionPoint> &points) {
    std::vector<DatedPoint> out;
    for (const auto &point : points) {
        const std::time_t t = point.at;
        std::tm tm{};
        ::localtime_r(&t, &tm);
        out.push_back({point, CivilDate{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday}});
    }
    return out;
}

// Written whole or not at all (a temporary file renamed over it), but not synced: the
// backup's own files, which rsync writes, are not either, and on a NAS every fsync waits
// for its disk (seconds after a run's writes). A NAS that loses power loses the last
// moments of both alike; a version whose record says "running" reads as partial.
Done VersionStore::write_point(const VersionPoint &point) const {
    const std::string folder = root() + "/" + point.id;
    if (auto made = make_directories(folder, 0700); !made.ok()) return made;
    const std::string file = folder + "/" + kPointFile, temporary = file + ".new";
    const std::string text = point_json(point);
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Done::failure(errno_text("cannot write", temporary));
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (::close(fd) != 0 || !written) return Done::failure(errno_text("cannot write", temporary));
    if (::rename(temporary.c_str(), file.c_str()) != 0) return Done::failure(errno_text("cannot write", file));
    return Done::success();
}

VersionStore::Began VersionStore::begin_run(const std::string &run_id, std::int64_t started, bool first_copy,
                                           std::optional<std::int64_t> previous_at) const {
    Began began;
    auto fail = [&began](std::string why) {
        began.error = std::move(why);
        return began;
    };
    if (auto made = make_directories(root(), 0700); !made.ok()) return fail("cannot make the versions folder: " + made.error());
    // The root must be our folder, never a symlink to somewhere else.
    if (const auto st = lstat_of(root()); !st || !S_ISDIR(st->st_mode)) return fail(printable_name(root()) + " is not a folder");
    // Damaged versions go aside first, so nothing below follows them.
    std::vector<Damaged> damaged;
    if (auto listed = points(&damaged); listed.status() == Loaded<std::vector<VersionPoint>>::Status::unreadable) return fail(listed.error());
    if (auto set = set_aside(damaged, began.set_aside); !set.ok()) return fail(set.error());
    // What a killed run left half-done goes where it belongs next: retention's merges,
    // what its later rsyncs kept in scratch folders.
    if (auto merged = recover_merges(began.set_aside); !merged.ok()) return fail(merged.error());
    if (auto recovered = recover_scratch(); !recovered.ok()) return fail(recovered.error());
    auto listed = points();
    if (listed.status() == Loaded<std::vector<VersionPoint>>::Status::unreadable) return fail(listed.error());
    std::vector<VersionPoint> points = std::move(listed).take().value_or(std::vector<VersionPoint>{});
    // The newest version's back/ is empty until this run keeps into it (rsync writes
    // there, and would follow a symlink on the way): one found there was planted.
    if (!points.empty() && holds_symlink(back_dir(points.back().id))) {
        if (auto set = set_aside({{points.back().id, "its back/ holds a symlink before any run kept into it"}}, began.set_aside); !set.ok())
            return fail(set.error());
        points = this->points().take().value_or(std::vector<VersionPoint>{});
    }
    const bool gap = lstat_of(root() + "/" + kGapMarker).has_value();
    VersionPoint own{run_id, started, "running", false};
    if (points.empty() && first_copy) {
        own.chain_start = true;   // nothing was there to keep
    } else {
        std::string keep_in;
        if (points.empty() || gap) {
            // The backup as the last complete run left it, dated then (so that retention
            // counts it on its own day), never before the newest version kept.
            std::int64_t at = std::min(previous_at.value_or(started - 1), started - 1);
            if (!points.empty()) at = std::max(at, points.back().at);
            const VersionPoint start{start_point_id(run_id), at, "start", true};
            if (auto written = write_point(start); !written.ok()) return fail(written.error());
            keep_in = start.id;
        } else {
            keep_in = points.back().id;
        }
        began.back_dir = back_dir(keep_in);
        began.created_path = created_path(keep_in);
        began.scratch_dir = root() + "/" + kScratchPrefix + keep_in;
        if (auto made = make_directories(began.back_dir, 0700); !made.ok()) return fail(made.error());
    }
    own.at = std::max<std::int64_t>(started, points.empty() ? started : points.back().at);
    if (auto written = write_point(own); !written.ok()) return fail(written.error());
    if (gap && ::unlink((root() + "/" + kGapMarker).c_str()) != 0 && errno != ENOENT)
        return fail(errno_text("cannot remove", root() + "/" + kGapMarker));
    return began;
}

Done VersionStore::keep_from(const std::string &scratch, const std::function<void()> &step) const {
    // SCRATCH = ROOT/.scratch-POINT/N
    const std::string folder = std::filesystem::path(scratch).parent_path().filename().string();
    if (folder.rfind(kScratchPrefix, 0) != 0) return Done::failure("not a scratch folder: " + printable_name(scratch));
    // Never followed: a symlink there would move files from wherever it points.
    const auto top = lstat_of(std::filesystem::path(scratch).parent_path().string());
    const auto st = lstat_of(scratch), created = lstat_of(scratch_created_path(scratch));
    if ((top && !S_ISDIR(top->st_mode)) || (st && !S_ISDIR(st->st_mode)) || (created && !S_ISREG(created->st_mode)))
        return Done::failure(printable_name(scratch) + " is not what this run made (a symlink?): not followed");
    const std::string into = folder.substr(std::string(kScratchPrefix).size());
    if (lstat_of(scratch) || lstat_of(scratch_created_path(scratch)))
        if (auto error = merge_into(scratch, scratch_created_path(scratch), into, step); !error.empty()) return Done::failure(error);
    if (::unlink(scratch_created_path(scratch).c_str()) != 0 && errno != ENOENT)
        return Done::failure(errno_text("cannot remove", scratch_created_path(scratch)));
    // What is left (what the version said already, and the folders) goes aside with the
    // whole scratch folder at the run's end (retire_scratch): no removal on the way.
    return Done::success();
}

Done VersionStore::retire_scratch(const std::string &into) const {
    const std::string folder = root() + "/" + kScratchPrefix + into;
    if (!lstat_of(folder)) return Done::success();
    if (::rename(folder.c_str(), (root() + "/" + kTrashPrefix + "scratch-" + into).c_str()) != 0)
        return Done::failure(errno_text("cannot move aside", folder));
    return Done::success();
}

Done VersionStore::recover_scratch() const {
    for (const auto &name : names_in(root())) {
        if (name.rfind(kScratchPrefix, 0) != 0) continue;
        const std::string folder = root() + "/" + name;
        if (const auto st = lstat_of(folder); !st || !S_ISDIR(st->st_mode)) {
            if (auto removed = remove_tree(folder); !removed.ok()) return removed;   // a symlink: the link goes, never followed
            continue;
        }
        const bool point_there = lstat_of(root() + "/" + name.substr(std::string(kScratchPrefix).size()) + "/" + kPointFile).has_value();
        std::set<std::pair<unsigned long, std::string>> attempts;   // N (from N and N.created), in the order they ran
        for (const auto &name : names_in(folder)) {
            const std::string attempt = name.size() > 8 && name.compare(name.size() - 8, 8, ".created") == 0 ? name.substr(0, name.size() - 8) : name;
            attempts.insert({std::strtoul(attempt.c_str(), nullptr, 10), attempt});
        }
        for (const auto &attempt : attempts)
            if (point_there)
                if (auto kept = keep_from(folder + "/" + attempt.second); !kept.ok() && kept.error().find("not followed") == std::string::npos)
                    return kept;
        if (auto removed = remove_tree(folder); !removed.ok()) return removed;
    }
    return Done::success();
}

Done VersionStore::append_created(const std::string &created_path, const std::vector<std::string> &entries) const {
    if (entries.empty() || created_path.empty()) return Done::success();
    std::string data;
    for (const auto &entry : entries) data += entry + '\0';
    std::lock_guard lock(*append_lock_);
    int fd = ::open(created_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {   // a scratch folder rsync has not made yet
        if (auto made = make_directories(created_path.substr(0, created_path.rfind('/')), 0700); !made.ok()) return made;
        fd = ::open(created_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    }
    if (fd < 0) return Done::failure(errno_text("cannot open", created_path));
    std::size_t written = 0;
    while (written < data.size()) {
        const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = errno_text("cannot write", created_path);
            ::close(fd);
            return Done::failure(why);
        }
        written += static_cast<std::size_t>(n);
    }
    // Not synced (see write_point): once written, a killed daemon loses nothing.
    if (::close(fd) != 0) return Done::failure(errno_text("cannot write", created_path));
    return Done::success();
}

Done VersionStore::finish_run(const std::string &run_id, std::int64_t finished, const std::string &result) const {
    auto text = read_text(root() + "/" + run_id + "/" + kPointFile);
    if (!text.has_value()) return Done::failure("the version of run " + run_id + " is gone: " + text.error());
    auto point = parse_point(text.value());
    if (!point) return Done::failure("the version record of run " + run_id + " is damaged");
    point->at = std::max(point->at, finished);
    point->result = result;
    return write_point(*point);
}

Done VersionStore::note_unversioned_run() const {
    if (!lstat_of(root()) || lstat_of(root() + "/" + kGapMarker)) return Done::success();
    return write_file_atomically(root() + "/" + kGapMarker, "runs without versions changed the backup after the last version\n");
}

std::string VersionStore::merge_into(const std::string &from_back, const std::string &from_created, const std::string &into,
                                     const std::function<void()> &step) const {
    const std::set<std::string> claimed_absent = read_created(created_path(into));
    // Whether `into` says anything below `path` through its creations.
    auto created_below = [&](const std::string &path) {
        const auto it = claimed_absent.lower_bound(path + "/");
        return it != claimed_absent.end() && it->compare(0, path.size() + 1, path + "/") == 0;
    };
    const std::string &from_root = from_back, into_root = back_dir(into);
    std::string error;
    std::function<void(const std::string &)> merge = [&](const std::string &folder) {
        for (const auto &name : names_in(join(from_root, folder))) {
            if (step) step();
            const std::string path = join(folder, name);
            if (claimed_absent.count(path)) continue;   // `into` says it was not there
            const auto src = lstat_of(from_root + "/" + path);
            if (!src) continue;
            const auto dst = lstat_of(into_root + "/" + path);
            if (dst) {
                if (S_ISDIR(dst->st_mode) && S_ISDIR(src->st_mode)) merge(path);
                continue;   // `into` says what it was
            }
            if (S_ISDIR(src->st_mode) && created_below(path)) {
                if (::mkdir((into_root + "/" + path).c_str(), src->st_mode & 07777) != 0 && errno != EEXIST)
                    error = errno_text("cannot make", into_root + "/" + path);
                merge(path);
                continue;
            }
            if (auto made = make_directories(join(into_root, folder), 0700); !made.ok()) {
                error = made.error();
                continue;
            }
            if (::rename((from_root + "/" + path).c_str(), (into_root + "/" + path).c_str()) != 0) {
                // Another merge made that folder meanwhile (units share the folders above
                // them): go inside it instead.
                if ((errno == ENOTEMPTY || errno == EEXIST) && S_ISDIR(src->st_mode)) merge(path);
                else error = errno_text("cannot move", from_root + "/" + path);
            }
        }
    };
    merge("");
    // What `from` says was created, where `into` says nothing.
    std::vector<std::string> more;
    for (const auto &entry : from_created.empty() ? std::set<std::string>{} : read_created(from_created))
        if (!claimed_absent.count(entry) && !lstat_of(into_root + "/" + entry)) more.push_back(entry);
    if (auto appended = append_created(created_path(into), more); !appended.ok()) error = appended.error();
    return error;
}

Loaded<std::string> VersionStore::listing(const std::string &path, bool have_path) const {
    auto found = points();
    if (found.status() == Loaded<std::vector<VersionPoint>>::Status::unreadable) return Loaded<std::string>::unreadable(found.error());
    const auto list = std::move(found).take().value_or(std::vector<VersionPoint>{});
    const auto rows = have_path ? path_states_json(list, path_states(list, path)) : versions_json(*this, list);
    return Loaded<std::string>::found(rows.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

VersionStore::Pruned VersionStore::prune(const VersionsPolicy &policy, const std::function<void()> &step,
                                         std::chrono::seconds budget) const {
    const auto stop_at = std::chrono::steady_clock::now() + budget;
    Pruned pruned;
    auto listed = points();
    if (!listed.has_value()) {
        if (listed.status() == Loaded<std::vector<VersionPoint>>::Status::unreadable) pruned.error = listed.error();
        return pruned;
    }
    std::vector<VersionPoint> points = std::move(listed).take().value();
    const auto doomed = versions_to_prune(dated(points), policy);
    for (const auto &id : doomed) {
        if (std::chrono::steady_clock::now() >= stop_at) {
            pruned.left = doomed.size() - pruned.removed.size();
            return pruned;
        }
        const auto it = std::find_if(points.begin(), points.end(), [&](const VersionPoint &p) { return p.id == id; });
        if (it == points.end()) continue;
        const std::size_t i = static_cast<std::size_t>(it - points.begin());
        if (!it->chain_start && i > 0) {
            // The point before takes over what this one says that it does not. First out of
            // the list under a name that says where it goes, so a merge cut short (a killed
            // daemon) is finished by the next run (recover_merges) rather than leaving both
            // versions half-told.
            const std::string merging = root() + "/" + kMergingPrefix + id + kMergingInto + points[i - 1].id;
            if (::rename((root() + "/" + id).c_str(), merging.c_str()) != 0) {
                pruned.error = errno_text("cannot move aside", root() + "/" + id);
                return pruned;
            }
            if (auto error = merge_into(merging + "/back", merging + "/created", points[i - 1].id, step); !error.empty()) {
                pruned.error = "keeping version " + id + " (" + error + ")";
                return pruned;
            }
            if (::rename(merging.c_str(), (root() + "/" + kTrashPrefix + id).c_str()) != 0) {
                pruned.error = errno_text("cannot move aside", merging);
                return pruned;
            }
            pruned.removed.push_back(id);
            points.erase(points.begin() + static_cast<std::ptrdiff_t>(i));
            continue;
        } else if (i + 1 < points.size() && !points[i + 1].chain_start) {
            points[i + 1].chain_start = true;   // nothing before it is reachable any more
            if (auto written = write_point(points[i + 1]); !written.ok()) {
                pruned.error = written.error();
                return pruned;
            }
        }
        // Out of the way at once (one rename); its files are removed by empty_trash(),
        // which the next run does while it copies.
        if (::rename((root() + "/" + id).c_str(), (root() + "/" + kTrashPrefix + id).c_str()) != 0) {
            pruned.error = errno_text("cannot move aside", root() + "/" + id);
            return pruned;
        }
        pruned.removed.push_back(id);
        points.erase(points.begin() + static_cast<std::ptrdiff_t>(i));
    }
    return pruned;
}

Done VersionStore::recover_merges(std::vector<std::string> &notes) const {
    const auto merges = pending_merges();
    if (merges.empty()) return Done::success();
    auto listed = points();
    if (listed.status() == Loaded<std::vector<VersionPoint>>::Status::unreadable) return Done::failure(listed.error());
    const std::vector<VersionPoint> valid = std::move(listed).take().value_or(std::vector<VersionPoint>{});
    for (const auto &[id, into] : merges) {
        const std::string name = kMergingPrefix + id + kMergingInto + into, from = root() + "/" + name;
        // Neither side is followed through a symlink: such a merge is damage, set aside.
        if (std::string why = unsound_parts(from); !why.empty()) {
            if (auto set = set_aside({{name, why}}, notes); !set.ok()) return set;
            continue;
        }
        const bool into_there = std::any_of(valid.begin(), valid.end(), [&into = into](const VersionPoint &p) { return p.id == into; });
        if (into_there)
            if (auto error = merge_into(from + "/back", from + "/created", into, {}); !error.empty())
                return Done::failure("finishing the merge of version " + id + " into " + into + ": " + error);
        if (::rename(from.c_str(), (root() + "/" + kTrashPrefix + id).c_str()) != 0) return Done::failure(errno_text("cannot move aside", from));
    }
    return Done::success();
}

Done VersionStore::empty_trash(const std::function<void()> &step) const {
    for (const auto &name : names_in(root()))
        if (name.rfind(kTrashPrefix, 0) == 0)
            if (auto removed = remove_tree(root() + "/" + name, step); !removed.ok()) return removed;
    return Done::success();
}

VersionStore::Usage VersionStore::usage(const std::string &id) const {
    Usage usage;
    std::error_code ec;
    const std::filesystem::path top(back_dir(id));
    if (!std::filesystem::is_directory(std::filesystem::symlink_status(top, ec))) return usage;
    for (auto it = std::filesystem::recursive_directory_iterator(top, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (const auto st = lstat_of(it->path().string())) {
            ++usage.entries;
            usage.bytes += static_cast<std::uint64_t>(st->st_blocks) * 512;
        }
    }
    return usage;
}

VersionStore::Assembled VersionStore::assemble(const std::vector<VersionPoint> &points, std::size_t index, const std::string &path,
                                              bool recurse, const std::function<void()> &step) const {
    Assembled out;
    const Layers layers = restore_layers(points, index);
    if (!layers.error.empty()) {
        out.error = layers.error;
        return out;
    }
    // A retention merge cut short: the version it goes into lacks what it was to take
    // over, and so does every restore that goes through it, until the next run finishes it.
    for (const auto &[merged, into] : pending_merges())
        for (const std::size_t i : layers.points)
            if (points[i].id == into) {
                out.error = "the backup at " + points[index].id + " cannot be put together exactly yet: version " + into +
                            " is under repair (merging version " + merged + " into it was cut short, by a full or failing "
                            "destination or a stopped daemon); the next run with versions finishes it";
                return out;
            }
    RestoreView &view = out.view;
    auto kind_of = [](const struct stat &st) { return S_ISDIR(st.st_mode) ? RestoreView::Kind::folder : RestoreView::Kind::other; };
    // One layer's tree: `path`'s folders from the top, then (recurse) everything below it.
    auto walk = [&](const std::string &root, int layer, bool is_mirror) {
        std::vector<std::string> chain = ancestors_of(path);
        if (!path.empty()) chain.push_back(path);
        for (const auto &entry : chain) {
            if (is_mirror && entry == kVersionsFolder) return;
            const auto st = lstat_of(root + "/" + entry);
            if (!st) return;
            view.claim(entry, kind_of(*st), layer);
            if (!S_ISDIR(st->st_mode) || !view.descend(entry)) return;
        }
        if (!recurse) return;
        std::function<void(const std::string &)> below = [&](const std::string &folder) {
            for (const auto &name : names_in(join(root, folder))) {
                if (step) step();
                const std::string entry = join(folder, name);
                if (is_mirror && entry == kVersionsFolder) continue;
                const auto st = lstat_of(root + "/" + entry);
                if (!st) continue;
                view.claim(entry, kind_of(*st), layer);
                if (S_ISDIR(st->st_mode) && view.descend(entry)) below(entry);
            }
        };
        below(path);
    };
    for (const std::size_t i : layers.points) {
        const int layer = static_cast<int>(out.layer_roots.size());
        out.layer_roots.push_back(back_dir(points[i].id));
        walk(out.layer_roots.back(), layer, false);
        for (const auto &entry : read_created(created_path(points[i].id)))
            if (under_or_at(entry, path) || under_or_at(path, entry)) view.claim(entry, RestoreView::Kind::absent, layer);
    }
    out.layer_roots.push_back(destination_);
    walk(destination_, static_cast<int>(out.layer_roots.size() - 1), true);
    return out;
}

std::string VersionStore::describe(const std::string &file) {
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

std::vector<VersionStore::PathState> VersionStore::path_states(const std::vector<VersionPoint> &points, const std::string &path) const {
    std::vector<PathState> states;
    for (std::size_t i = 0; i < points.size(); ++i) {
        const auto assembled = assemble(points, i, path, false);
        PathState state;
        if (!assembled.error.empty()) {
            state.state = "cannot be put together exactly (dailysyncctl restore says why)";
        } else if (!assembled.view.is_present(path)) {
            state.state = "absent";
        } else {
            state.present = true;
            const int layer = path.empty() ? static_cast<int>(assembled.layer_roots.size()) - 1 : assembled.view.find(path)->layer;
            state.state = describe(join(assembled.layer_roots[static_cast<std::size_t>(layer)], path));
        }
        states.push_back(std::move(state));
    }
    return states;
}

nlohmann::ordered_json versions_json(const VersionStore &store, const std::vector<VersionPoint> &points) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const auto &point : points) {
        const auto usage = store.usage(point.id);
        rows.push_back({{"version", point.id}, {"at", point.at}, {"kind", point_kind(point)}, {"bytes", usage.bytes},
                        {"entries", usage.entries}, {"chain_start", point.chain_start}});
    }
    return rows;
}

nlohmann::ordered_json path_states_json(const std::vector<VersionPoint> &points, const std::vector<VersionStore::PathState> &states) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < points.size() && i < states.size(); ++i)
        rows.push_back({{"version", points[i].id}, {"at", points[i].at}, {"kind", point_kind(points[i])}, {"present", states[i].present},
                        {"state", states[i].state}});
    return rows;
}

Loaded<std::string> VersionStore::stage(const Assembled &assembled, const std::function<void()> &step) const {
    std::string staging = root() + "/.restore-XXXXXX";
    if (!::mkdtemp(staging.data())) return Loaded<std::string>::unreadable(errno_text("cannot make a staging folder in", root()));
    const auto present = assembled.view.present();
    auto fail = [&](std::string why) {
        (void)remove_tree(staging);
        return Loaded<std::string>::unreadable(std::move(why));
    };
    for (const auto &[path, claim] : present) {
        if (step) step();
        const std::string from = assembled.layer_roots[static_cast<std::size_t>(claim.layer)] + "/" + path;
        const std::string to = staging + "/" + path;
        if (claim.kind == RestoreView::Kind::folder) {
            if (::mkdir(to.c_str(), 0700) != 0) return fail(errno_text("cannot make", to));
        } else if (::linkat(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), 0) != 0) {
            return fail(errno_text("cannot link", from) + " (a restore runs as root, on the destination's filesystem)");
        }
    }
    // Folders last, deepest first: their times would change as their entries arrive. A
    // folder still in the backup has its attributes there; rsync made the others in back/.
    // The top last of all: the backup's own.
    std::vector<std::pair<std::string, RestoreView::Claim>> folders;
    for (const auto &entry : present)
        if (entry.second.kind == RestoreView::Kind::folder) folders.push_back(entry);
    folders.insert(folders.begin(), {std::string(), RestoreView::Claim{RestoreView::Kind::folder,
                                                                       static_cast<int>(assembled.layer_roots.size()) - 1}});
    for (auto it = folders.rbegin(); it != folders.rend(); ++it) {
        const auto &[path, claim] = *it;
        auto st = lstat_of(join(destination_, path));
        if (!st || !S_ISDIR(st->st_mode)) st = lstat_of(join(assembled.layer_roots[static_cast<std::size_t>(claim.layer)], path));
        if (!st) continue;
        const std::string to = join(staging, path);
        (void)::lchown(to.c_str(), st->st_uid, st->st_gid);
        ::chmod(to.c_str(), st->st_mode & 07777);
        const timespec times[2] = {st->st_atim, st->st_mtim};
        ::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
    return Loaded<std::string>::found(staging);
}

Done VersionStore::remove_tree(const std::string &path, const std::function<void()> &step) {
    if (const auto st = lstat_of(path); !st) return Done::success();
    else if (!S_ISDIR(st->st_mode)) return ::unlink(path.c_str()) == 0 ? Done::success() : Done::failure(errno_text("cannot remove", path));
    // A version holds what a day changed, a restore's staging tree what was restored: on a
    // NAS each removal is a round trip, so the files go on several threads at once (as the
    // copies do with several rsyncs), then the folders, deepest first. Folders are made
    // writable first (a kept folder may be read-only); files are never chmod'ed: a
    // staging tree holds hard links to the backup's own files.
    std::vector<std::string> folders{path}, files;
    for (std::size_t i = 0; i < folders.size(); ++i) {
        ::chmod(folders[i].c_str(), 0700);
        DIR *dir = ::opendir(folders[i].c_str());
        if (!dir) continue;
        while (const dirent *e = ::readdir(dir)) {
            const std::string name = e->d_name;
            if (name == "." || name == "..") continue;
            const std::string entry = folders[i] + "/" + name;
            bool is_dir = e->d_type == DT_DIR;
            if (e->d_type == DT_UNKNOWN)
                if (const auto st = lstat_of(entry)) is_dir = S_ISDIR(st->st_mode);
            (is_dir ? folders : files).push_back(entry);
        }
        ::closedir(dir);
        if (step) step();
    }
    std::atomic<std::size_t> next{0};
    std::mutex error_lock;
    std::string error;
    auto unlink_some = [&] {
        for (std::size_t i = next++; i < files.size(); i = next++) {
            if (::unlink(files[i].c_str()) != 0 && errno != ENOENT) {
                const std::string why = errno_text("cannot remove", files[i]);
                std::lock_guard lock(error_lock);
                if (error.empty()) error = why;
            }
            if (step) step();
        }
    };
    std::vector<std::thread> threads;
    for (std::size_t t = 1; t < std::min<std::size_t>(kRemovers, files.size() / 16 + 1); ++t) threads.emplace_back(unlink_some);
    unlink_some();
    for (auto &thread : threads) thread.join();
    for (auto it = folders.rbegin(); it != folders.rend(); ++it)
        if (::rmdir(it->c_str()) != 0 && errno != ENOENT && error.empty()) error = errno_text("cannot remove", *it);
    return error.empty() ? Done::success() : Done::failure(error);
}

}  // namespace dailysync
