#include "io/tree_compare.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <sys/resource.h>
#include <thread>
#include <unordered_map>

#include "core/names.hpp"
#include "core/versions.hpp"
#include "io/destination.hpp"
#include "io/source.hpp"
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
    std::string root_error;   // a top folder could not be listed: nothing else holds
};

struct Compare {
    const TreeReader &source_tree, &destination_tree;
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

    // A top folder that opened but cannot be listed (a stale handle after a remount).
    static void root_unreadable(Found &found, const char *side, const TreeReader &tree, int error) {
        found.root_error = std::string("cannot read the ") + side + " " + tree.location() + ": " + std::strerror(error);
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
        Listing source = source_tree.list(folder, progress);
        if (source.error && folder.empty()) return root_unreadable(found, "source", source_tree, source.error);
        if (source.error) {
            // Gone since its parent was listed: nothing to compare (rsync: "vanished").
            if (source.error != ENOENT) {
                note_unreadable(found, "source", folder, source.error);
                found.source_unreadable = true;
            }
            return;
        }
        Listing destination = destination_tree.list(folder, progress);
        if (destination.error && folder.empty()) return root_unreadable(found, "destination", destination_tree, destination.error);
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
        Listing source = source_tree.list(job.folder, progress);
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

CompareResult compare_trees(const Source &source, const Destination &destination, const CompareSettings &settings,
                            WorkProgress &progress) {
    const OpenedTree from = source.open_tree(), to = destination.open_tree();
    if (from.reader && to.reader) return compare_trees(*from.reader, *to.reader, settings, progress);
    CompareResult result;
    result.error = from.reader ? to.error : from.error;
    return result;
}

CompareResult compare_trees(const TreeReader &source, const TreeReader &destination, const CompareSettings &settings,
                            WorkProgress &progress) {
    CompareResult result;
    Compare compare{source, destination, settings, progress, {}, {}, {Job{"", true, {}}}, 0};
    // The roots themselves: their attributes are compared like any folder's.
    const auto source_root = source.root(), destination_root = destination.root();
    if (source_root && destination_root) result.root_changed = !same_entry(*source_root, *destination_root, settings.options);
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
    for (const auto &f : found)
        if (!f.root_error.empty()) {
            result.error = f.root_error;
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
