#include "io/rsync_child.hpp"

#include "io/spawn.hpp"

#include <boost/asio/connect_pipe.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>
#include <csignal>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace dailysync {

namespace asio = boost::asio;
namespace bp = boost::process::v2;


std::string find_program(const std::string &name) {
    if (name.empty()) return {};
    if (name.front() == '/') return ::access(name.c_str(), X_OK) == 0 ? name : std::string{};
    auto found = bp::environment::find_executable(name);
    return found.string();
}

std::shared_ptr<RsyncChild> RsyncChild::create(asio::io_context &io, Options options, OnOutput on_output, OnExit on_exit) {
    return std::shared_ptr<RsyncChild>(new RsyncChild(io, std::move(options), std::move(on_output), std::move(on_exit)));
}

RsyncChild::RsyncChild(asio::io_context &io, Options options, OnOutput on_output, OnExit on_exit)
    : io_(io), options_(std::move(options)), on_output_(std::move(on_output)), on_exit_(std::move(on_exit)),
      stdin_pipe_(io), stdout_pipe_(io), stderr_pipe_(io), quiet_timer_(io), kill_timer_(io), drain_timer_(io), stdout_parser_(options_.dry_run, options_.name_prefix) {
    if (options_.on_item) stdout_parser_.on_item(options_.on_item);
}

RsyncChild::~RsyncChild() {
    // The supervisor keeps a child alive until on_exit; by then the process is reaped.
    if (process_) process_->detach();
}

void RsyncChild::start() {
    asio::writable_pipe stdout_write(io_), stderr_write(io_);
    asio::readable_pipe stdin_read(io_);
    bp::error_code ec;
    asio::connect_pipe(stdout_pipe_, stdout_write, ec);
    if (!ec) asio::connect_pipe(stderr_pipe_, stderr_write, ec);
    if (!ec && !options_.input.empty()) {
        asio::connect_pipe(stdin_read, stdin_pipe_, ec);
        // Our end must not reach the child: rsync would hold its own stdin open and
        // never read the end of the list.
        if (!ec) ::fcntl(stdin_pipe_.native_handle(), F_SETFD, FD_CLOEXEC);
    }
    std::string start_error = ec ? "cannot start " + options_.program + ": " + ec.message() : std::string{};
    if (!ec) {
        std::vector<std::string> argv = {options_.program};
        argv.insert(argv.end(), options_.arguments.begin(), options_.arguments.end());
        process_ = start_process(io_,
                                 SpawnRequest{options_.program, std::move(argv), std::nullopt,
                                              stdin_read.is_open() ? stdin_read.native_handle() : -1, stdout_write.native_handle(),
                                              stderr_write.native_handle()},
                                 start_error);
    }
    stdout_write.close();
    stderr_write.close();
    if (stdin_read.is_open()) stdin_read.close();
    if (!process_) {
        exit_.started = false;
        exit_.start_error = start_error;
        asio::post(io_, [self = shared_from_this()] { self->on_exit_(self->exit_); });
        return;
    }
    pid_ = process_->id();
    if (!options_.input.empty())
        // A child that exits before reading it all ends the write with EPIPE (SIGPIPE is
        // ignored by the daemon): its exit tells what went wrong.
        asio::async_write(stdin_pipe_, asio::buffer(options_.input), [self = shared_from_this()](bp::error_code, std::size_t) {
            bp::error_code ignored;
            self->stdin_pipe_.close(ignored);
        });
    read_stdout();
    read_stderr();
    arm_quiet_timer();
    process_->async_wait([self = shared_from_this()](bp::error_code wait_error, int) {
        auto status = self->process_->native_exit_code();
        if (wait_error) {
            self->exit_.exit_code = -1;
            self->exit_.start_error = "waiting for rsync failed: " + wait_error.message();
        } else if (WIFSIGNALED(status)) {
            self->exit_.signal = WTERMSIG(status);
        } else if (WIFEXITED(status)) {
            self->exit_.exit_code = WEXITSTATUS(status);
        }
        self->exited_ = true;
        self->part_done();
    });
}

