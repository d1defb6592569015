#include "core/plan.hpp"

#include <algorithm>

#include "core/names.hpp"

namespace dailysync {

namespace {

struct Candidate {
    std::string name;
    std::uint64_t entries = 0, bytes = 0;
    double cost = 0;
};

std::string display(const std::string &path) { return path.empty() ? "." : printable_name(path); }

}  // namespace

Planner::Planner(const TreeStats &previous, int concurrency, Work work, Layout layout) : stats_(previous), layout_(layout) {
    const double total = cost_of(previous.total_entries(), previous.total_bytes());
    const double floor = work == Work::update ? kMinShareUpdate : kMinShareFirstCopy;
    share_ = std::max(floor, total / (kUnitsPerProcess * std::max(1, concurrency)));
}

std::vector<WorkUnit> Planner::initial() const {
    WorkUnit root;
    root.name = ".";
    const bool whole = layout_ == Layout::one_rsync;
    root.recursive = whole;
    root.expand = !whole;
    if (const DirStats *s = stats_.find("")) {
        root.estimated_entries = whole ? s->tree_entries + 1 : s->own_entries + 1;
        root.estimated_bytes = whole ? s->tree_bytes : s->own_bytes;
    }
    root.estimated_cost = cost_of(root.estimated_entries, root.estimated_bytes);
    return {root};
}

std::vector<WorkUnit> Planner::expand(const std::string &base, const std::vector<std::string> &subdirs) const {
    std::vector<WorkUnit> split, packed;
    std::vector<Candidate> small;
    for (const auto &name : subdirs) {
        const std::string path = join_path(base, name);
        const DirStats *s = stats_.find(path);
        if (!s) {
            // Unknown (new, or no statistics yet): a unit of its own.
            WorkUnit unit;
            unit.name = display(path);
            unit.base = path;
            packed.push_back(unit);
            continue;
        }
        const double cost = cost_of(s->tree_entries + 1, s->tree_bytes);
        if (cost > share_ && s->subdirs > 0) {
            WorkUnit unit;
            unit.name = display(path) + " (own entries)";
            unit.base = path;
            unit.recursive = false;
            unit.expand = true;
            unit.estimated_entries = s->own_entries;   // the folder itself is counted by its parent
            unit.estimated_bytes = s->own_bytes;
            unit.estimated_cost = cost_of(unit.estimated_entries, unit.estimated_bytes);
            split.push_back(unit);
        } else {
            small.push_back(Candidate{name, s->tree_entries, s->tree_bytes, cost});
        }
    }
    // Largest first; a bin is closed when the next candidate would overflow it.
    std::sort(small.begin(), small.end(), [](const Candidate &a, const Candidate &b) {
        return a.cost != b.cost ? a.cost > b.cost : a.name < b.name;
    });
    std::vector<std::vector<const Candidate *>> bins;
    double bin_cost = 0;
    for (const auto &candidate : small) {
        if (bins.empty() || bin_cost + candidate.cost > share_ || bins.back().size() >= kMaxGroupMembers) {
            bins.emplace_back();
            bin_cost = 0;
        }
        bins.back().push_back(&candidate);
        bin_cost += candidate.cost;
    }
    for (const auto &bin : bins) {
        WorkUnit unit;
        for (const Candidate *c : bin) {
            unit.estimated_entries += c->entries;
            unit.estimated_bytes += c->bytes;
            unit.estimated_cost += c->cost;
        }
        if (bin.size() == 1) {
            unit.base = join_path(base, bin[0]->name);
            unit.name = display(unit.base);
        } else {
            unit.base = base;
            for (const Candidate *c : bin) unit.members.push_back(c->name);
            unit.name = display(join_path(base, bin[0]->name)) + " and " + std::to_string(bin.size() - 1) + " more";
        }
        packed.push_back(unit);
    }
    std::stable_sort(packed.begin(), packed.end(), [](const WorkUnit &a, const WorkUnit &b) { return a.estimated_cost > b.estimated_cost; });
    // Split units first: they are cheap and unlock the work below them.
    split.insert(split.end(), packed.begin(), packed.end());
    return split;
}

}  // namespace dailysync
