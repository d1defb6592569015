// Learns the tree from a unit's itemized rsync output: per-folder statistics for the next
// run's plan, and the folders directly inside the unit's folder as they are now (what a
// non-recursive unit expands into; the projects a whole-tree unit copied). Pure.
#pragma once

#include <string>
#include <vector>

#include "core/plan.hpp"
#include "core/rsync_output.hpp"
#include "core/tree_stats.hpp"

namespace dailysync {

class StatsCollector {
public:
    StatsCollector(WorkUnit unit, TreeStats &into) : unit_(std::move(unit)), into_(into) {}
    void item(const ItemLine &item);
    const std::vector<std::string> &subdirs() const { return subdirs_; }   // raw names

private:
    WorkUnit unit_;
    TreeStats &into_;
    std::vector<std::string> subdirs_;
};

}  // namespace dailysync