void RsyncChild::read_stdout() {
    stdout_pipe_.async_read_some(asio::buffer(stdout_buffer_), [self = shared_from_this()](bp::error_code ec, std::size_t n) {
        if (n > 0 && !self->reported_) {   // (an abandoned child's late words belong to no attempt)
            self->stdout_parser_.feed(std::string_view(self->stdout_buffer_.data(), n));
            self->arm_quiet_timer();
            if (self->on_output_) self->on_output_();
        }
        if (ec) {
            self->stdout_parser_.finish();
            self->part_done();
            return;
        }
        self->read_stdout();
    });
}

void RsyncChild::read_stderr() {
    stderr_pipe_.async_read_some(asio::buffer(stderr_buffer_), [self = shared_from_this()](bp::error_code ec, std::size_t n) {
        if (n > 0) self->stderr_parser_.feed(std::string_view(self->stderr_buffer_.data(), n));
        if (ec) {
            self->stderr_parser_.finish();
            self->part_done();
            return;
        }
        self->read_stderr();
    });
}

void RsyncChild::arm_quiet_timer() {
    if (options_.quiet_after.count() <= 0 || exited_ || reported_) return;
    quiet_timer_.after(options_.quiet_after, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self || self->exited_ || self->parts_pending_ == 0) return;
        if (self->options_.on_quiet) self->options_.on_quiet();
    });
}

void RsyncChild::signal_group(int signal) {
    // The group id stays reserved while any member lives; members hold our pipes open, so
    // while a part is pending the id cannot name somebody else's group.
    if (pid_ > 0 && parts_pending_ > 0) ::kill(-pid_, signal);
}

void RsyncChild::terminate(std::chrono::seconds grace) {
    if (pid_ <= 0 || parts_pending_ == 0) return;
    killed_ = true;
    signal_group(SIGTERM);
    // A stopped rsync handles SIGTERM (removing its temporary file) only once continued;
    // systemd sends the same pair.
    signal_group(SIGCONT);
    kill_timer_.after(grace, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self) return;
        self->signal_group(SIGKILL);
        self->kill_timer_.after(kAbandonAfterKill, [weak] {
            if (auto self = weak.lock()) self->abandon();
        });
    });
}

void RsyncChild::abandon() {
    if (reported_) return;
    // Its reads and its wait stay armed: if it ever ends it is reaped, and nothing more
    // is reported. Until then its group keeps its id, so signal_group stays safe.
    exit_.abandoned = true;
    exit_.signal = SIGKILL;
    report();
}

void RsyncChild::report() {
    if (reported_) return;
    reported_ = true;
    drain_timer_.stop();
    quiet_timer_.stop();
    on_exit_(exit_);
}

void RsyncChild::part_done() {
    if (--parts_pending_ > 0 || reported_) return;
    quiet_timer_.stop();
    kill_timer_.stop();
    if (exit_.signal || killed_) {
        // Killed from outside or by us: a helper process of rsync may still be alive (one
        // that closed its pipes, or was forked while the group was being killed) and could
        // still create a temporary file after the supervisor cleaned up. The attempt is
        // over: kill what is left of the group and report once it is empty.
        drain_until_ = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        drain_group();
        return;
    }
    report();
}

void RsyncChild::drain_group() {
    // The leader is reaped, so the id names our group only while members live; pids are
    // not reused while a process group of that id exists.
    if (::kill(-pid_, SIGKILL) != 0 || std::chrono::steady_clock::now() > drain_until_) return report();
    if (!drain_timer_.running())
        drain_timer_.every(std::chrono::milliseconds(20), [weak = weak_from_this()] {
            if (auto self = weak.lock()) self->drain_group();
        });
}

std::shared_ptr<Child> LocalLauncher::launch(ChildOptions options, Child::OnOutput on_output, Child::OnExit on_exit) {
    auto child = RsyncChild::create(io_, std::move(options), std::move(on_output), std::move(on_exit));
    child->start();
    return child;
}

ChildLauncher::Resolver LocalLauncher::resolver() const { return find_program; }

}  // namespace dailysync
