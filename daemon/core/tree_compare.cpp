#include "core/tree_compare.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <variant>

#include "core/tree_stats.hpp"
#include "core/versions.hpp"

namespace dailysync {

namespace {
bool by_name(const FsEntry &a, const FsEntry &b) { return a.name < b.name; }

// Extra rsync arguments that leave what rsync compares, and how, as it is.
bool neutral_argument(std::string_view arg) {
    static constexpr std::array exact{std::string_view("--compress"), std::string_view("-z"), std::string_view("--numeric-ids"),
                                      std::string_view("--whole-file"), std::string_view("-W"), std::string_view("--no-whole-file"),
                                      std::string_view("--inplace"), std::string_view("--partial"), std::string_view("--preallocate"),
                                      std::string_view("--fsync"), std::string_view("--open-noatime"), std::string_view("--no-motd"),
                                      std::string_view("-v"), std::string_view("--verbose"), std::string_view("--ipv4"),
                                      std::string_view("--ipv6")};
    static constexpr std::array prefixes{std::string_view("--timeout="), std::string_view("--contimeout="),
                                         std::string_view("--compress-level="), std::string_view("--compress-choice="),
                                         std::string_view("--zc="), std::string_view("--zl="), std::string_view("--bwlimit="),
                                         std::string_view("--partial-dir="), std::string_view("--info="), std::string_view("--debug="),
                                         std::string_view("--skip-compress="), std::string_view("--block-size=")};
    if (std::find(exact.begin(), exact.end(), arg) != exact.end()) return true;
    return std::any_of(prefixes.begin(), prefixes.end(), [arg](std::string_view p) { return arg.substr(0, p.size()) == p; });
}
}  // namespace

bool same_entry(const FsEntry &s, const FsEntry &d, const DiffOptions &options) {
    if (s.type != EntryType::symlink && s.permissions != d.permissions) return false;
    if (options.owner && s.uid != d.uid) return false;
    return s.gid == d.gid && s.mtime == d.mtime;
}

FolderDiff diff_folder(const std::string &folder, std::vector<FsEntry> source, std::vector<FsEntry> destination,
                       const DiffOptions &options, const ExcludeRules &excludes) {
    FolderDiff diff;
    auto excluded = [&](const FsEntry &entry) { return excludes.excluded(join_path(folder, entry.name), entry.type == EntryType::dir); };
    std::vector<std::string> hidden;   // excluded names of the source
    for (const auto &e : source)
        if (excluded(e)) hidden.push_back(e.name);
    std::erase_if(source, excluded);
    std::sort(source.begin(), source.end(), by_name);
    std::sort(destination.begin(), destination.end(), by_name);
    diff.compared = source.size();
    auto s = source.begin();
    auto d = destination.begin();
    auto created = [&diff](const FsEntry &e, EntryChange change) {
        diff.changes.push_back({e.name, change, e.type, e.size});
        if (e.type == EntryType::dir) diff.fresh.push_back(e.name);
    };
    while (s != source.end() || d != destination.end()) {
        if (d == destination.end() || (s != source.end() && s->name < d->name)) {
            created(*s++, EntryChange::create);
            continue;
        }
        if (s == source.end() || d->name < s->name) {
            // Only on the destination: deleted, unless an exclude protects it there.
            if (options.deletions && !excluded(*d)) {
                if (std::find(hidden.begin(), hidden.end(), d->name) != hidden.end()) diff.needs_rsync = true;
                diff.changes.push_back({d->name, EntryChange::remove, d->type, 0});
            }
            ++d;
            continue;
        }
        const FsEntry &src = *s++;
        const FsEntry &dst = *d++;
        bool replaced = src.type != dst.type;
        if (!replaced && src.type == EntryType::symlink) replaced = src.link != dst.link;
        if (!replaced && (src.type == EntryType::device || src.type == EntryType::special))
            replaced = src.format != dst.format || (src.type == EntryType::device && src.rdev != dst.rdev);
        if (replaced) {
            created(src, EntryChange::replace);
            continue;
        }
        if (src.type == EntryType::file && (src.size != dst.size || src.mtime != dst.mtime))
            diff.changes.push_back({src.name, EntryChange::update, src.type, src.size});
        else if (!same_entry(src, dst, options))
            diff.changes.push_back({src.name, EntryChange::attributes, src.type, src.size});
        if (src.type == EntryType::dir) diff.descend.push_back(src.name);
    }
    if (diff.needs_rsync) {
        diff.changes.clear();
        diff.fresh.clear();
        diff.descend.clear();
    }
    diff.source = std::move(source);
    return diff;
}

std::string compare_unsupported(const Config &config) {
    if (config.preserve.hard_links) return "preserve.hard_links is on (rsync alone sees which files are linked)";
    if (config.preserve.acls) return "preserve.acls is on";
    if (config.preserve.xattrs) return "preserve.xattrs is on";
    for (const auto &arg : config.rsync_extra_args)
        if (!neutral_argument(arg)) return "rsync_extra_args holds " + arg + ", which may change what rsync compares";
    auto rules = ExcludeRules::compile(config.exclude);
    if (auto *why = std::get_if<std::string>(&rules)) return "exclude holds " + *why + ", which the compare cannot match as rsync does";
    return "";
}

}  // namespace dailysync
