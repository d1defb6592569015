// Per-directory statistics of the source tree: what the balanced planner estimates costs
// from. Built by the first run's scan or collected from rsync's itemized output during a
// run, persisted for the next run. Memory grows with the number of folders, not files.
// Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dailysync {

struct DirStats {
    std::uint64_t own_entries = 0;   // entries directly inside (files, links, folders)
    std::uint64_t own_bytes = 0;     // sizes of the files and links directly inside
    std::uint64_t subdirs = 0;       // folders directly inside
    std::uint64_t tree_entries = 0;  // everything below, after finalize()
    std::uint64_t tree_bytes = 0;
};

class TreeStats {
public:
    // One entry `name` inside folder `parent` ("" = the source itself).
    void add_entry(const std::string &parent, std::string_view name, bool is_directory, std::uint64_t size);
    // Makes sure a folder has a record (an empty folder has no entries to add).
    void touch_dir(const std::string &path);
    // Adds another walk's own counts (folders listed elsewhere), before finalize().
    void merge(const TreeStats &other);
    // Computes tree totals from the own counts. Call once all entries are in.
    void finalize();

    const DirStats *find(const std::string &path) const;
    // The names of the folders directly inside `path` (sorted; a walk over every folder).
    std::vector<std::string> subfolders(const std::string &path) const;
    std::uint64_t total_entries() const;   // the source's tree entries + 1 for itself
    std::uint64_t total_bytes() const;
    bool empty() const { return dirs_.empty(); }

    // A compact text form: "own_entries own_bytes subdirs length:path\n" per folder;
    // paths are raw bytes, length-prefixed, so any name survives.
    std::string serialize() const;
    static std::optional<TreeStats> parse(std::string_view text);

private:
    std::unordered_map<std::string, DirStats> dirs_;
};

// "a/b" -> "a", "a" -> "", "" -> "".
std::string parent_path(const std::string &path);
std::string join_path(const std::string &parent, std::string_view name);

// Estimated cost of copying/checking a subtree, in "file equivalents": each entry costs
// one, and every kBytesPerEntryCost bytes cost one more (a NAS is latency-bound: one
// metadata round trip costs about as much as moving a few hundred kilobytes).
inline constexpr double kBytesPerEntryCost = 256.0 * 1024.0;
double cost_of(std::uint64_t entries, std::uint64_t bytes);

}  // namespace dailysync
