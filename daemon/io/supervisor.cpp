#include "io/supervisor.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstring>

#include "core/rsync_command.hpp"

namespace dailysync {

std::shared_ptr<Supervisor> Supervisor::create(boost::asio::io_context &io, RunModel &model, Settings settings,
                                               OnChange on_change, OnDone on_done) {
    return std::shared_ptr<Supervisor>(new Supervisor(io, model, std::move(settings), std::move(on_change), std::move(on_done)));
}

Supervisor::Supervisor(boost::asio::io_context &io, RunModel &model, Settings settings, OnChange on_change, OnDone on_done)
    : io_(io), model_(model), settings_(std::move(settings)), on_change_(std::move(on_change)), on_done_(std::move(on_done)),
      children_(model.units().size()) {
    for (std::size_t i = 0; i < model.units().size(); ++i) retry_timers_.push_back(std::make_unique<boost::asio::steady_timer>(io));
}

void Supervisor::start() {
    fill();
    check_done();
}

bool Supervisor::ready(std::size_t index) const {
    const auto &unit = model_.units()[index];
    if (unit.state != UnitState::pending) return false;
    return !unit.unit.after || is_final(model_.units()[*unit.unit.after].state);
}

void Supervisor::fill() {
    if (model_.cancel_requested()) return;
    for (std::size_t i = 0; i < model_.units().size() && running_ < settings_.concurrency; ++i) {
        if (ready(i)) launch(i);
    }
}

void Supervisor::launch(std::size_t index) {
    ++running_;
    model_.unit_started(index, WallClock::now());
    RsyncChild::Options options;
    options.program = settings_.rsync_program;
    options.arguments = rsync_arguments(settings_.config, model_.units()[index].unit, settings_.dry_run);
    options.dry_run = settings_.dry_run;
    options.stall_timeout = std::chrono::seconds(settings_.config.stall_timeout_seconds);
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

void Supervisor::attempt_ended(std::size_t index, const ChildExit &exit) {
    auto child = std::move(children_[index]);
    --running_;
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
        const ExitMeaning meaning = interpret_exit_code(exit.exit_code);
        switch (meaning.result) {
        case UnitResult::success: outcome = UnitState::success; break;
        case UnitResult::warning: outcome = UnitState::warning; break;
        case UnitResult::partial: outcome = UnitState::partial; break;
        case UnitResult::failed: outcome = UnitState::failed; break;
        case UnitResult::cancelled: outcome = cancelling ? UnitState::cancelled : UnitState::failed; break;
        }
        transient = meaning.transient;
        if (outcome == UnitState::warning) {
            message = std::to_string(errors.vanished_count) + " source file(s) vanished during the copy";
        } else if (outcome != UnitState::success) {
            const std::string &detail = !errors.last_message.empty() ? errors.last_message : errors.summary;
            message = "rsync exit " + std::to_string(exit.exit_code) + " (" + std::string(meaning.description) + ")";
            if (!detail.empty()) message += ": " + detail;
        }
    }
    if (cancelling && outcome != UnitState::success && outcome != UnitState::warning) outcome = UnitState::cancelled;

    const auto &unit = model_.units()[index];
    const bool retry = outcome == UnitState::failed && transient && !cancelling && unit.attempts <= settings_.config.retries;
    model_.unit_attempt_ended(index, outcome, exit.signal ? -1 : exit.exit_code, message, errors, counters, retry, WallClock::now());
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
    }
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

std::vector<pid_t> Supervisor::running_pids() const {
    std::vector<pid_t> pids;
    for (const auto &child : children_)
        if (child && child->pid() > 0) pids.push_back(child->pid());
    return pids;
}

void Supervisor::check_done() {
    if (done_ || running_ > 0 || !model_.all_units_final()) return;
    done_ = true;
    model_.finish(WallClock::now());
    boost::asio::post(io_, [self = shared_from_this()] {
        if (self->on_done_) self->on_done_();
    });
}

}  // namespace dailysync
