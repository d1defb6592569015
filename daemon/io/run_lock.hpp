// One run at a time into one backup: exclusive flock(2)s held by the service's runs,
// `--once` and `--diagnose` for as long as they work, on STATE_DIR/run.lock and on
// /run/dailysyncd/destination-DEV-INO.lock (the destination folder's identity, so two
// configurations with different state_dirs cannot run into one destination either). The
// holder writes who it is into each file (pid, what, run id, since when) so a loser can
// say so. The kernel drops a lock when its holder exits, however it exits: no stale lock.
#pragma once

#include <ctime>
#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace dailysync {

class RunLock {
public:
    struct Attempt;
    // Takes FOLDER/FILE_NAME without waiting (FOLDER made 0700 if missing). `what` says who
    // takes it ("service", "--once", "--diagnose").
    static Attempt try_acquire(const std::string &folder, const std::string &file_name, const std::string &what);
    // Records the run id in the lock file once it is known.
    void set_run_id(const std::string &run_id);

    RunLock(RunLock &&other) noexcept;
    RunLock &operator=(RunLock &&other) noexcept;
    RunLock(const RunLock &) = delete;
    RunLock &operator=(const RunLock &) = delete;
    ~RunLock();   // releases (empties the file first, so a later reader sees no holder)

    RunLock(int fd, std::string what) : fd_(fd), what_(std::move(what)), since_(std::time(nullptr)) {}

private:
    void write_holder(const std::string &run_id);
    void release();
    int fd_ = -1;
    std::string what_;
    std::time_t since_ = 0;
};

// What a lock file says of its holder (written by the holder, emptied when it releases).
// Read when the lock is taken, it names one that died holding it (killed, crashed, the
// machine went down): a run that never finished.
struct LockLeftBy {
    long pid = 0;
    std::string what;     // "service", "--once", "--once --dry-run", "--diagnose"
    std::string run_id;   // "" before its run had an id
    std::time_t since = 0;
};

struct RunLock::Attempt {
    std::optional<RunLock> lock;   // set: ours until destroyed
    std::optional<LockLeftBy> left_by;   // with `lock`: what the file said of a holder that died
    bool held_elsewhere = false;   // another process holds it: do not run
    std::string why;               // without a lock: who holds it, or why it could not be taken
};

inline constexpr const char *kRuntimeLockDir = "/run/dailysyncd";

// Every lock of one run. held_elsewhere: another run into the same backup (state_dir or
// destination) is in progress, `why` names it. A lock that merely cannot be taken (a full
// or read-only state folder, no /run/dailysyncd for a user) does not stop a backup: it
// is left out, and `why` says so for the state folder's lock.
struct RunLocks {
    std::vector<RunLock> held;
    bool held_elsewhere = false;
    std::string why;
    std::optional<LockLeftBy> left_by;   // the state folder's lock was last held by one that died
    void set_run_id(const std::string &run_id) {
        for (auto &lock : held) lock.set_run_id(run_id);
    }
};
RunLocks take_run_locks(const std::string &state_dir, const std::string &destination, const std::string &what);
// The same in two steps, for the daemon, whose loop must not stat a NAS: the name of the
// destination's lock (a stat of the destination: blocking, on a worker; nullopt when it
// cannot be stat'ed), then the locks (local files only), without the destination's lock
// when its name is unknown.
std::optional<std::string> destination_lock_name(const std::string &destination);
// How long a caller waits for destination_lock_name (at most filesystem_timeout_seconds).
constexpr std::chrono::milliseconds kLockNameDeadline{5000};
RunLocks take_run_locks(const std::string &state_dir, const std::string &destination, const std::optional<std::string> &lock_name,
                        const std::string &what);

}  // namespace dailysync
