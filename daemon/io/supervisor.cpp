#include "io/supervisor.hpp"

#include "core/deletion_guard.hpp"

#include <algorithm>
#include <dirent.h>
#include <boost/asio/post.hpp>
#include <cstring>
#include <map>
#include <set>
#include <sys/stat.h>

#include "core/format.hpp"
#include "core/names.hpp"
#include "core/rsync_command.hpp"

namespace dailysync {

namespace {
std::string vanished_message(const std::string &folder) {
    return "the folder " + folder + " vanished from the source during the run (removed or unmounted): it is not backed up";
}
}  // namespace

std::shared_ptr<Supervisor> Supervisor::create(boost::asio::io_context &io, RunModel &model, const Planner &planner,
                                               Settings settings, OnChange on_change, OnDone on_done) {
    return std::shared_ptr<Supervisor>(
        new Supervisor(io, model, planner, std::move(settings), std::move(on_change), std::move(on_done)));
}

Supervisor::Supervisor(boost::asio::io_context &io, RunModel &model, const Planner &planner, Settings settings,
                       OnChange on_change, OnDone on_done)
    : io_(io), model_(model), planner_(planner), settings_(std::move(settings)), on_change_(std::move(on_change)),
      on_done_(std::move(on_done)) {
    grow();
}

void Supervisor::grow() {
    while (children_.size() < model_.units().size()) {
        children_.emplace_back();
        collectors_.emplace_back();
        retry_timers_.push_back(std::make_unique<boost::asio::steady_timer>(io_));
    }
}

void Supervisor::start() {
    fill();
    check_done();
}

void Supervisor::set_concurrency(int concurrency) {
    settings_.concurrency = std::max(1, concurrency);
    fill();
}

std::optional<std::size_t> Supervisor::next_ready() const {
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

void Supervisor::fill() {
    if (model_.cancel_requested()) return;
    while (running_ < settings_.concurrency) {
        auto index = next_ready();
        if (!index) break;
        launch(*index);
    }
}

void Supervisor::launch(std::size_t index) {
    ++running_;
    model_.unit_started(index, WallClock::now());
    WorkUnit unit = model_.units()[index].unit;
    // An unmounted source leaves an empty mount point of the same name: nothing more may
    // start on it, least of all a deletion pass.
    if (auto problem = source_replaced(settings_.config.source, settings_.source_identity); !problem.empty()) {
        fail_before_start(index, "not started: " + problem);
        return;
    }
    // Every unit's folders were listed by this run (a non-recursive unit's output), so a
    // folder missing now was removed during the run: its copy is not a backup of it.
    auto missing = [](const std::string &path) {
        struct stat st {};
        return ::lstat(path.c_str(), &st) != 0;
    };
    bool gone;
    if (unit.members.empty()) {
        gone = !unit.base.empty() && missing(unit_sources(settings_.config, unit).front());
        if (gone) gone_at_launch_[index] = printable_name(unit.base);
    } else {
        std::erase_if(unit.members, [&](const std::string &member) {
            if (!missing(settings_.config.source + "/" + join_path(unit.base, member))) return false;
            if (!gone_at_launch_.count(index)) gone_at_launch_[index] = printable_name(join_path(unit.base, member));
            return true;
        });
        gone = unit.members.empty();
    }
    if (gone) {
        fail_before_start(index, "not started: " + vanished_message(gone_at_launch_[index]));
        return;
    }
    RsyncChild::Options options;
    options.program = settings_.rsync_program;
    options.arguments = rsync_arguments(settings_.config, unit, settings_.dry_run);
    options.dry_run = settings_.dry_run;
    options.stall_timeout = std::chrono::seconds(settings_.config.stall_timeout_seconds);
    if (!unit.deletion_pass) {   // the deletion pass sees what the first pass already recorded
        collectors_[index] = std::make_unique<StatsCollector>(model_.units()[index].unit, seen_);
        options.on_item = [collector = collectors_[index].get(), model = settings_.dry_run ? &model_ : nullptr, index](const ItemLine &item) {
            collector->item(item);
            if (model) model->note_item(index, item);   // a dry run lists what would change
        };
    }
    std::weak_ptr<Supervisor> weak = weak_from_this();
    auto child = RsyncChild::create(
        io_, std::move(options),
        [weak, index] {
            auto self = weak.lock();
            if (!self || !self->children_[index]) return;
            const auto &output = self->children_[index]->output();
            self->model_.unit_progress(index, output.counters(), output.bytes_done());
            if (self->on_change_) self->on_change_();
        },
        [weak, index](const ChildExit &exit) {
            if (auto self = weak.lock()) self->attempt_ended(index, exit);
        });
    children_[index] = child;
    child->start();
    if (on_change_) on_change_();
}

namespace {

// rsync writes a file's data to ".NAME.XXXXXX" beside it and renames it when complete;
// killed, it leaves that temporary file behind. Removes the temporary files of `names`
// (relative to `base`), one listing per folder. An entry of that form that also exists at
// the source is a real file of the tree and stays.
void remove_temporary_files(const Config &config, const std::string &base, const std::vector<std::string> &names) {
    std::map<std::string, std::set<std::string>> prefixes;   // folder (relative) -> ".NAME."
    for (const auto &name : names) {
        const std::string path = join_path(base, name);
        const auto slash = path.rfind('/');
        const std::string folder = slash == std::string::npos ? "" : path.substr(0, slash);
        prefixes[folder].insert("." + path.substr(slash == std::string::npos ? 0 : slash + 1) + ".");
    }
    for (const auto &[folder, wanted] : prefixes) {
        const std::string destination = config.destination + (folder.empty() ? "" : "/" + folder);
        DIR *dir = ::opendir(destination.c_str());
        if (!dir) continue;
        std::vector<std::string> leftovers;
        while (const dirent *entry = ::readdir(dir)) {
            const std::string name = entry->d_name;
            if (name.size() < 8) continue;
            const auto prefix = wanted.find(name.substr(0, name.size() - 6));
            if (prefix != wanted.end() && prefix->size() + 6 == name.size()) leftovers.push_back(name);
        }
        ::closedir(dir);
        for (const auto &name : leftovers) {
            struct stat st {};
            const std::string at_source = config.source + (folder.empty() ? "" : "/" + folder) + "/" + name;
            if (::lstat(at_source.c_str(), &st) == 0) continue;
            ::unlink((destination + "/" + name).c_str());
        }
    }
}

// Of the files rsync announced as sent (its last kRecentTransfers), how many are not at
// the destination as they are at the source (size and modification time), and their
// sizes: rsync announces a file before its data arrives, so an rsync that failed or was
// killed announced some that never did. Files gone from the source are not counted.
struct NotArrived {
    std::uint64_t files = 0, bytes = 0;
};
NotArrived not_arrived(const Config &config, const std::string &base, const std::vector<std::string> &names) {
    NotArrived missing;
    for (const auto &name : names) {
        const std::string relative = join_path(base, name);
        struct stat s {}, d {};
        if (::lstat((config.source + "/" + relative).c_str(), &s) != 0) continue;
        if (::lstat((config.destination + "/" + relative).c_str(), &d) == 0 && d.st_size == s.st_size && d.st_mtim.tv_sec == s.st_mtim.tv_sec)
            continue;
        ++missing.files;
        missing.bytes += static_cast<std::uint64_t>(s.st_size);
    }
    return missing;
}

// The first of the unit's source folders (its base, or each member of a packed unit) that
// is gone, printable and relative to the source; "" when all are there.
std::string vanished_folder(const Config &config, const WorkUnit &unit) {
    std::vector<std::string> folders;
    if (unit.members.empty()) folders.push_back(unit.base);
    for (const auto &member : unit.members) folders.push_back(join_path(unit.base, member));
    for (const auto &folder : folders) {
        if (folder.empty()) continue;   // the source root: BackupRun checks it for the whole run
        struct stat st {};
        if (::lstat((config.source + "/" + folder).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return printable_name(folder);
    }
    return {};
}

}  // namespace

void Supervisor::fail_before_start(std::size_t index, const std::string &message) {
    --running_;
    model_.unit_attempt_ended(index, UnitState::failed, -1, message, {}, {}, false, WallClock::now());
    boost::asio::post(io_, [self = shared_from_this()] {
        self->fill();
        self->check_done();
    });
}

void Supervisor::attempt_ended(std::size_t index, const ChildExit &exit) {
    auto child = std::move(children_[index]);
    --running_;
    if (exit.signal || exit.stalled) {
        if (!settings_.dry_run)
            remove_temporary_files(settings_.config, model_.units()[index].unit.base, child->output().recent_transfers());
    }
    const auto &counters = child->output().counters();
    const auto &errors = child->errors().summary();
    model_.unit_progress(index, counters, child->output().bytes_done());

    UnitState outcome = UnitState::failed;
    bool transient = false;
    std::string message;
    const bool cancelling = model_.cancel_requested();
    if (!exit.started) {
        message = exit.start_error;
    } else if (exit.stalled) {
        message = "rsync printed nothing for " + std::to_string(settings_.config.stall_timeout_seconds) + " s and was killed";
        transient = true;
    } else if (exit.signal) {
        outcome = cancelling ? UnitState::cancelled : UnitState::failed;
        message = std::string("rsync was killed by signal ") + std::to_string(exit.signal) + " (" + ::strsignal(exit.signal) + ")";
        transient = true;
    } else {
        // In the first pass of a guarded run, exit 25 only says "deletions held back", as
        // asked; exit 23 with nothing but blocked type changes says the same.
        const bool first_pass = !model_.units()[index].unit.deletion_pass && guarded();
        const bool deletions_held_back =
            first_pass && (exit.exit_code == 25 || (exit.exit_code == 23 && errors.failed_count == 0 && errors.blocked_replacements > 0));
        const ExitMeaning meaning = interpret_exit_code(deletions_held_back ? 0 : exit.exit_code);
        switch (meaning.result) {
        case UnitResult::success: outcome = UnitState::success; break;
        case UnitResult::warning: outcome = UnitState::warning; break;
        case UnitResult::partial: outcome = UnitState::partial; break;
        case UnitResult::failed: outcome = UnitState::failed; break;
        case UnitResult::cancelled: outcome = cancelling ? UnitState::cancelled : UnitState::failed; break;
        }
        transient = meaning.transient;
        if (outcome == UnitState::warning) {
            message = count_of(errors.vanished_count, "source file", "source files") + " vanished during the copy";
        } else if (exit.exit_code == 25 && !deletions_held_back) {
            message = "rsync exit 25: more deletions than this unit's share of max_delete (" +
                      std::to_string(model_.units()[index].unit.max_delete) + "); the source changed during the run";
        } else if (outcome != UnitState::success) {
            const std::string &detail = !errors.first_message.empty() ? errors.first_message : errors.summary;
            message = "rsync exit " + std::to_string(exit.exit_code) + " (" + std::string(meaning.description) + ")";
            if (!detail.empty()) message += ": " + detail;
        }
    }
    if (cancelling && outcome != UnitState::success && outcome != UnitState::warning) outcome = UnitState::cancelled;
    // Files vanishing is normal on a live tree (a warning); a whole folder of the unit
    // vanishing is a project gone or unmounted mid-run, which this run did not back up.
    if (outcome == UnitState::warning || outcome == UnitState::partial || outcome == UnitState::failed || gone_at_launch_.count(index)) {
        // (A member found gone at launch was left out of the rsync; it fails the unit too.)
        std::string gone = vanished_folder(settings_.config, model_.units()[index].unit);
        if (gone.empty() && gone_at_launch_.count(index)) gone = gone_at_launch_[index];
        if (!gone.empty()) {
            outcome = UnitState::failed;
            transient = false;
            message = vanished_message(gone);
        }
    }

    const auto &unit = model_.units()[index];
    const bool retry = outcome == UnitState::failed && transient && !cancelling && unit.attempts <= settings_.config.retries;
    // The report counts what arrived, not what rsync announced.
    TransferCounters arrived = counters;
    if (!settings_.dry_run && outcome != UnitState::success && outcome != UnitState::warning) {
        const NotArrived missing = not_arrived(settings_.config, unit.unit.base, child->output().recent_transfers());
        arrived.files_transferred -= std::min(missing.files, arrived.files_transferred);
        arrived.bytes_transferred -= std::min(missing.bytes, arrived.bytes_transferred);
    }
    model_.unit_attempt_ended(index, outcome, exit.signal ? -1 : exit.exit_code, message, errors, arrived, retry, WallClock::now());
    if (retry) {
        const int delay = settings_.config.retry_delay_seconds << std::min(unit.attempts - 1, 10);
        auto &timer = *retry_timers_[index];
        timer.expires_after(std::chrono::seconds(delay));
        timer.async_wait([weak = weak_from_this(), index](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || self->model_.units()[index].state != UnitState::retry_wait) return;
            self->model_.unit_requeue(index);
            self->fill();
        });
    } else if ((outcome == UnitState::success || outcome == UnitState::warning || outcome == UnitState::partial) &&
               model_.units()[index].unit.expand && !cancelling) {
        // The non-recursive unit named the folder's subfolders as they are now. A partial
        // one (an entry it could not make, e.g. a folder replaced by a symlink) still
        // expands: one bad entry fails itself, never its siblings' subtrees.
        model_.add_units(planner_.expand(model_.units()[index].unit.base, collectors_[index]->subdirs()));
        grow();
    }
    // (`unit` may be stale here: add_units above can move the units.)
    if (const WorkUnit &done = model_.units()[index].unit; collectors_[index] && done.recursive && done.base.empty() && done.members.empty())
        model_.set_projects(index, collectors_[index]->subdirs());   // a whole-tree unit: every project it copied
    collectors_[index].reset();
    fill();
    if (on_change_) on_change_();
    check_done();
}

void Supervisor::cancel() {
    if (model_.cancel_requested()) return;
    model_.mark_cancelled();
    model_.cancel_pending(WallClock::now());
    for (auto &timer : retry_timers_) timer->cancel();
    for (auto &child : children_)
        if (child) child->terminate(std::chrono::seconds(settings_.config.cancel_grace_seconds));
    if (on_change_) on_change_();
    check_done();
}

std::set<pid_t> Supervisor::process_groups() const {
    std::set<pid_t> groups;
    for (const auto &child : children_)
        if (child && child->pid() > 0) groups.insert(child->pid());
    return groups;
}

bool Supervisor::guarded() const {
    return settings_.config.delete_extraneous && settings_.config.max_delete.kind != DeleteLimit::Kind::unlimited;
}

void Supervisor::check_done() {
    if (done_ || running_ > 0 || !model_.all_units_final()) return;
    if (guarded() && !deletions_planned_ && !model_.cancel_requested()) {
        deletions_planned_ = true;
        DeletionPlan plan = plan_deletions(model_, settings_.config.max_delete);
        model_.note_deletions(plan.summary);
        // Before deleting anything: the source must still be what it was at the start.
        std::string source_problem;
        if (!plan.units.empty()) {
            source_problem = preflight(settings_.config, settings_.previous_entries);
            if (source_problem.empty()) source_problem = source_replaced(settings_.config.source, settings_.source_identity);
        }
        if (!source_problem.empty()) {
            model_.fail_run(source_problem + "; nothing was deleted");
        } else if (plan.summary.refused) {
            model_.fail_run(plan.message);
        } else if (!plan.units.empty() && !settings_.dry_run) {
            model_.add_units(std::move(plan.units));
            grow();
            fill();
            if (on_change_) on_change_();
            return;
        }
    }
    done_ = true;
    seen_.finalize();
    model_.finish(WallClock::now());
    boost::asio::post(io_, [self = shared_from_this()] {
        if (self->on_done_) self->on_done_();
    });
}

}  // namespace dailysync
