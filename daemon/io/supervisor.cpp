#include "io/supervisor.hpp"

#include <ctime>

#include "io/state_store.hpp"

#include <boost/asio/post.hpp>
#include <map>

#include "core/names.hpp"

namespace dailysync {

namespace {
// When cancelling (the service stopping), a call on the trees waits at most this long: a
// hung NAS must not keep systemd waiting for the clean-up of a run that is ending anyway.
constexpr std::chrono::seconds kCancelDeadline{5};
}  // namespace

std::shared_ptr<Supervisor> Supervisor::create(boost::asio::io_context &io, RunModel &model, const Planner &planner,
                                               Settings settings, RunPorts ports, OnChange on_change, OnDone on_done) {
    return std::shared_ptr<Supervisor>(
        new Supervisor(io, model, planner, std::move(settings), std::move(ports), std::move(on_change), std::move(on_done)));
}

namespace {
// The bwlimit in force now, read from the timetable at the local time of day.
std::function<std::optional<std::uint64_t>()> bandwidth_now(const Config &config) {
    if (!config.bwlimit) return nullptr;
    return [schedule = *config.bwlimit]() -> std::optional<std::uint64_t> {
        const std::time_t now = std::time(nullptr);
        std::tm local{};
        ::localtime_r(&now, &local);
        return schedule.at(local.tm_hour * 60 + local.tm_min);
    };
}
}  // namespace

Supervisor::Supervisor(boost::asio::io_context &io, RunModel &model, const Planner &planner, Settings settings, RunPorts ports,
                       OnChange on_change, OnDone on_done)
    : io_(io), model_(model), settings_(std::move(settings)), ports_(std::move(ports)), on_change_(std::move(on_change)),
      on_done_(std::move(on_done)),
      scheduler_(model, planner,
                 SchedulerSettings{settings_.config, settings_.dry_run, settings_.executors, settings_.backup_dir,
                                   settings_.keep_scratch ? settings_.scratch_dir : std::string(),
                                   static_cast<bool>(settings_.note_creations),
                                   change_limit(settings_.config, settings_.previous_entries), bandwidth_now(settings_.config),
                                   settings_.previous_entries}) {}

std::chrono::milliseconds Supervisor::deadline() const {
    std::chrono::milliseconds full = std::chrono::seconds(settings_.config.filesystem_timeout_seconds);
    return model_.cancel_requested() ? std::min<std::chrono::milliseconds>(full, kCancelDeadline) : full;
}

void Supervisor::start() { execute(scheduler_.start(WallClock::now())); }

void Supervisor::set_concurrency(int concurrency) { execute(scheduler_.set_slots(0, concurrency, WallClock::now())); }

void Supervisor::cancel() {
    // What the scheduler no longer waits for need not run at all (a queued check would
    // only add a stale call on a hung NAS; a late clean-up could hit a later attempt's file).
    for (auto &weak : calls_)
        if (auto progress = weak.lock()) progress->cancelled = true;
    calls_.clear();
    execute(scheduler_.cancel(WallClock::now()));
}

template <class T>
void Supervisor::call_trees(std::function<T(WorkProgress &)> work, std::function<void(Worked<T>)> done) {
    std::erase_if(calls_, [](const std::weak_ptr<WorkProgress> &w) { return w.expired(); });
    calls_.push_back(ports_.pool->run<T>(deadline(), std::move(work), std::move(done)));
}

std::set<pid_t> Supervisor::process_groups() const {
    std::set<pid_t> groups;
    for (const auto &[index, child] : children_)
        if (child && child->process_group() > 0) groups.insert(child->process_group());
    return groups;
}

void Supervisor::execute(Commands commands) {
    for (const auto &c : commands) std::visit([this](const auto &command) { carry_out(command); }, c);
    if (on_change_) on_change_();
}

void Supervisor::carry_out(const command::Prepare &c) {
    const int seconds = settings_.config.filesystem_timeout_seconds;
    struct Found {
        std::string source_problem;
        std::vector<std::string> gone;
        bool backup_blocked = false;
    };
    call_trees<Found>(
        [source = ports_.source, destination = ports_.destination, identity = settings_.source_identity, folders = c.folders,
         backup_path = c.backup_path](WorkProgress &) {
            Found found;
            if (auto replaced = source_replaced(*source, identity)) {
                found.source_problem = replaced->text;
                return found;
            }
            for (const auto &folder : folders) {
                if (folder.empty()) continue;
                std::string error;
                if (!source->entry(folder, &error)) {
                    if (!error.empty()) {   // not gone: the NAS did not say
                        found.source_problem = unreadable_message(source->location(), printable_name(folder), error);
                        return found;
                    }
                    found.gone.push_back(folder);
                }
            }
            for (const auto &folder : backup_path)
                if (const auto facts = destination->entry(folder); facts && !facts->is_dir) found.backup_blocked = true;
            return found;
        },
        [weak = weak_from_this(), index = c.unit, seconds, both = !c.backup_path.empty()](Worked<Found> found) {
            auto self = weak.lock();
            if (!self) return;
            const std::string what = "the source " + self->ports_.source->location() +
                                     (both ? " or the destination " + self->settings_.config.destination : std::string());
            if (!found)
                return self->execute(self->scheduler_.source_unanswered(
                    index, found.problem(Side::source, self->ports_.source->location(), what, seconds), WallClock::now()));
            self->execute(self->scheduler_.prepared(index, found->source_problem, found->gone, WallClock::now(), found->backup_blocked));
        });
}

void Supervisor::carry_out(const command::Launch &c) {
    if (!c.scratch_backup.empty()) scratch_of_[c.unit] = {c.scratch_backup, c.unit_key};
    ChildOptions options;
    options.program = settings_.rsync_program;
    options.arguments = c.arguments;
    options.dry_run = settings_.dry_run;
    options.input = c.input;
    options.name_prefix = c.name_prefix;
    options.quiet_after = std::chrono::seconds(settings_.config.stall_timeout_seconds);
    std::weak_ptr<Supervisor> weak = weak_from_this();
    const std::size_t index = c.unit;
    options.on_quiet = [weak, index] {
        if (auto self = weak.lock()) self->execute(self->scheduler_.quiet(index));
    };
    if (c.collect)
        options.on_item = [weak, index](const ItemLine &item) {
            if (auto self = weak.lock())
                if (auto commands = self->scheduler_.item(index, item, WallClock::now()); !commands.empty()) self->execute(std::move(commands));
        };
    children_[index] = ports_.launchers.at(c.executor)->launch(
        std::move(options),
        [weak, index] {
            auto self = weak.lock();
            if (!self) return;
            const auto it = self->children_.find(index);
            if (it == self->children_.end() || !it->second) return;
            self->scheduler_.progress(index, it->second->counters(), it->second->bytes_done());
            if (self->on_change_) self->on_change_();
        },
        [weak, index](const ChildExit &exit) {
            auto self = weak.lock();
            if (!self) return;
            auto child = std::move(self->children_[index]);
            self->children_.erase(index);
            if (exit.abandoned && self->settings_.on_notice)
                self->on_abandoned(index, child ? child->process_group() : -1);
            AttemptExit attempt{exit.started, exit.start_error, exit.exit_code, exit.signal, {}, 0, {}, {}, exit.abandoned, 0};
            if (child) {
                attempt.counters = child->counters();
                attempt.bytes_done = child->bytes_done();
                attempt.errors = child->errors();
                attempt.recent_transfers = child->recent_transfers();
                attempt.pid = child->process_group();
            }
            self->note_creations();
            // What a later rsync of the unit kept goes into the version after its creations.
            if (auto scratch = self->scratch_of_.find(index); scratch != self->scratch_of_.end()) {
                if (self->settings_.keep_scratch)
                    self->write_note([keep = self->settings_.keep_scratch, path = scratch->second.first](WorkProgress &progress) {
                        return keep(path, progress);
                    },
                                     scratch->second.second);
                self->scratch_of_.erase(scratch);
            }
            self->execute(self->scheduler_.exited(index, std::move(attempt), WallClock::now()));
        });
}

void Supervisor::on_abandoned(std::size_t index, pid_t pid) {
    settings_.on_notice("warning: unit " + model_.units()[index].unit.name + ": rsync (process group " + std::to_string(pid) + ") did not end " +
                        std::to_string(kAbandonAfterKill.count()) + " s after SIGKILL: it waits in the kernel for " + settings_.config.source +
                        " or " + settings_.config.destination +
                        ", which does not answer. It is left behind; it ends when the NAS answers or its mount is forced off "
                        "(systemd's stop of the service kills it then)");
}

void Supervisor::carry_out(const command::Kill &c) {
    if (auto it = children_.find(c.unit); it != children_.end() && it->second) it->second->terminate(std::chrono::seconds(c.grace_seconds));
}

namespace {
// Removes the temporary files rsync left for `names` (relative to `base`), one listing per
// folder. An entry of that form that also exists at the source is a real file of the
// tree and stays.
void remove_temporary_files(const Source &source, const Destination &destination, const std::string &base,
                            const std::vector<std::string> &names, const WorkProgress &progress) {
    std::map<std::string, std::vector<std::string>> by_folder;   // folder -> names in it
    for (const auto &name : names) {
        const std::string path = join_path(base, name);
        const auto slash = path.rfind('/');
        by_folder[slash == std::string::npos ? "" : path.substr(0, slash)].push_back(slash == std::string::npos ? path : path.substr(slash + 1));
    }
    // Best effort: a temporary file that stays (its folder unreadable, the file not
    // removable) costs space only; the next rsync into that folder replaces it.
    for (const auto &[folder, wanted] : by_folder) {
        const auto names = destination.list(folder).take().value_or(std::vector<std::string>{});
        for (const auto &entry : names) {
            if (!is_temporary_of(entry, wanted)) continue;
            const std::string relative = join_path(folder, entry);
            // Given up on (deadline, cancel): a retry may have made a file of this name.
            if (progress.cancelled) return;
            if (!source.entry(relative) && !progress.cancelled) (void)destination.remove(relative);
        }
    }
}
}  // namespace

void Supervisor::carry_out(const command::Inspect &c) {
    const int seconds = settings_.config.filesystem_timeout_seconds;
    call_trees<Inspection>(
        [source = ports_.source, destination = ports_.destination, c](WorkProgress &progress) {
            Inspection found;
            remove_temporary_files(*source, *destination, c.base, c.remove_temporaries, progress);
            for (const auto &folder : c.check_folders) {
                std::string error;
                const auto facts = source->entry(folder, &error);
                if (!error.empty()) {
                    found.unreadable_folder = printable_name(folder.empty() ? "." : folder);
                    found.unreadable_error = error;
                    break;
                }
                if (!facts || !facts->is_dir) {
                    found.gone_folder = printable_name(folder);
                    break;
                }
            }
            // Of the files rsync announced as sent, those not at the destination as they are
            // at the source (size and modification time). Files gone from the source do not count.
            for (const auto &name : c.check_arrived) {
                const std::string relative = join_path(c.base, name);
                const auto s = source->entry(relative);
                if (!s) continue;
                const auto d = destination->entry(relative);
                if (d && d->size == s->size && d->mtime == s->mtime) continue;
                ++found.files_not_arrived;
                found.bytes_not_arrived += s->size;
            }
            return found;
        },
        [weak = weak_from_this(), index = c.unit, seconds](Worked<Inspection> found) {
            auto self = weak.lock();
            if (!self) return;
            // No answer: nothing more is known than what rsync said. A defect is told.
            if (found.crashed() && self->settings_.on_notice)
                self->settings_.on_notice("warning: " + found.problem(Side::none, "", "the trees after a unit's rsync", seconds).text);
            self->execute(self->scheduler_.inspected(index, found ? std::move(*found) : Inspection{}, WallClock::now()));
        });
}

void Supervisor::carry_out(const command::RetryAfter &c) {
    auto &timer = retry_timers_[c.unit];
    if (!timer) timer = std::make_unique<LoopTimer>(io_);
    timer->after(std::chrono::seconds(c.seconds), [weak = weak_from_this(), index = c.unit] {
        if (auto self = weak.lock()) self->execute(self->scheduler_.retry_due(index, WallClock::now()));
    });
}

void Supervisor::carry_out(const command::CheckSource &) {
    const int seconds = settings_.config.filesystem_timeout_seconds;
    call_trees<std::optional<Problem>>(
        [source = ports_.source, destination = ports_.destination, config = settings_.config, identity = settings_.source_identity,
         previous = settings_.previous_entries](WorkProgress &) {
            auto problem = preflight(*source, *destination, config, previous);
            return problem ? problem : source_replaced(*source, identity);
        },
        [weak = weak_from_this(), seconds](Worked<std::optional<Problem>> checked) {
            auto self = weak.lock();
            if (!self) return;
            const std::optional<Problem> problem =
                checked ? *checked
                        : checked.problem(Side::none, "",
                                          "the source " + self->ports_.source->location() + " or the destination " +
                                              self->settings_.config.destination,
                                          seconds);
            self->execute(self->scheduler_.source_checked(problem, WallClock::now()));
        });
}

void Supervisor::note_creations() {
    auto entries = scheduler_.take_creations();
    if (!entries.empty() && settings_.note_creations)
        write_note([note = settings_.note_creations, entries = std::move(entries)](WorkProgress &) { return note({}, entries); });
    for (auto &[scratch, made] : scheduler_.take_scratch_creations())
        if (settings_.note_creations)
            write_note([note = settings_.note_creations, scratch = scratch, made = std::move(made)](WorkProgress &) { return note(scratch, made); });
    if (auto folders = scheduler_.take_deleted_folders(); !folders.empty())
        write_note([folders = std::move(folders)](WorkProgress &) {
            for (const auto &folder : folders)
                if (auto made = make_directories(folder, 0700); !made.ok()) return made;
            return Done::success();
        });
}

void Supervisor::write_note(std::function<Done(WorkProgress &)> work, std::string merge_of) {
    notes_.push_back({std::move(work), std::move(merge_of)});
    next_note();
}

void Supervisor::next_note() {
    // A few at once (each waits on the NAS). A merge of what a unit's later rsync kept
    // waits for the creations and folders noted before it (the version must already say
    // what the unit's first rsync made) and for the unit's earlier merges (the earlier
    // rsync's files come first); merges of different units touch different entries.
    while (!notes_.empty() && notes_writing_ < kNotesAtOnce) {
        const Note &front = notes_.front();
        const bool merge = !front.merge_of.empty();
        if (merge && (plain_notes_writing_ > 0 || merging_.count(front.merge_of))) break;
        auto work = std::move(notes_.front().work);
        const std::string merge_of = front.merge_of;
        notes_.pop_front();
        ++notes_writing_;
        if (merge) merging_.insert(merge_of);
        else ++plain_notes_writing_;
        // Not given up on by a cancel: what the run did to the backup must be noted whatever happens.
        ports_.pool->run<std::string>(
            std::chrono::seconds(settings_.config.filesystem_timeout_seconds),
            [work = std::move(work)](WorkProgress &progress) { return work(progress).error(); },
            [weak = weak_from_this(), what = settings_.config.destination, seconds = settings_.config.filesystem_timeout_seconds,
             merge_of](Worked<std::string> written) {
                auto self = weak.lock();
                if (!self) return;
                Problem problem{ProblemKind::unwritable, Side::destination, what, 0, written ? *written : std::string()};
                if (!written) problem = written.problem(Side::destination, what, "the destination " + what, seconds);
                if (!problem.text.empty()) {
                    self->notes_failed_ = true;
                    problem.text = "cannot note in the version what this run changed (a restore to the version before it would not be exact): " +
                                   problem.text;
                    if (!self->model_.run_failed()) self->model_.fail_run(std::move(problem));
                }
                --self->notes_writing_;
                if (merge_of.empty()) --self->plain_notes_writing_;
                else self->merging_.erase(merge_of);
                self->next_note();
            });
    }
    if (notes_.empty() && notes_writing_ == 0 && finish_waiting_) {
        finish_waiting_ = false;
        done();
    }
}

void Supervisor::done() {
    boost::asio::post(io_, [self = shared_from_this()] {
        if (self->on_done_) self->on_done_();
    });
}

void Supervisor::carry_out(const command::Finish &) {
    for (auto &[index, timer] : retry_timers_) timer->stop();
    if (notes_writing_ > 0 || !notes_.empty()) finish_waiting_ = true;
    else done();
}

}  // namespace dailysync
