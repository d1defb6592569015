#include "io/run_lock.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/format.hpp"
#include "io/state_store.hpp"

namespace dailysync {

namespace {

// What a lock file says of its holder; nullopt when it is empty (released) or unreadable.
std::optional<LockLeftBy> holder_in(int fd) {
    std::string text(4096, '\0');
    const ssize_t n = ::pread(fd, text.data(), text.size(), 0);
    if (n <= 0) return std::nullopt;
    text.resize(static_cast<std::size_t>(n));
    const auto doc = nlohmann::json::parse(text, nullptr, false);
    if (!doc.is_object()) return std::nullopt;
    LockLeftBy left;
    if (const auto pid = doc.find("pid"); pid != doc.end() && pid->is_number_integer()) left.pid = pid->get<long>();
    if (const auto what = doc.find("what"); what != doc.end() && what->is_string()) left.what = what->get<std::string>();
    if (const auto run = doc.find("run_id"); run != doc.end() && run->is_string()) left.run_id = run->get<std::string>();
    if (const auto since = doc.find("since"); since != doc.end() && since->is_number_integer()) left.since = since->get<std::time_t>();
    return left;
}

// "pid 4242 (dailysyncd --once), run 20261130T020000Z, since 2026-11-30 02:00:00 UTC"
std::string describe_holder(int fd) {
    const auto holder = holder_in(fd);
    if (!holder || holder->pid == 0) return "a process that is just starting or ending";
    std::string out = "pid " + std::to_string(holder->pid) + " (dailysyncd " + (holder->what.empty() ? "?" : holder->what) + ")";
    if (!holder->run_id.empty()) out += ", run " + holder->run_id;
    if (holder->since != 0) out += ", since " + format_local_time(holder->since, true);
    return out;
}

}  // namespace

RunLock::Attempt RunLock::try_acquire(const std::string &folder, const std::string &file_name, const std::string &what) {
    Attempt attempt;
    if (auto made = make_private_directory(folder); !made.ok()) {
        attempt.why = "cannot take the run lock: " + made.error();
        return attempt;
    }
    const std::string path = folder + "/" + file_name;
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        attempt.why = "cannot open the run lock " + path + ": " + std::strerror(errno);
        return attempt;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        attempt.held_elsewhere = error == EWOULDBLOCK;
        attempt.why = attempt.held_elsewhere ? "another run into this backup is in progress: " + path + " is held by " + describe_holder(fd)
                                             : "cannot lock " + path + ": " + std::strerror(error);
        ::close(fd);
        return attempt;
    }
    attempt.left_by = holder_in(fd);
    attempt.lock.emplace(fd, what);
    attempt.lock->write_holder("");
    return attempt;
}

void RunLock::set_run_id(const std::string &run_id) { write_holder(run_id); }

std::optional<std::string> destination_lock_name(const std::string &destination) {
    struct stat st {};
    if (::stat(destination.c_str(), &st) != 0) return std::nullopt;   // no destination: the run fails before copying
    return "destination-" + std::to_string(static_cast<unsigned long long>(st.st_dev)) + "-" +
           std::to_string(static_cast<unsigned long long>(st.st_ino)) + ".lock";
}

RunLocks take_run_locks(const std::string &state_dir, const std::string &destination, const std::string &what) {
    return take_run_locks(state_dir, destination, destination_lock_name(destination), what);
}

RunLocks take_run_locks(const std::string &state_dir, const std::string &destination, const std::optional<std::string> &lock_name,
                        const std::string &what) {
    RunLocks locks;
    RunLock::Attempt state = RunLock::try_acquire(state_dir, "run.lock", what);
    if (state.held_elsewhere || !state.lock) {
        locks.held_elsewhere = state.held_elsewhere;
        locks.why = state.why;
        if (locks.held_elsewhere) return locks;
    } else {
        locks.left_by = std::move(state.left_by);
        locks.held.push_back(std::move(*state.lock));
    }
    if (!lock_name) return locks;
    RunLock::Attempt by_destination = RunLock::try_acquire(kRuntimeLockDir, *lock_name, what);
    if (by_destination.held_elsewhere) {
        locks.held.clear();
        locks.held_elsewhere = true;
        locks.why = by_destination.why + " (into " + destination + ")";
    } else if (by_destination.lock) {
        locks.held.push_back(std::move(*by_destination.lock));
    }
    return locks;
}

void RunLock::write_holder(const std::string &run_id) {
    if (fd_ < 0) return;
    nlohmann::json doc = {{"pid", ::getpid()}, {"what", what_}, {"run_id", run_id}, {"since", static_cast<std::int64_t>(since_)}};
    const std::string text = doc.dump() + "\n";
    // Best effort: the lock is the flock, the text only names its holder.
    if (::ftruncate(fd_, 0) == 0) {
        [[maybe_unused]] const ssize_t written = ::pwrite(fd_, text.data(), text.size(), 0);
    }
}

RunLock::RunLock(RunLock &&other) noexcept : fd_(other.fd_), what_(std::move(other.what_)), since_(other.since_) { other.fd_ = -1; }

RunLock &RunLock::operator=(RunLock &&other) noexcept {
    if (this != &other) {
        release();
        fd_ = other.fd_;
        what_ = std::move(other.what_);
        since_ = other.since_;
        other.fd_ = -1;
    }
    return *this;
}

RunLock::~RunLock() { release(); }

void RunLock::release() {
    if (fd_ < 0) return;
    // Emptied first, so a reader never names a holder that is gone; the lock itself goes
    // with the descriptor either way.
    [[maybe_unused]] const int emptied = ::ftruncate(fd_, 0);
    ::close(fd_);
    fd_ = -1;
}

}  // namespace dailysync
