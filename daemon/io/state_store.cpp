#include "io/state_store.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dailysync {

namespace {
std::string describe(const std::string &what, const std::string &path) {
    return what + " " + path + ": " + std::strerror(errno);
}
}  // namespace

std::string make_directories(const std::string &path) {
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
        if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) return describe("cannot create", partial);
        if (next == path.size()) break;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return "cannot create " + path + ": not a directory";
    return {};
}

std::string write_file_atomically(const std::string &path, const std::string &content) {
    const auto slash = path.rfind('/');
    const std::string folder = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
    std::string temp = path + ".tmp.XXXXXX";
    int fd = ::mkstemp(temp.data());
    if (fd < 0) return describe("cannot create", temp);
    ::fchmod(fd, 0644);
    const char *data = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        ssize_t n = ::write(fd, data, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::string error = describe("cannot write", temp);
            ::close(fd);
            ::unlink(temp.c_str());
            return error;
        }
        data += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        std::string error = describe("cannot write", temp);
        ::unlink(temp.c_str());
        return error;
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        std::string error = describe("cannot rename over", path);
        ::unlink(temp.c_str());
        return error;
    }
    int dir_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    return {};
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

std::string StateStore::write_report(const std::string &run_id, const std::string &json) const {
    if (auto error = make_directories(runs_dir()); !error.empty()) return error;
    return write_file_atomically(report_path(run_id), json);
}

}  // namespace dailysync
