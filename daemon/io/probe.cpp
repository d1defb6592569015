#include "io/probe.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/resource_sampler.hpp"
#include "io/state_store.hpp"

namespace dailysync {

namespace {

volatile std::sig_atomic_t interrupted = 0;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

constexpr std::size_t kMaxPaths = 30'000;      // source files kept for the lstat part
constexpr std::size_t kMaxBiggest = 64;        // candidates for the read part
constexpr std::uint64_t kMaxWalkedFiles = 2'000'000;
constexpr std::uint64_t kMaxFilesPerWorker = 20'000;
constexpr const char *kMarker = "DAILYSYNCD-PROBE";

std::string errno_text() { return std::strerror(errno); }

// A buffer of incompressible bytes: a NAS that compresses must not flatter its write speed.
std::vector<char> noise(std::size_t size) {
    std::vector<char> buffer(size);
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (auto &c : buffer) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        c = static_cast<char>(x);
    }
    return buffer;
}

struct WorkerResult {
    std::uint64_t files = 0, stats = 0;
    double seconds = 0, stat_seconds = 0, create_seconds = 0, rename_seconds = 0, unlink_seconds = 0;
};

// One metadata worker, in a forked child. Waits for `go` to close, works until the deadline.
WorkerResult metadata_worker(const std::string &dir, const std::vector<std::string> &paths, std::size_t first, std::size_t step,
                             std::chrono::milliseconds limit) {
    WorkerResult r;
    const std::vector<char> content = noise(512);
    const auto start = Clock::now();
    const auto deadline = start + limit;
    std::size_t next_path = first;
    while (Clock::now() < deadline && !interrupted && r.files < kMaxFilesPerWorker) {
        if (next_path < paths.size()) {
            struct stat st {};
            auto t = Clock::now();
            ::lstat(paths[next_path].c_str(), &st);
            r.stat_seconds += seconds_since(t);
            ++r.stats;
            next_path += step;
        }
        const std::string name = dir + "/f" + std::to_string(r.files);
        const std::string temporary = dir + "/.f" + std::to_string(r.files) + ".tmp";
        auto t = Clock::now();
        const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) break;
        const bool written = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
        ::close(fd);
        r.create_seconds += seconds_since(t);
        t = Clock::now();
        if (!written || ::rename(temporary.c_str(), name.c_str()) != 0) {
            ::unlink(temporary.c_str());
            break;
        }
        r.rename_seconds += seconds_since(t);
        ++r.files;
    }
    r.seconds = seconds_since(start);
    for (std::uint64_t i = 0; i < r.files; ++i) {
        auto t = Clock::now();
        ::unlink((dir + "/f" + std::to_string(i)).c_str());
        r.unlink_seconds += seconds_since(t);
    }
    ::rmdir(dir.c_str());
    return r;
}

// A folder of the source, opened without touching its access time where we may.
DIR *open_folder(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOATIME | O_CLOEXEC);
    if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);   // O_NOATIME: owner only
    if (fd < 0) return nullptr;
    DIR *dir = ::fdopendir(fd);
    if (!dir) ::close(fd);
    return dir;
}

void on_interrupt(int) { interrupted = 1; }

}  // namespace

void install_probe_interrupt_handlers() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;   // no SA_RESTART: a blocking read returns EINTR
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
}

bool probe_interrupted() { return interrupted != 0; }

