#include "io/local_tree.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "io/filesystem_kind.hpp"

namespace dailysync {

namespace {

// `error`: set when the lookup failed for another reason than the entry not being there.
std::optional<EntryFacts> lstat_facts(const std::string &path, std::string *error = nullptr) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (error && errno != ENOENT && errno != ENOTDIR) *error = std::strerror(errno);
        return std::nullopt;
    }
    return EntryFacts{S_ISDIR(st.st_mode), static_cast<std::uint64_t>(st.st_size), static_cast<std::int64_t>(st.st_mtim.tv_sec)};
}

std::string below(const std::string &root, const std::string &relative) { return relative.empty() ? root : root + "/" + relative; }

bool is_dot(const char *name) { return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)); }

EntryType type_of(mode_t mode) {
    if (S_ISREG(mode)) return EntryType::file;
    if (S_ISDIR(mode)) return EntryType::dir;
    if (S_ISLNK(mode)) return EntryType::symlink;
    if (S_ISCHR(mode) || S_ISBLK(mode)) return EntryType::device;
    return EntryType::special;
}

FsEntry entry_facts(std::string name, const struct stat &st) {
    FsEntry e;
    e.name = std::move(name);
    e.type = type_of(st.st_mode);
    e.format = st.st_mode & S_IFMT;
    e.permissions = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.size = e.type == EntryType::dir ? 0 : static_cast<std::uint64_t>(st.st_size);
    e.mtime = st.st_mtim.tv_sec;
    e.rdev = st.st_rdev;
    return e;
}

