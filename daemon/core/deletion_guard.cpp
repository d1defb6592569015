#include "core/deletion_guard.hpp"

#include <algorithm>

namespace dailysync {

namespace {
// What the guard counts against: the backup before the run, never more than at the last
// complete run.
std::uint64_t guard_basis(std::uint64_t before_run, std::uint64_t complete_entries) {
    return complete_entries > 0 ? std::min(before_run, complete_entries) : before_run;
}
}  // namespace

std::uint64_t backup_before_run(std::uint64_t source_entries, std::uint64_t extraneous, std::uint64_t created) {
    // After copying, the backup holds the source's entries plus the extraneous ones; the
    // created ones were not there before. The extraneous ones were (at least those).
    const std::uint64_t after = source_entries + extraneous;
    return std::max(after > created ? after - created : 0, extraneous);
}

namespace {
// The folders a unit's rsync counts that its parent folder's unit lists too: the unit's
// own folder, or a group's members (a split folder's own unit lists its subfolders).
std::uint64_t roots_counted_twice(const WorkUnit &unit) {
    if (!unit.members.empty()) return unit.members.size();
    return unit.base.empty() ? 0 : 1;
}
}  // namespace

std::uint64_t allow_counted_deletions(std::vector<WorkUnit> &units, std::uint64_t source_entries, std::uint64_t created,
                                      const DeleteLimit &limit, std::uint64_t complete_entries) {
    std::uint64_t total = 0;
    for (const auto &unit : units) {
        // A unit with nothing to delete keeps --max-delete=0 (a type change it holds is
        // held back by rsync for the second pass).
        if (unit.deletions == 0) continue;
        if (!unit.listed() || unit.recursive || unit.deletion_pass || !unit.deletions_counted) return 0;
        total += unit.deletions;
    }
    if (total == 0 || total > limit.allowed(guard_basis(backup_before_run(source_entries, total, created), complete_entries))) return 0;
    for (auto &unit : units) unit.max_delete = unit.deletions;
    return total;
}

DeletionPlan plan_deletions(const RunModel &run, const DeleteLimit &limit, std::uint64_t complete_entries) {
    DeletionPlan plan;
    DeletionSummary &s = plan.summary;
    s.limit = limit.text();
    std::uint64_t entries = 0, held = 0, done = 0, created = 0;
    std::vector<const UnitStatus *> holding;
    for (const auto &u : run.units()) {
        if (u.unit.deletion_pass) continue;
        entries += u.files_total - std::min(u.files_total, roots_counted_twice(u.unit));
        created += u.created;
        if (!run.dry_run()) done += u.deletions;   // a dry run's are the ones it lists (pending)
        if (u.pending_deletions == 0) continue;
        if (u.state != UnitState::success && u.state != UnitState::warning) continue;
        held += u.pending_deletions;
        holding.push_back(&u);
    }
    // The units of a compared run saw only what changed: the compare counted the source.
    // Every created entry is itemized by some unit either way.
    if (run.compared_entries()) entries = *run.compared_entries();
    s.pending = done + held;
    s.before_copying = done;
    s.destination_entries = guard_basis(backup_before_run(entries, s.pending, created), complete_entries);
    s.allowed = limit.allowed(s.destination_entries);
    if (held == 0) return plan;
    if (s.pending > s.allowed) {
        s.refused = true;
        plan.message = "refused to delete " + std::to_string(s.pending) + " of the " + std::to_string(s.destination_entries) +
                       " entries the backup held before this run: max_delete is " + s.limit + " (" + std::to_string(s.allowed) + " allowed); " +
                       (done == 0 ? "nothing was deleted"
                                  : "only the " + std::to_string(done) + " the compare had found before copying were deleted") +
                       ". If the source is right, raise max_delete for one run";
        return plan;
    }
    // Each unit may delete what it held back plus its part of the slack, so the second
    // pass stays within the limit even if the source changes meanwhile.
    const std::uint64_t slack = s.allowed - s.pending;
    for (const UnitStatus *u : holding) {
        WorkUnit unit = u->unit;
        unit.name += " (deletions)";
        unit.expand = false;
        unit.deletion_pass = true;
        unit.estimated_entries = 0;
        unit.estimated_bytes = 0;
        unit.estimated_cost = 0;
        const double share = static_cast<double>(u->pending_deletions) / static_cast<double>(held);
        unit.max_delete = u->pending_deletions + static_cast<std::uint64_t>(static_cast<double>(slack) * share);
        plan.units.push_back(std::move(unit));
    }
    return plan;
}

}  // namespace dailysync
