// Planning: a description of the source tree -> the work units of one run.
// Pure: the tree description comes from io/tree_scan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dailysync {

// What the scan learned about one top-level entry of the source.
struct TopEntry {
    std::string name;             // raw bytes of the name
    bool is_directory = false;    // a real directory (not a symlink to one)
    std::uint64_t entries = 0;    // entries below it, itself included (rsync's "Number of files")
    std::uint64_t bytes = 0;      // sizes of the regular files below it
};

struct TreeDescription {
    std::vector<TopEntry> top;
};

// One rsync invocation: copy source/<path>/ to destination/<path>/.
struct WorkUnit {
    std::string name;             // printable, for reports ("." for the top level)
    std::string path;             // raw relative path below source ("" = the source itself)
    bool recursive = true;        // false: only the folder's own entries (rsync --dirs)
    std::optional<std::size_t> after;   // index of a unit that must finish first
    std::uint64_t estimated_entries = 0;
    std::uint64_t estimated_bytes = 0;
};

// One non-recursive unit for the top level of the source (its files, symlinks, the
// project folders themselves and, with delete, projects removed at the source), then one
// recursive unit per project folder, each after the top-level unit, largest first.
std::vector<WorkUnit> plan_per_project(const TreeDescription &tree);

}  // namespace dailysync
