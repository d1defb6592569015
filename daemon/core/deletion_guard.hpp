// The deletion guard: with "delete" on and a max_delete limit, a run deletes in two passes.
// The first pass copies with rsync --max-delete=0, which deletes nothing and reports how
// many entries it held back (and which entries changed type, since replacing a folder by
// a file needs a deletion first). Only when the whole run's count is within max_delete
// does a second pass (the same rsync again for each unit that held something back, now
// with --delete --max-delete=its share) delete them; otherwise nothing is deleted and the
// run fails with the numbers. So an unmounted, emptied or truncated source can never
// empty the backup.
//
// A run whose compare (io/tree_compare.hpp) found its deletions knows them before
// copying. When each is one entry (no folder, whose contents the compare does not list,
// and no type change) and all of them are within max_delete, the listed units' first
// pass deletes them (rsync --max-delete=their count), so no second pass is needed for
// them. rsync cannot tell them from a listed entry that vanished since the compare: that
// one is deleted too, within the same count, and whatever the count then leaves undone
// is held back for the second pass, after the source is checked. So before any source
// check a unit deletes at most what the compare found for it, even if the source
// vanished right after the compare (with "versions" all of it is kept); a source already
// emptied or unmounted at the compare shows as folders gone, which keeps every deletion
// for the second pass; a retry deletes nothing (its first attempt used the allowance).
// Either way a run never deletes more than max_delete.
//
// max_delete's percentage is of what the backup held before the run: the entries it
// holds after copying less those this run created. So renaming every file (x to
// x.locked, as ransomware does) counts every original as deleted out of a backup that
// held only the originals, and trips the guard as deleting them would; the copies under
// new names are never counted in its favour. Nor are they the next night: a refused run
// still copies, so the backup then holds old and new names; the count is also never more
// than what the backup held at the last complete run (`complete_entries`, 0 = none known).
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

// The backup's entries before the run, from the source's `source_entries`, the
// `extraneous` entries the backup holds beyond them (to delete) and the entries this run
// `created` there.
std::uint64_t backup_before_run(std::uint64_t source_entries, std::uint64_t extraneous, std::uint64_t created);

// Before copying, for a compared run's units: when every unit with deletions counted them
// and their total is within `limit` of the backup before the run (`source_entries` of
// which the compare found `created` new), each such unit's max_delete is set to its
// count (its first pass deletes them). Returns how many were allowed (0: every first
// pass deletes nothing).
std::uint64_t allow_counted_deletions(std::vector<WorkUnit> &units, std::uint64_t source_entries, std::uint64_t created,
                                      const DeleteLimit &limit, std::uint64_t complete_entries = 0);

// Call when every unit of the first pass is final. Units that failed hold their
// deletions back for good (like rsync itself after an I/O error). The summary counts
// what first passes deleted (allowed before copying) with what they held back.
DeletionPlan plan_deletions(const RunModel &run, const DeleteLimit &limit, std::uint64_t complete_entries = 0);

}  // namespace dailysync
