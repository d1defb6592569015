#include "io/hook_process.hpp"

#include <boost/asio/connect_pipe.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "io/spawn.hpp"
#include "io/hook_reaper.hpp"

namespace dailysync {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

std::string find_hook_program(const std::string &name) {
    if (name.find('/') != std::string::npos) return name.front() == '/' && ::access(name.c_str(), X_OK) == 0 ? name : std::string{};
    std::string_view path = kHookPath;
    while (!path.empty()) {
        const auto colon = path.find(':');
        const std::string candidate = std::string(path.substr(0, colon)) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) break;
        path.remove_prefix(colon + 1);
    }
    return {};
}

std::string hook_program_problem(const std::string &name) {
    if (name.empty()) return "no program named";
    if (!find_hook_program(name).empty()) return {};
    if (name.front() == '/') return "\"" + name + "\" is not an executable program";
    if (name.find('/') != std::string::npos) return "\"" + name + "\" is neither an absolute path nor a bare name looked up in " + std::string(kHookPath);
    return "\"" + name + "\" is not an executable program (looked up in " + std::string(kHookPath) + ")";
}

std::shared_ptr<HookProcess> HookProcess::start(asio::io_context &io, Options options, HookOutcome outcome, OnLine on_line, OnDone on_done) {
    auto hook = std::shared_ptr<HookProcess>(new HookProcess(io, std::move(options), std::move(outcome), std::move(on_line), std::move(on_done)));
    hook->begin();
    return hook;
}

HookProcess::HookProcess(asio::io_context &io, Options options, HookOutcome outcome, OnLine on_line, OnDone on_done)
    : io_(io), options_(std::move(options)), outcome_(std::move(outcome)), on_line_(std::move(on_line)), on_done_(std::move(on_done)),
      pipe_(io), timeout_timer_(io), kill_timer_(io) {
    outcome_.argv = options_.argv;
}

HookProcess::~HookProcess() {
    if (process_) process_->detach();
}

void HookProcess::begin() {
    started_ = std::chrono::steady_clock::now();
    // The program is looked up by the reaper (kHookCannotStart), off the loop.
    const std::string program = options_.argv.empty() ? std::string{} : options_.argv.front();
    std::string error;
    if (program.empty()) {
        error = hook_program_problem(program);
    } else {
        asio::writable_pipe write_end(io_);
        bp::error_code ec;
        asio::connect_pipe(pipe_, write_end, ec);
        if (ec) error = ec.message();
        else {
            std::vector<std::string> argv = {options_.reaper};
            const auto arguments = hook_reaper_arguments(::getpid(), static_cast<int>(options_.grace.count()), program, options_.argv);
            argv.insert(argv.end(), arguments.begin(), arguments.end());
            process_ = start_process(
                io_, SpawnRequest{options_.reaper, std::move(argv), options_.environment, -1, write_end.native_handle(), write_end.native_handle()},
                error);
        }
        write_end.close();
    }
    if (!process_) {
        outcome_.started = false;
        outcome_.start_error = error;
        asio::post(io_, [self = shared_from_this()] { self->on_done_(self->outcome_); });
        return;
    }
    pid_ = process_->id();
    read();
    timeout_timer_.after(options_.timeout, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->stop(true);
    });
    process_->async_wait([self = shared_from_this()](bp::error_code wait_error, int) {
        const int status = self->process_->native_exit_code();
        if (wait_error) self->outcome_.exit_code = -1;
        else if (WIFSIGNALED(status)) self->outcome_.signal = WTERMSIG(status);
        else if (WIFEXITED(status)) self->outcome_.exit_code = WEXITSTATUS(status);
        self->part_done();
    });
}

void HookProcess::read() {
    pipe_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](bp::error_code ec, std::size_t n) {
        if (n > 0)
            for (const auto &line : self->output_.feed(std::string_view(self->buffer_.data(), n)))
                if (self->on_line_) self->on_line_(line);
        if (ec) {
            for (const auto &line : self->output_.finish())
                if (self->on_line_) self->on_line_(line);
            self->part_done();
            return;
        }
        self->read();
    });
}

void HookProcess::signal_group(int signal) {
    // While a part is pending the group holds our pipe or is unreaped: the id is ours.
    if (pid_ > 0 && parts_pending_ > 0) ::kill(-pid_, signal);
}

void HookProcess::cancel() {
    if (parts_pending_ == 0 || stopping_) return;
    outcome_.cancelled = true;
    stop(false);
}

void HookProcess::signal_reaper(int signal) {
    if (pid_ > 0 && parts_pending_ > 0) ::kill(pid_, signal);
}

void HookProcess::stop(bool timed_out) {
    if (parts_pending_ == 0 || stopping_) return;
    stopping_ = true;
    outcome_.timed_out = timed_out;
    // The reaper stops the whole tree: SIGTERM now, SIGKILL after the grace.
    signal_reaper(SIGTERM);
    signal_reaper(SIGCONT);
    // Should the reaper itself not end (stopped, stuck), its group goes after a while more.
    kill_timer_.after(options_.grace + std::chrono::seconds(5), [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->signal_group(SIGKILL);
    });
}

void HookProcess::part_done() {
    if (--parts_pending_ > 0) return;
    timeout_timer_.stop();
    kill_timer_.stop();
    // A background process the hook left behind must not outlive it holding the run: the
    // group goes (the pipe's EOF already says nobody else writes to it).
    if (pid_ > 0) ::kill(-pid_, SIGKILL);
    outcome_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    outcome_.output = output_.tail();
    if (outcome_.exit_code == 127 && outcome_.output.starts_with(kHookCannotStart)) {
        // The reaper found no such program: it never started.
        outcome_.started = false;
        outcome_.start_error = outcome_.output.substr(kHookCannotStart.size());
        while (!outcome_.start_error.empty() && outcome_.start_error.back() == '\n') outcome_.start_error.pop_back();
        outcome_.output.clear();
    }
    on_done_(outcome_);
}

}  // namespace dailysync
