#include "service/manager.hpp"

#include <unistd.h>

#include "core/alerts.hpp"
#include "core/names.hpp"

#include "io/version_store.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>
#include <syslog.h>

#include "core/format.hpp"
#include "core/metrics.hpp"
#include "core/report.hpp"
#include "core/schedule.hpp"
#include "io/config_file.hpp"
#include "io/supervisor.hpp"

namespace dailysync {

namespace {
std::string host_name() {
    char name[256] = "";
    if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
    return name;
}
}  // namespace

namespace {

using namespace std::chrono_literals;

// A reload waits this long at most for the places of its trees (and filesystem_timeout_seconds
// if shorter): a D-Bus caller gives up after 25 s by default.

// The daily timer re-checks at least this often, so a suspend/resume or a clock change
// that the clock watch missed delays a run by at most this much.
constexpr auto kMaxTimerStep = 60s;
constexpr auto kCatchUpDelay = 30s;
constexpr auto kLockRetry = 60s;
// How long StartRun waits for the destination's stat that names its lock (D-Bus callers
// wait for the answer; a hung destination is then the run's own check's to report).

std::string local_time_text(std::time_t t) { return format_local_time(t, false); }

int priority_for(RunResult result) {
    switch (result) {
    case RunResult::success: return LOG_INFO;
    case RunResult::warning:
    case RunResult::cancelled: return LOG_WARNING;
    case RunResult::failed: return LOG_ERR;
    }
    return LOG_ERR;
}

}  // namespace

std::string_view to_string(ManagerState state) {
    switch (state) {
    case ManagerState::idle: return "idle";
    case ManagerState::running: return "running";
    case ManagerState::stopping: return "stopping";
    }
    return "idle";
}

Manager::Manager(boost::asio::io_context &io, RunWorkers workers, std::string config_path, Config config, Journal &journal)
    : io_(io), workers_(workers), config_path_(std::move(config_path)), config_(std::move(config)), journal_(journal),
      store_(config_), schedule_timer_(io), stale_timer_(io), sample_timer_(io) {}

template <class T>
void Manager::on_state_worker(const std::string &what, std::function<T(WorkProgress &)> work,
                              std::function<T(std::string)> unanswered, std::function<void(T)> done) {
    workers_.state.run<T>(std::chrono::seconds(config_.filesystem_timeout_seconds), std::move(work),
                          [done = std::move(done), unanswered = std::move(unanswered), what, state_dir = config_.state_dir,
                           seconds = config_.filesystem_timeout_seconds](Worked<T> value) {
                              done(value ? std::move(*value) : unanswered(value.problem(Side::state, state_dir, what, seconds).text));
                          });
}

void Manager::read_report(const std::string &run_id, std::function<void(Loaded<std::string>)> done) {
    on_state_worker<Loaded<std::string>>(
        "the state folder " + config_.state_dir, [store = store_, run_id](WorkProgress &) { return store.read_report(run_id); },
        Loaded<std::string>::unreadable, std::move(done));
}

void Manager::list_runs(std::function<void(Loaded<std::vector<RunSummary>>)> done) {
    using Runs = Loaded<std::vector<RunSummary>>;
    on_state_worker<Runs>(
        "the state folder " + config_.state_dir, [store = store_](WorkProgress &) { return store.list_runs(); }, Runs::unreadable,
        std::move(done));
}

void Manager::list_versions(const std::string &path, bool have_path, std::function<void(Loaded<std::string>)> done) {
    workers_.trees.run<Loaded<std::string>>(
        std::chrono::seconds(config_.filesystem_timeout_seconds),
        [versions = workers_.endpoints(config_).versions, path, have_path](WorkProgress &) { return versions->listing(path, have_path); },
        [done = std::move(done), destination = config_.destination, seconds = config_.filesystem_timeout_seconds](Worked<Loaded<std::string>> listed) {
            done(listed ? std::move(*listed)
                        : Loaded<std::string>::unreadable(listed.problem(Side::destination, destination, "the destination " + destination, seconds).text));
        });
}

void Manager::start() {
    std::string warning;
    persisted_ = store_.load_state(&warning);
    if (!warning.empty()) journal_.log(LOG_WARNING, warning);
    if (!persisted_.watching_since) {
        persisted_.watching_since = std::time(nullptr);
        persist();
    }
    if (!persisted_.active_run_id.empty()) record_interrupted_run();
    check_stale();
    clock_watch_ = std::make_unique<ClockWatch>(io_, [this] {
        journal_.log(LOG_INFO, "the system clock was set; re-arming the daily timer");
        arm_schedule();
        check_stale();
    });
    if (needs_catch_up(std::time(nullptr), persisted_.last_success)) {
        journal_.log(LOG_NOTICE, "the last successful backup finished at " + local_time_text(*persisted_.last_success) +
                                     ", more than a day ago; catching up in " + std::to_string(kCatchUpDelay.count()) + " s");
        catch_up_at_ = std::time(nullptr) + kCatchUpDelay.count();
    }
    arm_schedule();
    write_metrics();
}

void Manager::record_interrupted_run() {
    const std::string run_id = persisted_.active_run_id;
    const std::time_t now = std::time(nullptr);
    const std::time_t started = persisted_.active_run_started.value_or(now);
    journal_.log(LOG_WARNING,
                 "run " + run_id + " was interrupted: dailysyncd stopped during it without finishing (killed, crashed or "
                 "the machine went down); the next run completes the backup",
                 {{"DAILYSYNC_RUN_ID", run_id}, {"DAILYSYNC_RESULT", "interrupted"}}, kMessageRunFinished);
    // At start, before any run: the state folder is read here, on the loop.
    bool recorded = false;
    if (auto written = store_.record_interrupted(run_id, started, config_.source, config_.destination, recorded); !written.ok())
        journal_.log(LOG_ERR, "run " + run_id + ": cannot write the report: " + written.error());
    auto report = store_.read_report(run_id);
    auto parsed = parse_report(report.has_value() ? report.value() : std::string()).doc;
    if (!parsed.is_object()) parsed = nlohmann::json::object();
    parsed["run_id"] = run_id;
    parsed["result"] = "interrupted";
    alert(AlertEvent{true, run_id, "run " + run_id + " was interrupted", run_alert_payload(parsed, host_name())});
    persisted_.last_run_id = run_id;
    persisted_.last_result = "interrupted";
    persisted_.last_duration = static_cast<double>(now - started);
    persisted_.last_bytes = persisted_.last_files = 0;
    persisted_.active_run_id.clear();
    persisted_.active_run_started.reset();
    persist();
}

void Manager::arm_schedule() {
    if (state_ == ManagerState::stopping) return;   // shutdown() stopped the timer for good
    const std::time_t now = std::time(nullptr);
    next_run_ = catch_up_at_ ? *catch_up_at_ : next_fire(now, persisted_.last_fire, config_.daily_hour, config_.daily_minute);
    const auto wait = std::min<std::chrono::seconds>(std::chrono::seconds(std::max<std::time_t>(0, *next_run_ - now)), kMaxTimerStep);
    schedule_timer_.after(wait, [this] { on_timer(); });
    notify_state();
}

void Manager::on_timer() {
    if (state_ == ManagerState::stopping) return;   // a stop is final: no run starts after it
    const std::time_t now = std::time(nullptr);
    if (!next_run_ || now < *next_run_) {
        arm_schedule();
        return;
    }
    persisted_.last_fire = now;
    catch_up_at_.reset();   // the catch-up (if it was one) fires once
    if (state_ == ManagerState::idle && !starting_) {
        start_run("schedule", [this, now](StartError error, const std::string &) {
            if (error != StartError::locked) {
                waiting_for_lock_ = false;
                return;
            }
            // Another process is backing up into the same place: try again every minute.
            if (!waiting_for_lock_)
                journal_.log(LOG_WARNING, "the daily run is due, but " + lock_refusal_ + "; it starts when that run ends (checked every " +
                                              std::to_string(kLockRetry.count()) + " s)");
            waiting_for_lock_ = true;
            catch_up_at_ = now + kLockRetry.count();
            arm_schedule();
        });
    } else if (run_ && run_->is_verify()) {
        // A verify never costs a night's backup: it stops, and the daily run starts after it.
        journal_.log(LOG_NOTICE, "the daily run is due: stopping the verify " + run_->run_id() + " in progress; the daily run starts next");
        daily_after_run_ = true;
        run_->cancel();
        persist();
    } else {
        journal_.log(LOG_WARNING, "the daily run is due but a run is still active; skipping until the next one");
        persist();
    }
    arm_schedule();
}

void Manager::start_run(const std::string &trigger, Started done, RunOptions options) {
    if (state_ == ManagerState::stopping) return done(StartError::stopping, {});
    if (state_ == ManagerState::running || starting_) return done(StartError::already_running, {});
    // The destination's lock is named after its device and inode: a stat of the NAS, so on
    // a worker. A destination that does not answer soon is left without that lock; the
    // run's own check then reports it.
    starting_ = true;
    workers_.trees.run<std::optional<std::string>>(
        std::min<std::chrono::milliseconds>(std::chrono::seconds(config_.filesystem_timeout_seconds), kLockNameDeadline),
        [identity = workers_.endpoints(config_).lock_identity](WorkProgress &) { return identity(); },
        [this, trigger, options, done = std::move(done)](Worked<std::optional<std::string>> name) {
            starting_ = false;
            std::string run_id;
            const StartError error = start_run_now(name ? *name : std::nullopt, trigger, options, run_id);
            done(error, run_id);
        });
}

void Manager::retry_run(std::string run_id, Started done) {
    if (state_ == ManagerState::stopping) return done(StartError::stopping, {});
    if (state_ == ManagerState::running || starting_) return done(StartError::already_running, {});
    if (run_id.empty()) run_id = persisted_.last_backup_run_id.empty() ? persisted_.last_run_id : persisted_.last_backup_run_id;
    if (run_id.empty()) {
        refusal_ = "no run has finished yet: nothing to retry";
        return done(StartError::refused, {});
    }
    read_report(run_id, [this, run_id, done = std::move(done)](Loaded<std::string> text) {
        if (!text.has_value()) {
            refusal_ = text.status() == Loaded<std::string>::Status::missing
                           ? "no report of run " + run_id + " (dailysyncctl history lists the runs kept)"
                           : "cannot read the report of run " + run_id + ": " + text.error();
            return done(StartError::refused, {});
        }
        const ParsedReport report = parse_report(text.value());
        if (!report.error.empty()) {
            refusal_ = "cannot read the report of run " + run_id + ": " + report.error;
            return done(StartError::refused, {});
        }
        RetryPlan plan = plan_retry(run_id, report.doc);
        if (!plan.error.empty()) {
            refusal_ = plan.error;
            return done(StartError::refused, {});
        }
        const std::string trigger = "retry of run " + run_id + ": " + std::to_string(plan.units.size()) + " units";
        start_run(trigger, done, RunOptions{false, std::move(plan), std::nullopt});
    });
}

void Manager::start_verify(const std::string &path, Started done) {
    start_run(path.empty() ? "verify of the whole backup" : "verify of " + printable_name(path), std::move(done),
              RunOptions{false, std::nullopt, VerifyRequest{path, 1, 0}});
}

void Manager::start_verify_slice() {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    const std::int64_t day = (static_cast<std::int64_t>(now) + local.tm_gmtoff) / 86400;
    VerifyRequest request{std::nullopt, config_.verify_every_days, slice_of_day(day, config_.verify_every_days)};
    const std::string trigger = "verify of slice " + std::to_string(request.slice + 1) + " of " + std::to_string(request.slices) +
                                " (verify.every_days " + std::to_string(request.slices) + ")";
    start_run(trigger, [this](StartError error, const std::string &) {
        if (error == StartError::locked) journal_.log(LOG_WARNING, "the verify after the daily run did not start: " + lock_refusal_);
        else if (error == StartError::already_running) journal_.log(LOG_WARNING, "the verify after the daily run did not start: a run was started first");
    }, RunOptions{false, std::nullopt, request});
}

Manager::StartError Manager::start_run_now(const std::optional<std::string> &lock_name, const std::string &trigger, RunOptions options,
                                           std::string &run_id) {
    if (state_ == ManagerState::stopping) return StartError::stopping;
    if (state_ == ManagerState::running) return StartError::already_running;
    RunLocks locks = take_run_locks(config_.state_dir, config_.destination, lock_name, "service");
    if (locks.held_elsewhere) {
        lock_refusal_ = locks.why;
        return StartError::locked;
    }
    // A state folder that cannot hold the lock (full, read-only) must not stop backups.
    if (!locks.why.empty()) journal_.log(LOG_ERR, locks.why + "; running without that lock");
    // A `dailysyncd --once` killed during its run left its name in the lock: into the history.
    if (const auto note = record_run_left_in_lock(store_, config_, locks.left_by); !note.empty()) journal_.log(LOG_WARNING, note);
    locks_ = std::move(locks);
    state_ = ManagerState::running;
    Config config = config_;
    if (options.allow_mass_change) config.max_change = {DeleteLimit::Kind::unlimited, 0};
    const bool verify = options.verify.has_value();
    if (verify && std::find(config.rsync_extra_args.begin(), config.rsync_extra_args.end(), "--checksum") == config.rsync_extra_args.end())
        config.rsync_extra_args.push_back("--checksum");
    if (verify) {
        // Its dry run lists what the backup holds beyond the source too (--delete, no
        // guard: a dry run deletes nothing); whether that is damage depends on "delete".
        options.verify->mirror = config.delete_extraneous;
        config.delete_extraneous = true;
        config.max_delete = {DeleteLimit::Kind::unlimited, 0};
    }
    run_scheduled_ = trigger == "schedule";
    run_ = BackupRun::create(
        io_, workers_, std::move(config), verify,
        [this] {
            if (observer_.progress_changed) observer_.progress_changed();
        },
        [this](const RunModel &model) { run_finished(model); });
    if (options.retry) run_->retry(std::move(*options.retry));
    if (options.verify) run_->verify(std::move(*options.verify));
    run_id = run_->run_id();
    locks_.set_run_id(run_id);
    run_->on_notice([this, run_id](const std::string &notice) {
        journal_.log(LOG_INFO, "run " + run_id + ": " + notice, {{"DAILYSYNC_RUN_ID", run_id}});
    });
    journal_.log(LOG_INFO, "run " + run_id + " started (" + trigger + "): " + config_.source + " -> " + config_.destination,
                 {{"DAILYSYNC_RUN_ID", run_id}}, kMessageRunStarted);
    // Recorded before anything is copied: if the process dies now, the next start knows.
    persisted_.active_run_id = run_id;
    persisted_.active_run_started = std::time(nullptr);
    persist();
    run_->start();
    // Rates need regular samples even when rsync is quiet.
    sample_timer_.every(1s, [this] {
        if (!run_) return sample_timer_.stop();
        if (RunModel *model = run_->model()) model->sample(monotonic_seconds());
        if (observer_.progress_changed) observer_.progress_changed();
    });
    notify_state();
    if (observer_.run_started) observer_.run_started(run_id);
    return StartError::none;
}

bool Manager::cancel_run() {
    if (!run_ || run_->phase() == BackupRun::Phase::finished) return false;
    journal_.log(LOG_NOTICE, "run " + run_->run_id() + ": cancelling", {{"DAILYSYNC_RUN_ID", run_->run_id()}});
    run_->cancel();
    return true;
}

void Manager::run_finished(const RunModel &model) {
    sample_timer_.stop();
    const RunResult result = model.result();
    const RunTotals totals = model.totals();
    const std::string result_text(to_string(result));
    for (const auto &unit : model.units()) {
        if (unit.state != UnitState::failed && unit.state != UnitState::partial) continue;
        // One entry per project concerned, so journalctl DAILYSYNC_PROJECT=x finds it.
        for (const auto &project : affected_projects(unit, config_.source)) {
            journal_.log(LOG_ERR,
                         "run " + model.run_id() + ": project " + project + " " + std::string(to_string(unit.state)) + " (unit " +
                             unit.unit.name + "): " + unit.message,
                         {{"DAILYSYNC_RUN_ID", model.run_id()},
                          {"DAILYSYNC_PROJECT", project},
                          {"DAILYSYNC_UNIT", unit.unit.name},
                          {"DAILYSYNC_RESULT", std::string(to_string(unit.state))},
                          {"DAILYSYNC_EXIT_CODE", std::to_string(unit.exit_code)}},
                         kMessageUnitFailed);
        }
    }
    const double seconds = model.finished() ? std::chrono::duration<double>(*model.finished() - model.started()).count() : 0;
    // A dry run (a verify too) copies and deletes nothing: it found what a run would do.
    const bool dry = model.dry_run();
    std::string message = "run " + model.run_id() + " finished: " + result_text + ", " + count_of(totals.files_transferred, "file", "files") +
                          " (" + format_bytes(totals.bytes_transferred) + ")" + (dry ? " to copy, " : " copied, ") +
                          std::to_string(totals.deletions) + (dry ? " to delete, " : " deleted, ") + std::to_string(totals.units_failed) +
                          " of " + count_of(totals.units_total, "unit", "units") +
                          " failed, took " + format_duration(seconds);
    if (!model.run_error().empty()) message += ": " + model.run_error();
    if (!run_->report_error().empty()) {
        journal_.log(LOG_ERR, "run " + model.run_id() + ": cannot write the report: " + run_->report_error(),
                     {{"DAILYSYNC_RUN_ID", model.run_id()}});
    }
    bottleneck_ = run_->bottleneck();
    LogFields fields = {{"DAILYSYNC_RUN_ID", model.run_id()},
                        {"DAILYSYNC_RESULT", result_text},
                        {"DAILYSYNC_BYTES", std::to_string(totals.bytes_transferred)},
                        {"DAILYSYNC_FILES", std::to_string(totals.files_transferred)}};
    if (bottleneck_) {
        message += "; bottleneck " + bottleneck_->resource + " (" + bottleneck_->evidence + ")";
        fields.emplace_back("DAILYSYNC_BOTTLENECK", bottleneck_->resource);
    }
    journal_.log(priority_for(result), message, fields, kMessageRunFinished);
    persisted_.last_run_id = model.run_id();
    persisted_.last_result = result_text;
    if (!model.dry_run()) persisted_.last_backup_run_id = model.run_id();
    persisted_.active_run_id.clear();
    persisted_.active_run_started.reset();
    const std::time_t finished = std::chrono::system_clock::to_time_t(model.finished().value_or(std::chrono::system_clock::now()));
    const bool succeeded = result == RunResult::success || result == RunResult::warning;
    if (succeeded && !model.dry_run()) persisted_.last_success = finished;   // a verify copies nothing
    if (model.dry_run() && result != RunResult::cancelled && !model.units().empty()) {   // a verify that compared
        persisted_.last_verify = finished;
        persisted_.last_verify_differing = model.changes().counts[static_cast<int>(ChangeKind::differs)];
    }
    if (!model.dry_run()) {   // what the last backup copied, not what a verify compared
        persisted_.last_duration = seconds;
        persisted_.last_bytes = totals.bytes_transferred;
        persisted_.last_files = totals.files_transferred;
    }
    // A project is backed up when every unit that copies part of it succeeded.
    std::map<std::string, bool> complete;
    for (const auto &unit : model.units()) {
        const bool ok = unit.state == UnitState::success || unit.state == UnitState::warning;
        for (const auto &project : covered_projects(unit)) {
            auto [it, inserted] = complete.emplace(project, ok);
            if (!inserted) it->second = it->second && ok;
        }
    }
    for (const auto &[project, ok] : complete)
        if (ok && !model.dry_run()) persisted_.project_success[project] = finished;
    persist();
    write_metrics();
    // Every backup pings the webhook; a verify alerts only when it failed (found damage,
    // or could not compare), not when it was stopped (by the daily run, by an admin).
    if (!model.dry_run() || result == RunResult::failed) {
        const bool failure = run_needs_alert(result_text);
        auto report = parse_report(run_->report()).doc;
        if (!report.is_object()) report = nlohmann::json{{"run_id", model.run_id()}, {"result", result_text}, {"error", model.run_error()}};
        alert(AlertEvent{failure, failure ? model.run_id() : std::string(), "run " + model.run_id() + " " + result_text,
                         run_alert_payload(report, host_name())});
    }
    check_stale();
    if (model.dry_run())
        for (const auto &path : model.changes().differing)
            journal_.log(LOG_ERR, "run " + model.run_id() + ": verify: differs from the source: " + path,
                         {{"DAILYSYNC_RUN_ID", model.run_id()}, {"DAILYSYNC_VERIFY_DIFFERS", path}});
    // The daily run went well: today's slice of the backup is verified next.
    const bool verify_next = run_scheduled_ && succeeded && !model.dry_run() && config_.verify_every_days > 0;
    locks_ = RunLocks{};
    const std::string run_id = model.run_id();
    // The model lives in run_; keep it until the observers have read the final numbers.
    boost::asio::post(io_, [this, run_id, result_text, verify_next] {
        run_.reset();
        if (state_ == ManagerState::running) state_ = ManagerState::idle;
        if (daily_after_run_ && state_ != ManagerState::stopping) catch_up_at_ = std::time(nullptr);   // the daily run, now
        daily_after_run_ = false;
        arm_schedule();
        if (observer_.run_finished) observer_.run_finished(run_id, result_text);
        if (shutdown_done_) return persist(std::move(shutdown_done_));   // once every state write is done
        if (verify_next) start_verify_slice();
    });
}

void Manager::persist(std::function<void()> then) {
    on_state_worker<std::string>(
        "the state folder " + config_.state_dir, [store = store_, state = persisted_](WorkProgress &) { return store.save_state(state).error(); },
        [](std::string unanswered) { return unanswered; },
        [this, then = std::move(then)](std::string error) {
            if (!error.empty())
                journal_.log(LOG_ERR, "cannot save the state: " + error + " (backups go on; the history of this run may be lost)");
            if (then) then();
        });
}

void Manager::write_metrics() {
    if (config_.metrics_file.empty()) return;
    MetricsSnapshot snapshot;
    snapshot.last_success = persisted_.last_success;
    snapshot.last_duration_seconds = persisted_.last_duration;
    snapshot.last_bytes = persisted_.last_bytes;
    snapshot.last_files = persisted_.last_files;
    snapshot.last_result = persisted_.last_result;
    snapshot.project_last_success = persisted_.project_success;
    snapshot.last_verify = persisted_.last_verify;
    snapshot.last_verify_differing = persisted_.last_verify_differing;
    // Readable by node_exporter's textfile collector, which runs as its own user.
    on_state_worker<std::string>(
        "the metrics file " + config_.metrics_file,
        [path = config_.metrics_file, text = format_metrics(snapshot)](WorkProgress &) { return write_file_atomically(path, text, 0644).error(); },
        [](std::string unanswered) { return unanswered; },
        [this](std::string error) {
            if (!error.empty()) journal_.log(LOG_ERR, "cannot write the metrics file: " + error);
        });
}

void Manager::reload(Reloaded done) {
    const ConfigResult loaded = read_config_file(config_path_);
    auto refuse = [this](const std::string &line) {
        journal_.log(LOG_ERR, "reload refused, keeping the running configuration: " + line);
        return line;
    };
    if (!loaded.config) return done(refuse(format_config_error(config_path_, *loaded.error)));
    const std::uint64_t reload = ++reloads_;
    const auto deadline = std::min<std::chrono::milliseconds>(std::chrono::seconds(loaded.config->filesystem_timeout_seconds), kPlacesDeadline);
    check_places(workers_.trees, *loaded.config, deadline, " while the new configuration was checked",
                 [this, reload, config = *loaded.config, done = std::move(done)](std::optional<Problem> problem) mutable {
                     reloaded(reload, std::move(config), problem, done);
                 });
}

void Manager::reloaded(std::uint64_t reload, Config config, const std::optional<Problem> &problem, const Reloaded &done) {
    auto refuse = [this, &done](const std::string &line) {
        journal_.log(LOG_ERR, "reload refused, keeping the running configuration: " + line);
        done(line);
    };
    if (state_ == ManagerState::stopping) return refuse("dailysyncd is stopping");
    if (reload != reloads_) return refuse("a later reload was asked for meanwhile; that one applies");
    if (problem) return refuse(format_config_error(config_path_, paths_config_error(*problem)));
    config_ = std::move(config);
    store_ = StateStore(config_);
    journal_.log(LOG_INFO, "configuration reloaded from " + config_path_ + "; daily at " + config_.daily_at() +
                               (run_ ? " (the active run keeps the previous configuration)" : ""));
    arm_schedule();
    check_stale();
    done({});
}

void Manager::alert(AlertEvent event) const {
    if (observer_.alert) observer_.alert(event);
}

void Manager::check_stale() {
    stale_timer_.stop();
    const StaleWatch watch{persisted_.last_success, persisted_.watching_since, persisted_.stale_alerted, config_.alerts.stale_after_seconds};
    const std::time_t now = std::time(nullptr);
    if (stale_alert_due(watch, now)) {
        persisted_.stale_alerted = now;
        persist();
        const auto payload = stale_alert_payload(watch, now, persisted_.last_run_id, persisted_.last_result, host_name());
        journal_.log(LOG_ERR, "the backup is stale: " + payload.value("error", std::string()) + " (alerts.stale_after " +
                                  format_duration_text(config_.alerts.stale_after_seconds) + ")",
                     {{"DAILYSYNC_RESULT", "stale"}});
        alert(AlertEvent{true, std::string(kStaleInstance), "backup stale", payload});
        return;
    }
    const auto at = stale_at(watch);
    if (!at || *at <= now) return;   // off, or this spell was alerted already: the next success re-arms
    // Wall-clock time, checked at least hourly (a clock set meanwhile re-arms through clock_watch_).
    stale_timer_.after(std::min<std::chrono::seconds>(std::chrono::seconds(*at - now), std::chrono::hours(1)), [this] {
        if (state_ != ManagerState::stopping) check_stale();
    });
}

void Manager::shutdown(std::function<void()> done) {
    schedule_timer_.stop();
    stale_timer_.stop();
    clock_watch_.reset();
    const bool active = run_ != nullptr;
    state_ = ManagerState::stopping;
    notify_state();
    if (!active) {
        persist(std::move(done));
        return;
    }
    shutdown_done_ = std::move(done);
    run_->cancel();
}

std::string Manager::status_line() const {
    if (state_ == ManagerState::running && run_) {
        if (run_->phase() == BackupRun::Phase::checking || run_->phase() == BackupRun::Phase::scanning ||
            run_->phase() == BackupRun::Phase::comparing)
            return "Running " + run_->run_id() + ": " + run_->phase_text();
        if (const RunModel *model = run_->model()) {
            const RunTotals t = model->totals();
            char percent[16];
            std::snprintf(percent, sizeof percent, "%d%%", static_cast<int>(std::floor(t.fraction * 100)));
            return "Running " + run_->run_id() + ": " + percent + ", " + std::to_string(t.files_done) + "/" +
                   std::to_string(t.files_total) + " files, " + format_rate(t.bytes_per_second) + ", ETA " + format_eta(t.eta_seconds);
        }
    }
    if (state_ == ManagerState::stopping) return "Stopping";
    std::string line = "Idle";
    if (!persisted_.last_result.empty()) line += "; last run " + persisted_.last_result;
    if (next_run_) line += "; next run " + local_time_text(*next_run_);
    return line;
}

void Manager::notify_state() const {
    if (observer_.state_changed) observer_.state_changed();
}

}  // namespace dailysync
