// The port through which a run starts its rsync-like children, and the handle it gets
// back. LocalLauncher starts rsync on this machine (io/rsync_child); a launcher for more
// movers (rsync started over ssh on another host) or a test's scripted child gives the
// same Child, so the supervisor does not know the difference.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "core/rsync_output.hpp"

namespace dailysync {

struct ChildExit {
    bool started = true;         // false: it could not be started at all
    int exit_code = -1;          // when it exited normally
    int signal = 0;              // when a signal ended it
    std::string start_error;     // when !started
    // It did not end within kAbandonAfterKill of SIGKILL: it waits in the kernel on a
    // filesystem that does not answer (a FUSE or NFS request already sent). It is left
    // behind, still our child (reaped if it ever ends; systemd's stop takes the cgroup).
    bool abandoned = false;
};

// How long a child may take to die after SIGKILL before it is left behind.
inline constexpr std::chrono::seconds kAbandonAfterKill{2};

struct ChildOptions {
    std::string program;                     // absolute path of rsync
    std::vector<std::string> arguments;
    bool dry_run = false;
    std::chrono::seconds quiet_after{0};     // on_quiet after this long without output (0 = never)
    std::function<void()> on_quiet;          // once per silence; the child keeps running
    std::function<void(const ItemLine &)> on_item;   // every itemized line, as it arrives
    std::string input;                       // written to its stdin, then closed ("": stdin is /dev/null)
    std::string name_prefix;                 // taken off every item's name (rsync_name_prefix)
};

// A started child: what its output said so far, and how to end it. Its OnExit comes
// exactly once, later, from the loop: once it exited and its output is read to the end
// and nothing of its process group is left (the drain), or once it was abandoned.
class Child {
public:
    using OnOutput = std::function<void()>;                  // counters moved (from the loop)
    using OnExit = std::function<void(const ChildExit &)>;
    virtual ~Child() = default;
    virtual TransferCounters counters() const = 0;
    virtual std::uint64_t bytes_done() const = 0;
    virtual ErrorSummary errors() const = 0;
    virtual std::vector<std::string> recent_transfers() const = 0;   // the names it announced last
    // Its process group on this host (for the resource sampler and messages); -1 when none.
    virtual pid_t process_group() const = 0;
    // SIGTERM to its whole group; SIGKILL after `grace`; abandoned (ChildExit::abandoned)
    // if it is still there kAbandonAfterKill later.
    virtual void terminate(std::chrono::seconds grace) = 0;
};

class ChildLauncher {
public:
    virtual ~ChildLauncher() = default;
    // Creates and starts the child; its callbacks report on it from the loop.
    virtual std::shared_ptr<Child> launch(ChildOptions options, Child::OnOutput on_output, Child::OnExit on_exit) = 0;
    // Finds the absolute path of a program (a name is looked up in PATH) where this
    // launcher's children start; "" when it is not there. May block (PATH can reach a
    // network filesystem), so it runs on a worker: the function holds everything it
    // needs, and stays safe to call after the launcher (and the run) are gone.
    using Resolver = std::function<std::string(const std::string &program)>;
    virtual Resolver resolver() const = 0;
};

// rsync on this machine (RsyncChild).
class LocalLauncher final : public ChildLauncher {
public:
    explicit LocalLauncher(boost::asio::io_context &io) : io_(io) {}
    std::shared_ptr<Child> launch(ChildOptions options, Child::OnOutput on_output, Child::OnExit on_exit) override;
    Resolver resolver() const override;

private:
    boost::asio::io_context &io_;
};

}  // namespace dailysync
