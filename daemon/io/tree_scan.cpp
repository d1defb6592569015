#include "io/tree_scan.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <mutex>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace dailysync {

namespace {
bool is_dot(const char *name) { return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)); }

// The walk shared by the threads: folders waiting to be listed, and how many are being
// listed (the walk is over when both are zero).
struct Walk {
    int root_fd;
    WorkProgress &progress;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::string> folders;
    int listing = 0;
    std::uint64_t unreadable = 0;

    // Lists one folder into `stats`; its subfolders go to the queue.
    void list(const std::string &folder, TreeStats &stats, std::vector<std::string> &found) {
        const int fd = open_below(root_fd, folder);
        DIR *dir = fd >= 0 ? ::fdopendir(fd) : nullptr;
        if (!dir) {
            if (fd >= 0) ::close(fd);
            std::lock_guard lock(mutex);
            ++unreadable;
            return;
        }
        stats.touch_dir(folder);
        while (struct dirent *entry = ::readdir(dir)) {
            if (progress.cancelled) break;
            if (is_dot(entry->d_name)) continue;
            ++progress.steps;
            struct stat st {};
            if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;   // vanished
            const bool is_dir = S_ISDIR(st.st_mode);
            stats.add_entry(folder, entry->d_name, is_dir, is_dir ? 0 : static_cast<std::uint64_t>(st.st_size));
            if (is_dir) found.push_back(join_path(folder, entry->d_name));
        }
        ::closedir(dir);
    }

    void work(TreeStats &stats) {
        std::vector<std::string> found;
        std::unique_lock lock(mutex);
        for (;;) {
            wake.wait(lock, [this] { return !folders.empty() || listing == 0 || progress.cancelled; });
            if (folders.empty() || progress.cancelled) break;   // nothing left and nobody listing: done
            std::string folder = std::move(folders.front());
            folders.pop_front();
            ++listing;
            lock.unlock();
            found.clear();
            list(folder, stats, found);
            lock.lock();
            --listing;
            // Depth first: a folder's subfolders before its siblings' keeps the queue (and
            // the memory) small.
            for (auto it = found.rbegin(); it != found.rend(); ++it) folders.push_front(std::move(*it));
            wake.notify_all();
        }
        wake.notify_all();
    }
};
}  // namespace

// Opens folder `relative` below the root's descriptor without following any symlink on
// the way (a folder replaced by a symlink during the walk is not walked into).
int open_below(int root_fd, const std::string &relative) {
    if (relative.empty()) return ::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    open_how how{};
    how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);
    return ::openat(root_fd, relative.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);   // kernels before 5.6
}

ScanResult scan_tree(const std::string &root, WorkProgress &progress, unsigned threads) {
    ScanResult result;
    const int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) {
        result.error = "cannot read the source " + root + ": " + std::strerror(errno);
        return result;
    }
    Walk walk{root_fd, progress, {}, {}, {""}, 0, 0};
    const unsigned count = std::clamp(threads, 1u, kMaxScanThreads);
    std::vector<TreeStats> partial(count);
    std::vector<std::thread> helpers;
    for (unsigned i = 1; i < count; ++i) helpers.emplace_back([&walk, &partial, i] { walk.work(partial[i]); });
    walk.work(partial[0]);
    for (auto &helper : helpers) helper.join();
    ::close(root_fd);
    if (progress.cancelled) {
        result.error = "scan cancelled";
        return result;
    }
    // Each folder was listed by one thread: the records add up.
    for (auto &stats : partial) result.tree.merge(stats);
    if (walk.unreadable > 0 && !result.tree.find("")) {
        result.error = "cannot read the source " + root;
        return result;
    }
    result.unreadable_dirs = walk.unreadable;
    result.tree.finalize();
    return result;
}

}  // namespace dailysync
