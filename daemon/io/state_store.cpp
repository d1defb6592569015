#include "io/state_store.hpp"

#include "core/report.hpp"
#include "io/run_lock.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <nlohmann/json.hpp>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dailysync {

namespace {
std::string describe(const std::string &what, const std::string &path) {
    return what + " " + path + ": " + std::strerror(errno);
}
}  // namespace

Done make_directories(const std::string &path, mode_t mode) {
    std::string partial;
    std::size_t i = 0;
    while (i <= path.size()) {
        std::size_t next = path.find('/', i + 1);
        if (next == std::string::npos) next = path.size();
        partial = path.substr(0, next);
        i = next;
        if (partial.empty()) {
            if (next == path.size()) break;
            continue;
        }
        if (::mkdir(partial.c_str(), next == path.size() ? mode : 0755) != 0 && errno != EEXIST)
            return Done::failure(describe("cannot create", partial));
        if (next == path.size()) break;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Done::failure("cannot create " + path + ": not a directory");
    return Done::success();
}

Done make_private_directory(const std::string &path, bool ours) {
    if (auto made = make_directories(path, 0700); !made.ok()) return made;
    struct stat st {};
    if (ours && ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() && (st.st_mode & 077) != 0 &&
        ::chmod(path.c_str(), 0700) != 0)
        return Done::failure(describe("cannot make private", path));
    return Done::success();
}

Done write_file_atomically(const std::string &path, const std::string &content, mode_t mode) {
    const auto slash = path.rfind('/');
    const std::string folder = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
    std::string temp = path + ".tmp.XXXXXX";
    int fd = ::mkstemp(temp.data());
    if (fd < 0) return Done::failure(describe("cannot create", temp));
    ::fchmod(fd, mode);
    const char *data = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        ssize_t n = ::write(fd, data, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::string error = describe("cannot write", temp);
            ::close(fd);
            ::unlink(temp.c_str());
            return Done::failure(error);
        }
        data += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        std::string error = describe("cannot write", temp);
        ::unlink(temp.c_str());
        return Done::failure(error);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        std::string error = describe("cannot rename over", path);
        ::unlink(temp.c_str());
        return Done::failure(error);
    }
    int dir_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    return Done::success();
}

std::string StateStore::allocate_run_id(std::chrono::system_clock::time_point now) const {
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &tm);
    std::string id = buffer;
    for (int n = 2; ::access(report_path(id).c_str(), F_OK) == 0; ++n) id = std::string(buffer) + "-" + std::to_string(n);
    return id;
}

namespace {
// Holds runs/index.lock: the daemon and dailysyncd --once may update the index at once.
class IndexLock {
public:
    explicit IndexLock(const std::string &path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
        if (fd_ >= 0) ::flock(fd_, LOCK_EX);
    }
    ~IndexLock() {
        if (fd_ >= 0) ::close(fd_);
    }
    IndexLock(const IndexLock &) = delete;
    IndexLock &operator=(const IndexLock &) = delete;

private:
    int fd_;
};
}  // namespace

Done StateStore::write_report(const std::string &run_id, const std::string &json) const {
    if (auto made = make_private_directory(dir_); !made.ok()) return made;
    if (auto made = make_private_directory(runs_dir(), true); !made.ok()) return made;
    if (auto written = write_file_atomically(report_path(run_id), json); !written.ok()) return written;
    const auto summary = summary_of_report(json);
    if (!summary) return Done::success();
    IndexLock lock(runs_dir() + "/index.lock");
    std::optional<std::vector<RunSummary>> indexed = load_index();
    std::vector<RunSummary> runs = indexed ? std::move(*indexed) : rebuild_index();
    record_run(runs, *summary);
    Config retention;
    retention.history_keep_runs = keep_runs_;
    retention.history_keep_days = keep_days_;
    for (const auto &id : runs_to_prune(runs, retention, static_cast<std::int64_t>(std::time(nullptr)))) {
        if (::unlink(report_path(id).c_str()) != 0 && errno != ENOENT) continue;   // stays listed while it exists
        std::erase_if(runs, [&](const RunSummary &r) { return r.id == id; });
    }
    // The report is written; an index that could not be is rebuilt from the reports later.
    (void)write_file_atomically(index_path(), index_json(runs));
    return Done::success();
}

}  // namespace dailysync

namespace dailysync {

bool is_valid_run_id(const std::string &id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
    });
}

namespace {
Loaded<std::string> slurp(const std::string &path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return Loaded<std::string>::missing();
        return Loaded<std::string>::unreadable(describe("cannot read", path));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return Loaded<std::string>::unreadable("cannot read " + path + ": not a regular file");
    }
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            auto error = Loaded<std::string>::unreadable(describe("cannot read", path));
            ::close(fd);
            return error;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return Loaded<std::string>::found(std::move(text));
}
}  // namespace

