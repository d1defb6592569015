// One hook command as a child process: no shell, a clean environment, stdin from
// /dev/null, stdout and stderr together through one pipe read on the loop, started under
// a reaper of its own (io/hook_reaper.hpp) that ends the hook's whole process tree at its
// exit, its timeout or a cancel, whatever sessions or groups its children made.
// Mechanics only: the order of the commands and what a failure means are
// service/hook_runner's.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/hooks.hpp"
#include "io/loop_timer.hpp"

namespace dailysync {

// A hook's argv[0] as an absolute program path: itself when absolute, else found in
// kHookPath (the hook's own PATH, not the daemon's). "" when not found.
std::string find_hook_program(const std::string &name);
// "" when find_hook_program finds it; else why not, naming it.
std::string hook_program_problem(const std::string &name);

class HookProcess : public std::enable_shared_from_this<HookProcess> {
public:
    struct Options {
        std::vector<std::string> argv;          // argv[0]: absolute, or looked up in kHookPath (by the reaper)
        std::vector<std::string> environment;   // "NAME=value", the whole environment
        std::chrono::seconds timeout{600};
        std::chrono::seconds grace{10};         // SIGTERM -> SIGKILL
        // The program started as the reaper (`PROGRAM --hook-reaper ...`): dailysyncd itself.
        std::string reaper = "/proc/self/exe";
    };
    using OnLine = std::function<void(const std::string &)>;   // each output line (capped), on the loop
    using OnDone = std::function<void(HookOutcome)>;           // exactly once, on the loop

    // `outcome` carries the stage and index; the rest is filled in.
    static std::shared_ptr<HookProcess> start(boost::asio::io_context &io, Options options, HookOutcome outcome, OnLine on_line,
                                              OnDone on_done);
    void cancel();   // the run was cancelled: SIGTERM the group, SIGKILL after the grace
    ~HookProcess();

private:
    HookProcess(boost::asio::io_context &io, Options options, HookOutcome outcome, OnLine on_line, OnDone on_done);
    void begin();
    void read();
    void stop(bool timed_out);
    void part_done();
    void signal_group(int signal);
    void signal_reaper(int signal);

    boost::asio::io_context &io_;
    Options options_;
    HookOutcome outcome_;
    OnLine on_line_;
    OnDone on_done_;
    boost::asio::readable_pipe pipe_;
    LoopTimer timeout_timer_, kill_timer_;
    std::array<char, 4096> buffer_{};
    HookOutput output_;
    std::unique_ptr<boost::process::v2::process> process_;
    pid_t pid_ = -1;
    int parts_pending_ = 2;   // EOF on the pipe, exit
    bool stopping_ = false;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace dailysync
