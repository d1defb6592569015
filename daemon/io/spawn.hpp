// Starting a child process: fork, a few system calls, exec. Nothing between fork and exec
// allocates, takes a lock or can throw, because the daemon has threads: in a forked child
// of a threaded process only async-signal-safe calls are sound. (Boost.Process's own
// launchers call io_context::notify_fork in the child, which re-registers every descriptor
// of the loop: an allocation, which can deadlock there, and a throw, which once let the
// child run on as a second daemon. They are not used; a started child is handed to
// Boost.Process by its pid, for the pidfd wait.)
//
// The child gets a process group of its own (a cancel reaches its helpers too), dies with
// the daemon (PR_SET_PDEATHSIG: no orphan keeps writing), the default signal dispositions
// and an empty signal mask, and no descriptor but its three standard ones.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/process/v2/process.hpp>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace dailysync {

struct SpawnRequest {
    std::string program;                                   // absolute path
    std::vector<std::string> argv;                         // argv[0] included
    std::optional<std::vector<std::string>> environment;   // "NAME=value"; nullopt: the daemon's
    int stdin_fd = -1;                                     // -1: /dev/null
    int stdout_fd = -1, stderr_fd = -1;                    // -1: /dev/null
};

struct SpawnResult {
    pid_t pid = -1;      // > 0: started
    std::string error;   // otherwise: why not ("cannot start /usr/bin/rsync: No such file or directory")
};

SpawnResult spawn_child(const SpawnRequest &request);

// spawn_child, then the child as a Boost.Process process on `io` (its exit awaited through a
// pidfd). nullptr and `error` set when it could not be started.
std::unique_ptr<boost::process::v2::process> start_process(boost::asio::io_context &io, const SpawnRequest &request, std::string &error);

}  // namespace dailysync
