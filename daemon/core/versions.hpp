// Versions: the backup as it was at the end of each kept run. Pure.
//
// The mirror at the destination is always the newest state. Beside it, in the folder
// kVersionsFolder at the destination's top, each restore point P has
//   P/version.json  what P is (VersionPoint)
//   P/back/         what the backup held at P of every entry a later run overwrote or
//                   deleted (until the next point), with its whole relative path: the
//                   rsync runs after P write there with --backup --backup-dir
//   P/created       the entries a later run created (absent at P), NUL-separated
// So a run costs what it changes: the old files are renamed into P/back, never copied.
// The backup at P is, entry by entry, the first of P, the points after P, then the
// mirror that says anything about the entry (RestoreView), where a point's back/ says
// "it was this" and its created list "it was not there".
//
// Retention (versions_to_prune) keeps restic's forget's set: the last point of each of
// the last keep_daily days, keep_weekly ISO weeks and keep_monthly months, the keep_last
// newest, every point less than keep_within older than the newest (restic measures from
// the newest snapshot too, so a stopped backup never ages its versions away), and always
// the newest. Removing point R moves what R/back and R/created say into the point before it
// (where that point says nothing yet), so every other point stays exact.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/config.hpp"
#include "core/rsync_output.hpp"

namespace dailysync {

inline constexpr std::string_view kVersionsFolder = ".dailysync-versions";
// What to tell the admin when the source's top holds an entry of that name: no rsync
// sends it (the name is the version store's at the destination), so it is not backed up.
std::string versions_name_in_source(const std::string &source);

struct VersionPoint {
    std::string id;           // the run's id; "start-of-RUN" for the backup as it was when RUN began
    std::int64_t at = 0;      // when the backup was in this state: the run's end (its start while it runs)
    std::string result;       // the run's result; "running" while it runs (or if it never ended); "start"
    // No older point is exact from here: versions were off (or lost) between the point
    // before and this one, so runs without versions changed the backup in between.
    bool chain_start = false;
    bool operator==(const VersionPoint &) const = default;
};

// "start-of-RUN": the point a versioned run makes when none leads up to it.
std::string start_point_id(const std::string &run_id);
// A point's version.json text; parse gives nullopt for anything else.
std::string point_json(const VersionPoint &point);
std::optional<VersionPoint> parse_point(std::string_view text);
// What restore lists call a point: "complete", "partial" (a run that did not succeed or
// was killed), "start".
std::string point_kind(const VersionPoint &point);

// A local calendar date (the admin's days, weeks and months).
struct CivilDate {
    int year = 1970, month = 1, day = 1;
    auto operator<=>(const CivilDate &) const = default;
};
struct DatedPoint {
    VersionPoint point;
    CivilDate date;   // of point.at, local time
};

// The ids retention removes from `points` (oldest first). Never the newest. (Called after
// a run's rsyncs are done: the version it kept into may go too, merged into the one before.)
std::vector<std::string> versions_to_prune(const std::vector<DatedPoint> &points, const VersionsPolicy &policy);

// Which point "--at TEXT" names: a point id, or a date YYYY-MM-DD (the last point of
// that day or before it). Index into `points` (oldest first), or an error for the admin.
struct PointChoice {
    std::optional<std::size_t> index;
    std::string error;
};
PointChoice choose_point(const std::vector<DatedPoint> &points, std::string_view at);

// The layers that make up the backup at points[index], oldest first (then the mirror),
// or an error when a chain start after it breaks the way back.
struct Layers {
    std::vector<std::size_t> points;
    std::string error;
};
Layers restore_layers(const std::vector<VersionPoint> &points, std::size_t index);

// Where a point stands in time, from its id alone (a run id "YYYYMMDDTHHMMSSZ[-N]", or a
// "start-of-" one): (stamp, N, 0 for a start point and 1 for a run's own), which order as
// the points do (a run's start point comes before its own); nullopt for any other name.
std::optional<std::tuple<std::string, int, int>> point_id_order(const std::string &id);

// A version found damaged (its record unreadable, a symlink where a folder belongs) is
// set aside, and its place in the chain is lost with it: no point before it can be put
// together exactly any more. `restart`: the first of `points` (the valid ones, oldest
// first) after it, which becomes a chain start; `gap`: no point is known to be after it,
// so the next run starts a new chain (as after runs without versions). A name that tells
// no time could have been anywhere: only the newest point stays exact.
struct ChainBreak {
    std::optional<std::size_t> restart;
    bool gap = false;
};
ChainBreak chain_break_for(const std::vector<VersionPoint> &points, const std::string &damaged_id);

// Settles entry by entry what the backup held at a point, from its layers in order: the
// first layer to say something about a path wins. Paths are raw, relative to the source
// root, without a trailing '/'.
class RestoreView {
public:
    enum class Kind { absent, folder, other };
    struct Claim {
        Kind kind;
        int layer;   // who said it
    };
    // The first claim of a path stands; later ones are ignored. True when this one stood.
    bool claim(const std::string &path, Kind kind, int layer);
    // What was claimed for path, if anything.
    std::optional<Claim> find(const std::string &path) const;
    // Whether a walk of a layer should look inside folder `path`: not when an earlier
    // layer said it was absent or no folder.
    bool descend(const std::string &path) const;
    // Whether `path` was there: claimed present, and no folder above it claimed absent or
    // no folder. "" (the top) always is.
    bool is_present(const std::string &path) const;
    // The entries present at the point, in path order (a folder before its contents).
    std::vector<std::pair<std::string, Claim>> present() const;

private:
    std::map<std::string, Claim> claims_;
};

// A path as an admin gives it (absolute under the source, or relative to its top; "",
// "." or "/" for all of it) -> raw, relative to the source ("" = the top); nullopt when
// it is outside the source.
std::optional<std::string> source_relative(const Config &config, const std::string &path);

// "a/b/c" -> "a", "a/b"; "" has none.
std::vector<std::string> ancestors_of(const std::string &path);

}  // namespace dailysync
