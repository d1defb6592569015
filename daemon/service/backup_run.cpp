#include "service/backup_run.hpp"

#include <boost/asio/post.hpp>
#include <sys/resource.h>

#include "core/deletion_guard.hpp"
#include "core/format.hpp"
#include "core/names.hpp"
#include "core/tree_compare.hpp"
#include "core/report.hpp"
#include "core/versions.hpp"
#include <filesystem>
#include "io/preflight.hpp"

namespace dailysync {

namespace {
double cpu_seconds(int who) {
    struct rusage usage {};
    ::getrusage(who, &usage);
    auto seconds = [](const timeval &tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::uint64_t peak_rss_bytes() {
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;   // Linux: kilobytes
}
}  // namespace

Seconds monotonic_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::shared_ptr<BackupRun> BackupRun::create(boost::asio::io_context &io, RunWorkers workers, Config config, bool dry_run,
                                             OnChange on_change, OnDone on_done) {
    return std::shared_ptr<BackupRun>(
        new BackupRun(io, workers, std::move(config), dry_run, std::move(on_change), std::move(on_done)));
}

BackupRun::BackupRun(boost::asio::io_context &io, RunWorkers workers, Config config, bool dry_run, OnChange on_change, OnDone on_done)
    : io_(io), workers_(workers), config_(std::move(config)), dry_run_(dry_run), on_change_(std::move(on_change)),
      on_done_(std::move(on_done)), endpoints_(workers.endpoints(config_)), source_(endpoints_.source),
      destination_(endpoints_.destination),
      started_(WallClock::now()), tick_timer_(io) {
    run_id_ = endpoints_.records->allocate_run_id(started_);
}

std::chrono::milliseconds BackupRun::deadline() const { return std::chrono::seconds(config_.filesystem_timeout_seconds); }

template <class T>
Problem BackupRun::unanswered(const Worked<T> &call, Side side, const std::string &while_doing) const {
    const std::string &path = side == Side::source ? config_.source : side == Side::destination ? config_.destination : config_.state_dir;
    const std::string what = (side == Side::state ? "the state folder " : "the " + std::string(to_string(side)) + " ") + path + while_doing;
    return call.problem(side, path, what, config_.filesystem_timeout_seconds);
}

void BackupRun::changed() {
    if (on_change_) on_change_();
}

int BackupRun::concurrency() const {
    if (supervisor_) return supervisor_->concurrency();
    if (config_.concurrency) return *config_.concurrency;
    // auto: where the last complete run ended (what the controller found to help).
    return starting_concurrency(saved_concurrency_, remote_);
}

BackupRun::Phase BackupRun::phase() const {
    switch (lifecycle_.step()) {
    case RunStep::scan: return Phase::scanning;
    case RunStep::compare: return Phase::comparing;
    case RunStep::copy: return supervisor_ ? Phase::copying : Phase::finishing;   // (none: nothing to copy)
    case RunStep::done: return Phase::finished;
    default: return lifecycle_.before_copying() ? Phase::checking : Phase::finishing;
    }
}

void BackupRun::start() {
    cpu_self_at_start_ = cpu_seconds(RUSAGE_SELF);
    cpu_children_at_start_ = cpu_seconds(RUSAGE_CHILDREN);
    // A dry run changes nothing, and a hook (a database dump, a snapshot) would. A verify
    // runs them: the source it reads may be the snapshot before_run makes.
    const bool hooks = runs_hooks();
    const bool cancelled_before = lifecycle_.stopping();
    lifecycle_ = RunLifecycle(LifecycleSettings{hooks && !config_.hooks.before_run.empty(), hooks && !config_.hooks.after_run.empty(),
                                                hooks && !config_.hooks.on_failure.empty(), dry_run_, config_.versions.has_value(),
                                                verify_.has_value(), config_.source});
    execute(lifecycle_.start());
    if (cancelled_before) execute(lifecycle_.cancel());
}

void BackupRun::cancel() { execute(lifecycle_.cancel()); }

void BackupRun::execute(LifecycleCommands commands) {
    for (auto &command : commands) std::visit([this](auto &c) { carry_out(c); }, command);
}

RunModel &BackupRun::model_for_end() {
    // A run that ends before copying has no units: its model is made to carry the result.
    if (!model_) model_.emplace(run_id_, std::vector<WorkUnit>{}, dry_run_, started_);
    return *model_;
}

void BackupRun::carry_out(lifecycle::Fail &c) { model_for_end().fail_run(std::move(c.problem)); }
void BackupRun::carry_out(lifecycle::MarkCancelled &) { model_for_end().mark_cancelled(); }
void BackupRun::carry_out(lifecycle::CancelCall &) {
    if (call_) call_->cancelled = true;
    call_.reset();
}
void BackupRun::carry_out(lifecycle::CancelCopy &) {
    if (supervisor_) supervisor_->cancel();
}
void BackupRun::carry_out(lifecycle::StopHooks &) {
    if (hooks_) hooks_->cancel();
}
void BackupRun::carry_out(lifecycle::Finish &) {
    if (on_done_) on_done_(*model_);
}

void BackupRun::carry_out(lifecycle::Conclude &) {
    tick_timer_.stop();
    RunModel &model = model_for_end();
    for (auto &warning : warnings_) model.add_warning(std::move(warning));
    warnings_.clear();
    if (!model.dry_run()) bottleneck_ = classify_bottleneck(samples_.samples(), online_cores(), model.concurrency_notes());
    if (!model.finished()) model.finish(WallClock::now());
}

void BackupRun::carry_out(lifecycle::Do &c) {
    switch (c.step) {
    case RunStep::hooks_before: return run_hooks(HookStage::before_run, c.short_timeout);
    case RunStep::load_state: return load_state();
    case RunStep::check_destination: return check_destination();
    case RunStep::check_source: return check_source();
    case RunStep::scan: return scan();
    case RunStep::compare: return compare();
    case RunStep::note_unversioned: return note_unversioned();
    case RunStep::begin_versions: return begin_versions();
    case RunStep::copy: return start_copying();
    case RunStep::check_source_at_end: return check_source_at_end();
    case RunStep::verify_findings: return judge_verify();
    case RunStep::finish_versions: return finish_versions(c.wait);
    case RunStep::write_report: return write_report([self = shared_from_this()] {
            const RunResult result = self->model_->result();
            self->execute(self->lifecycle_.report_written(result == RunResult::failed || result == RunResult::cancelled));
        });
    case RunStep::hooks_after: return run_hooks(HookStage::after_run, c.short_timeout);
    case RunStep::hooks_on_failure: return run_hooks(HookStage::on_failure, c.short_timeout);
    case RunStep::rewrite_report:
        // The report names the end hooks' outcomes too.
        return write_report([self = shared_from_this()] { self->execute(self->lifecycle_.report_rewritten()); });
    case RunStep::done: return;
    }
}

void BackupRun::run_hooks(HookStage stage, bool short_timeout) {
    const bool before = stage == HookStage::before_run;
    const HookContext context{run_id_, before ? std::string() : std::string(to_string(model_->result())), before ? std::string() : report_path_,
                              config_.source, config_.destination, run_kind()};
    // After a cancel (the service stopping), each gets cancel_grace_seconds at most.
    Config hook_config = config_;
    if (short_timeout) hook_config.hooks.timeout_seconds = std::min(config_.hooks.timeout_seconds, config_.cancel_grace_seconds);
    hooks_ = workers_.hooks(
        io_, hook_config, stage, context,
        [self = shared_from_this()](const HookOutcome &command, const std::string &line) {
            if (self->on_notice_) self->on_notice_(command.name() + ": " + line);
        },
        [self = shared_from_this(), before](std::vector<HookOutcome> outcomes) {
            self->hooks_.reset();
            std::optional<Problem> refusal;
            for (auto &outcome : outcomes) {
                if (!outcome.ok()) {
                    if (!before) {
                        if (self->on_notice_) self->on_notice_("warning: " + outcome.describe());
                    } else if (self->lifecycle_.stopping()) {
                        // Cancelled while they ran: the run ends cancelled, not on their account.
                    } else if (self->config_.hooks.before_run_must_pass) {
                        if (!refusal)
                            refusal = Problem{ProblemKind::refused, Side::none, "", 0,
                                              outcome.describe() + "; nothing was copied (hooks.before_run_failure is \"fail\")"};
                    } else {
                        self->warnings_.push_back(outcome.describe() + "; the run went ahead (hooks.before_run_failure is \"warn\")");
                        if (self->on_notice_) self->on_notice_("warning: " + self->warnings_.back());
                    }
                }
                self->hook_outcomes_.push_back(std::move(outcome));
            }
            self->execute(self->lifecycle_.hooks_done(std::move(refusal)));
        });
}

void BackupRun::load_state() {
    struct State {
        std::optional<TreeStats> stats;
        std::optional<int> concurrency;
        std::optional<std::int64_t> stats_time;
    };
    workers_.state.run<State>(
        deadline(),
        [store = endpoints_.records](WorkProgress &) {
            // Damaged statistics or concurrency only cost a scan or the default start.
            return State{std::move(store->load_tree_stats()).take(), std::move(store->load_concurrency()).take(), store->tree_stats_time()};
        },
        [self = shared_from_this()](Worked<State> state) {
            if (!self->answering(RunStep::load_state)) return;   // cancelled meanwhile
            if (!state) return self->execute(self->lifecycle_.state_loaded(self->unanswered(state, Side::state)));
            self->last_complete_at_ = state->stats_time;
            self->stats_ = std::move(state->stats);
            self->saved_concurrency_ = state->concurrency;
            self->previous_entries_ = self->stats_ ? self->stats_->total_entries() : 0;
            self->execute(self->lifecycle_.state_loaded(std::nullopt));
        });
}

void BackupRun::check_destination() {
    // The destination first: a missing one must never be created, whatever the source says.
    workers_.trees.run<Checked>(
        deadline(),
        [destination = destination_, device = endpoints_.device](WorkProgress &) {
            Checked c;
            c.problem = destination->check();
            if (!c.problem) {
                c.remote = destination->remote();
                c.destination_device = device(Side::destination);
            }
            return c;
        },
        [self = shared_from_this()](Worked<Checked> found) {
            if (!self->answering(RunStep::check_destination)) return;
            if (!found) return self->execute(self->lifecycle_.destination_checked(self->unanswered(found, Side::destination)));
            self->checked_ = std::move(*found);
            self->execute(self->lifecycle_.destination_checked(self->checked_.problem));
        });
}

void BackupRun::check_source() {
    workers_.trees.run<Checked>(
        deadline(),
        [source = source_, endpoints = endpoints_, resolve = workers_.launcher.resolver(), rsync_path = config_.rsync_path,
         previous = previous_entries_, c = checked_](WorkProgress &) mutable {
            c.problem = source->check(previous);
            if (!c.problem) c.problem = endpoints.places_problem();
            if (!c.problem) {
                c.source_identity = source->identity();
                c.remote = c.remote || source->remote();
                c.source_device = endpoints.device(Side::source);
                c.versions_name_in_source = source->entry(std::string(kVersionsFolder)).has_value();
            }
            // Resolved here, not on the loop: PATH may reach a network filesystem too.
            if (!c.problem) {
                c.rsync_program = resolve(rsync_path);
                if (c.rsync_program.empty())
                    c.problem = Problem{ProblemKind::unavailable, Side::none, rsync_path, ENOENT,
                                        "rsync not found: \"" + rsync_path + "\" is not an executable program (see rsync_path)"};
            }
            return c;
        },
        [self = shared_from_this()](Worked<Checked> found) {
            if (!self->answering(RunStep::check_source)) return;
            if (!found) return self->execute(self->lifecycle_.source_checked(self->unanswered(found, Side::source), Preparation::plan));
            self->source_checked(std::move(*found));
        });
}

void BackupRun::source_checked(Checked result) {
    if (result.problem) return execute(lifecycle_.source_checked(std::move(result.problem), Preparation::plan));
    checked_ = std::move(result);
    if (checked_.versions_name_in_source) {
        warnings_.push_back(versions_name_in_source(config_.source));
        if (on_notice_) on_notice_("warning: " + warnings_.back());
    }
    remote_ = checked_.remote;
    if (verify_ && !verify_->path && (!stats_ || stats_->empty()))
        return execute(lifecycle_.source_checked(Problem{ProblemKind::refused, Side::none, "", 0,
                                                         "verify: no complete run yet, so no statistics name the projects to verify "
                                                         "(verify a folder by name, or after the first complete run)"},
                                                 Preparation::plan));
    // Without statistics of a complete run (first run, or state lost) the source is scanned
    // for them. A retry runs the units it was given: no scan (statistics only size the
    // units the failed ones expand into).
    if ((!stats_ || stats_->empty()) && !retry_ && !verify_) return execute(lifecycle_.source_checked(std::nullopt, Preparation::scan));
    if (stats_) previous_ = std::move(*stats_);
    if (!retry_ && !verify_ && config_.daemon_compares) {
        const std::string why = compare_unsupported(config_);
        if (why.empty()) return execute(lifecycle_.source_checked(std::nullopt, Preparation::compare));
        compare_outcome_ = CompareOutcome{};
        compare_outcome_->why_not = why;
        if (on_notice_) on_notice_("each rsync compares its part of the trees itself: " + why);
    }
    execute(lifecycle_.source_checked(std::nullopt, Preparation::plan));
}

void BackupRun::scan() {
    changed();
    call_ = workers_.trees.run<ScanResult>(
        deadline(), [source = source_](WorkProgress &progress) { return source->scan(progress); },
        [self = shared_from_this()](Worked<ScanResult> result) {
            if (!self->answering(RunStep::scan)) return;
            self->call_.reset();
            if (!result) return self->execute(self->lifecycle_.scanned(self->unanswered(result, Side::source, " (while it was scanned)")));
            if (!result->error.empty())
                return self->execute(
                    self->lifecycle_.scanned(Problem{ProblemKind::unreadable, Side::source, self->config_.source, 0, result->error}));
            self->previous_ = std::move(result->tree);
            self->scanned_ = true;
            self->execute(self->lifecycle_.scanned(std::nullopt));
        });
}

void BackupRun::compare() {
    changed();
    const unsigned threads = scan_thread_count(config_.scan_threads, remote_);
    compare_started_ = monotonic_seconds();
    compare_outcome_ = CompareOutcome{};
    compare_outcome_->threads = threads;
    // Checked by compare_unsupported() already: the patterns compile.
    auto rules = std::make_shared<const ExcludeRules>(std::get<ExcludeRules>(ExcludeRules::compile(config_.exclude)));
    call_ = workers_.trees.run<CompareResult>(
        deadline(),
        [source = source_, destination = destination_, rules, threads, deletions = config_.delete_extraneous](WorkProgress &progress) {
            // rsync -o takes effect only for root: so does the owner's comparison.
            const CompareSettings settings{DiffOptions{::geteuid() == 0, deletions}, rules.get(), threads};
            return compare_trees(*source, *destination, settings, progress);
        },
        [self = shared_from_this()](Worked<CompareResult> result) {
            if (!self->answering(RunStep::compare)) return;
            self->call_.reset();
            if (!result)
                return self->execute(self->lifecycle_.compared(result.problem(Side::none, "",
                                                                              "the source " + self->config_.source + " or the destination " +
                                                                                  self->config_.destination + " (while they were compared)",
                                                                              self->config_.filesystem_timeout_seconds)));
            self->compared(std::move(*result));
        });
}

void BackupRun::compared(CompareResult result) {
    if (!result.error.empty()) return execute(lifecycle_.compared(Problem{ProblemKind::unreadable, Side::none, "", 0, result.error}));
    CompareOutcome &o = *compare_outcome_;
    o.used = true;
    o.seconds = monotonic_seconds() - compare_started_;
    o.cpu_seconds = result.cpu_seconds;
    const CompareCounts &c = result.counts;
    o.compared = c.compared;
    o.created = c.created;
    o.updated = c.updated;
    o.attributes = c.attributes;
    o.replaced = c.replaced;
    o.deleted = c.deleted;
    o.bytes = c.bytes;
    o.unreadable = result.unreadable;
    o.unreadable_count = result.unreadable_count;
    for (const auto &folder : result.whole) o.whole.push_back(folder.empty() ? "." : printable_name(folder));
    std::optional<Problem> unread;
    if (result.unreadable_count > 0)
        unread = Problem{ProblemKind::unreadable, Side::none, "", 0, std::to_string(result.unreadable_count) + " folder(s) could not be read (" + result.unreadable.front() +
                           (result.unreadable_count > 1 ? ", ..." : "") + "): not compared, so nothing in them was copied" +
                           (config_.delete_extraneous ? ", and nothing was deleted this run" : "")};
    compared_tree_ = std::move(result.source_tree);
    listed_units_ = plan_listed_units(std::move(result.groups), result.whole, concurrency());
    // The guard can allow what the compare found gone before copying: one pass, not two.
    if (config_.deletions_guarded() && !dry_run_)
        allow_counted_deletions(*listed_units_, compared_tree_->total_entries(), c.created, config_.max_delete, previous_entries_);
    if (on_notice_) {
        // Short: it is printed among the live view's lines on a terminal.
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.1f", o.seconds);
        on_notice_("compare: " + std::to_string(c.compared) + " entries, " + seconds + " s; " +
                   std::to_string(c.created + c.updated + c.replaced) + " to copy, " + std::to_string(c.attributes) + " to fix, " +
                   std::to_string(c.deleted) + " to delete");
    }
    execute(lifecycle_.compared(std::nullopt, std::move(unread)));
}

std::string BackupRun::phase_text() const {
    switch (phase()) {
    case Phase::checking: return "checking the source and the destination...";
    case Phase::scanning: return "scanning the source" + (call_ ? ": " + std::to_string(call_->steps.load()) + " entries" : std::string()) + "...";
    case Phase::comparing: {
        std::string text = "comparing the source with the backup";
        if (!call_) return text + "...";
        const std::uint64_t seen = call_->steps.load();
        const std::uint64_t expected = 2 * previous_.total_entries();   // both trees, from the statistics
        text += ": " + std::to_string(seen) + (expected ? " of about " + std::to_string(expected) : std::string()) + " entries";
        const double elapsed = monotonic_seconds() - compare_started_;
        if (elapsed > 1 && seen > 0) {
            const double rate = static_cast<double>(seen) / elapsed;
            text += ", " + std::to_string(static_cast<std::uint64_t>(rate)) + "/s";
            if (expected > seen) text += ", ETA " + format_eta(static_cast<double>(expected - seen) / rate);
        }
        return text;
    }
    default: return "";
    }
}

void BackupRun::make_planner() {
    if (planner_) return;
    // Statistics of a previous complete run mean the destination holds its copy: an update.
    // Without them (first run, or state lost) the source was scanned: plan a first copy.
    planner_ = std::make_unique<Planner>(previous_, concurrency(), scanned_ ? Planner::Work::first_copy : Planner::Work::update,
                                         config_.preserve.hard_links ? Planner::Layout::one_rsync : Planner::Layout::balanced);
}

void BackupRun::note_unversioned() {
    // Versions kept before (if any) stop being exact at this run: the next versioned run
    // must start anew, so this is noted before anything is copied.
    workers_.trees.run<std::string>(
        deadline(), [store = endpoints_.versions](WorkProgress &) { return store->note_unversioned_run().error(); },
        [self = shared_from_this()](Worked<std::string> error) {
            if (!self->answering(RunStep::note_unversioned)) return;   // cancelled meanwhile
            if (!error) return self->execute(self->lifecycle_.versions_begun(self->unanswered(error, Side::destination)));
            if (!error->empty())
                return self->execute(self->lifecycle_.versions_begun(Problem{
                    ProblemKind::unwritable, Side::destination, self->config_.destination, 0,
                    "cannot note in the versions kept before that this run keeps none: " + *error}));
            self->execute(self->lifecycle_.versions_begun(std::nullopt));
        });
}

void BackupRun::begin_versions() {
    versions_ = endpoints_.versions;
    const std::int64_t started = std::chrono::duration_cast<std::chrono::seconds>(started_.time_since_epoch()).count();
    const Seconds asked = monotonic_seconds();
    workers_.trees.run<RunVersions::Began>(
        deadline(),
        [store = versions_, run_id = run_id_, started, first_copy = scanned_, previous_at = last_complete_at_](WorkProgress &) {
            return store->begin_run(run_id, started, first_copy, previous_at);
        },
        [self = shared_from_this(), asked](Worked<RunVersions::Began> began) {
            if (!self->answering(RunStep::begin_versions)) return;   // cancelled meanwhile
            if (!began)
                return self->execute(
                    self->lifecycle_.versions_begun(self->unanswered(began, Side::destination, " (while this run's version was made)")));
            if (!began->error.empty())
                return self->execute(self->lifecycle_.versions_begun(
                    Problem{ProblemKind::unwritable, Side::destination, self->config_.destination, 0, "cannot keep versions: " + began->error}));
            const std::string kept_in =
                began->back_dir.empty() ? std::string() : std::filesystem::path(began->back_dir).parent_path().filename().string();
            self->versions_outcome_ = VersionsOutcome{self->run_id_, kept_in, {}, {}, monotonic_seconds() - asked, 0, began->set_aside};
            if (self->on_notice_)
                for (const auto &note : began->set_aside) self->on_notice_("versions: " + note);
            self->began_ = std::move(*began);
            self->execute(self->lifecycle_.versions_begun(std::nullopt));
        });
}

void BackupRun::start_copying() {
    make_planner();
    std::vector<WorkUnit> units = retry_ ? retry_->units : listed_units_ ? std::move(*listed_units_) : planner_->initial();
    if (verify_) {
        units = verify_units(*verify_, previous_, *planner_);
        verify_outcome_ = VerifyOutcome{};
        verify_outcome_->scope = verify_scope_text(*verify_, units);
        verify_outcome_->mirror = verify_->mirror;
    }
    model_.emplace(run_id_, std::move(units), dry_run_, started_);
    if (compared_tree_) {
        // What the lists hold is what there is to do.
        std::uint64_t entries = 0, bytes = 0;
        for (const auto &u : model_->units()) entries += u.unit.estimated_entries, bytes += u.unit.estimated_bytes;
        model_->set_expected(entries, bytes);
        model_->set_compared_entries(compared_tree_->total_entries());
    } else if (!retry_ && !verify_) {
        model_->set_expected(previous_.total_entries(), previous_.total_bytes());
    }
    const auto copy_ended = [self = shared_from_this()] {
        self->execute(self->lifecycle_.copy_finished(
            CopyEnd{self->supervisor_ != nullptr, self->model_->run_failed(), self->model_->cancel_requested()}));
    };
    if (model_->units().empty()) {   // a verify slice with nothing in it, nothing changed since the last run
        // No copy to delete beside: what the last retention set aside goes now.
        if (versions_) return empty_trash(copy_ended);
        boost::asio::post(io_, copy_ended);
        return;
    }
    const RunVersions::Began began = std::move(began_);
    Supervisor::Settings settings{config_, checked_.rsync_program, dry_run_, this_host_only(concurrency()), checked_.source_identity,
                                  previous_entries_, began.back_dir, {}, began.scratch_dir, {}, {}};
    if (!began.created_path.empty()) {
        settings.note_creations = [store = versions_, path = began.created_path](const std::string &scratch,
                                                                                 const std::vector<std::string> &entries) {
            return store->append_created(scratch.empty() ? path : RunVersions::scratch_created_path(scratch), entries);
        };
        settings.keep_scratch = [store = versions_](const std::string &scratch, WorkProgress &progress) {
            return store->keep_from(scratch, [&progress] { ++progress.steps; });
        };
    }
    settings.on_notice = [weak = weak_from_this()](const std::string &notice) {
        if (auto self = weak.lock(); self && self->on_notice_) self->on_notice_(notice);
    };
    if (versions_)
        // What the last retention set aside is deleted beside the copying (both wait on the
        // NAS); not waited for: what is left stays aside until the next run.
        empty_trash({});
    RunPorts ports{source_, destination_, {&workers_.launcher}, &workers_.trees};
    supervisor_ = Supervisor::create(io_, *model_, *planner_, settings, ports, on_change_, copy_ended);
    if (!config_.concurrency) controller_ = std::make_unique<ConcurrencyController>(concurrency());
    resources_ = std::make_unique<ResourceSampler>(checked_.source_device, checked_.destination_device);
    supervisor_->start();
    tick();
    tick_timer_.every(std::chrono::seconds(1), [this] { tick(); });
    changed();
}

void BackupRun::empty_trash(std::function<void()> then) {
    workers_.trees.run<std::string>(
        deadline(), [store = versions_](WorkProgress &progress) { return store->empty_trash([&progress] { ++progress.steps; }).error(); },
        [self = shared_from_this(), then = std::move(then)](Worked<std::string> error) {
            if (self->on_notice_ && (!error || !error->empty()))
                self->on_notice_("versions: removing what retention set aside: " +
                                 (error ? *error : self->unanswered(error, Side::destination).text));
            if (then) then();
        });
}

void BackupRun::tick() {
    if (!supervisor_ || !model_ || phase() != Phase::copying) return;
    supervisor_->note_creations();   // a daemon that dies loses at most a second of them
    const Seconds now = monotonic_seconds();
    const RunTotals t = model_->totals();
    if (auto sample = resources_->sample(now, supervisor_->process_groups(), t.files_done, t.bytes_done)) {
        samples_.add(*sample);
        if (controller_) adapt(now, t, sample->cpu_busy);
    }
}

void BackupRun::adapt(Seconds now, const RunTotals &t, double cpu_busy) {
    const double work = static_cast<double>(t.files_done) + static_cast<double>(t.bytes_done) / kBytesPerEntryCost;
    const auto change = controller_->observe(now, work, cpu_busy, static_cast<int>(model_->units_waiting_or_running()));
    if (change) {
        const double since_start = std::chrono::duration<double>(WallClock::now() - started_).count();
        model_->note_concurrency(ConcurrencyNote{since_start, change->from, change->to, change->evidence});
        supervisor_->set_concurrency(change->to);
        if (on_notice_) on_notice_("concurrency " + std::to_string(change->from) + " -> " + std::to_string(change->to) + ": " + change->evidence);
    }
}

void BackupRun::check_source_at_end() {
    // A source unmounted (or replaced) during the run: what vanished was not deleted by
    // anyone, and this run is no backup of it. Never a success, whatever rsync said.
    workers_.trees.run<std::optional<Problem>>(
        deadline(),
        [source = source_, identity = checked_.source_identity](WorkProgress &) { return source_replaced(*source, identity); },
        [self = shared_from_this()](Worked<std::optional<Problem>> checked) {
            if (!self->answering(RunStep::check_source_at_end)) return;
            self->execute(self->lifecycle_.end_checked(checked ? *checked
                                                               : self->unanswered(checked, Side::source, " (checked at the end of the run)")));
        });
}

void BackupRun::finish_versions(bool wait) {
    const RunResult result = model_->result();
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(WallClock::now().time_since_epoch()).count();
    struct Ended {
        std::vector<std::string> pruned;
        std::string error;
        bool only_deferred = false;   // the error only says retention left some for the next run
    };
    // Retention only after a run that copied everything: a failed night must never cost
    // the versions that may be needed because of it. Nor when stopping (not waited for):
    // a merge the process does not live to finish would be cut short.
    const bool prune = wait && (result == RunResult::success || result == RunResult::warning);
    // A note that failed may have left files in a scratch folder: it stays for the next
    // run to merge.
    const bool retire = !supervisor_ || !supervisor_->notes_failed();
    auto work = [store = versions_, run_id = run_id_, now, result = std::string(to_string(result)), prune,
                 policy = *config_.versions, kept_in = versions_outcome_->kept_in, retire](WorkProgress &progress) {
        Ended ended;
        if (auto done = store->finish_run(run_id, now, result); !done.ok()) ended.error = done.error();
        if (retire && !kept_in.empty())
            if (auto retired = store->retire_scratch(kept_in); !retired.ok() && ended.error.empty()) ended.error = retired.error();
        if (prune && ended.error.empty()) {
            auto pruned = store->prune(policy, [&progress] { ++progress.steps; });
            ended.pruned = std::move(pruned.removed);
            ended.error = std::move(pruned.error);
            if (pruned.left > 0 && ended.error.empty()) {
                ended.error = std::to_string(pruned.left) + " versions retention no longer keeps are left for the next run (time budget)";
                ended.only_deferred = true;
            }
        }
        return ended;
    };
    // Stopping: not waited for (a point that still says "running" reads as partial).
    if (!wait) return (void)workers_.trees.run<Ended>(deadline(), std::move(work), [](Worked<Ended>) {});
    workers_.trees.run<Ended>(deadline(), std::move(work), [self = shared_from_this(), asked = monotonic_seconds()](Worked<Ended> answer) {
        self->versions_outcome_->finish_seconds = monotonic_seconds() - asked;
        const Ended ended = answer ? *answer : Ended{{}, self->unanswered(answer, Side::destination, " (while its versions were pruned)").text};
        self->versions_outcome_->pruned = ended.pruned;
        self->versions_outcome_->error = ended.error;
        // The versions are part of the promise: a run that could not keep them as it
        // should (a merge cut short, a damaged version set aside) is no success, and alerts.
        std::string problem;
        for (const auto &note : self->versions_outcome_->set_aside) problem += (problem.empty() ? "" : "; ") + note;
        if (!ended.error.empty() && !ended.only_deferred) problem += (problem.empty() ? "" : "; ") + ended.error;
        if (self->on_notice_) {
            if (!ended.pruned.empty()) {
                std::string removed;
                for (const auto &id : ended.pruned) removed += (removed.empty() ? "" : ", ") + id;
                self->on_notice_("versions: retention removed " + removed);
            }
            if (!ended.error.empty()) self->on_notice_("versions: " + ended.error);
        }
        std::optional<Problem> failed;
        if (!problem.empty())
            failed = Problem{answer ? ProblemKind::unwritable : answer.crashed() ? ProblemKind::defect : ProblemKind::not_answering,
                             Side::destination, self->config_.destination, 0, "versions: " + problem};
        self->execute(self->lifecycle_.versions_finished(std::move(failed)));
    });
}

void BackupRun::judge_verify() {
    const ChangeList &changes = model_->changes();
    verify_outcome_->differing = changes.counts[static_cast<int>(ChangeKind::differs)];
    const std::size_t listed = std::min<std::size_t>(changes.differing.size(), 100);
    verify_outcome_->paths.assign(changes.differing.begin(), changes.differing.begin() + static_cast<std::ptrdiff_t>(listed));
    note_verify_findings(*verify_outcome_, changes);
    if (lifecycle_.stopping() || verify_outcome_->differing == 0) {
        // Nothing to mark (or stopping: no time to): judged as it stands, from the loop.
        std::optional<Problem> finding;
        if (!lifecycle_.stopping() && verify_found_damage(*verify_outcome_)) finding = verify_finding();
        boost::asio::post(io_, [self = shared_from_this(), finding = std::move(finding)]() mutable {
            self->execute(self->lifecycle_.verify_judged(std::move(finding)));
        });
        return;
    }
    if (on_notice_)
        for (std::size_t i = 0; i < std::min<std::size_t>(listed, 20); ++i) on_notice_("verify: differs: " + changes.differing[i]);
    struct Marked {
        std::uint64_t marked = 0;
        std::vector<std::string> errors;
    };
    call_ = workers_.trees.run<Marked>(
        deadline(),
        [destination = destination_, raw = changes.differing_raw, shown = changes.differing](WorkProgress &progress) {
            Marked out;
            for (std::size_t i = 0; i < raw.size() && !progress.cancelled; ++i) {
                ++progress.steps;
                const Done marked = destination->mark_for_copy(raw[i]);
                if (marked.ok()) ++out.marked;
                else if (out.errors.size() < 10) out.errors.push_back(shown[i] + ": " + marked.error());
            }
            return out;
        },
        [self = shared_from_this()](Worked<Marked> answer) {
            self->call_.reset();
            const Marked marked =
                answer ? *answer : Marked{0, {self->unanswered(answer, Side::destination, " (while differing files were marked)").text}};
            self->verify_outcome_->marked = marked.marked;
            self->verify_outcome_->mark_errors = marked.errors;
            self->execute(self->lifecycle_.verify_judged(self->verify_finding()));
        });
}

Problem BackupRun::verify_finding() const {
    return Problem{ProblemKind::damage_found, Side::destination, config_.destination, 0, verify_error(*verify_outcome_)};
}

// What the report says beside the model, taken once, when the copy is over (the end
// hooks' rewrite adds only their outcomes); and what the next run inherits.
void BackupRun::note_report_context() {
    report_written_once_ = true;
    report_context_ = ReportContext{config_.source, config_.destination, concurrency()};
    report_context_.versions = versions_outcome_;
    report_context_.cpu_self_seconds = cpu_seconds(RUSAGE_SELF) - cpu_self_at_start_;
    report_context_.cpu_children_seconds = cpu_seconds(RUSAGE_CHILDREN) - cpu_children_at_start_;
    report_context_.peak_rss_bytes = peak_rss_bytes();
    report_context_.bottleneck = bottleneck_;
    if (retry_) report_context_.retry_of = retry_->of;
    report_context_.verify = verify_outcome_;
    report_context_.compare = compare_outcome_;
    // Only a complete run saw the whole tree; a partial picture would mislead the next plan.
    // A retry or a verify saw part of the tree: the last complete run's picture stays.
    const RunResult result = model_->result();
    if (!retry_ && !verify_ && (result == RunResult::success || result == RunResult::warning)) {
        // The compare saw the whole source; the units of a run without it saw it through
        // rsync's output. (Below folders left whole to rsync the compare did not look.)
        if (compared_tree_) seen_ = std::move(*compared_tree_);
        else if (supervisor_) seen_ = supervisor_->seen();
        if (supervisor_ && !config_.concurrency) level_ = supervisor_->concurrency();
    }
    supervisor_.reset();
}

void BackupRun::write_report(std::function<void()> then) {
    if (!report_written_once_) note_report_context();
    report_context_.hooks = hook_outcomes_;
    report_ = report_json(*model_, report_context_);
    struct Saved {
        bool report_written = false;
        std::string error;   // the first thing that could not be written
    };
    workers_.state.run<Saved>(
        deadline(),
        [store = endpoints_.records, run_id = run_id_, report = report_, seen = std::exchange(seen_, std::nullopt),
         level = std::exchange(level_, std::nullopt)](WorkProgress &) {
            Saved saved;
            if (auto written = store->write_report(run_id, report); !written.ok()) return Saved{false, written.error()};
            saved.report_written = true;
            if (seen)
                if (auto done = store->save_tree_stats(*seen); !done.ok()) saved.error = "cannot save the tree statistics: " + done.error();
            if (level && saved.error.empty())
                if (auto done = store->save_concurrency(*level); !done.ok()) saved.error = "cannot save the concurrency: " + done.error();
            return saved;
        },
        [self = shared_from_this(), then = std::move(then)](Worked<Saved> answer) {
            const Saved saved = answer ? *answer : Saved{false, self->unanswered(answer, Side::state).text};
            if (self->report_error_.empty()) self->report_error_ = saved.error;
            if (saved.report_written) self->report_path_ = self->endpoints_.records->report_path(self->run_id_);
            then();
        });
}


}  // namespace dailysync
