#include "core/verify.hpp"

#include "core/names.hpp"

namespace dailysync {

int slice_of_day(std::int64_t local_day_number, int every_days) {
    if (every_days <= 1) return 0;
    const auto slice = local_day_number % every_days;
    return static_cast<int>(slice < 0 ? slice + every_days : slice);
}

int slice_of(const std::string &project, int every_days) {
    if (every_days <= 1) return 0;
    std::uint32_t hash = 2166136261u;
    for (unsigned char c : project) {
        hash ^= c;
        hash *= 16777619u;
    }
    return static_cast<int>(hash % static_cast<std::uint32_t>(every_days));
}

std::vector<WorkUnit> verify_units(const VerifyRequest &request, const TreeStats &stats, const Planner &planner) {
    if (request.path) {
        WorkUnit unit;
        unit.base = *request.path;
        unit.name = request.path->empty() ? "." : printable_name(*request.path);
        unit.recursive = true;
        return {unit};
    }
    std::vector<std::string> projects;
    for (const auto &name : stats.subfolders(""))
        if (slice_of(name, request.slices) == request.slice) projects.push_back(name);
    std::vector<WorkUnit> units;
    if (request.slice == 0) {
        WorkUnit top;
        top.name = ".";
        top.recursive = false;   // the source's own entries; its folders are in their slices
        units.push_back(top);
    }
    for (auto &unit : planner.expand("", projects)) units.push_back(std::move(unit));
    return units;
}

std::string verify_scope_text(const VerifyRequest &request, const std::vector<WorkUnit> &units) {
    if (request.path) return request.path->empty() ? "the whole backup" : printable_name(*request.path);
    if (request.slices <= 1) return "the whole backup";
    std::string names;
    std::size_t listed = 0;
    for (const auto &unit : units) {
        if (unit.base.empty() && unit.members.empty()) continue;
        if (++listed > 5) continue;
        names += (names.empty() ? "" : ", ") + unit.name;
    }
    if (listed > 5) names += ", ...";
    return "slice " + std::to_string(request.slice + 1) + " of " + std::to_string(request.slices) + (names.empty() ? "" : " (" + names + ")");
}

std::string verify_error(std::uint64_t differing, std::uint64_t marked) {
    return "verify: " + std::to_string(differing) + (differing == 1 ? " file" : " files") +
           " in the backup differ from the source in content though size and time match (damaged at rest, or changed without "
           "a new time); " +
           (marked == differing ? std::string("the next run copies them again")
                                : std::to_string(marked) + " of them marked for the next run to copy again (see the report)");
}

}  // namespace dailysync
