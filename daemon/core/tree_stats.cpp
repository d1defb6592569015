#include "core/tree_stats.hpp"

#include <algorithm>
#include <charconv>

namespace dailysync {

std::string parent_path(const std::string &path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string{} : path.substr(0, slash);
}

std::string join_path(const std::string &parent, std::string_view name) {
    if (parent.empty()) return std::string(name);
    std::string out = parent;
    out += '/';
    out += name;
    return out;
}

double cost_of(std::uint64_t entries, std::uint64_t bytes) {
    return static_cast<double>(entries) + static_cast<double>(bytes) / kBytesPerEntryCost;
}

void TreeStats::add_entry(const std::string &parent, std::string_view name, bool is_directory, std::uint64_t size) {
    DirStats &dir = dirs_[parent];
    ++dir.own_entries;
    if (is_directory) {
        ++dir.subdirs;
        touch_dir(join_path(parent, name));
    } else {
        dir.own_bytes += size;
    }
}

void TreeStats::touch_dir(const std::string &path) { dirs_.try_emplace(path); }

void TreeStats::merge(const TreeStats &other) {
    for (const auto &[path, stats] : other.dirs_) {
        DirStats &mine = dirs_[path];
        mine.own_entries += stats.own_entries;
        mine.own_bytes += stats.own_bytes;
        mine.subdirs += stats.subdirs;
    }
}

void TreeStats::finalize() {
    std::vector<std::pair<std::size_t, std::string>> by_depth;
    by_depth.reserve(dirs_.size());
    for (auto &[path, stats] : dirs_) {
        stats.tree_entries = stats.own_entries;
        stats.tree_bytes = stats.own_bytes;
        by_depth.emplace_back(path.empty() ? 0 : std::count(path.begin(), path.end(), '/') + 1, path);
    }
    std::sort(by_depth.begin(), by_depth.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
    for (const auto &[depth, path] : by_depth) {
        if (depth == 0) continue;
        const DirStats &child = dirs_[path];
        DirStats &parent = dirs_[parent_path(path)];
        parent.tree_entries += child.tree_entries;
        parent.tree_bytes += child.tree_bytes;
    }
}

const DirStats *TreeStats::find(const std::string &path) const {
    auto it = dirs_.find(path);
    return it == dirs_.end() ? nullptr : &it->second;
}

std::vector<std::string> TreeStats::subfolders(const std::string &path) const {
    std::vector<std::string> names;
    for (const auto &[folder, stats] : dirs_)
        if (!folder.empty() && parent_path(folder) == path) names.push_back(path.empty() ? folder : folder.substr(path.size() + 1));
    std::sort(names.begin(), names.end());
    return names;
}

std::uint64_t TreeStats::total_entries() const {
    const DirStats *root = find("");
    return root ? root->tree_entries + 1 : 0;
}

std::uint64_t TreeStats::total_bytes() const {
    const DirStats *root = find("");
    return root ? root->tree_bytes : 0;
}

std::string TreeStats::serialize() const {
    std::string out = "dailysyncd-tree-stats 1\n";
    for (const auto &[path, stats] : dirs_) {
        out += std::to_string(stats.own_entries) + ' ' + std::to_string(stats.own_bytes) + ' ' + std::to_string(stats.subdirs) +
               ' ' + std::to_string(path.size()) + ':' + path + '\n';
    }
    return out;
}

std::optional<TreeStats> TreeStats::parse(std::string_view text) {
    constexpr std::string_view header = "dailysyncd-tree-stats 1\n";
    if (text.substr(0, header.size()) != header) return std::nullopt;
    text.remove_prefix(header.size());
    TreeStats stats;
    auto number = [&](char end) -> std::optional<std::uint64_t> {
        std::uint64_t value = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc{} || ptr == text.data() + text.size() || *ptr != end) return std::nullopt;
        text.remove_prefix(static_cast<std::size_t>(ptr - text.data()) + 1);
        return value;
    };
    while (!text.empty()) {
        auto entries = number(' ');
        auto bytes = entries ? number(' ') : std::nullopt;
        auto subdirs = bytes ? number(' ') : std::nullopt;
        auto length = subdirs ? number(':') : std::nullopt;
        if (!length || *length + 1 > text.size() || text[*length] != '\n') return std::nullopt;
        DirStats &dir = stats.dirs_[std::string(text.substr(0, *length))];
        dir.own_entries = *entries;
        dir.own_bytes = *bytes;
        dir.subdirs = *subdirs;
        text.remove_prefix(*length + 1);
    }
    stats.finalize();
    return stats;
}

}  // namespace dailysync
