// What every child of the daemon (rsync, hook commands) gets between fork and exec.
#pragma once

#include <boost/process/v2/error.hpp>
#include <boost/process/v2/detail/config.hpp>
#include <csignal>
#include <sys/prctl.h>
#include <unistd.h>

namespace dailysync {

// A process group of its own (so a cancel reaches the child's own helper processes too),
// and death with the daemon (no orphan keeps writing); default signal handling.
struct ChildSetup {
    pid_t parent;
    template <class Launcher, class Path>
    boost::process::v2::error_code on_exec_setup(Launcher &, const Path &, const char *const *) {
        namespace bp = boost::process::v2;
        if (::setpgid(0, 0) != 0) return bp::error_code(errno, bp::system_category());
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return bp::error_code(errno, bp::system_category());
        if (::getppid() != parent) ::_exit(127);   // the daemon died before prctl took effect
        // The daemon may ignore or block signals; its children must see the defaults.
        ::signal(SIGPIPE, SIG_DFL);
        ::signal(SIGTERM, SIG_DFL);
        ::signal(SIGINT, SIG_DFL);
        ::signal(SIGHUP, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        return {};
    }
};

}  // namespace dailysync
