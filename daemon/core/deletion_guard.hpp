// The deletion guard: with "delete" on and a max_delete limit, a run deletes in two passes.
// The first pass copies with rsync --max-delete=0, which deletes nothing and reports how
// many entries it held back (and which entries changed type, since replacing a folder by
// a file needs a deletion first). Only when the whole run's count is within max_delete
// does a second pass (the same rsync again for each unit that held something back, now
// with --delete --max-delete=its share) delete them; otherwise nothing is deleted and the
// run fails with the numbers. So an unmounted, emptied or truncated source can never
// empty the backup.
// Pure.
#pragma once

#include <vector>

#include "core/config.hpp"
#include "core/run_model.hpp"

namespace dailysync {

struct DeletionPlan {
    DeletionSummary summary;
    std::string message;           // for the report when refused
    std::vector<WorkUnit> units;   // the second pass (empty when refused or nothing to delete)
};

// Call when every unit of the first pass is final. Units that failed hold their
// deletions back for good (like rsync itself after an I/O error).
DeletionPlan plan_deletions(const RunModel &run, const DeleteLimit &limit);

}  // namespace dailysync