SourceSample sample_source(const std::string &source, std::chrono::milliseconds limit) {
    SourceSample s;
    const auto deadline = Clock::now() + limit;
    std::vector<std::string> folders{source};
    auto smaller = [](const auto &a, const auto &b) { return a.first > b.first; };   // min-heap on size
    bool first = true;
    while (!folders.empty()) {
        if (Clock::now() > deadline || interrupted || s.files >= kMaxWalkedFiles) return s;
        const std::string folder = std::move(folders.back());
        folders.pop_back();
        DIR *dir = open_folder(folder);
        if (!dir) {
            if (first) s.error = "cannot read " + source + ": " + errno_text();
            first = false;
            continue;
        }
        first = false;
        const int fd = ::dirfd(dir);
        while (const dirent *e = ::readdir(dir)) {
            const std::string name = e->d_name;
            if (name == "." || name == "..") continue;
            struct stat st {};
            if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
            const std::string path = folder + "/" + name;
            if (S_ISDIR(st.st_mode)) {
                folders.push_back(path);
            } else if (S_ISREG(st.st_mode)) {
                ++s.files;
                s.bytes += static_cast<std::uint64_t>(st.st_size);
                if (s.paths.size() < kMaxPaths) s.paths.push_back(path);
                if (s.biggest.size() < kMaxBiggest || static_cast<std::uint64_t>(st.st_size) > s.biggest.front().first) {
                    s.biggest.emplace_back(static_cast<std::uint64_t>(st.st_size), path);
                    std::push_heap(s.biggest.begin(), s.biggest.end(), smaller);
                    if (s.biggest.size() > kMaxBiggest) {
                        std::pop_heap(s.biggest.begin(), s.biggest.end(), smaller);
                        s.biggest.pop_back();
                    }
                }
            }
        }
        ::closedir(dir);
    }
    s.complete = true;
    std::sort(s.biggest.begin(), s.biggest.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    return s;
}

double measure_cpu_idle(std::chrono::milliseconds window) {
    const CpuTimes before = read_cpu_times();
    ::usleep(static_cast<useconds_t>(window.count() * 1000));
    const CpuTimes after = read_cpu_times();
    const double total = static_cast<double>(after.total - before.total);
    if (total <= 0) return 1;
    return std::clamp(1.0 - static_cast<double>(after.busy - before.busy) / total, 0.0, 1.0);
}

void measure_reads(const SourceSample &sample, std::uint64_t max_bytes, std::chrono::milliseconds limit, ProbeMeasurements &m) {
    std::vector<char> buffer(1 << 20);
    const auto start = Clock::now();
    const auto deadline = start + limit;
    for (const auto &[size, path] : sample.biggest) {
        if (Clock::now() > deadline || interrupted || m.read_bytes >= max_bytes) break;
        int fd = ::open(path.c_str(), O_RDONLY | O_NOATIME | O_CLOEXEC);
        if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);   // O_NOATIME: owner only
        if (fd < 0) continue;
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);   // measure the disk or the link, not our cache
        ++m.read_files;
        for (;;) {
            if (Clock::now() > deadline || interrupted || m.read_bytes >= max_bytes) break;
            const ssize_t n = ::read(fd, buffer.data(), buffer.size());
            if (n <= 0) break;
            m.read_bytes += static_cast<std::uint64_t>(n);
        }
        ::close(fd);
    }
    m.read_seconds = seconds_since(start);
}

namespace {

// True for the names the probe writes in its folder: the marker, the write test, the
// workers' folders "wN-K" and, in them, "fI" and ".fI.tmp".
bool is_number(std::string_view text) { return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos; }
bool is_worker_folder(std::string_view name) {
    if (name.size() < 4 || name[0] != 'w') return false;
    const auto dash = name.find('-');
    return dash != std::string_view::npos && is_number(name.substr(1, dash - 1)) && is_number(name.substr(dash + 1));
}
bool is_worker_file(std::string_view name) {
    if (name.size() > 5 && name[0] == '.' && name[1] == 'f' && name.substr(name.size() - 4) == ".tmp")
        return is_number(name.substr(2, name.size() - 6));
    return name.size() > 1 && name[0] == 'f' && is_number(name.substr(1));
}

// Removes what the probe wrote in `folder`, and the folder if nothing else is left.
// Returns "" or what was left, and why.
std::string remove_probe_tree(const std::string &folder) {
    std::vector<std::string> foreign;
    auto remove_entries = [&](const std::string &dir, auto &&is_ours) {
        DIR *d = ::opendir(dir.c_str());
        if (!d) return;
        std::vector<std::pair<std::string, unsigned char>> entries;
        while (const dirent *e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (name == "." || name == "..") continue;
            unsigned char type = e->d_type;
            if (type == DT_UNKNOWN) {   // some filesystems do not say: ask, never following a link
                struct stat st {};
                type = ::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ? DT_UNKNOWN
                       : S_ISDIR(st.st_mode)                                              ? DT_DIR
                       : S_ISREG(st.st_mode)                                              ? DT_REG
                                                                                          : DT_UNKNOWN;
            }
            entries.emplace_back(name, type);
        }
        ::closedir(d);
        for (const auto &[name, type] : entries) {
            if (!is_ours(name, type)) foreign.push_back(dir + "/" + name);
            else if (type != DT_DIR) ::unlink((dir + "/" + name).c_str());
        }
    };
    remove_entries(folder, [&](const std::string &name, unsigned char type) {
        if (type == DT_DIR && is_worker_folder(name)) {
            remove_entries(folder + "/" + name, [](const std::string &file, unsigned char t) { return t == DT_REG && is_worker_file(file); });
            ::rmdir((folder + "/" + name).c_str());
            return true;
        }
        return type == DT_REG && (name == kMarker || name == "write-test");
    });
    if (::rmdir(folder.c_str()) == 0 || errno == ENOENT) return {};
    return folder + " was kept: it holds " + (foreign.empty() ? std::string("entries") : foreign.front()) +
           (foreign.size() > 1 ? " and " + std::to_string(foreign.size() - 1) + " more" : "") + " that the probe did not write";
}

std::string random_token() {
    unsigned char bytes[16];
    std::string token;
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) return token;
    static const char *hex = "0123456789abcdef";
    for (unsigned char b : bytes) token += {hex[b >> 4], hex[b & 15]};
    return token;
}

