#include "core/plan.hpp"

#include <algorithm>

#include "core/names.hpp"

namespace dailysync {

std::vector<WorkUnit> plan_per_project(const TreeDescription &tree) {
    std::vector<WorkUnit> units;
    WorkUnit top;
    top.name = ".";
    top.path = "";
    top.recursive = false;
    top.estimated_entries = 1;   // the source folder itself
    for (const auto &entry : tree.top) {
        top.estimated_entries += 1;
        if (!entry.is_directory) top.estimated_bytes += entry.bytes;
    }
    units.push_back(top);

    std::vector<const TopEntry *> projects;
    for (const auto &entry : tree.top)
        if (entry.is_directory) projects.push_back(&entry);
    // Largest first, so the longest unit starts early; name breaks ties for a stable order.
    std::sort(projects.begin(), projects.end(), [](const TopEntry *a, const TopEntry *b) {
        if (a->bytes != b->bytes) return a->bytes > b->bytes;
        if (a->entries != b->entries) return a->entries > b->entries;
        return a->name < b->name;
    });
    for (const TopEntry *project : projects) {
        WorkUnit unit;
        unit.name = printable_name(project->name);
        unit.path = project->name;
        unit.recursive = true;
        unit.after = 0;
        unit.estimated_entries = project->entries;
        unit.estimated_bytes = project->bytes;
        units.push_back(unit);
    }
    return units;
}

}  // namespace dailysync
