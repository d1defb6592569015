#include "core/change_units.hpp"

#include <algorithm>
#include <cmath>

#include "core/names.hpp"
#include "core/tree_stats.hpp"

namespace dailysync {

void ChangeGroup::add(const ChangeGroup &other) {
    paths.insert(paths.end(), other.paths.begin(), other.paths.end());
    deletions.insert(deletions.end(), other.deletions.begin(), other.deletions.end());
    deletions_counted = deletions_counted && other.deletions_counted;
    entries += other.entries;
    bytes += other.bytes;
}

std::string listed_path(const std::string &relative) { return relative.empty() ? "." : relative; }

namespace {
std::vector<WorkUnit> whole_units(const std::vector<std::string> &whole) {
    std::vector<WorkUnit> units;
    for (const auto &folder : whole) {
        WorkUnit unit;
        unit.name = (folder.empty() ? std::string(".") : printable_name(folder)) + " (whole tree, rsync compares)";
        unit.files = {listed_path(folder)};
        unit.folders = {folder};
        unit.recursive = true;
        units.push_back(std::move(unit));
    }
    return units;
}
}  // namespace

std::vector<WorkUnit> plan_listed_units(std::vector<ChangeGroup> groups, const std::vector<std::string> &whole, int concurrency) {
    std::erase_if(groups, [](const ChangeGroup &g) { return g.paths.empty() && g.deletions.empty(); });
    if (groups.empty()) return whole_units(whole);
    auto cost = [](const ChangeGroup &g) { return cost_of(g.entries + g.deletions.size(), g.bytes); };
    double total = 0;
    for (const auto &g : groups) total += cost(g);
    // At least one unit per rsync allowed to run (every entry listed costs round trips to
    // the NAS: they go in parallel), more when the changes are many, never more groups.
    const double most = Planner::kUnitsPerProcess * std::max(1, concurrency);
    const double wanted = std::max(std::ceil(total / kMinListedShare), static_cast<double>(std::max(1, concurrency)));
    const auto count = static_cast<std::size_t>(std::clamp(wanted, 1.0, std::min(most, static_cast<double>(groups.size()))));
    // Costliest first, each into the unit that costs least so far (LPT).
    std::sort(groups.begin(), groups.end(), [&cost](const ChangeGroup &a, const ChangeGroup &b) {
        const double ca = cost(a), cb = cost(b);
        return ca != cb ? ca > cb : a.folder < b.folder;
    });
    std::vector<WorkUnit> units(count);
    for (const auto &g : groups) {
        auto &unit = *std::min_element(units.begin(), units.end(),
                                       [](const WorkUnit &a, const WorkUnit &b) { return a.estimated_cost < b.estimated_cost; });
        unit.files.insert(unit.files.end(), g.paths.begin(), g.paths.end());
        unit.files.insert(unit.files.end(), g.deletions.begin(), g.deletions.end());
        unit.folders.push_back(g.folder);
        unit.deletions += g.deletions.size();
        unit.deletions_counted = unit.deletions_counted && g.deletions_counted;
        unit.estimated_entries += g.entries;
        unit.estimated_bytes += g.bytes;
        unit.estimated_cost += cost(g);
    }
    for (std::size_t i = 0; i < units.size(); ++i) {
        auto &unit = units[i];
        for (auto &file : unit.files) file = listed_path(file);
        std::sort(unit.files.begin(), unit.files.end());
        unit.files.erase(std::unique(unit.files.begin(), unit.files.end()), unit.files.end());
        std::sort(unit.folders.begin(), unit.folders.end());
        std::string where = unit.folders.size() == 1 ? (unit.folders[0].empty() ? "." : printable_name(unit.folders[0]))
                                                     : std::to_string(unit.folders.size()) + " folders";
        unit.name = "changes " + std::to_string(i + 1) + "/" + std::to_string(units.size()) + " (" + where + ")";
        unit.recursive = false;
    }
    for (auto &unit : whole_units(whole)) units.push_back(std::move(unit));
    return units;
}

}  // namespace dailysync
