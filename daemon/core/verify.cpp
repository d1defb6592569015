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

void note_verify_findings(VerifyOutcome &outcome, const ChangeList &changes) {
    outcome.missing = changes.counts[static_cast<int>(ChangeKind::copy)];
    outcome.extraneous = changes.counts[static_cast<int>(ChangeKind::remove)];
    outcome.outdated = changes.counts[static_cast<int>(ChangeKind::update)];
    for (const auto &change : changes.listed) {
        auto *paths = change.kind == ChangeKind::copy     ? &outcome.missing_paths
                      : change.kind == ChangeKind::remove ? &outcome.extraneous_paths
                      : change.kind == ChangeKind::update ? &outcome.outdated_paths
                                                          : nullptr;
        if (paths && paths->size() < VerifyOutcome::kListed) paths->push_back(change.path);
    }
}

bool verify_found_damage(const VerifyOutcome &outcome) {
    return outcome.differing > 0 || outcome.missing > 0 || (outcome.mirror && outcome.extraneous > 0);
}

std::string verify_error(const VerifyOutcome &o) {
    std::vector<std::string> parts;
    if (o.differing > 0)
        parts.push_back(std::to_string(o.differing) + (o.differing == 1 ? " file" : " files") +
                        " in the backup differ from the source in content though size and time match (damaged at rest, or "
                        "changed without a new time); " +
                        (o.marked == o.differing ? std::string("the next run copies them again")
                                                 : std::to_string(o.marked) +
                                                       " of them marked for the next run to copy again (see the report)"));
    if (o.missing > 0)
        parts.push_back(std::to_string(o.missing) + (o.missing == 1 ? " entry" : " entries") +
                        " of the source missing from the backup (the next run copies them)");
    if (o.mirror && o.extraneous > 0)
        parts.push_back(std::to_string(o.extraneous) + (o.extraneous == 1 ? " entry" : " entries") +
                        " in the backup the source no longer has (not deleted by the verify; the next run deletes them "
                        "within max_delete)");
    std::string text = "verify:";
    for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? "; " : " ") + parts[i];
    return text;
}

}  // namespace dailysync
