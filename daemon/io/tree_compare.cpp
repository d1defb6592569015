#include "io/tree_compare.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>

#include "core/names.hpp"
#include "core/versions.hpp"
#include "io/tree_scan.hpp"

namespace dailysync {

void CompareCounts::add(const CompareCounts &o) {
    compared += o.compared;
    created += o.created;
    updated += o.updated;
    attributes += o.attributes;
    replaced += o.replaced;
    deleted += o.deleted;
    bytes += o.bytes;
}

namespace {
bool is_dot(const char *name) { return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)); }

EntryType type_of(mode_t mode) {
    if (S_ISREG(mode)) return EntryType::file;
    if (S_ISDIR(mode)) return EntryType::dir;
    if (S_ISLNK(mode)) return EntryType::symlink;
    if (S_ISCHR(mode) || S_ISBLK(mode)) return EntryType::device;
    return EntryType::special;
}

// One folder's entries, or errno when it cannot be opened.
struct Listing {
    std::vector<FsEntry> entries;
    int error = 0;
};

Listing list_folder(int root_fd, const std::string &folder, WorkProgress &progress) {
    Listing out;
    const int fd = open_below(root_fd, folder);
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
        FsEntry e;
        e.name = entry->d_name;
        e.type = type_of(st.st_mode);
        e.format = st.st_mode & S_IFMT;
        e.permissions = st.st_mode & 07777;
        e.uid = st.st_uid;
        e.gid = st.st_gid;
        e.size = e.type == EntryType::dir ? 0 : static_cast<std::uint64_t>(st.st_size);
        e.mtime = st.st_mtim.tv_sec;
        e.rdev = st.st_rdev;
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

// A folder to look at: on both sides, or only in the source (all of it is new, and goes
// with the changes of `group`, the folder on both sides it hangs from).
struct Job {
    std::string folder;
    bool both = true;
    std::string group;
};

// What one thread found; added up at the end (each folder was looked at by one thread).
struct Found {
    TreeStats stats;
    std::unordered_map<std::string, ChangeGroup> groups;
    CompareCounts counts;
    std::vector<std::string> unreadable;
    std::uint64_t unreadable_count = 0;
    bool source_unreadable = false;
    std::vector<std::string> whole;
};

struct Compare {
    int source_fd, destination_fd;
    const CompareSettings &settings;
    WorkProgress &progress;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Job> jobs;
    int busy = 0;

    void note_unreadable(Found &found, const char *side, const std::string &folder, int error) {
        if (++found.unreadable_count <= 20)
            found.unreadable.push_back(std::string(side) + " " + (folder.empty() ? "." : printable_name(folder)) + ": " + std::strerror(error));
    }

    ChangeGroup &group(Found &found, const std::string &folder, bool with_folder) {
        auto [it, made] = found.groups.try_emplace(folder);
        if (made) it->second.folder = folder;
        if (with_folder && (it->second.paths.empty() || it->second.paths.front() != folder)) {
            it->second.paths.insert(it->second.paths.begin(), folder);
            ++it->second.entries;
        }
        return it->second;
    }

    void both(const std::string &folder, Found &found, std::vector<Job> &next) {
        Listing source = list_folder(source_fd, folder, progress);
        if (source.error) {
            // Gone since its parent was listed: nothing to compare (rsync: "vanished").
            if (source.error != ENOENT) {
                note_unreadable(found, "source", folder, source.error);
                found.source_unreadable = true;
            }
            return;
        }
        Listing destination = list_folder(destination_fd, folder, progress);
        if (destination.error) return note_unreadable(found, "destination", folder, destination.error);
        if (folder.empty()) {
            // The versions at the destination's top are never compared (nor sent).
            auto versions = [](const FsEntry &e) { return e.name == kVersionsFolder; };
            std::erase_if(source.entries, versions);
            std::erase_if(destination.entries, versions);
        }
        FolderDiff diff = diff_folder(folder, std::move(source.entries), std::move(destination.entries), settings.options,
                                      *settings.excludes);
        found.stats.touch_dir(folder);
        for (const auto &e : diff.source) found.stats.add_entry(folder, e.name, e.type == EntryType::dir, e.size);
        found.counts.compared += diff.compared;
        if (diff.needs_rsync) found.whole.push_back(folder);
        if (!diff.changes.empty()) {
            ChangeGroup &g = group(found, folder, true);
            for (const auto &change : diff.changes) {
                const std::string path = join_path(folder, change.name);
                switch (change.change) {
                case EntryChange::remove:
                    if (change.type == EntryType::dir) g.deletions_counted = false;
                    g.deletions.push_back(path);
                    ++found.counts.deleted;
                    continue;
                case EntryChange::create: ++found.counts.created; break;
                case EntryChange::update: ++found.counts.updated; break;
                case EntryChange::attributes: ++found.counts.attributes; break;
                case EntryChange::replace:
                    ++found.counts.replaced;
                    g.deletions_counted = false;
                    break;
                }
                g.paths.push_back(path);
                ++g.entries;
                if (change.change != EntryChange::attributes && change.type == EntryType::file) {
                    g.bytes += change.size;
                    found.counts.bytes += change.size;
                }
            }
        }
        for (const auto &name : diff.descend) next.push_back(Job{join_path(folder, name), true, {}});
        for (const auto &name : diff.fresh) next.push_back(Job{join_path(folder, name), false, folder});
    }

    void fresh(const Job &job, Found &found, std::vector<Job> &next) {
        Listing source = list_folder(source_fd, job.folder, progress);
        if (source.error) {
            if (source.error != ENOENT) {
                note_unreadable(found, "source", job.folder, source.error);
                found.source_unreadable = true;
            }
            return;
        }
        found.stats.touch_dir(job.folder);
        ChangeGroup &g = group(found, job.group, false);
        for (const auto &e : source.entries) {
            const std::string path = join_path(job.folder, e.name);
            const bool is_dir = e.type == EntryType::dir;
            if (settings.excludes->excluded(path, is_dir)) continue;
            found.stats.add_entry(job.folder, e.name, is_dir, e.size);
            ++found.counts.compared;
            ++found.counts.created;
            g.paths.push_back(path);
            ++g.entries;
            if (e.type == EntryType::file) {
                g.bytes += e.size;
                found.counts.bytes += e.size;
            }
            if (is_dir) next.push_back(Job{path, false, job.group});
        }
    }

    void work(Found &found) {
        std::vector<Job> next;
        std::unique_lock lock(mutex);
        for (;;) {
            wake.wait(lock, [this] { return !jobs.empty() || busy == 0 || progress.cancelled; });
            if (jobs.empty() || progress.cancelled) break;
            Job job = std::move(jobs.front());
            jobs.pop_front();
            ++busy;
            lock.unlock();
            next.clear();
            if (job.both) both(job.folder, found, next);
            else fresh(job, found, next);
            lock.lock();
            --busy;
            // Depth first keeps the queue (and the memory) small.
            for (auto it = next.rbegin(); it != next.rend(); ++it) jobs.push_front(std::move(*it));
            wake.notify_all();
        }
        wake.notify_all();
    }
};

double thread_cpu_seconds() {
    struct rusage usage {};
    ::getrusage(RUSAGE_THREAD, &usage);
    auto seconds = [](const timeval &tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}
}  // namespace

CompareResult compare_trees(const std::string &source, const std::string &destination, const CompareSettings &settings,
                            WorkProgress &progress) {
    CompareResult result;
    const int source_fd = ::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (source_fd < 0) {
        result.error = "cannot read the source " + source + ": " + std::strerror(errno);
        return result;
    }
    const int destination_fd = ::open(destination.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (destination_fd < 0) {
        result.error = "cannot read the destination " + destination + ": " + std::strerror(errno);
        ::close(source_fd);
        return result;
    }
    Compare compare{source_fd, destination_fd, settings, progress, {}, {}, {Job{"", true, {}}}, 0};
    // The roots themselves: their attributes are compared like any folder's.
    struct stat source_root {}, destination_root {};
    if (::fstat(source_fd, &source_root) == 0 && ::fstat(destination_fd, &destination_root) == 0) {
        auto facts = [](const struct stat &st) {
            FsEntry e;
            e.type = EntryType::dir;
            e.permissions = st.st_mode & 07777;
            e.uid = st.st_uid;
            e.gid = st.st_gid;
            e.mtime = st.st_mtim.tv_sec;
            return e;
        };
        result.root_changed = !same_entry(facts(source_root), facts(destination_root), settings.options);
    }
    const unsigned count = std::clamp(settings.threads, 1u, kMaxScanThreads);
    std::vector<Found> found(count);
    std::vector<double> cpu(count, 0);
    const double cpu_before = thread_cpu_seconds();
    std::vector<std::thread> helpers;
    for (unsigned i = 1; i < count; ++i)
        helpers.emplace_back([&compare, &found, &cpu, i] {
            compare.work(found[i]);
            cpu[i] = thread_cpu_seconds();
        });
    compare.work(found[0]);
    cpu[0] = thread_cpu_seconds() - cpu_before;
    for (auto &helper : helpers) helper.join();
    ::close(source_fd);
    ::close(destination_fd);
    if (progress.cancelled) {
        result.error = "compare cancelled";
        return result;
    }
    std::unordered_map<std::string, ChangeGroup> groups;
    if (result.root_changed) {
        ChangeGroup root;
        root.paths.push_back("");
        root.entries = 1;
        ++result.counts.attributes;
        groups.emplace("", std::move(root));
    }
    bool source_unreadable = false;
    for (unsigned i = 0; i < count; ++i) {
        result.source_tree.merge(found[i].stats);
        result.counts.add(found[i].counts);
        result.cpu_seconds += cpu[i];
        result.unreadable_count += found[i].unreadable_count;
        for (auto &line : found[i].unreadable)
            if (result.unreadable.size() < 20) result.unreadable.push_back(std::move(line));
        source_unreadable = source_unreadable || found[i].source_unreadable;
        result.whole.insert(result.whole.end(), found[i].whole.begin(), found[i].whole.end());
        for (auto &[folder, g] : found[i].groups) {
            auto [it, made] = groups.try_emplace(folder, std::move(g));
            if (!made) it->second.add(g);
        }
    }
    if (!result.source_tree.find("")) {
        result.error = "cannot read the source " + source;
        return result;
    }
    result.source_tree.finalize();
    for (auto &[folder, g] : groups) {
        // A folder of the source that could not be read may hold what the destination
        // has: like rsync after an I/O error, this run deletes nothing.
        if (source_unreadable) {
            result.counts.deleted -= g.deletions.size();
            g.deletions.clear();
        }
        result.groups.push_back(std::move(g));
    }
    std::sort(result.groups.begin(), result.groups.end(), [](const ChangeGroup &a, const ChangeGroup &b) { return a.folder < b.folder; });
    std::sort(result.whole.begin(), result.whole.end());
    // Deleting nothing means no folder needs rsync's own deletions.
    if (source_unreadable) result.whole.clear();
    return result;
}

}  // namespace dailysync
