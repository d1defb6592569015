#include "core/run_lifecycle.hpp"

#include <utility>

namespace dailysync {

std::string_view to_string(RunStep step) {
    switch (step) {
    case RunStep::hooks_before: return "hooks_before";
    case RunStep::load_state: return "load_state";
    case RunStep::check_destination: return "check_destination";
    case RunStep::check_source: return "check_source";
    case RunStep::scan: return "scan";
    case RunStep::compare: return "compare";
    case RunStep::note_unversioned: return "note_unversioned";
    case RunStep::begin_versions: return "begin_versions";
    case RunStep::copy: return "copy";
    case RunStep::check_source_at_end: return "check_source_at_end";
    case RunStep::verify_findings: return "verify_findings";
    case RunStep::finish_versions: return "finish_versions";
    case RunStep::write_report: return "write_report";
    case RunStep::hooks_after: return "hooks_after";
    case RunStep::hooks_on_failure: return "hooks_on_failure";
    case RunStep::rewrite_report: return "rewrite_report";
    case RunStep::done: return "done";
    }
    return "?";
}

bool RunLifecycle::before_copying() const {
    switch (step_) {
    case RunStep::hooks_before:
    case RunStep::load_state:
    case RunStep::check_destination:
    case RunStep::check_source:
    case RunStep::scan:
    case RunStep::compare:
    case RunStep::note_unversioned:
    case RunStep::begin_versions: return true;
    default: return false;
    }
}

void RunLifecycle::go(RunStep step, LifecycleCommands &out) {
    step_ = step;
    if (step == RunStep::done) {
        out.push_back(lifecycle::Finish{});
        return;
    }
    if (step == RunStep::copy) copy_started_ = true;
    const bool hooks = step == RunStep::hooks_before || step == RunStep::hooks_after || step == RunStep::hooks_on_failure;
    out.emplace_back(std::in_place_type<lifecycle::Do>, lifecycle::Do{step, hooks && stopping_, true});
}

void RunLifecycle::fail(Problem problem, LifecycleCommands &out) {
    failed_ = true;
    out.emplace_back(std::in_place_type<lifecycle::Fail>, lifecycle::Fail{std::move(problem)});
}

LifecycleCommands RunLifecycle::start() {
    LifecycleCommands out;
    if (started_) return out;
    started_ = true;
    go(settings_.hooks_before ? RunStep::hooks_before : RunStep::load_state, out);
    return out;
}

// The copy is over, or the run ends before it: the model is finished, then the source is
// checked once more (only after units ran and nothing failed or was cancelled: a source
// unmounted during the run makes it no backup, whatever rsync said).
void RunLifecycle::conclude(LifecycleCommands &out) {
    out.push_back(lifecycle::Conclude{});
    if (deferred_ && !failed_) fail(*std::exchange(deferred_, std::nullopt), out);
}

void RunLifecycle::after_end_check(LifecycleCommands &out) {
    if (settings_.verify && copy_started_) return go(RunStep::verify_findings, out);
    after_verify(out);
}

void RunLifecycle::after_verify(LifecycleCommands &out) {
    if (!versions_begun_) return go(RunStep::write_report, out);
    // Stopping: the version's end is recorded if the workers get to it, not waited for
    // (a version that still says "running" reads as partial).
    if (stopping_) {
        out.emplace_back(std::in_place_type<lifecycle::Do>, lifecycle::Do{RunStep::finish_versions, false, false});
        return go(RunStep::write_report, out);
    }
    go(RunStep::finish_versions, out);
}

void RunLifecycle::next_end_hook(LifecycleCommands &out) {
    if (!end_hooks_stopped_) {
        if (step_ == RunStep::write_report && settings_.hooks_after) {
            any_end_hooks_ = true;
            return go(RunStep::hooks_after, out);
        }
        if ((step_ == RunStep::write_report || step_ == RunStep::hooks_after) && settings_.hooks_on_failure && failed_or_cancelled_) {
            any_end_hooks_ = true;
            return go(RunStep::hooks_on_failure, out);
        }
    }
    go(any_end_hooks_ ? RunStep::rewrite_report : RunStep::done, out);
}

void RunLifecycle::before_copy(LifecycleCommands &out) {
    if (settings_.dry_run) return go(RunStep::copy, out);
    go(settings_.versions ? RunStep::begin_versions : RunStep::note_unversioned, out);
}

LifecycleCommands RunLifecycle::hooks_done(std::optional<Problem> refusal) {
    LifecycleCommands out;
    if (step_ == RunStep::hooks_before) {
        if (stopping_) {
            out.push_back(lifecycle::MarkCancelled{});
        } else if (refusal) {
            fail(std::move(*refusal), out);
        } else {
            go(RunStep::load_state, out);
            return out;
        }
        conclude(out);
        after_end_check(out);
    } else if (step_ == RunStep::hooks_after || step_ == RunStep::hooks_on_failure) {
        next_end_hook(out);
    }
    return out;
}

// A step before the copy answered. True when that settles it: the answer came late (its
// step is over: a cancel ended the run) or its problem ends the run there, failed.
bool RunLifecycle::settled(RunStep expected, std::optional<Problem> &problem, LifecycleCommands &out) {
    if (step_ != expected) return true;
    if (!problem) return false;
    fail(std::move(*problem), out);
    conclude(out);
    after_end_check(out);
    return true;
}

LifecycleCommands RunLifecycle::state_loaded(std::optional<Problem> problem) {
    LifecycleCommands out;
    if (settled(RunStep::load_state, problem, out)) return out;
    go(RunStep::check_destination, out);
    return out;
}

LifecycleCommands RunLifecycle::destination_checked(std::optional<Problem> problem) {
    LifecycleCommands out;
    if (settled(RunStep::check_destination, problem, out)) return out;
    go(RunStep::check_source, out);
    return out;
}

LifecycleCommands RunLifecycle::source_checked(std::optional<Problem> problem, Preparation next) {
    LifecycleCommands out;
    if (settled(RunStep::check_source, problem, out)) return out;
    switch (next) {
    case Preparation::scan: go(RunStep::scan, out); break;
    case Preparation::compare: go(RunStep::compare, out); break;
    case Preparation::plan: before_copy(out); break;
    }
    return out;
}

LifecycleCommands RunLifecycle::scanned(std::optional<Problem> problem) {
    LifecycleCommands out;
    if (settled(RunStep::scan, problem, out)) return out;
    before_copy(out);
    return out;
}

LifecycleCommands RunLifecycle::compared(std::optional<Problem> problem, std::optional<Problem> deferred) {
    LifecycleCommands out;
    if (settled(RunStep::compare, problem, out)) return out;
    deferred_ = std::move(deferred);
    before_copy(out);
    return out;
}

LifecycleCommands RunLifecycle::versions_begun(std::optional<Problem> problem) {
    const RunStep expected = step_ == RunStep::begin_versions ? RunStep::begin_versions : RunStep::note_unversioned;
    LifecycleCommands out;
    if (settled(expected, problem, out)) return out;
    if (step_ == RunStep::begin_versions) versions_begun_ = true;
    go(RunStep::copy, out);
    return out;
}

LifecycleCommands RunLifecycle::copy_finished(CopyEnd end) {
    LifecycleCommands out;
    if (step_ != RunStep::copy) return out;
    if (end.run_failed) failed_ = true;
    if (end.cancel_requested) stopping_ = true;
    conclude(out);
    if (end.units_ran && !failed_ && !stopping_) {
        go(RunStep::check_source_at_end, out);
        return out;
    }
    after_end_check(out);
    return out;
}

LifecycleCommands RunLifecycle::end_checked(std::optional<Problem> problem) {
    LifecycleCommands out;
    if (step_ != RunStep::check_source_at_end) return out;
    if (problem) {
        problem->text += ": what was not copied before is missing from this backup";
        fail(std::move(*problem), out);
    }
    after_end_check(out);
    return out;
}

LifecycleCommands RunLifecycle::verify_judged(std::optional<Problem> finding) {
    LifecycleCommands out;
    if (step_ != RunStep::verify_findings) return out;
    if (finding) fail(std::move(*finding), out);
    after_verify(out);
    return out;
}

LifecycleCommands RunLifecycle::versions_finished(std::optional<Problem> problem) {
    LifecycleCommands out;
    if (step_ != RunStep::finish_versions) return out;
    if (problem) fail(std::move(*problem), out);
    go(RunStep::write_report, out);
    return out;
}

LifecycleCommands RunLifecycle::report_written(bool failed_or_cancelled) {
    LifecycleCommands out;
    if (step_ != RunStep::write_report) return out;
    failed_or_cancelled_ = failed_or_cancelled;
    next_end_hook(out);
    return out;
}

LifecycleCommands RunLifecycle::report_rewritten() {
    LifecycleCommands out;
    if (step_ == RunStep::rewrite_report) go(RunStep::done, out);
    return out;
}

LifecycleCommands RunLifecycle::cancel() {
    LifecycleCommands out;
    const bool first = !stopping_;
    stopping_ = true;
    switch (step_) {
    case RunStep::hooks_before:
        // The stage stops; hooks_done then ends the run, cancelled.
        if (first && started_) out.push_back(lifecycle::StopHooks{});
        break;
    case RunStep::scan:
    case RunStep::compare:
        out.push_back(lifecycle::CancelCall{});
        [[fallthrough]];
    case RunStep::load_state:
    case RunStep::check_destination:
    case RunStep::check_source:
    case RunStep::note_unversioned:
    case RunStep::begin_versions:
        // A call on the trees may hang for its whole deadline: the run ends now, and what
        // that call answers later is dropped (its step is over).
        out.push_back(lifecycle::MarkCancelled{});
        conclude(out);
        after_end_check(out);
        break;
    case RunStep::copy:
        if (first) out.push_back(lifecycle::CancelCopy{});
        break;
    case RunStep::check_source_at_end:
        // A hung NAS must not hold a stopping service: reported without that check.
        fail(Problem{ProblemKind::interrupted, Side::source, settings_.source, 0,
                     "cancelled while the source was checked after the copy; this run is not known to be complete"},
             out);
        after_end_check(out);
        break;
    case RunStep::verify_findings:
        // The marking stops at its next file; its answer still comes.
        if (first) out.push_back(lifecycle::CancelCall{});
        break;
    case RunStep::hooks_after:
    case RunStep::hooks_on_failure:
        // The stage stops, the stages after it are skipped (the service must stop in time).
        if (!end_hooks_stopped_) {
            end_hooks_stopped_ = true;
            out.push_back(lifecycle::StopHooks{});
        }
        break;
    case RunStep::finish_versions:
    case RunStep::write_report:
    case RunStep::rewrite_report:
    case RunStep::done:
        break;   // waited for; the end hooks to come get the short timeout
    }
    return out;
}

}  // namespace dailysync
