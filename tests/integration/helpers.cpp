#include "helpers.hpp"

#include "core/report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <thread>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace testing_support {

namespace fs = std::filesystem;

TempDir::TempDir() {
    char name[] = "/tmp/dailysyncd-test.XXXXXX";
    if (!::mkdtemp(name)) throw std::runtime_error("mkdtemp failed");
    ::chmod(name, 0755);   // tests also run dailysyncd as an unprivileged user
    path_ = name;
}

TempDir::~TempDir() { remove_tree(path_); }

void remove_tree(const std::string &path) {
    std::error_code ec;
    // Make everything writable first so a test's read-only folders do not stop the cleanup.
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0755);
    }
    fs::remove_all(path, ec);
}

void write_file(const std::string &path, const std::string &content, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
    if (::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size()))
        throw std::runtime_error("cannot write " + path);
    ::fchmod(fd, mode);
    ::close(fd);
}

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void make_dirs(const std::string &path) { fs::create_directories(path); }

void set_mtime(const std::string &path, long seconds) {
    struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
    if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
        throw std::runtime_error("utimensat " + path + ": " + std::strerror(errno));
}

void age_tree(const std::string &root) {
    long when = 1'600'000'000;
    std::error_code ec;
    std::vector<std::string> paths;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        paths.push_back(it->path().string());
    paths.push_back(root);
    for (const auto &path : paths) set_mtime(path, when += 61);
}

Spawned spawn(const std::vector<std::string> &argv, const std::vector<std::string> &env, std::optional<uid_t> as_user) {
    char out_name[] = "/tmp/dailysyncd-out.XXXXXX";
    char err_name[] = "/tmp/dailysyncd-err.XXXXXX";
    int out = ::mkstemp(out_name);
    int err = ::mkstemp(err_name);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out, 1);
        ::dup2(err, 2);
        int null = ::open("/dev/null", O_RDONLY);
        ::dup2(null, 0);
        for (const auto &e : env) ::putenv(const_cast<char *>(e.c_str()));
        if (as_user) {
            ::setgroups(0, nullptr);
            if (::setgid(65534) != 0 || ::setuid(*as_user) != 0) ::_exit(126);
        }
        std::vector<char *> args;
        for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(out);
    ::close(err);
    return Spawned{pid, out_name, err_name};
}

namespace {

// What a process that did not end was doing: the process tree, and each thread's stack
// when gdb is installed. Goes into the test's output, so a hang in CI can be read.
std::string describe_hang(pid_t pid) {
    const std::string p = std::to_string(pid);
    std::string text;
    auto capture = [&](const std::string &command) {
        if (FILE *f = ::popen(command.c_str(), "r")) {
            char buffer[4096];
            std::size_t n;
            while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
            ::pclose(f);
        }
    };
    capture("ps -o pid,ppid,pgid,stat,wchan:24,etime,args --forest -g $(ps -o sid= -p " + p + ") 2>&1");
    capture("command -v gdb >/dev/null && gdb -p " + p + " -batch -ex 'thread apply all bt' 2>&1 | grep -v '^\\[New LWP'");
    return text;
}

}  // namespace