std::optional<std::int64_t> StateStore::tree_stats_time() const {
    struct stat st {};
    if (::stat(tree_stats_path().c_str(), &st) != 0) return std::nullopt;
    return static_cast<std::int64_t>(st.st_mtim.tv_sec);
}

Loaded<TreeStats> StateStore::load_tree_stats() const {
    auto text = slurp(tree_stats_path());
    if (!text.has_value()) return text.status() == Loaded<std::string>::Status::missing ? Loaded<TreeStats>::missing() : Loaded<TreeStats>::unreadable(text.error());
    auto stats = TreeStats::parse(text.value());
    if (!stats) return Loaded<TreeStats>::unreadable("the tree statistics " + tree_stats_path() + " are damaged");
    return Loaded<TreeStats>::found(std::move(*stats));
}

Done StateStore::save_tree_stats(const TreeStats &stats) const {
    if (auto made = make_private_directory(dir_); !made.ok()) return made;
    return write_file_atomically(tree_stats_path(), stats.serialize());
}

Loaded<int> StateStore::load_concurrency() const {
    auto text = slurp(concurrency_path());
    if (!text.has_value()) return text.status() == Loaded<std::string>::Status::missing ? Loaded<int>::missing() : Loaded<int>::unreadable(text.error());
    try {
        const int level = std::stoi(text.value());
        if (level >= 1 && level <= 256) return Loaded<int>::found(level);
    } catch (const std::exception &) {
    }
    return Loaded<int>::unreadable(concurrency_path() + " does not hold a concurrency (1..256)");
}

Done StateStore::save_concurrency(int level) const {
    if (auto made = make_private_directory(dir_); !made.ok()) return made;
    return write_file_atomically(concurrency_path(), std::to_string(level) + "\n");
}

Done StateStore::record_interrupted(const std::string &run_id, std::int64_t started, const std::string &source,
                                    const std::string &destination, bool &recorded) const {
    recorded = false;
    if (read_report(run_id).status() != Loaded<std::string>::Status::missing || !is_valid_run_id(run_id)) return Done::success();
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    if (auto written = write_report(run_id, interrupted_report_json(run_id, started ? started : now, now, ReportContext{source, destination, 0}));
        !written.ok())
        return written;
    recorded = true;
    return Done::success();
}

std::string record_run_left_in_lock(const StateStore &store, const Config &config, const std::optional<LockLeftBy> &left_by) {
    // A dry run changes nothing (its report would only say what it found); a diagnosis is no run.
    if (!left_by || left_by->run_id.empty() || (left_by->what != "--once" && left_by->what != "service")) return {};
    bool recorded = false;
    if (auto written = store.record_interrupted(left_by->run_id, left_by->since, config.source, config.destination, recorded); !written.ok())
        return "run " + left_by->run_id + " (dailysyncd " + left_by->what + ") was interrupted, and its report cannot be written: " + written.error();
    if (!recorded) return {};
    return "run " + left_by->run_id + " (dailysyncd " + left_by->what + ") was interrupted: its process ended without finishing it " +
           "(killed, crashed or the machine went down); recorded in the history as interrupted";
}

Loaded<std::string> StateStore::read_report(const std::string &run_id) const {
    if (!is_valid_run_id(run_id)) return Loaded<std::string>::missing();
    return slurp(report_path(run_id));
}

std::vector<RunSummary> StateStore::rebuild_index() const {
    std::vector<RunSummary> runs;
    DIR *dir = ::opendir(runs_dir().c_str());
    if (!dir) return runs;
    while (auto *entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name.size() <= 5 || name.substr(name.size() - 5) != ".json") continue;
        std::string id = name.substr(0, name.size() - 5);
        if (!is_valid_run_id(id)) continue;
        auto text = slurp(runs_dir() + "/" + name);
        if (!text.has_value()) continue;
        if (auto summary = summary_of_report(text.value()); summary && summary->id == id) record_run(runs, std::move(*summary));
    }
    ::closedir(dir);
    return runs;
}

std::optional<std::vector<RunSummary>> StateStore::load_index() const {
    auto text = slurp(index_path());
    if (!text.has_value()) return std::nullopt;
    return parse_index(text.value());
}

Loaded<std::vector<RunSummary>> StateStore::list_runs() const {
    if (auto runs = load_index()) return Loaded<std::vector<RunSummary>>::found(std::move(*runs));
    DIR *dir = ::opendir(runs_dir().c_str());
    if (!dir) {
        if (errno == ENOENT) return Loaded<std::vector<RunSummary>>::found({});   // no run yet
        return Loaded<std::vector<RunSummary>>::unreadable(describe("cannot read", runs_dir()));
    }
    ::closedir(dir);
    // No index (reports of a version before it) or a damaged one: read the reports once
    // and keep the index, under the lock a run writing its report takes.
    IndexLock lock(runs_dir() + "/index.lock");
    if (auto runs = load_index()) return Loaded<std::vector<RunSummary>>::found(std::move(*runs));   // written meanwhile
    std::vector<RunSummary> runs = rebuild_index();
    (void)write_file_atomically(index_path(), index_json(runs));
    return Loaded<std::vector<RunSummary>>::found(std::move(runs));
}

