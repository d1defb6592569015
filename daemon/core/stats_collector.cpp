#include "core/stats_collector.hpp"

#include "core/names.hpp"

namespace dailysync {

void StatsCollector::item(const ItemLine &item) {
    if (item.deletion) return;
    std::string name = unescape_rsync_name(item.name);
    const bool is_dir = item.type == 'd';
    if (is_dir && !name.empty() && name.back() == '/') name.pop_back();
    // The unit's own folder ("./"), or a member folder of a group: the parent's
    // non-recursive unit counts those as its entries.
    if (name == "." || name.empty()) {
        into_.touch_dir(unit_.base);
        return;
    }
    const auto slash = name.rfind('/');
    if (slash == std::string::npos && !unit_.members.empty()) {
        into_.touch_dir(join_path(unit_.base, name));
        return;
    }
    const std::string parent = slash == std::string::npos ? unit_.base : join_path(unit_.base, name.substr(0, slash));
    const std::string_view leaf = slash == std::string::npos ? std::string_view(name) : std::string_view(name).substr(slash + 1);
    into_.add_entry(parent, leaf, is_dir, is_dir ? 0 : item.size);
    if (is_dir && slash == std::string::npos) subdirs_.push_back(name);
}

}  // namespace dailysync
