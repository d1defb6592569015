#include "io/spawn.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace dailysync {

namespace {

std::vector<char *> pointers_to(const std::vector<std::string> &strings) {
    std::vector<char *> out;
    out.reserve(strings.size() + 1);
    for (const auto &s : strings) out.push_back(const_cast<char *>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// In the child, between fork and exec: system calls only. Reports errno through `report`
// (close-on-exec: a successful exec closes it, which the parent reads as success).
[[noreturn]] void become_child(const char *program, char *const *argv, char *const *envp, int in, int out, int err, int report,
                               pid_t parent) {
    auto fail = [report]() {
        const int error = errno;
        [[maybe_unused]] const ssize_t n = ::write(report, &error, sizeof error);
        ::_exit(127);
    };
    const int null = (in < 0 || out < 0 || err < 0) ? ::open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
    if ((in < 0 || out < 0 || err < 0) && null < 0) fail();
    if (::dup2(in < 0 ? null : in, 0) < 0 || ::dup2(out < 0 ? null : out, 1) < 0 || ::dup2(err < 0 ? null : err, 2) < 0) fail();
    // Every other descriptor closes at exec (dup2 cleared close-on-exec on 0-2 only).
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
        for (int fd = 3; fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (::setpgid(0, 0) != 0) fail();
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail();
    if (::getppid() != parent) ::_exit(127);   // the daemon died before prctl took effect
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s)
        if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &default_action, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(program, argv, envp);
    fail();
    __builtin_unreachable();   // (fail() ends the process; the lambda cannot say so)
}

}  // namespace

SpawnResult spawn_child(const SpawnRequest &request) {
    SpawnResult result;
    // Everything the child needs is made before fork.
    const std::vector<char *> argv = pointers_to(request.argv);
    std::vector<char *> envp;
    if (request.environment) envp = pointers_to(*request.environment);
    char *const *env = request.environment ? envp.data() : environ;
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        result.error = "cannot start " + request.program + ": " + std::strerror(errno);
        return result;
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0)
        become_child(request.program.c_str(), argv.data(), env, request.stdin_fd, request.stdout_fd, request.stderr_fd, report[1],
                     parent);
    const int fork_error = errno;
    ::close(report[1]);
    if (pid < 0) {
        ::close(report[0]);
        result.error = "cannot start " + request.program + ": " + std::strerror(fork_error);
        return result;
    }
    int child_error = 0;
    ssize_t n;
    while ((n = ::read(report[0], &child_error, sizeof child_error)) < 0 && errno == EINTR) {
    }
    ::close(report[0]);
    if (n == static_cast<ssize_t>(sizeof child_error)) {   // it never reached its program
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        result.error = "cannot start " + request.program + ": " + std::strerror(child_error);
        return result;
    }
    result.pid = pid;
    return result;
}

std::unique_ptr<boost::process::v2::process> start_process(boost::asio::io_context &io, const SpawnRequest &request, std::string &error) {
    const SpawnResult started = spawn_child(request);
    if (started.pid <= 0) {
        error = started.error;
        return nullptr;
    }
    try {
        return std::make_unique<boost::process::v2::process>(io.get_executor(), started.pid);
    } catch (const std::exception &e) {   // no pidfd for it: it cannot be waited for on the loop
        ::kill(started.pid, SIGKILL);
        while (::waitpid(started.pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        error = "cannot start " + request.program + ": " + e.what();
        return nullptr;
    }
}

}  // namespace dailysync
