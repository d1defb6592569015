#include "core/run_model.hpp"

#include "core/tree_stats.hpp"

#include <algorithm>

#include "core/names.hpp"

namespace dailysync {

std::string_view to_string(UnitState state) {
    switch (state) {
    case UnitState::pending: return "pending";
    case UnitState::running: return "running";
    case UnitState::retry_wait: return "retry-wait";
    case UnitState::success: return "success";
    case UnitState::warning: return "warning";
    case UnitState::partial: return "partial";
    case UnitState::failed: return "failed";
    case UnitState::cancelled: return "cancelled";
    }
    return "failed";
}

bool is_final(UnitState state) {
    return state != UnitState::pending && state != UnitState::running && state != UnitState::retry_wait;
}

std::string_view to_string(RunResult result) {
    switch (result) {
    case RunResult::success: return "success";
    case RunResult::warning: return "warning";
    case RunResult::failed: return "failed";
    case RunResult::cancelled: return "cancelled";
    }
    return "failed";
}

std::string_view to_string(ChangeKind kind) {
    switch (kind) {
    case ChangeKind::copy: return "copy";
    case ChangeKind::update: return "update";
    case ChangeKind::attributes: return "attributes";
    case ChangeKind::remove: return "delete";
    case ChangeKind::differs: return "differs";
    }
    return "update";
}

std::optional<ChangeKind> change_kind(const ItemLine &item) {
    if (item.deletion) return ChangeKind::remove;
    const std::string &code = item.code;
    if (code.size() < 3) return std::nullopt;
    // "YXcstpoguax": '+' everywhere after the type: a new entry; a hard link ('h') too.
    if (code.find_first_not_of('+', 2) == std::string::npos || code[0] == 'h') return ChangeKind::copy;
    // A file to send again only because its checksum differs: ">fc.." (size and time equal).
    if (item.transferred && code.size() >= 5 && code[1] == 'f' && code[2] == 'c' && code[3] == '.' && code[4] == '.')
        return ChangeKind::differs;
    // Data sent, or (for a symlink or device) its value changed: 'c' in the third column.
    if (item.transferred || code[2] == 'c') return ChangeKind::update;
    // '.' or ' ' in every attribute column: nothing differs.
    if (code.find_first_not_of(". ", 2) == std::string::npos) return std::nullopt;
    return ChangeKind::attributes;
}

void RateMeter::record(Seconds now, std::uint64_t bytes, std::uint64_t files) {
    samples_.push_back({now, bytes, files});
    while (samples_.size() > 2 && now - samples_.front().at > window_) samples_.pop_front();
}

template <class Value>
double RateMeter::rate(Value value) const {
    if (samples_.size() < 2) return 0;
    const Sample &first = samples_.front(), &last = samples_.back();
    const double delta = value(last) - value(first);
    if (last.at <= first.at || delta < 0) return 0;
    return delta / (last.at - first.at);
}

double RateMeter::bytes_per_second() const {
    return rate([](const Sample &s) { return static_cast<double>(s.bytes); });
}

double RateMeter::files_per_second() const {
    return rate([](const Sample &s) { return static_cast<double>(s.files); });
}

Seconds RateMeter::span() const { return samples_.size() < 2 ? 0 : samples_.back().at - samples_.front().at; }

RunModel::RunModel(std::string run_id, std::vector<WorkUnit> units, bool dry_run, WallClock::time_point started)
    : run_id_(std::move(run_id)), dry_run_(dry_run), started_(started) {
    add_units(std::move(units));
}

void RunModel::add_units(std::vector<WorkUnit> units) {
    for (auto &unit : units) {
        UnitStatus status;
        status.bytes_total = unit.estimated_bytes;
        status.files_total = unit.estimated_entries;
        status.unit = std::move(unit);
        units_.push_back(std::move(status));
    }
}

std::uint64_t RunModel::transferred_bytes(const TransferCounters &counters) const {
    // A dry run sends nothing; what it would send is the size of the files it lists.
    return dry_run_ ? counters.bytes_announced : counters.bytes_transferred;
}

void RunModel::unit_started(std::size_t index, WallClock::time_point now) {
    auto &u = units_.at(index);
    u.state = UnitState::running;
    ++u.attempts;
    if (!u.started) u.started = now;
    // A retry starts over: rsync re-checks everything, so progress restarts from zero.
    u.bytes_done = 0;
    u.files_done = 0;
}

void RunModel::unit_progress(std::size_t index, const TransferCounters &counters, std::uint64_t bytes_done) {
    auto &u = units_.at(index);
    u.files_done = counters.entries_seen;
    u.bytes_done = bytes_done;
    u.files_transferred = counters.files_transferred;
    u.bytes_transferred = transferred_bytes(counters);
    u.deletions = u.deletions_earlier + counters.deletions;
    // The scan's estimate may be stale; never show done > total.
    u.files_total = std::max({u.files_total, u.files_done, counters.rsync_total_entries.value_or(0)});
    u.bytes_total = std::max(u.bytes_total, u.bytes_done);
}

namespace {
// A unit's own folder, or a packed unit's member folder itself: the parent folder's
// (non-recursive) unit lists it too.
bool listed_by_parent(const WorkUnit &unit, const ItemLine &item) {
    const std::string &name = item.name;
    if (name == "./" || name == ".") return !unit.base.empty();
    if (item.type != 'd' || unit.members.empty()) return false;
    const std::string folder = name.back() != '/' ? name : name.substr(0, name.size() - 1);
    for (const auto &member : unit.members)
        if (printable_name(member) == folder) return true;
    return false;
}
}  // namespace

void RunModel::note_creation(std::size_t index, const ItemLine &item) {
    auto &u = units_.at(index);
    if (is_creation(item) && !listed_by_parent(u.unit, item)) ++u.created;
}

void RunModel::note_item(std::size_t index, const ItemLine &item) {
    const auto kind = change_kind(item);
    if (!kind) return;
    const auto &unit = units_.at(index).unit;
    if (listed_by_parent(unit, item)) return;
    std::string name = item.name;
    if (name == "./" || name == ".") name.clear();
    // rsync prints names escaped already; the unit's base is a raw name of ours.
    std::string path = unit.base.empty() ? name : printable_name(unit.base) + (name.empty() ? "" : "/" + name);
    if (path.empty()) path = ".";
    ++changes_.counts[static_cast<int>(*kind)];
    if (*kind == ChangeKind::differs && changes_.differing.size() < ChangeList::kMaxDiffering) {
        changes_.differing.push_back(path);
        changes_.differing_raw.push_back(join_path(unit.base, unescape_rsync_name(name)));
    }
    if (changes_.listed.size() < ChangeList::kMaxListed) changes_.listed.push_back({*kind, std::move(path)});
    else ++changes_.omitted;
}

void RunModel::unit_attempt_ended(std::size_t index, UnitState outcome, int exit_code, std::string message,
                                  const ErrorSummary &errors, const TransferCounters &counters, bool retrying,
                                  WallClock::time_point now) {
    auto &u = units_.at(index);
    u.exit_code = exit_code;
    u.message = std::move(message);
    u.errors = errors;
    u.files_transferred = counters.files_transferred;
    u.bytes_transferred = transferred_bytes(counters);
    u.deletions = u.deletions_earlier + counters.deletions;
    // A dry run lists its deletions instead of holding them back (rsync_command.cpp).
    u.pending_deletions =
        u.unit.deletion_pass ? 0 : errors.deletions_skipped + errors.blocked_replacements + (dry_run_ ? counters.deletions : 0);
    if (retrying) {
        // A real run's deletions are done for good; a dry run's attempt lists them again.
        if (!dry_run_) u.deletions_earlier = u.deletions;
        u.state = UnitState::retry_wait;
        return;
    }
    u.state = outcome;
    u.finished = now;
    if (outcome == UnitState::success || outcome == UnitState::warning) {
        // rsync's closing statistics are the truth about what the unit covered.
        auto files = counters.stats.find("Number of files");
        auto bytes = counters.stats.find("Total file size");
        u.files_total = files != counters.stats.end() ? files->second : std::max(u.files_total, counters.entries_seen);
        u.bytes_total = bytes != counters.stats.end() ? bytes->second : u.bytes_total;
        u.files_done = u.files_total;
        u.bytes_done = u.bytes_total;
    }
}

void RunModel::unit_requeue(std::size_t index) {
    auto &u = units_.at(index);
    if (u.state == UnitState::retry_wait) u.state = UnitState::pending;
}

void RunModel::cancel_pending(WallClock::time_point now) {
    for (auto &u : units_) {
        if (u.state == UnitState::pending || u.state == UnitState::retry_wait) {
            u.state = UnitState::cancelled;
            u.finished = now;
            if (u.message.empty()) u.message = "cancelled before it ran";
        }
    }
}

void RunModel::sample(Seconds now) {
    const RunTotals t = totals();
    rates_.record(now, t.bytes_done, t.files_done);
    EtaInput in;
    in.now = now;
    in.rate_span = rates_.span();
    in.bytes_left = t.bytes_total > t.bytes_done ? t.bytes_total - t.bytes_done : 0;
    in.entries_left = t.files_total > t.files_done ? t.files_total - t.files_done : 0;
    in.bytes_per_second = rates_.bytes_per_second();
    in.entries_per_second = rates_.files_per_second();
    eta_.update(in);
}

RunTotals RunModel::totals() const {
    RunTotals t;
    t.units_total = units_.size();
    for (const auto &u : units_) {
        // The deletion pass walks entries the first pass already counted.
        if (!u.unit.deletion_pass) {
            t.bytes_done += u.bytes_done;
            t.bytes_total += u.bytes_total;
            t.files_done += u.files_done;
            t.files_total += u.files_total;
        }
        t.files_transferred += u.files_transferred;
        t.bytes_transferred += u.bytes_transferred;
        t.deletions += u.deletions;
        if (u.state == UnitState::running) ++t.units_running;
        if (is_final(u.state)) ++t.units_finished;
        if (u.state == UnitState::failed || u.state == UnitState::partial) ++t.units_failed;
    }
    if (!all_units_final()) {
        t.files_total = std::max(t.files_total, expected_entries_);
        t.bytes_total = std::max(t.bytes_total, expected_bytes_);
    }
    const double byte_fraction = t.bytes_total ? static_cast<double>(t.bytes_done) / static_cast<double>(t.bytes_total) : 1.0;
    const double file_fraction = t.files_total ? static_cast<double>(t.files_done) / static_cast<double>(t.files_total) : 1.0;
    t.fraction = std::clamp((byte_fraction + file_fraction) / 2.0, 0.0, 1.0);
    if (all_units_final()) t.fraction = 1.0;
    t.bytes_per_second = rates_.bytes_per_second();
    t.files_per_second = rates_.files_per_second();
    t.eta_seconds = t.fraction >= 1.0 ? std::optional<double>(0.0) : eta_.current();
    return t;
}

std::size_t RunModel::units_waiting_or_running() const {
    return static_cast<std::size_t>(std::count_if(units_.begin(), units_.end(), [](const UnitStatus &u) {
        return u.state == UnitState::pending || u.state == UnitState::running;
    }));
}

bool RunModel::all_units_final() const {
    return std::all_of(units_.begin(), units_.end(), [](const UnitStatus &u) { return is_final(u.state); });
}

std::string RunModel::run_error() const {
    std::string text;
    for (const auto &failure : failures_) text += (text.empty() ? "" : "; ") + failure.text;
    return text;
}

RunResult RunModel::result() const {
    if (cancel_requested_) return RunResult::cancelled;
    if (!failures_.empty()) return RunResult::failed;
    bool warning = !warnings_.empty();
    for (const auto &u : units_) {
        switch (u.state) {
        case UnitState::failed:
        case UnitState::partial: return RunResult::failed;
        case UnitState::cancelled: return RunResult::cancelled;
        case UnitState::warning: warning = true; break;
        default: break;
        }
    }
    return warning ? RunResult::warning : RunResult::success;
}

}  // namespace dailysync
