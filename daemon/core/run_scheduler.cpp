#include "core/run_scheduler.hpp"

// g++ 12 at -O2 warns that a std::variant of these commands "may be used uninitialized"
// when a vector of them grows (it inlines the variant's move constructor through every
// alternative): a false positive of GCC's (bug 105562 and relatives), silenced here only.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cstring>

#include "core/bandwidth.hpp"
#include "core/format.hpp"
#include "core/names.hpp"
#include "core/rsync_command.hpp"
#include "core/versions.hpp"

namespace dailysync {

namespace {
// A stalled rsync gets SIGTERM, and SIGKILL this much later.
constexpr int kStallGraceSeconds = 5;

void append(Commands &out, Commands more) {
    out.reserve(out.size() + more.size());
    for (auto &c : more) out.push_back(std::move(c));
}

WorkUnit without_deletions(WorkUnit unit) {
    unit.max_delete = 0;
    return unit;
}

}  // namespace

std::string vanished_message(const std::string &folder) {
    return "the folder " + folder + " vanished from the source during the run (removed or unmounted): it is not backed up";
}

std::string unreadable_message(const std::string &source, const std::string &folder, const std::string &error) {
    return "the source " + source + " could not be read at " + folder + " (" + error + "): is the NAS or its network down?";
}

bool is_temporary_of(const std::string &entry, const std::vector<std::string> &names) {
    // ".NAME.XXXXXX": a dot, the name, a dot, six characters of mkstemp.
    if (entry.size() < 9 || entry.front() != '.' || entry[entry.size() - 7] != '.') return false;
    const std::string_view name(entry.data() + 1, entry.size() - 8);
    return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<Executor> this_host_only(int slots) { return {Executor{"this host", slots}}; }

RunScheduler::RunScheduler(RunModel &model, const Planner &planner, SchedulerSettings settings)
    : model_(model), planner_(planner), settings_(std::move(settings)) {
    if (settings_.executors.empty()) settings_.executors = this_host_only(1);
    for (auto &executor : settings_.executors) executor.slots = std::max(1, executor.slots);
}

RunScheduler::Attempt &RunScheduler::attempt(std::size_t unit) {
    if (attempts_.size() < model_.units().size()) attempts_.resize(model_.units().size());
    return attempts_.at(unit);
}

bool RunScheduler::guarded() const {
    return settings_.config.deletions_guarded();
}

int RunScheduler::busy() const {
    return static_cast<int>(std::count_if(attempts_.begin(), attempts_.end(), [](const Attempt &a) { return a.stage != Stage::idle; }));
}

int RunScheduler::busy_on(std::size_t executor) const {
    return static_cast<int>(std::count_if(attempts_.begin(), attempts_.end(),
                                          [executor](const Attempt &a) { return a.stage != Stage::idle && a.executor == executor; }));
}

int RunScheduler::total_slots() const {
    int total = 0;
    for (const auto &executor : settings_.executors) total += executor.slots;
    return total;
}

Commands RunScheduler::start(WallClock::time_point now) {
    Commands out;
    fill(out, now);
    check_done(out, now);
    return out;
}

Commands RunScheduler::set_slots(std::size_t executor, int slots, WallClock::time_point now) {
    settings_.executors.at(executor).slots = std::max(1, slots);
    Commands out;
    fill(out, now);
    return out;
}

std::optional<std::size_t> RunScheduler::next_ready() const {
    // Split folders first (cheap, and they unlock the work below them), then the biggest.
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < model_.units().size(); ++i) {
        const auto &u = model_.units()[i];
        if (u.state != UnitState::pending) continue;
        if (!best) {
            best = i;
            continue;
        }
        const auto &b = model_.units()[*best].unit;
        if ((u.unit.expand && !b.expand) || (u.unit.expand == b.expand && u.unit.estimated_cost > b.estimated_cost)) best = i;
    }
    return best;
}

void RunScheduler::fill(Commands &out, WallClock::time_point now) {
    if (model_.cancel_requested() || finished_ || halted_) return;
    for (;;) {
        // The executor with the most free slots (the first of equals: this host).
        std::optional<std::size_t> where;
        int most_free = 0;
        for (std::size_t e = 0; e < settings_.executors.size(); ++e) {
            const int free = settings_.executors[e].slots - busy_on(e);
            if (free > most_free) most_free = free, where = e;
        }
        if (!where) break;
        const auto index = next_ready();
        if (!index) break;
        model_.unit_started(*index, now);
        Attempt &a = attempt(*index);
        a = Attempt{};
        a.stage = Stage::preparing;
        a.executor = *where;
        const WorkUnit &unit = model_.units()[*index].unit;
        // Every unit's folders were listed by this run, so one missing now was removed
        // during the run (or its volume unmounted): its copy would be no backup of it.
        command::Prepare prepare{*index, *where, {}, {}};
        // Only where this run deleted or made something can the backup path hold no folder
        // (the version it keeps in receives this run's files alone): only then is it checked.
        const std::string &destination = settings_.config.destination;
        std::vector<std::string> path = ancestors_of(unit.base);
        path.push_back(unit.base);
        const bool crosses_replaced = std::any_of(path.begin(), path.end(), [&](const std::string &p) { return replaced_.count(p) > 0; });
        if (crosses_replaced && !unit.base.empty() && !settings_.dry_run && settings_.backup_dir.size() > destination.size() &&
            settings_.backup_dir.compare(0, destination.size() + 1, destination + "/") == 0) {
            const std::string back = settings_.backup_dir.substr(destination.size() + 1);
            for (const auto &folder : path) prepare.backup_path.push_back(back + "/" + folder);
        }
        if (unit.members.empty()) prepare.folders.push_back(unit.base);
        for (const auto &member : unit.members) prepare.folders.push_back(join_path(unit.base, member));
        out.push_back(std::move(prepare));
    }
}

void RunScheduler::fail_before_start(std::size_t unit, const std::string &message, Commands &out, WallClock::time_point now) {
    attempt(unit).stage = Stage::idle;
    model_.unit_attempt_ended(unit, UnitState::failed, -1, message, {}, {}, false, now);
    fill(out, now);
    check_done(out, now);
}

Commands RunScheduler::prepared(std::size_t index, const std::string &source_problem, const std::vector<std::string> &gone,
                                WallClock::time_point now, bool backup_blocked) {
    Commands out;
    Attempt &a = attempt(index);
    if (a.stage != Stage::preparing) return out;   // (a cancel settled it already)
    // Halted while this unit's check was under way (mass change, a hung source): it
    // must not start.
    if (halted_) {
        fail_before_start(index, "not started: the run was stopped", out, now);
        return out;
    }
    // An unmounted source leaves an empty mount point of the same name: nothing more may
    // start on it, least of all a deletion pass.
    if (!source_problem.empty()) {
        fail_before_start(index, "not started: " + source_problem, out, now);
        return out;
    }
    WorkUnit unit = model_.units()[index].unit;
    bool all_gone = false;
    if (!gone.empty()) {
        a.gone_at_launch = printable_name(gone.front());
        if (unit.members.empty()) {
            all_gone = !unit.base.empty();
        } else {
            std::erase_if(unit.members, [&](const std::string &member) {
                return std::find(gone.begin(), gone.end(), join_path(unit.base, member)) != gone.end();
            });
            all_gone = unit.members.empty();
        }
    }
    if (all_gone) {
        fail_before_start(index, "not started: " + vanished_message(a.gone_at_launch), out, now);
        return out;
    }
    a.stage = Stage::running;
    if (!unit.deletion_pass) a.collector = std::make_unique<StatsCollector>(model_.units()[index].unit, seen_);
    // A unit's first rsync keeps into the version; any later one for the same folder (a
    // retry, the deletion pass) into a scratch folder of its own, merged in after it.
    std::string backup_dir = backup_blocked ? std::string() : settings_.backup_dir, scratch;
    // (A unit is its folder and members: packed siblings share a base, never an entry.)
    std::string key = unit.base + (unit.recursive ? "/" : "/.");
    for (const auto &member : unit.members) key += std::string(1, '\0') + member;
    if (unit.listed()) key = std::string(1, '\0') + "listed " + unit.name;   // its own entries, shared with no other
    if (!backup_dir.empty() && !settings_.scratch_dir.empty() && !kept_once_.insert(key).second) {
        scratch = settings_.scratch_dir + "/" + std::to_string(++scratches_);
        backup_dir = scratch;
    }
    a.backup_dir = settings_.dry_run ? std::string() : backup_dir;
    a.scratch = scratch;
    // What the guard allowed before copying (a listed unit's max_delete) is allowed once:
    // a retry deletes nothing and holds back what is left for the second pass, which
    // comes after the source check and counts what the first attempt deleted.
    auto arguments = unit.deletion_pass || unit.max_delete == 0 || model_.units()[index].attempts <= 1
                         ? rsync_arguments(settings_.config, unit, settings_.dry_run, backup_dir)
                         : rsync_arguments(settings_.config, without_deletions(unit), settings_.dry_run, backup_dir);
    a.bandwidth = 0;
    if (const auto budget = settings_.bandwidth ? settings_.bandwidth() : std::nullopt) {
        // What the running rsyncs leave, over the slots filling now: this one and the
        // units waiting to start, as many as the concurrency allows.
        std::uint64_t running_total = 0;
        int running = 0, preparing = 0;
        for (const auto &other : attempts_) {
            if (&other == &a) continue;
            if (other.stage == Stage::running) {
                // One started unlimited (before the timetable's limit began) may use it all.
                running_total += other.bandwidth == 0 ? *budget : other.bandwidth;
                ++running;
            } else if (other.stage == Stage::preparing) {
                ++preparing;
            }
        }
        const auto waiting = std::count_if(model_.units().begin(), model_.units().end(), [](const UnitStatus &u) {
            return u.state == UnitState::pending || u.state == UnitState::retry_wait;
        });
        const int to_fill = std::max(1, std::min(total_slots() - running, preparing + static_cast<int>(waiting) + 1));
        a.bandwidth = launch_share(*budget, running_total, to_fill);
        arguments.insert(std::find(arguments.begin(), arguments.end(), "--"), bwlimit_option(a.bandwidth));
    }
    out.push_back(command::Launch{index, a.executor, std::move(arguments), !unit.deletion_pass || settings_.note_creations, scratch, key,
                                  files_from_input(unit.files), rsync_name_prefix(unit)});
    return out;
}

Commands RunScheduler::source_unanswered(std::size_t index, Problem problem, WallClock::time_point now) {
    Commands out;
    Attempt &a = attempt(index);
    if (a.stage != Stage::preparing) return out;
    halted_ = true;
    const std::string message = problem.text;
    problem.text += "; the units not yet started were left out";
    if (!model_.run_failed()) model_.fail_run(std::move(problem));
    a.stage = Stage::idle;
    model_.unit_attempt_ended(index, UnitState::failed, -1, "not started: " + message, {}, {}, false, now);
    for (std::size_t i = 0; i < model_.units().size(); ++i) {
        const UnitState state = model_.units()[i].state;
        if (state == UnitState::pending || state == UnitState::retry_wait)
            model_.unit_attempt_ended(i, UnitState::failed, -1, "not started: " + message, {}, {}, false, now);
    }
    check_done(out, now);
    return out;
}

void RunScheduler::progress(std::size_t index, const TransferCounters &counters, std::uint64_t bytes_done) {
    model_.unit_progress(index, counters, bytes_done);
}

std::optional<std::uint64_t> change_limit(const Config &config, std::uint64_t previous_entries) {
    if (config.max_change.kind == DeleteLimit::Kind::unlimited) return std::nullopt;
    // No complete run yet: nothing to take a percentage of (a count still holds).
    if (config.max_change.kind == DeleteLimit::Kind::percent && previous_entries == 0) return std::nullopt;
    return config.max_change.allowed(previous_entries);
}

bool is_content_change(const ItemLine &item) {
    return !item.deletion && item.type == 'f' && item.transferred && item.code.size() == 11 &&
           item.code.compare(2, 9, "+++++++++") != 0 && item.code[0] != 'h';
}

Commands RunScheduler::item(std::size_t index, const ItemLine &line, WallClock::time_point now) {
    Commands out;
    Attempt &a = attempt(index);
    if (settings_.max_changes && !settings_.dry_run && is_content_change(line) && ++changes_ > *settings_.max_changes && !halted_) {
        // Ransomware rewrites files in place, which rsync would copy over the only good
        // copies: stop before more are replaced, and say how to go on if it is wanted.
        halted_ = true;
        model_.fail_run(Problem{ProblemKind::refused, Side::none, "", 0,
                                "mass change: more than " + std::to_string(*settings_.max_changes) +
                                    " files already in the backup had their content replaced by this run (max_change " +
                                    settings_.config.max_change.text() + "), so it was stopped before replacing more" +
                                    (settings_.backup_dir.empty() ? std::string() : " (those replaced are kept in the versions)") +
                                    ". If the change is wanted: dailysyncctl start --allow-mass-change"});
        for (std::size_t i = 0; i < attempts_.size(); ++i)
            if (attempts_[i].stage == Stage::running) out.push_back(command::Kill{i, settings_.config.cancel_grace_seconds});
        for (std::size_t i = 0; i < model_.units().size(); ++i) {
            const UnitState state = model_.units()[i].state;
            if (state == UnitState::pending || state == UnitState::retry_wait)
                model_.unit_attempt_ended(i, UnitState::failed, -1, "not started: the run was stopped by max_change", {}, {}, false, now);
        }
    }
    if (settings_.note_creations && (is_creation(line) || line.deletion)) {
        const std::string name = unescape_rsync_name(line.name);
        const std::string relative = name.size() > 1 && name.back() == '/' ? name.substr(0, name.size() - 1) : name;
        if (relative != "." && relative != "./") {
            const std::string &base = model_.units()[index].unit.base;
            std::string path = base.empty() ? relative : base + "/" + relative;
            // What was deleted, or made as a folder (with --backup rsync replaces a file by
            // a folder without a deletion line: it renames the file into the version), may
            // leave no folder in the version at that path.
            if (line.deletion || line.type == 'd') replaced_.insert(path);
            if (line.deletion && name.size() > 1 && name.back() == '/' && !a.backup_dir.empty())
                deleted_folders_.push_back((base.empty() ? a.backup_dir : a.backup_dir + "/" + base) + "/" + relative);
            if (!line.deletion) (a.scratch.empty() ? creations_ : scratch_creations_[a.scratch]).push_back(std::move(path));
        }
    }
    if (!a.collector) return out;   // the deletion pass: only its creations count
    model_.note_creation(index, line);   // what the backup did not hold before (the deletion guard's count)
    a.collector->item(line);
    if (settings_.dry_run) model_.note_item(index, line);   // a dry run lists what would change
    return out;
}

Commands RunScheduler::quiet(std::size_t index) {
    Attempt &a = attempt(index);
    if (a.stage != Stage::running || a.stalled) return {};
    a.stalled = true;
    return {command::Kill{index, kStallGraceSeconds}};
}

RunScheduler::Verdict RunScheduler::classify(std::size_t index) const {
    const Attempt &a = attempts_.at(index);
    const AttemptExit &exit = a.exit;
    const ErrorSummary &errors = exit.errors;
    const bool cancelling = model_.cancel_requested();
    Verdict v{UnitState::failed, false, {}};
    if (!exit.started) {
        v.message = exit.start_error;
    } else if (exit.abandoned) {
        v.outcome = cancelling ? UnitState::cancelled : UnitState::failed;
        v.message = "rsync (process " + std::to_string(exit.pid) + ") did not end after SIGKILL: it waits in the kernel for the source " +
                    settings_.config.source + " or the destination " + settings_.config.destination +
                    ", which does not answer (is the NAS hung?); it was left behind";
        if (a.stalled) v.message = "rsync printed nothing for " + std::to_string(settings_.config.stall_timeout_seconds) + " s; " + v.message;
        v.transient = true;
    } else if (a.stalled) {
        v.message = "rsync printed nothing for " + std::to_string(settings_.config.stall_timeout_seconds) + " s and was killed";
        v.transient = true;
    } else if (exit.signal) {
        v.outcome = cancelling ? UnitState::cancelled : UnitState::failed;
        v.message = "rsync was killed by signal " + std::to_string(exit.signal) + " (" + ::strsignal(exit.signal) + ")";
        v.transient = true;
    } else {
        // In the first pass of a guarded run, exit 25 only says "deletions held back", as
        // asked; exit 23 with nothing but blocked type changes says the same.
        const bool first_pass = !model_.units()[index].unit.deletion_pass && guarded();
        const bool deletions_held_back =
            first_pass && (exit.exit_code == 25 || (exit.exit_code == 23 && errors.failed_count == 0 && errors.blocked_replacements > 0));
        const ExitMeaning meaning = interpret_exit_code(deletions_held_back ? 0 : exit.exit_code);
        switch (meaning.result) {
        case UnitResult::success: v.outcome = UnitState::success; break;
        case UnitResult::warning: v.outcome = UnitState::warning; break;
        case UnitResult::partial: v.outcome = UnitState::partial; break;
        case UnitResult::failed: v.outcome = UnitState::failed; break;
        case UnitResult::cancelled: v.outcome = cancelling ? UnitState::cancelled : UnitState::failed; break;
        }
        v.transient = meaning.transient;
        if (v.outcome == UnitState::warning) {
            v.message = count_of(errors.vanished_count, "source file", "source files") + " vanished during the copy";
        } else if (exit.exit_code == 25 && !deletions_held_back) {
            v.message = "rsync exit 25: more deletions than this unit's share of max_delete (" +
                        std::to_string(model_.units()[index].unit.max_delete) + "); the source changed during the run";
        } else if (v.outcome != UnitState::success) {
            const std::string &detail = !errors.first_message.empty() ? errors.first_message : errors.summary;
            v.message = "rsync exit " + std::to_string(exit.exit_code) + " (" + std::string(meaning.description) + ")";
            if (!detail.empty()) v.message += ": " + detail;
        }
    }
    if (cancelling && v.outcome != UnitState::success && v.outcome != UnitState::warning) v.outcome = UnitState::cancelled;
    return v;
}

namespace {
bool complete(UnitState outcome) { return outcome == UnitState::success || outcome == UnitState::warning; }
}  // namespace

Commands RunScheduler::exited(std::size_t index, AttemptExit exit, WallClock::time_point now) {
    Attempt &a = attempt(index);
    if (a.stage != Stage::running) return {};
    a.exit = std::move(exit);
    a.stage = Stage::inspecting;
    model_.unit_progress(index, a.exit.counters, a.exit.bytes_done);
    // One left behind in the kernel: the NAS it waits for would hold any call on the trees too.
    if (a.exit.abandoned) return inspected(index, {}, now);
    const WorkUnit &unit = model_.units()[index].unit;
    const Verdict verdict = classify(index);
    command::Inspect inspect{index, unit.base, {}, {}, {}};
    if ((a.exit.signal || a.stalled) && !settings_.dry_run) inspect.remove_temporaries = a.exit.recent_transfers;
    // Files vanishing is normal on a live tree; a whole folder of the unit vanishing is a
    // project removed or unmounted mid-run. The root is checked for the whole run.
    if (verdict.outcome == UnitState::warning || verdict.outcome == UnitState::partial || verdict.outcome == UnitState::failed ||
        !a.gone_at_launch.empty()) {
        if (unit.members.empty() && !unit.base.empty()) inspect.check_folders.push_back(unit.base);
        for (const auto &member : unit.members) inspect.check_folders.push_back(join_path(unit.base, member));
    }
    // A listed unit's rsync passes over entries gone since the compare without a word
    // (--ignore-missing-args), or deletes them (--delete-missing-args, held back by the
    // guard's first pass): whether a folder it carried vanished is always looked at.
    if (unit.listed() && !unit.deletion_pass)
        for (const auto &folder : unit.folders)
            if (!folder.empty()) inspect.check_folders.push_back(folder);
    // The report counts what arrived (rsync announces a file before its data arrives):
    // asked when the unit will not be complete, or may turn out not to be (a folder gone).
    if (!settings_.dry_run && a.exit.started && (!complete(verdict.outcome) || !inspect.check_folders.empty()))
        inspect.check_arrived = a.exit.recent_transfers;
    if (inspect.remove_temporaries.empty() && inspect.check_folders.empty() && inspect.check_arrived.empty())
        return inspected(index, {}, now);
    return {std::move(inspect)};
}

Commands RunScheduler::inspected(std::size_t index, const Inspection &found, WallClock::time_point now) {
    Commands out;
    Attempt &a = attempt(index);
    if (a.stage != Stage::inspecting) return out;
    a.stage = Stage::idle;
    const AttemptExit &exit = a.exit;
    const bool cancelling = model_.cancel_requested();
    auto [outcome, transient, message] = classify(index);
    // A folder of the unit gone from the source: this run did not back it up (a member
    // found gone at launch was left out of the rsync; it fails the unit too).
    const bool listed = model_.units()[index].unit.listed();
    if (outcome == UnitState::warning || outcome == UnitState::partial || outcome == UnitState::failed || !a.gone_at_launch.empty() ||
        listed) {
        const std::string gone = !found.gone_folder.empty() ? found.gone_folder : a.gone_at_launch;
        if (!found.unreadable_folder.empty()) {
            // Neither there nor gone: the NAS answered with an error. A retry may find it back.
            outcome = cancelling ? UnitState::cancelled : UnitState::failed;
            message = unreadable_message(settings_.config.source, found.unreadable_folder, found.unreadable_error) + " (" + message + ")";
        } else if (!gone.empty()) {
            outcome = UnitState::failed;
            transient = false;
            message = vanished_message(gone);
        }
    }

    const int attempts = model_.units()[index].attempts;
    const bool retry = outcome == UnitState::failed && transient && !cancelling && !halted_ && attempts <= settings_.config.retries;
    TransferCounters arrived = exit.counters;
    if (!complete(outcome)) {
        arrived.files_transferred -= std::min(found.files_not_arrived, arrived.files_transferred);
        arrived.bytes_transferred -= std::min(found.bytes_not_arrived, arrived.bytes_transferred);
    }
    model_.unit_attempt_ended(index, outcome, exit.signal ? -1 : exit.exit_code, message, exit.errors, arrived, retry, now);
    if (retry) {
        out.push_back(command::RetryAfter{index, settings_.config.retry_delay_seconds << std::min(attempts - 1, 10)});
    } else if ((outcome == UnitState::success || outcome == UnitState::warning || outcome == UnitState::partial) &&
               model_.units()[index].unit.expand && !cancelling && !halted_ && a.collector) {
        // The non-recursive unit named the folder's subfolders as they are now. A partial
        // one (an entry it could not make, e.g. a folder replaced by a symlink) still
        // expands: one bad entry fails itself, never its siblings' subtrees.
        auto subdirs = a.collector->subdirs();
        const std::string base = model_.units()[index].unit.base;
        model_.add_units(planner_.expand(base, subdirs));
    }
    // (Units may have moved: add_units above.)
    Attempt &done = attempt(index);
    if (const WorkUnit &unit = model_.units()[index].unit; done.collector && unit.recursive && unit.base.empty() && unit.members.empty())
        model_.set_projects(index, done.collector->subdirs());   // a whole-tree unit: every project it copied
    done.collector.reset();
    fill(out, now);
    check_done(out, now);
    return out;
}

Commands RunScheduler::retry_due(std::size_t index, WallClock::time_point now) {
    Commands out;
    if (index >= model_.units().size() || model_.units()[index].state != UnitState::retry_wait || model_.cancel_requested()) return out;
    model_.unit_requeue(index);
    fill(out, now);
    return out;
}

Commands RunScheduler::cancel(WallClock::time_point now) {
    Commands out;
    if (model_.cancel_requested() || finished_) return out;
    model_.mark_cancelled();
    model_.cancel_pending(now);
    for (std::size_t i = 0; i < attempts_.size(); ++i) {
        switch (attempts_[i].stage) {
        case Stage::running: out.push_back(command::Kill{i, settings_.config.cancel_grace_seconds}); break;
        case Stage::preparing: {
            attempts_[i].stage = Stage::idle;
            model_.unit_attempt_ended(i, UnitState::cancelled, -1, "cancelled before it started", {}, {}, false, now);
            break;
        }
        case Stage::inspecting: {
            // Settled with what rsync said; the clean-up's late answer is ignored.
            append(out, inspected(i, {}, now));
            break;
        }
        case Stage::idle: break;
        }
    }
    if (checking_source_) {
        append(out, source_checked({}, now));   // cancelled: deletes nothing
        return out;
    }
    check_done(out, now);
    return out;
}

void RunScheduler::check_done(Commands &out, WallClock::time_point now) {
    if (finished_ || checking_source_ || busy() > 0 || !model_.all_units_final()) return;
    if (guarded() && !deletions_planned_) {
        deletions_planned_ = true;
        deletion_plan_ = plan_deletions(model_, settings_.config.max_delete, settings_.complete_entries);
        if (model_.cancel_requested() || halted_) {
            // A halted run (the source stopped answering, too many files replaced) or a
            // cancelled one deletes nothing more (only what the guard allowed before
            // copying may have gone); its report still says what was found.
            note_not_deleted(deletion_plan_->summary, halted_ ? "the run halted" : "the run was cancelled");
            finish(out, now);
            return;
        }
        model_.note_deletions(deletion_plan_->summary);
        if (!deletion_plan_->units.empty()) {
            // Before deleting anything: the source must still be what it was at the start.
            checking_source_ = true;
            out.push_back(command::CheckSource{});
            return;
        }
        append(out, source_checked({}, now));
        return;
    }
    if (deletions_planned_ && (model_.cancel_requested() || halted_) && model_.deletion_summary()) {
        // Stopped during the second pass: some of its deletions may not have been made.
        const auto &units = model_.units();
        if (std::any_of(units.begin(), units.end(), [](const UnitStatus &u) {
                return u.unit.deletion_pass && u.state != UnitState::success && u.state != UnitState::warning;
            }))
            note_not_deleted(*model_.deletion_summary(),
                             halted_ ? "the run halted during its deletions" : "the run was cancelled during its deletions");
    }
    finish(out, now);
}

Commands RunScheduler::source_checked(std::optional<Problem> problem, WallClock::time_point now) {
    Commands out;
    checking_source_ = false;
    if (finished_ || !deletion_plan_) return out;
    DeletionPlan plan = std::move(*deletion_plan_);
    deletion_plan_.reset();
    if (model_.cancel_requested()) {
        note_not_deleted(plan.summary, "the run was cancelled");   // while the source was checked
    } else if (problem) {
        note_not_deleted(plan.summary, "the source check failed");
        problem->text += plan.summary.before_copying == 0 ? "; nothing was deleted"
                                                          : "; nothing more was deleted (" + std::to_string(plan.summary.before_copying) +
                                                                " the compare found had been, before copying)";
        model_.fail_run(std::move(*problem));
    } else if (plan.summary.refused) {
        model_.fail_run(Problem{ProblemKind::refused, Side::destination, "", 0, plan.message});
    } else if (!plan.units.empty() && !settings_.dry_run) {
        model_.add_units(std::move(plan.units));
        fill(out, now);
        if (busy() > 0) return out;
    }
    finish(out, now);
    return out;
}

void RunScheduler::note_not_deleted(DeletionSummary summary, const std::string &why) {
    if (summary.pending > summary.before_copying && !settings_.dry_run) {
        summary.not_deleted_because = why;
        summary.refused = false;   // the guard never judged the count: the run stopped first
    }
    model_.note_deletions(std::move(summary));
}

void RunScheduler::finish(Commands &out, WallClock::time_point now) {
    if (finished_) return;
    finished_ = true;
    seen_.finalize();
    model_.finish(now);
    out.push_back(command::Finish{});
}

}  // namespace dailysync