DaemonState StateStore::load_state(std::string *warning) const {
    DaemonState state;
    auto text = slurp(state_path());
    if (text.status() == Loaded<std::string>::Status::missing) return state;
    try {
        if (!text.has_value()) throw std::runtime_error(text.error());
        auto doc = nlohmann::json::parse(text.value());
        if (!doc.is_object()) throw std::runtime_error("not a JSON object");
        if (doc.contains("last_success") && !doc["last_success"].is_null()) state.last_success = doc["last_success"].get<std::int64_t>();
        if (doc.contains("last_fire") && !doc["last_fire"].is_null()) state.last_fire = doc["last_fire"].get<std::int64_t>();
        state.last_run_id = doc.value("last_run_id", "");
        state.last_result = doc.value("last_result", "");
        state.last_backup_run_id = doc.value("last_backup_run_id", "");
        state.active_run_id = doc.value("active_run_id", "");
        // Ids become file names (runs/ID.json): anything but a run id is refused whole.
        for (const auto *id : {&state.last_run_id, &state.active_run_id, &state.last_backup_run_id})
            if (!id->empty() && !is_valid_run_id(*id)) throw std::runtime_error("\"" + id->substr(0, 64) + "\" is not a run id");
        if (doc.contains("active_run_started") && doc["active_run_started"].is_number_integer())
            state.active_run_started = doc["active_run_started"].get<std::int64_t>();
        for (auto [key, field] : {std::pair{"watching_since", &state.watching_since}, std::pair{"stale_alerted", &state.stale_alerted},
                                  std::pair{"last_verify", &state.last_verify}})
            if (doc.contains(key) && doc[key].is_number_integer()) *field = doc[key].get<std::int64_t>();
        if (doc.contains("last_duration") && doc["last_duration"].is_number()) state.last_duration = doc["last_duration"].get<double>();
        state.last_bytes = doc.value("last_bytes", std::uint64_t{0});
        state.last_files = doc.value("last_files", std::uint64_t{0});
        state.last_verify_differing = doc.value("last_verify_differing", std::uint64_t{0});
        if (doc.contains("projects") && doc["projects"].is_object())
            for (const auto &[name, when] : doc["projects"].items()) state.project_success[name] = when.get<std::int64_t>();
    } catch (const std::exception &e) {
        const std::string aside = state_path() + ".corrupt";
        ::rename(state_path().c_str(), aside.c_str());
        if (warning) *warning = "the state file " + state_path() + " is unreadable (" + e.what() + "); moved aside to " + aside + ", starting without history";
        return DaemonState{};
    }
    return state;
}

Done StateStore::save_state(const DaemonState &state) const {
    if (auto made = make_private_directory(dir_); !made.ok()) return made;
    nlohmann::json doc;
    doc["last_success"] = state.last_success ? nlohmann::json(static_cast<std::int64_t>(*state.last_success)) : nlohmann::json();
    doc["last_fire"] = state.last_fire ? nlohmann::json(static_cast<std::int64_t>(*state.last_fire)) : nlohmann::json();
    doc["last_run_id"] = state.last_run_id;
    doc["last_result"] = state.last_result;
    if (!state.last_backup_run_id.empty()) doc["last_backup_run_id"] = state.last_backup_run_id;
    if (!state.active_run_id.empty()) {
        doc["active_run_id"] = state.active_run_id;
        if (state.active_run_started) doc["active_run_started"] = static_cast<std::int64_t>(*state.active_run_started);
    }
    if (state.watching_since) doc["watching_since"] = static_cast<std::int64_t>(*state.watching_since);
    if (state.stale_alerted) doc["stale_alerted"] = static_cast<std::int64_t>(*state.stale_alerted);
    if (state.last_verify) {
        doc["last_verify"] = static_cast<std::int64_t>(*state.last_verify);
        doc["last_verify_differing"] = state.last_verify_differing;
    }
    doc["last_duration"] = state.last_duration ? nlohmann::json(*state.last_duration) : nlohmann::json();
    doc["last_bytes"] = state.last_bytes;
    doc["last_files"] = state.last_files;
    doc["projects"] = nlohmann::json::object();
    for (const auto &[name, when] : state.project_success) doc["projects"][name] = static_cast<std::int64_t>(when);
    return write_file_atomically(state_path(), doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace dailysync
