#include "io/tree_scan.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace dailysync {

namespace {
// The walk shared by the threads: folders waiting to be listed, and how many are being
// listed (the walk is over when both are zero).
struct Walk {
    const TreeReader &tree;
    WorkProgress &progress;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::string> folders;
    int listing = 0;
    std::uint64_t unreadable = 0;
    int root_error = 0;

    // Lists one folder into `stats`; its subfolders go to the queue.
    void list(const std::string &folder, TreeStats &stats, std::vector<std::string> &found) {
        const Listing listing = tree.list(folder, progress);
        if (listing.error) {
            std::lock_guard lock(mutex);
            ++unreadable;
            if (folder.empty()) root_error = listing.error;
            return;
        }
        stats.touch_dir(folder);
        for (const auto &e : listing.entries) {
            const bool is_dir = e.type == EntryType::dir;
            stats.add_entry(folder, e.name, is_dir, e.size);
            if (is_dir) found.push_back(join_path(folder, e.name));
        }
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

ScanResult scan_tree(const TreeReader &tree, WorkProgress &progress, unsigned threads) {
    ScanResult result;
    Walk walk{tree, progress, {}, {}, {""}, 0, 0, 0};
    const unsigned count = std::clamp(threads, 1u, kMaxScanThreads);
    std::vector<TreeStats> partial(count);
    std::vector<std::thread> helpers;
    for (unsigned i = 1; i < count; ++i) helpers.emplace_back([&walk, &partial, i] { walk.work(partial[i]); });
    walk.work(partial[0]);
    for (auto &helper : helpers) helper.join();
    if (progress.cancelled) {
        result.error = "scan cancelled";
        return result;
    }
    if (walk.root_error) {
        result.error = "cannot read the source " + tree.location() + ": " + std::strerror(walk.root_error);
        return result;
    }
    // Each folder was listed by one thread: the records add up.
    for (auto &stats : partial) result.tree.merge(stats);
    result.unreadable_dirs = walk.unreadable;
    result.tree.finalize();
    return result;
}

}  // namespace dailysync
