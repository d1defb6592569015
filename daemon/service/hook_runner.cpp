#include "service/hook_runner.hpp"

#include <boost/asio/post.hpp>

namespace dailysync {

const std::vector<std::vector<std::string>> &hook_commands(const Hooks &hooks, HookStage stage) {
    switch (stage) {
    case HookStage::before_run: return hooks.before_run;
    case HookStage::after_run: return hooks.after_run;
    case HookStage::on_failure: return hooks.on_failure;
    }
    return hooks.before_run;
}

std::shared_ptr<HookRunner> HookRunner::run(boost::asio::io_context &io, const Config &config, HookStage stage, const HookContext &context,
                                            OnLine on_line, OnDone on_done) {
    auto runner = std::shared_ptr<HookRunner>(new HookRunner(io, config, stage, context, std::move(on_line), std::move(on_done)));
    boost::asio::post(io, [runner] { runner->next(); });
    return runner;
}

HookRunner::HookRunner(boost::asio::io_context &io, const Config &config, HookStage stage, const HookContext &context, OnLine on_line,
                       OnDone on_done)
    : io_(io), commands_(hook_commands(config.hooks, stage)), stage_(stage), on_line_(std::move(on_line)), on_done_(std::move(on_done)) {
    options_.environment = hook_environment(stage, context);
    options_.timeout = std::chrono::seconds(config.hooks.timeout_seconds);
    options_.grace = std::chrono::seconds(config.cancel_grace_seconds);
}

void HookRunner::cancel() {
    cancelled_ = true;
    if (current_) current_->cancel();
}

void HookRunner::next() {
    current_.reset();
    const bool stop = stage_ == HookStage::before_run && !outcomes_.empty() && !outcomes_.back().ok();
    if (cancelled_ || stop || outcomes_.size() == commands_.size()) {
        auto done = std::move(on_done_);
        done(std::move(outcomes_));
        return;
    }
    HookOutcome outcome;
    outcome.stage = stage_;
    outcome.index = outcomes_.size();
    outcome.argv = commands_[outcome.index];
    HookProcess::Options options = options_;
    options.argv = outcome.argv;
    current_ = HookProcess::start(
        io_, std::move(options), outcome,
        [self = shared_from_this(), outcome](const std::string &line) {
            if (self->on_line_) self->on_line_(outcome, line);
        },
        [self = shared_from_this()](HookOutcome ended) {
            self->outcomes_.push_back(std::move(ended));
            self->next();
        });
}

}  // namespace dailysync