Result wait_for(const Spawned &spawned, std::chrono::seconds deadline) {
    int status = 0;
    Result r;
    const auto give_up = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        const pid_t done = ::waitpid(spawned.pid, &status, WNOHANG);
        if (done == spawned.pid || (done < 0 && errno != EINTR)) break;
        if (std::chrono::steady_clock::now() > give_up) {
            r.hang = "did not end within " + std::to_string(deadline.count()) + " s:\n" + describe_hang(spawned.pid);
            ::kill(spawned.pid, SIGKILL);
            while (::waitpid(spawned.pid, &status, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        ::usleep(10'000);
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(spawned.out_path);
    r.err = read_file(spawned.err_path) + r.hang;
    ::unlink(spawned.out_path.c_str());
    ::unlink(spawned.err_path.c_str());
    return r;
}

Result run(const std::vector<std::string> &argv, const std::vector<std::string> &env, std::optional<uid_t> as_user) {
    return wait_for(spawn(argv, env, as_user));
}

std::string dailysyncd() { return DAILYSYNCD_BINARY; }
std::string dailysyncctl() { return DAILYSYNCCTL_BINARY; }

std::size_t widest_drawn_line(const std::string &drawn) {
    std::size_t column = 0, widest = 0;
    for (std::size_t i = 0; i < drawn.size(); ++i) {
        const unsigned char c = drawn[i];
        if (c == '\r' || c == '\n') column = 0;
        else if (c == 0x1b) {
            while (i < drawn.size() && !std::isalpha(static_cast<unsigned char>(drawn[i]))) ++i;
        } else if ((c & 0xC0) != 0x80) widest = std::max(widest, ++column);
    }
    return widest;
}

Result run_in_pty(const std::vector<std::string> &argv, const std::vector<std::string> &env, unsigned short columns) {
    int master = -1;
    struct winsize size {};
    size.ws_row = 40;
    size.ws_col = columns;
    pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
    if (pid == 0) {
        for (const auto &e : env) ::putenv(const_cast<char *>(e.c_str()));
        ::setenv("TERM", "xterm", 1);
        ::unsetenv("NO_COLOR");
        std::vector<char *> args;
        for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    Result r;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n > 0) r.out.append(buffer, static_cast<std::size_t>(n));
        else if (n < 0 && errno == EINTR) continue;
        else break;   // EIO: the child closed the terminal
    }
    ::close(master);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

namespace {
void walk(const std::string &root, const std::string &relative, Snapshot &out) {
    const std::string path = relative.empty() ? root : root + "/" + relative;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) throw std::runtime_error("lstat " + path);
    Entry e{};
    e.mode = st.st_mode & 07777;
    e.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec;
    if (S_ISREG(st.st_mode)) {
        e.type = 'f';
        e.size = st.st_size;
        e.content = read_file(path);
    } else if (S_ISLNK(st.st_mode)) {
        e.type = 'l';
        char target[4096];
        ssize_t n = ::readlink(path.c_str(), target, sizeof target);
        e.content.assign(target, n > 0 ? static_cast<std::size_t>(n) : 0);
        e.mode = 0;   // symlink modes are meaningless
    } else if (S_ISDIR(st.st_mode)) {
        e.type = 'd';
    } else {
        e.type = 'o';
    }
    out[relative.empty() ? "." : relative] = e;
    if (e.type != 'd') return;
    DIR *dir = ::opendir(path.c_str());
    if (!dir) throw std::runtime_error("opendir " + path);
    std::vector<std::string> names;
    while (auto *d = ::readdir(dir)) {
        std::string name = d->d_name;
        if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    for (const auto &name : names) walk(root, relative.empty() ? name : relative + "/" + name, out);
}

std::string describe(const Entry &e) {
    std::ostringstream s;
    s << e.type << " mode " << std::oct << e.mode << std::dec << " size " << e.size << " mtime " << e.mtime_ns;
    if (e.type == 'l') s << " -> " << e.content;
    return s.str();
}
}  // namespace

std::vector<std::string> list_dir(const std::string &path) {
    std::vector<std::string> names;
    if (DIR *dir = ::opendir(path.c_str())) {
        while (auto *e = ::readdir(dir))
            if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.push_back(e->d_name);
        ::closedir(dir);
    }
    std::sort(names.begin(), names.end());
    return names;
}

Snapshot snapshot(const std::string &root) {
    Snapshot out;
    walk(root, "", out);
    return out;
}

std::string differences(const Snapshot &expected, const Snapshot &actual) {
    std::string out;
    for (const auto &[path, entry] : expected) {
        auto it = actual.find(path);
        if (it == actual.end()) out += "missing: " + path + "\n";
        else if (!(it->second == entry))
            out += "differs: " + path + " expected " + describe(entry) + " got " + describe(it->second) +
                   (entry.content != it->second.content ? " (content)" : "") + "\n";
    }
    for (const auto &[path, entry] : actual)
        if (!expected.count(path)) out += "extra: " + path + "\n";
    return out;
}

std::vector<pid_t> processes_mentioning(const std::string &needle) {
    std::vector<pid_t> pids;
    DIR *proc = ::opendir("/proc");
    while (auto *d = ::readdir(proc)) {
        pid_t pid = static_cast<pid_t>(std::atoi(d->d_name));
        if (pid <= 0) continue;
        std::string cmdline = read_file("/proc/" + std::string(d->d_name) + "/cmdline");
        if (cmdline.find(needle) != std::string::npos) pids.push_back(pid);
    }
    ::closedir(proc);
    return pids;
}

void wait_for_rsync(const std::string &needle) {
    bool seen = false;
    for (int i = 0; i < 400 && !seen; ++i) {
        seen = !processes_mentioning(needle).empty();
        if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_TRUE(seen) << "no rsync for " << needle;
}

std::string write_config(const TempDir &dir, const std::string &json_body) {
    const std::string path = dir / "config.json";
    write_file(path, json_body);
    return path;
}

nlohmann::json parsed_report(const std::string &text) {
    const dailysync::ParsedReport parsed = dailysync::parse_report(text);
    if (!parsed.error.empty()) ADD_FAILURE() << "unreadable report (" << parsed.error << "): " << text.substr(0, 500);
    return parsed.doc;
}

nlohmann::json parse_json(const std::string &text) {
    auto doc = nlohmann::json::parse(text, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << text;
    return doc;
}

}  // namespace testing_support
