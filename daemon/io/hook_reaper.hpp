// The keeper of one hook command's process tree. A hook may start children that leave its
// process group (setsid), that its own exit orphans (a double fork), or that ignore
// SIGTERM; none may outlive the hook's timeout, a cancel or the daemon. So the daemon does
// not start a hook directly: it starts itself as `dailysyncd --hook-reaper PARENT GRACE
// PROGRAM ARGV0 ARGS...`, which becomes a child subreaper (PR_SET_CHILD_SUBREAPER: every
// orphan below it is reparented to it, never to init), starts the hook, and
//   - when the hook exits, kills every process still below it and exits as the hook did
//     (same exit code, or the same signal);
//   - on SIGTERM (the hook's timeout or a cancel, from the daemon) sends SIGTERM and
//     SIGCONT to every process below it, and SIGKILL to all that are left GRACE seconds
//     later;
//   - when the daemon dies (PR_SET_PDEATHSIG), does the same as on SIGTERM.
// "Below it" is found in /proc (parent links), so it holds whatever sessions or groups
// the processes made. Single-threaded, no event loop: a plain sigtimedwait loop.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dailysync {

inline constexpr std::string_view kHookReaperFlag = "--hook-reaper";

// The reaper's argv for a hook: `self` is the daemon's program ("/proc/self/exe").
std::vector<std::string> hook_reaper_arguments(int parent_pid, int grace_seconds, const std::string &program,
                                               const std::vector<std::string> &argv);

// The reaper's main: `args` are what follows kHookReaperFlag. Returns only when the hook
// exited normally (its exit code) or could not be started (127); a hook ended by a signal
// makes the reaper end by the same signal.
int run_hook_reaper(const std::vector<std::string> &args);

}  // namespace dailysync
