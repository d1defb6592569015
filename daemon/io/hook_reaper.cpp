#include "io/hook_reaper.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <map>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/hooks.hpp"
#include "io/hook_process.hpp"

namespace dailysync {

std::vector<std::string> hook_reaper_arguments(int parent_pid, int grace_seconds, const std::string &program,
                                               const std::vector<std::string> &argv) {
    std::vector<std::string> args = {std::string(kHookReaperFlag), std::to_string(parent_pid), std::to_string(grace_seconds), program};
    args.insert(args.end(), argv.begin(), argv.end());
    return args;
}

namespace {

// Every process below `root` now (children, their children...), from /proc's parent links.
std::vector<pid_t> descendants_of(pid_t root) {
    std::multimap<pid_t, pid_t> children;   // parent -> child
    if (DIR *proc = ::opendir("/proc")) {
        while (const dirent *entry = ::readdir(proc)) {
            char *end = nullptr;
            const long pid = std::strtol(entry->d_name, &end, 10);
            if (pid <= 0 || *end != '\0') continue;
            std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
            std::string line;
            if (!std::getline(stat, line)) continue;   // gone meanwhile
            // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
            const auto close = line.rfind(')');
            if (close == std::string::npos) continue;
            char state = 0;
            long parent = 0;
            if (std::sscanf(line.c_str() + close + 1, " %c %ld", &state, &parent) == 2)
                children.emplace(static_cast<pid_t>(parent), static_cast<pid_t>(pid));
        }
        ::closedir(proc);
    }
    std::vector<pid_t> found;
    std::vector<pid_t> todo = {root};
    while (!todo.empty()) {
        const pid_t parent = todo.back();
        todo.pop_back();
        const auto [first, last] = children.equal_range(parent);
        for (auto it = first; it != last; ++it) {
            found.push_back(it->second);
            todo.push_back(it->second);
        }
    }
    return found;
}

void signal_all_below(int signal) {
    for (const pid_t pid : descendants_of(::getpid())) ::kill(pid, signal);
}

// Reaps what has ended; records the hook's status when it is among them.
void reap(pid_t hook, bool &hook_done, int &hook_status) {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
        if (pid == hook) {
            hook_done = true;
            hook_status = status;
        }
}

// SIGKILL to everything below, again and again, until nothing is left to reap (or a
// process stuck in the kernel keeps us longer than `limit`).
void kill_all_below(pid_t hook, bool &hook_done, int &hook_status, std::chrono::seconds limit) {
    const std::time_t give_up = std::time(nullptr) + limit.count();
    for (;;) {
        signal_all_below(SIGKILL);
        reap(hook, hook_done, hook_status);
        errno = 0;
        if (::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD && descendants_of(::getpid()).empty()) return;
        if (std::time(nullptr) > give_up) return;
        ::usleep(10'000);
    }
}

[[noreturn]] void exit_as(int status) {
    if (WIFSIGNALED(status)) {
        const int signal = WTERMSIG(status);
        const rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);   // the hook's core, if any, was its own
        ::signal(signal, SIG_DFL);
        sigset_t just;
        sigemptyset(&just);
        sigaddset(&just, signal);
        ::sigprocmask(SIG_UNBLOCK, &just, nullptr);
        ::raise(signal);
    }
    std::exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

}  // namespace

int run_hook_reaper(const std::vector<std::string> &args) {
    if (args.size() < 4) {
        std::fprintf(stderr, "dailysyncd %s: internal use only (PARENT GRACE PROGRAM ARGV0 ARGS...)\n", std::string(kHookReaperFlag).c_str());
        return 127;
    }
    const pid_t parent = static_cast<pid_t>(std::strtol(args[0].c_str(), nullptr, 10));
    const int grace = std::max(0, static_cast<int>(std::strtol(args[1].c_str(), nullptr, 10)));
    // Looked up here, not in the daemon: a hook's path may reach a network filesystem.
    const std::string program = find_hook_program(args[2]);
    if (program.empty()) {
        std::fprintf(stderr, "%s%s\n", std::string(kHookCannotStart).c_str(), hook_program_problem(args[2]).c_str());
        return 127;
    }

    sigset_t handled;
    sigemptyset(&handled);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&handled, s);
    ::sigprocmask(SIG_BLOCK, &handled, nullptr);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);   // the daemon gone: stop the hook as on a cancel
    if (::getppid() != parent) return 127;   // it died before that took effect

    const pid_t hook = ::fork();
    if (hook < 0) {
        std::fprintf(stderr, "cannot start %s: %s\n", program.c_str(), std::strerror(errno));
        return 127;
    }
    if (hook == 0) {
        ::prctl(PR_SET_PDEATHSIG, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        std::vector<char *> argv;
        for (std::size_t i = 3; i < args.size(); ++i) argv.push_back(const_cast<char *>(args[i].c_str()));
        argv.push_back(nullptr);
        ::execv(program.c_str(), argv.data());
        std::fprintf(stderr, "cannot start %s: %s\n", program.c_str(), std::strerror(errno));
        ::_exit(127);
    }

    bool hook_done = false, stopping = false;
    int hook_status = 0;
    std::time_t kill_at = 0;
    for (;;) {
        reap(hook, hook_done, hook_status);
        if (hook_done) break;
        // Past the grace: everything below goes; the hook's status follows.
        if (stopping && std::time(nullptr) >= kill_at) signal_all_below(SIGKILL);
        timespec wait{1, 0};
        if (stopping) wait = {0, 100'000'000};
        siginfo_t info{};
        const int signal = ::sigtimedwait(&handled, &info, &wait);
        if ((signal == SIGTERM || signal == SIGINT || signal == SIGHUP) && !stopping) {
            stopping = true;
            kill_at = std::time(nullptr) + grace;
            signal_all_below(SIGTERM);
            signal_all_below(SIGCONT);   // a stopped process handles SIGTERM only once continued
        }
    }
    // The hook is over: what it left behind (its background processes, orphans it made)
    // must not outlive it holding the run's output pipe.
    kill_all_below(hook, hook_done, hook_status, std::chrono::seconds(5));
    exit_as(hook_status);
}

}  // namespace dailysync
