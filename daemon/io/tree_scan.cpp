#include "io/tree_scan.hpp"

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dailysync {

namespace {
constexpr int kEntriesPerStep = 256;

bool is_dot(const char *name) { return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)); }
}  // namespace

std::shared_ptr<TreeScan> TreeScan::create(boost::asio::io_context &io, std::string source, OnDone on_done) {
    return std::shared_ptr<TreeScan>(new TreeScan(io, std::move(source), std::move(on_done)));
}

TreeScan::TreeScan(boost::asio::io_context &io, std::string source, OnDone on_done)
    : io_(io), source_(std::move(source)), on_done_(std::move(on_done)) {}

TreeScan::~TreeScan() {
    for (auto &frame : stack_) ::closedir(frame.dir);
}

void TreeScan::start() {
    int fd = ::open(source_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? ::fdopendir(fd) : nullptr;
    if (!dir) {
        result_.error = "cannot read the source " + source_ + ": " + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        finish();
        return;
    }
    result_.tree.touch_dir("");
    stack_.push_back({dir, ""});
    boost::asio::post(io_, [self = shared_from_this()] { self->step(); });
}

void TreeScan::cancel() { cancelled_ = true; }

void TreeScan::step() {
    if (cancelled_) {
        result_.error = "scan cancelled";
        finish();
        return;
    }
    for (int budget = kEntriesPerStep; budget > 0 && !stack_.empty(); --budget) {
        Frame &frame = stack_.back();
        struct dirent *entry = ::readdir(frame.dir);
        if (!entry) {
            ::closedir(frame.dir);
            stack_.pop_back();
            continue;
        }
        if (is_dot(entry->d_name)) continue;
        const int dir_fd = ::dirfd(frame.dir);
        struct stat st {};
        if (::fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;   // vanished
        const bool is_dir = S_ISDIR(st.st_mode);
        const std::uint64_t size = S_ISDIR(st.st_mode) ? 0 : static_cast<std::uint64_t>(st.st_size);
        result_.tree.add_entry(frame.path, entry->d_name, is_dir, size);
        if (!is_dir) continue;
        std::string child_path = join_path(frame.path, entry->d_name);
        int fd = ::openat(dir_fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *child = fd >= 0 ? ::fdopendir(fd) : nullptr;
        if (!child) {
            if (fd >= 0) ::close(fd);
            ++result_.unreadable_dirs;
            continue;
        }
        stack_.push_back({child, std::move(child_path)});   // invalidates `frame`
    }
    if (stack_.empty()) {
        finish();
        return;
    }
    boost::asio::post(io_, [self = shared_from_this()] { self->step(); });
}

void TreeScan::finish() {
    for (auto &frame : stack_) ::closedir(frame.dir);
    stack_.clear();
    result_.tree.finalize();
    boost::asio::post(io_, [self = shared_from_this()] { self->on_done_(std::move(self->result_)); });
}

}  // namespace dailysync
