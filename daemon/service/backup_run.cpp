#include "service/backup_run.hpp"

#include <boost/asio/post.hpp>
#include <sys/resource.h>

#include "core/report.hpp"
#include "io/filesystem_kind.hpp"
#include "io/preflight.hpp"

namespace dailysync {

namespace {
double cpu_seconds(int who) {
    struct rusage usage {};
    ::getrusage(who, &usage);
    auto seconds = [](const timeval &tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}
}  // namespace

Seconds monotonic_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::shared_ptr<BackupRun> BackupRun::create(boost::asio::io_context &io, Config config, bool dry_run, OnChange on_change,
                                             OnDone on_done) {
    return std::shared_ptr<BackupRun>(new BackupRun(io, std::move(config), dry_run, std::move(on_change), std::move(on_done)));
}

BackupRun::BackupRun(boost::asio::io_context &io, Config config, bool dry_run, OnChange on_change, OnDone on_done)
    : io_(io), config_(std::move(config)), dry_run_(dry_run), on_change_(std::move(on_change)), on_done_(std::move(on_done)),
      store_(config_.state_dir), started_(WallClock::now()), tick_timer_(io) {
    run_id_ = store_.allocate_run_id(started_);
}

int BackupRun::concurrency() const {
    if (supervisor_) return supervisor_->concurrency();
    if (config_.concurrency) return *config_.concurrency;
    // auto: where the last complete run ended (what the controller found to help).
    return starting_concurrency(store_.load_concurrency(),
                                is_remote_filesystem(config_.source) || is_remote_filesystem(config_.destination));
}

void BackupRun::start() {
    cpu_self_at_start_ = cpu_seconds(RUSAGE_SELF);
    cpu_children_at_start_ = cpu_seconds(RUSAGE_CHILDREN);
    auto stats = store_.load_tree_stats();
    previous_entries_ = stats ? stats->total_entries() : 0;
    if (auto problem = preflight(config_, previous_entries_); !problem.empty()) {
        finish_without_units(problem);
        return;
    }
    source_identity_ = folder_identity(config_.source);
    if (stats && !stats->empty()) {
        previous_ = std::move(*stats);
        plan_and_copy();
        return;
    }
    scan_ = TreeScan::create(io_, config_.source, [self = shared_from_this()](ScanResult result) { self->scanned(std::move(result)); });
    scan_->start();
}

void BackupRun::scanned(ScanResult result) {
    scan_.reset();
    if (cancelled_) {
        model_.emplace(run_id_, std::vector<WorkUnit>{}, dry_run_, started_);
        model_->mark_cancelled();
        finished();
        return;
    }
    if (!result.error.empty()) {
        finish_without_units(result.error);
        return;
    }
    previous_ = std::move(result.tree);
    scanned_ = true;
    plan_and_copy();
}

void BackupRun::plan_and_copy() {
    const std::string program = find_program(config_.rsync_path);
    if (program.empty()) {
        finish_without_units("rsync not found: \"" + config_.rsync_path + "\" is not an executable program (see rsync_path)");
        return;
    }
    // Statistics of a previous complete run mean the destination holds its copy: an update.
    // Without them (first run, or state lost) the source was scanned: plan a first copy.
    planner_ = std::make_unique<Planner>(previous_, concurrency(), scanned_ ? Planner::Work::first_copy : Planner::Work::update,
                                         config_.preserve.hard_links ? Planner::Layout::one_rsync : Planner::Layout::balanced);
    model_.emplace(run_id_, planner_->initial(), dry_run_, started_);
    model_->set_expected(previous_.total_entries(), previous_.total_bytes());
    phase_ = Phase::copying;
    Supervisor::Settings settings{config_, program, dry_run_, concurrency(), source_identity_, previous_entries_};
    supervisor_ = Supervisor::create(io_, *model_, *planner_, settings, on_change_, [self = shared_from_this()] { self->finished(); });
    supervisor_->start();
    if (!config_.concurrency) controller_ = std::make_unique<ConcurrencyController>(concurrency());
    resources_ = std::make_unique<ResourceSampler>(config_.source, config_.destination);
    tick();
    if (on_change_) on_change_();
}

void BackupRun::tick() {
    if (!supervisor_ || !model_ || phase_ != Phase::copying) return;
    const Seconds now = monotonic_seconds();
    const RunTotals t = model_->totals();
    if (auto sample = resources_->sample(now, supervisor_->process_groups(), t.files_done, t.bytes_done)) {
        samples_.add(*sample);
        if (controller_) adapt(now, t, sample->cpu_busy);
    }
    tick_timer_.expires_after(std::chrono::seconds(1));
    tick_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        if (auto self = weak.lock(); self && !ec) self->tick();
    });
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

void BackupRun::cancel() {
    if (cancelled_ || phase_ == Phase::finished) return;
    cancelled_ = true;
    if (scan_) scan_->cancel();
    if (supervisor_) supervisor_->cancel();
}

void BackupRun::finish_without_units(const std::string &error) {
    model_.emplace(run_id_, std::vector<WorkUnit>{}, dry_run_, started_);
    model_->fail_run(error);
    boost::asio::post(io_, [self = shared_from_this()] { self->finished(); });
}

void BackupRun::finished() {
    phase_ = Phase::finished;
    tick_timer_.cancel();
    if (model_ && !model_->dry_run()) bottleneck_ = classify_bottleneck(samples_.samples(), online_cores(), model_->concurrency_notes());
    if (!model_->finished()) model_->finish(WallClock::now());
    // A source unmounted (or replaced) during the run: what vanished was not deleted by
    // anyone, and this run is no backup of it. Never a success, whatever rsync said.
    if (model_->run_error().empty() && !model_->cancel_requested())
        if (auto problem = source_replaced(config_.source, source_identity_); !problem.empty())
            model_->fail_run(problem + ": what was not copied before is missing from this backup");
    ReportContext context{config_.source, config_.destination, concurrency()};
    context.cpu_self_seconds = cpu_seconds(RUSAGE_SELF) - cpu_self_at_start_;
    context.cpu_children_seconds = cpu_seconds(RUSAGE_CHILDREN) - cpu_children_at_start_;
    context.bottleneck = bottleneck_;
    report_ = report_json(*model_, context);
    report_error_ = store_.write_report(run_id_, report_);
    if (report_error_.empty()) report_path_ = store_.report_path(run_id_);
    // Only a complete run saw the whole tree; a partial picture would mislead the next plan.
    const RunResult result = model_->result();
    if (supervisor_ && (result == RunResult::success || result == RunResult::warning)) {
        if (auto error = store_.save_tree_stats(supervisor_->seen()); !error.empty() && report_error_.empty())
            report_error_ = "cannot save the tree statistics: " + error;
        if (!config_.concurrency) store_.save_concurrency(supervisor_->concurrency());
    }
    supervisor_.reset();
    if (on_done_) on_done_(*model_);
}

}  // namespace dailysync