std::string slurp_small(const std::string &path) {
    std::string text(512, '\0');
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return {};
    const ssize_t n = ::read(fd, text.data(), text.size());
    ::close(fd);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return text;
}

}  // namespace

ProbeFolder::ProbeFolder(const std::string &destination, const std::string &state_dir) : record_(state_dir + "/probe") {
    // A folder left by a killed probe: recorded as "PATH\nTOKEN\n" in the private state.
    if (const std::string record = slurp_small(record_); !record.empty()) {
        const auto newline = record.find('\n');
        const std::string left = record.substr(0, newline);
        const std::string token = newline == std::string::npos ? "" : record.substr(newline + 1, record.find('\n', newline + 1) - newline - 1);
        struct stat st {};
        const bool ours = left.rfind(destination + "/" + kPrefix, 0) == 0 && left.find('/', destination.size() + 1) == std::string::npos &&
                          ::lstat(left.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && !token.empty() &&
                          slurp_small(left + "/" + kMarker) == token + "\n";
        if (ours) {
            const std::string kept = remove_probe_tree(left);
            notice_ = kept.empty() ? "removed " + left + ", left by a probe that was killed" : kept;
        } else if (::lstat(left.c_str(), &st) == 0) {
            notice_ = left + " was left alone: it does not hold the token of the probe that was killed";
        }
        ::unlink(record_.c_str());
    }
    const std::string token = random_token();
    if (token.empty()) {
        error_ = std::string("cannot draw a random token: ") + errno_text();
        return;
    }
    std::string name = destination + "/" + kPrefix + "XXXXXX";
    if (!::mkdtemp(name.data())) {
        error_ = "cannot create " + destination + "/" + kPrefix + "XXXXXX: " + errno_text();
        return;
    }
    path_ = name;
    created_ = true;
    const Done made = make_private_directory(state_dir);
    const Done recorded = made.ok() ? write_file_atomically(record_, path_ + "\n" + token + "\n") : Done::failure(made.error());
    if (!recorded.ok()) {
        error_ = "cannot record the probe's folder in " + record_ + ": " + recorded.error();
        return;
    }
    const int fd = ::open((path_ + "/" + kMarker).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    const std::string line = token + "\n";
    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        error_ = "cannot write in " + path_ + ": " + errno_text();
        if (fd >= 0) ::close(fd);
        return;
    }
    ::close(fd);
}

ProbeFolder::~ProbeFolder() {
    if (!created_) return;
    if (remove_probe_tree(path_).empty()) ::unlink(record_.c_str());
}

std::string measure_writes(const std::string &folder, std::uint64_t max_bytes, std::chrono::milliseconds limit,
                           ProbeMeasurements &m) {
    struct statvfs fs {};
    if (::statvfs(folder.c_str(), &fs) == 0) max_bytes = std::min<std::uint64_t>(max_bytes, fs.f_bavail * fs.f_frsize / 10);
    const std::string path = folder + "/write-test";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return "cannot create " + path + ": " + errno_text();
    const std::vector<char> buffer = noise(1 << 20);
    std::string error;
    const auto start = Clock::now();
    const auto deadline = start + limit;
    while (Clock::now() < deadline && !interrupted && m.write_bytes < max_bytes) {
        const ssize_t n = ::write(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error = "writing " + path + ": " + errno_text();
            break;
        }
        m.write_bytes += static_cast<std::uint64_t>(n);
    }
    if (error.empty() && ::fdatasync(fd) != 0 && errno != EINTR) error = "fdatasync " + path + ": " + errno_text();
    m.write_seconds = seconds_since(start);
    ::close(fd);
    ::unlink(path.c_str());
    return error;
}

std::string measure_metadata(const std::string &folder, const std::vector<std::string> &paths, int workers,
                             std::chrono::milliseconds limit, MetadataLevel &level) {
    level = MetadataLevel{};
    level.workers = workers;
    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0) return "pipe: " + errno_text();
    struct Worker {
        pid_t pid;
        int result_fd;
    };
    std::vector<Worker> started;
    std::string error;
    const pid_t parent = ::getpid();
    for (int k = 0; k < workers && error.empty(); ++k) {
        const std::string dir = folder + "/w" + std::to_string(workers) + "-" + std::to_string(k);
        if (::mkdir(dir.c_str(), 0700) != 0) {
            error = "cannot create " + dir + ": " + errno_text();
            break;
        }
        int result[2];
        if (::pipe2(result, O_CLOEXEC) != 0) {
            error = "pipe: " + errno_text();
            break;
        }
        const pid_t pid = ::fork();
        if (pid < 0) {
            error = "fork: " + errno_text();
            ::close(result[0]);
            ::close(result[1]);
            break;
        }
        if (pid == 0) {   // the worker: dies with the probe, starts when `go` closes
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(1);
            ::close(go[1]);
            ::close(result[0]);
            char byte;
            while (::read(go[0], &byte, 1) < 0 && errno == EINTR && !interrupted) {
            }
            const WorkerResult r = metadata_worker(dir, paths, static_cast<std::size_t>(k), static_cast<std::size_t>(workers), limit);
            const bool sent = ::write(result[1], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
            ::_exit(sent ? 0 : 1);
        }
        ::close(result[1]);
        started.push_back({pid, result[0]});
    }
    ::close(go[0]);
    ::close(go[1]);   // go
    WorkerResult sum;
    for (const auto &w : started) {
        WorkerResult r;
        ssize_t n;
        while ((n = ::read(w.result_fd, &r, sizeof r)) < 0 && errno == EINTR) {
        }
        ::close(w.result_fd);
        int status = 0;
        while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (n != static_cast<ssize_t>(sizeof r)) {
            if (error.empty()) error = "a metadata worker ended without a result";
            continue;
        }
        sum.files += r.files;
        sum.stats += r.stats;
        sum.seconds = std::max(sum.seconds, r.seconds);
        sum.stat_seconds += r.stat_seconds;
        sum.create_seconds += r.create_seconds;
        sum.rename_seconds += r.rename_seconds;
        sum.unlink_seconds += r.unlink_seconds;
    }
    level.files = sum.files;
    level.seconds = sum.seconds;
    const auto mean_ms = [](double seconds, std::uint64_t count) { return count ? seconds * 1000.0 / static_cast<double>(count) : 0.0; };
    level.stat_ms = mean_ms(sum.stat_seconds, sum.stats);
    level.create_ms = mean_ms(sum.create_seconds, sum.files);
    level.rename_ms = mean_ms(sum.rename_seconds, sum.files);
    level.unlink_ms = mean_ms(sum.unlink_seconds, sum.files);
    if (error.empty() && level.files == 0 && !interrupted) error = "no file could be created in " + folder;
    return error;
}

}  // namespace dailysync
