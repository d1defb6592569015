// One rsync child process on this machine (the Child LocalLauncher starts): started without a shell in its own process group, stdout and
// stderr read asynchronously into the parsers, exit observed through a pidfd. Mechanics
// only: what its exit or its silence means is the run scheduler's to decide.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "core/rsync_output.hpp"
#include "io/child_launcher.hpp"
#include "io/loop_timer.hpp"

namespace dailysync {

class RsyncChild final : public Child, public std::enable_shared_from_this<RsyncChild> {
public:
    using Options = ChildOptions;

    static std::shared_ptr<RsyncChild> create(boost::asio::io_context &io, Options options, OnOutput on_output, OnExit on_exit);
    ~RsyncChild();

    // Starts the process. on_exit is always called exactly once, later, from the loop:
    // after the exit status and EOF on both pipes and, when a signal ended rsync, once no
    // process of its group is left (rsync's local server side has its own stdout, so the
    // pipes can close while it still writes to the destination); or, after terminate(),
    // once it has been given up on (ChildExit::abandoned).
    void start();
    void terminate(std::chrono::seconds grace) override;

    TransferCounters counters() const override { return stdout_parser_.counters(); }
    std::uint64_t bytes_done() const override { return stdout_parser_.bytes_done(); }
    ErrorSummary errors() const override { return stderr_parser_.summary(); }
    std::vector<std::string> recent_transfers() const override { return stdout_parser_.recent_transfers(); }
    pid_t process_group() const override { return pid_; }

private:
    RsyncChild(boost::asio::io_context &io, Options options, OnOutput on_output, OnExit on_exit);
    void read_stdout();
    void read_stderr();
    void arm_quiet_timer();
    void part_done();
    void drain_group();
    void signal_group(int signal);
    void report();    // on_exit_, once
    void abandon();

    boost::asio::io_context &io_;
    Options options_;
    OnOutput on_output_;
    OnExit on_exit_;
    boost::asio::writable_pipe stdin_pipe_;
    boost::asio::readable_pipe stdout_pipe_;
    boost::asio::readable_pipe stderr_pipe_;
    LoopTimer quiet_timer_;
    LoopTimer kill_timer_;
    LoopTimer drain_timer_;
    std::chrono::steady_clock::time_point drain_until_;
    bool killed_ = false;   // terminate() was called
    bool reported_ = false; // on_exit_ was called
    std::array<char, 16384> stdout_buffer_{};
    std::array<char, 4096> stderr_buffer_{};
    RsyncStdoutParser stdout_parser_;
    RsyncStderrParser stderr_parser_;
    std::unique_ptr<boost::process::v2::process> process_;
    pid_t pid_ = -1;
    bool exited_ = false;
    int parts_pending_ = 3;   // stdout EOF, stderr EOF, exit
    ChildExit exit_;
};

// Resolves a program name through PATH (or checks an absolute path); "" if not found.
std::string find_program(const std::string &name);

}  // namespace dailysync
