// One run at a time into one backup: an exclusive flock(2) on STATE_DIR/run.lock, held by
// the service's runs, `--once` and `--diagnose` for as long as they work. The holder
// writes who it is into the file (pid, what, run id, since when) so a loser can say so.
// The kernel drops the lock when the holder exits, however it exits: no stale lock.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <sys/types.h>

namespace dailysync {

class RunLock {
public:
    struct Attempt;
    // Takes the lock without waiting. `what` says who takes it ("service", "--once",
    // "--diagnose").
    static Attempt try_acquire(const std::string &state_dir, const std::string &what);
    // Records the run id in the lock file once it is known.
    void set_run_id(const std::string &run_id);

    RunLock(RunLock &&other) noexcept;
    RunLock &operator=(RunLock &&other) noexcept;
    RunLock(const RunLock &) = delete;
    RunLock &operator=(const RunLock &) = delete;
    ~RunLock();   // releases (empties the file first, so a later reader sees no holder)

    static std::string path_in(const std::string &state_dir) { return state_dir + "/run.lock"; }
    RunLock(int fd, std::string what) : fd_(fd), what_(std::move(what)), since_(std::time(nullptr)) {}

private:
    void write_holder(const std::string &run_id);
    void release();
    int fd_ = -1;
    std::string what_;
    std::time_t since_ = 0;
};

struct RunLock::Attempt {
    std::optional<RunLock> lock;   // set: ours until destroyed
    bool held_elsewhere = false;   // another process holds it: do not run
    std::string why;               // without a lock: who holds it, or why it could not be taken
};

}  // namespace dailysync