// Opens folder `relative` below the root's descriptor without following any symlink on
// the way (a folder replaced by a symlink during a walk is not walked into). -1 and errno
// when it cannot. Kernels before 5.6 have no openat2: there only the last component is
// checked (O_NOFOLLOW); Debian 12's 6.1 has it.
int open_below(int root_fd, const std::string &relative) {
    if (relative.empty()) return ::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    open_how how{};
    how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);
    return ::openat(root_fd, relative.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// A folder of this machine, read below a descriptor of its root opened once: a root
// replaced meanwhile (a remount) is not mixed in halfway through.
class LocalTreeReader final : public TreeReader {
public:
    LocalTreeReader(std::string path, int root_fd) : path_(std::move(path)), root_fd_(root_fd) {}
    ~LocalTreeReader() override { ::close(root_fd_); }
    LocalTreeReader(const LocalTreeReader &) = delete;
    LocalTreeReader &operator=(const LocalTreeReader &) = delete;

    const std::string &location() const override { return path_; }

    std::optional<FsEntry> root() const override {
        struct stat st {};
        if (::fstat(root_fd_, &st) != 0) return std::nullopt;
        return entry_facts("", st);
    }

    Listing list(const std::string &relative, WorkProgress &progress) const override {
        Listing out;
        const int fd = open_below(root_fd_, relative);
        DIR *dir = fd >= 0 ? ::fdopendir(fd) : nullptr;
        if (!dir) {
            out.error = errno ? errno : EIO;
            if (fd >= 0) ::close(fd);
            return out;
        }
        while (struct dirent *entry = ::readdir(dir)) {
            if (progress.cancelled) break;
            if (is_dot(entry->d_name)) continue;
            ++progress.steps;
            struct stat st {};
            if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;   // vanished
            FsEntry e = entry_facts(entry->d_name, st);
            if (e.type == EntryType::symlink) {
                std::string target(static_cast<std::size_t>(std::max<off_t>(st.st_size, 0)) + 1, '\0');
                const ssize_t n = ::readlinkat(::dirfd(dir), entry->d_name, target.data(), target.size());
                if (n < 0) continue;   // vanished
                target.resize(static_cast<std::size_t>(n));
                e.link = std::move(target);
            }
            out.entries.push_back(std::move(e));
        }
        ::closedir(dir);
        return out;
    }

private:
    std::string path_;
    int root_fd_;
};

class LocalSource final : public Source {
public:
    explicit LocalSource(const Config &config)
        : root_(config.source), must_be_mount_point_(config.source_must_be_mountpoint), sentinel_(config.source_sentinel),
          scan_threads_(config.scan_threads) {}

    const std::string &location() const override { return root_; }
    std::optional<Problem> check(std::uint64_t previous_entries) const override {
        if (auto problem = check_folder(Side::source, root_, must_be_mount_point_)) return problem;
        if (!sentinel_.empty() && !lstat_facts(root_ + "/" + sentinel_))
            return Problem{ProblemKind::refused, Side::source, root_ + "/" + sentinel_, ENOENT,
                           "the source sentinel " + root_ + "/" + sentinel_ + " is missing (source_sentinel): the source is not the expected volume"};
        if (previous_entries > 1 && !has_entries(root_))
            return Problem{ProblemKind::refused, Side::source, root_, 0,
                           "the source " + root_ + " is empty, but held " + std::to_string(previous_entries) +
                               " entries at the last complete run: is it mounted? Nothing was copied or deleted"};
        return std::nullopt;
    }
    std::optional<FolderIdentity> identity() const override { return folder_identity(root_); }
    bool remote() const override { return is_remote_filesystem(root_); }
    std::optional<EntryFacts> entry(const std::string &relative, std::string *error) const override {
        return lstat_facts(below(root_, relative), error);
    }
    // scan_threads "auto": a NAS answers each thread's calls one at a time, so more there.
    ScanResult scan(WorkProgress &progress) const override {
        return scan_local_tree(root_, progress, scan_thread_count(scan_threads_, remote()));
    }
    OpenedTree open_tree() const override { return open_local_tree(root_, "source"); }

private:
    std::string root_;
    bool must_be_mount_point_;
    std::string sentinel_;
    std::optional<int> scan_threads_;
};

class LocalDestination final : public Destination {
public:
    explicit LocalDestination(const Config &config) : root_(config.destination), must_be_mount_point_(config.destination_must_be_mountpoint) {}

    std::optional<Problem> check() const override { return check_folder(Side::destination, root_, must_be_mount_point_); }
    bool remote() const override { return is_remote_filesystem(root_); }
    std::optional<EntryFacts> entry(const std::string &relative) const override { return lstat_facts(below(root_, relative)); }
    // Both reach their folder through no symlink (one planted in the backup would lead
    // them elsewhere): opened below the root's descriptor (open_below).
    Loaded<std::vector<std::string>> list(const std::string &folder) const override {
        std::vector<std::string> names;
        const int fd = folder_fd(folder);
        if (fd < 0) return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? Loaded<std::vector<std::string>>::missing()
                                                                                : Loaded<std::vector<std::string>>::unreadable(std::strerror(errno));
        DIR *dir = ::fdopendir(fd);
        if (!dir) {
            const int error = errno;
            ::close(fd);
            return Loaded<std::vector<std::string>>::unreadable(std::strerror(error));
        }
        errno = 0;
        while (const dirent *e = ::readdir(dir)) {
            const std::string name = e->d_name;
            if (name != "." && name != "..") names.push_back(name);
        }
        const int error = errno;
        ::closedir(dir);
        if (error != 0) return Loaded<std::vector<std::string>>::unreadable(std::strerror(error));
        return Loaded<std::vector<std::string>>::found(std::move(names));
    }
    Done remove(const std::string &relative) const override {
        const auto slash = relative.rfind('/');
        const int fd = folder_fd(slash == std::string::npos ? std::string() : relative.substr(0, slash));
        if (fd < 0) return Done::failure(std::strerror(errno));
        const bool removed = ::unlinkat(fd, relative.c_str() + (slash == std::string::npos ? 0 : slash + 1), 0) == 0;
        const int error = errno;
        ::close(fd);
        return removed ? Done::success() : Done::failure(std::strerror(error));
    }
    Done mark_for_copy(const std::string &relative) const override {
        // The folders on the way must be the real ones: a symlink inside the backup would
        // lead the change elsewhere.
        const auto slash = relative.rfind('/');
        const int fd = folder_fd(slash == std::string::npos ? std::string() : relative.substr(0, slash));
        if (fd < 0) return Done::failure("its folder is not where the backup has it (a symlink on the way, or gone)");
        const char *name = relative.c_str() + (slash == std::string::npos ? 0 : slash + 1);
        struct stat st {};
        std::string error;
        if (::fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) error = std::strerror(errno);
        else if (!S_ISREG(st.st_mode)) error = "not a regular file any more";
        else {
            const timespec times[2] = {{0, UTIME_OMIT}, {1, 0}};
            if (::utimensat(fd, name, times, AT_SYMLINK_NOFOLLOW) != 0) error = std::strerror(errno);
        }
        ::close(fd);
        return error.empty() ? Done::success() : Done::failure(error);
    }
    OpenedTree open_tree() const override { return open_local_tree(root_, "destination"); }

private:
    int folder_fd(const std::string &folder) const {
        const int root = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0) return -1;
        const int fd = open_below(root, folder);
        const int error = errno;   // (why not, for the caller)
        ::close(root);
        errno = error;
        return fd;
    }
    std::string root_;
    bool must_be_mount_point_;
};

}  // namespace

std::shared_ptr<const Source> local_source(const Config &config) { return std::make_shared<LocalSource>(config); }
std::shared_ptr<const Destination> local_destination(const Config &config) { return std::make_shared<LocalDestination>(config); }

OpenedTree open_local_tree(const std::string &path, const std::string &side) {
    OpenedTree out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) out.error = "cannot read the " + side + " " + path + ": " + std::strerror(errno);
    else out.reader = std::make_unique<LocalTreeReader>(path, fd);
    return out;
}

ScanResult scan_local_tree(const std::string &path, WorkProgress &progress, unsigned threads) {
    const OpenedTree tree = open_local_tree(path, "source");
    if (tree.reader) return scan_tree(*tree.reader, progress, threads);
    ScanResult result;
    result.error = tree.error;
    return result;
}

}  // namespace dailysync
