#include "io/tree_scan.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace dailysync {

namespace {
bool is_dot(const char *name) { return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)); }

struct Frame {
    DIR *dir;
    std::string path;   // relative to the root
};
}  // namespace

ScanResult scan_tree(const std::string &root, WorkProgress &progress) {
    ScanResult result;
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *top = fd >= 0 ? ::fdopendir(fd) : nullptr;
    if (!top) {
        result.error = "cannot read the source " + root + ": " + std::strerror(errno);
        if (fd >= 0) ::close(fd);
        return result;
    }
    result.tree.touch_dir("");
    std::vector<Frame> stack{{top, ""}};
    while (!stack.empty()) {
        if (progress.cancelled) {
            result.error = "scan cancelled";
            break;
        }
        Frame &frame = stack.back();
        struct dirent *entry = ::readdir(frame.dir);
        if (!entry) {
            ::closedir(frame.dir);
            stack.pop_back();
            continue;
        }
        if (is_dot(entry->d_name)) continue;
        ++progress.steps;
        const int dir_fd = ::dirfd(frame.dir);
        struct stat st {};
        if (::fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;   // vanished
        const bool is_dir = S_ISDIR(st.st_mode);
        result.tree.add_entry(frame.path, entry->d_name, is_dir, is_dir ? 0 : static_cast<std::uint64_t>(st.st_size));
        if (!is_dir) continue;
        std::string child_path = join_path(frame.path, entry->d_name);
        int child_fd = ::openat(dir_fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *child = child_fd >= 0 ? ::fdopendir(child_fd) : nullptr;
        if (!child) {
            if (child_fd >= 0) ::close(child_fd);
            ++result.unreadable_dirs;
            continue;
        }
        stack.push_back({child, std::move(child_path)});   // invalidates `frame`
    }
    for (auto &frame : stack) ::closedir(frame.dir);
    result.tree.finalize();
    return result;
}

}  // namespace dailysync
