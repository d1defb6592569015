// Runs one stage of the configured hooks: its commands one after another, each with the
// stage's environment and the hooks' timeout; every output line goes to `on_line`.
// before_run stops at the first command that fails (the later ones would run on a state
// the first did not make); after_run and on_failure run every command whatever the ones
// before did.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "core/config.hpp"
#include "core/hooks.hpp"
#include "io/hook_process.hpp"

namespace dailysync {

// A stage under way, as its starter hands it back.
class HookStageRun {
public:
    using OnLine = std::function<void(const HookOutcome &command, const std::string &line)>;
    using OnDone = std::function<void(std::vector<HookOutcome>)>;   // once, from the loop
    virtual ~HookStageRun() = default;
    virtual void cancel() = 0;   // stops the command running now; no further command starts
};
// How a run starts a stage: HookRunner::run, or a test's scripted stage.
using HookStarter = std::function<std::shared_ptr<HookStageRun>(boost::asio::io_context &io, const Config &config, HookStage stage,
                                                                const HookContext &context, HookStageRun::OnLine on_line,
                                                                HookStageRun::OnDone on_done)>;

class HookRunner final : public HookStageRun, public std::enable_shared_from_this<HookRunner> {
public:
    static std::shared_ptr<HookRunner> run(boost::asio::io_context &io, const Config &config, HookStage stage, const HookContext &context,
                                           OnLine on_line, OnDone on_done);
    // The starter for real commands (HookStarter).
    static std::shared_ptr<HookStageRun> start(boost::asio::io_context &io, const Config &config, HookStage stage,
                                               const HookContext &context, OnLine on_line, OnDone on_done) {
        return run(io, config, stage, context, std::move(on_line), std::move(on_done));
    }
    void cancel() override;

private:
    HookRunner(boost::asio::io_context &io, const Config &config, HookStage stage, const HookContext &context, OnLine on_line, OnDone on_done);
    void next();

    boost::asio::io_context &io_;
    std::vector<std::vector<std::string>> commands_;
    HookStage stage_;
    HookProcess::Options options_;
    OnLine on_line_;
    OnDone on_done_;
    std::vector<HookOutcome> outcomes_;
    std::shared_ptr<HookProcess> current_;
    bool cancelled_ = false;
};

// The commands the configuration lists for `stage`.
const std::vector<std::vector<std::string>> &hook_commands(const Hooks &hooks, HookStage stage);

}  // namespace dailysync
