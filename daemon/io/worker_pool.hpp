// A few threads for the calls that can block: filesystem calls above all, since a hung
// NAS blocks a stat() on its mount for minutes or forever. The event loop hands the work
// over and gets the result posted back to it; the loop thread stays the only owner of the
// daemon's state (work gets copies of what it needs and returns values, never touches the
// caller's objects). Every call is answered once, as a Worked<T>: its value, or "timed out"
// (no progress for its deadline: the result, should the call ever return, is dropped), or
// "crashed" (it threw: a defect, reported with its message, never taken for a hung NAS).
//
// Threads stuck in the kernel cannot be interrupted; the pool is bounded, so a hung mount
// holds at most `threads` of them, and later work waits in the queue (and meets its own
// deadline there). The destructor does not join or end the threads: idle or stuck, they
// end with the process (one ending during exit() would race the libraries' clean-up).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/problem.hpp"
#include "io/loop_timer.hpp"

namespace dailysync {

// How a call on the pool ended. Reads like an optional: true with a value when it was
// answered; else timed_out() or crashed() says why there is none.
template <class T>
class Worked {
public:
    static Worked answered(T value) { return Worked(std::move(value), {}, false); }
    static Worked timed_out_call() { return Worked(std::nullopt, {}, false); }
    static Worked crashed_call(std::string exception_text) { return Worked(std::nullopt, std::move(exception_text), true); }

    explicit operator bool() const { return value_.has_value(); }
    T &operator*() { return *value_; }
    const T &operator*() const { return *value_; }
    T *operator->() { return &*value_; }
    const T *operator->() const { return &*value_; }
    bool timed_out() const { return !value_ && !crashed_; }
    bool crashed() const { return crashed_; }
    const std::string &exception_text() const { return exception_; }
    // Why there is no value, for a call on `what` (e.g. "the destination /data/b"), at
    // `path` on `side`, with `seconds` the deadline: not answering, or a defect.
    Problem problem(Side side, const std::string &path, const std::string &what, int seconds) const {
        return crashed_ ? defect(side, path, what, exception_) : not_answering(side, path, what, seconds);
    }

private:
    Worked(std::optional<T> value, std::string exception, bool crashed)
        : value_(std::move(value)), exception_(std::move(exception)), crashed_(crashed) {}
    std::optional<T> value_;
    std::string exception_;
    bool crashed_ = false;
};

// What a long call reports as it goes (a scan: entries seen), so its deadline counts from
// the last sign of life rather than from the start. Cancelled: the caller no longer wants
// the result (the call may stop early).
struct WorkProgress {
    std::atomic<std::uint64_t> steps{0};
    std::atomic<bool> cancelled{false};
};

class WorkerPool {
public:
    WorkerPool(boost::asio::io_context &loop, unsigned threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool &) = delete;
    WorkerPool &operator=(const WorkerPool &) = delete;

    // Runs `work` on a worker thread. `done` runs on the loop exactly once: with the value;
    // or timed out when `deadline` passed with no progress (counted from when the call was
    // handed over, so time queued behind hung calls counts too); or crashed when `work`
    // threw (it must not end the daemon from a worker thread). After a timeout the progress
    // record is marked cancelled: work that has not started yet never starts, work that
    // runs may look at it and stop. Returns that record (the caller may cancel through it
    // too; `done` still comes, at the deadline).
    template <class T>
    std::shared_ptr<WorkProgress> run(std::chrono::milliseconds deadline, std::function<T(WorkProgress &)> work,
                                      std::function<void(Worked<T>)> done) {
        struct Call {
            std::function<void(Worked<T>)> done;
            bool settled = false;   // loop thread only
            LoopTimer deadline;
            std::uint64_t steps_seen = 0;
            std::shared_ptr<WorkProgress> progress = std::make_shared<WorkProgress>();
            Call(boost::asio::io_context &io, std::function<void(Worked<T>)> d) : done(std::move(d)), deadline(io) {}
            void settle(Worked<T> value) {
                if (settled) return;
                settled = true;
                deadline.stop();
                auto callback = std::move(done);
                callback(std::move(value));
            }
            void settle_timed_out() { settle(Worked<T>::timed_out_call()); }
        };
        auto call = std::make_shared<Call>(loop_, std::move(done));
        watch(call, deadline);
        auto progress = call->progress;
        // The worker holds the call only weakly: its timer belongs to the loop and must
        // never be destroyed on a worker thread. The pending deadline keeps it alive.
        submit([shared = shared_, weak = std::weak_ptr<Call>(call), progress, work = std::move(work)]() mutable {
            if (progress->cancelled) return;   // given up on while it waited in the queue
            std::optional<Worked<T>> value;
            try {
                value = Worked<T>::answered(work(*progress));
            } catch (const std::exception &error) {
                // Work reports its failures in its value; an exception here is a bug.
                value = Worked<T>::crashed_call(error.what());
            } catch (...) {
                value = Worked<T>::crashed_call("an exception that is not a std::exception");
            }
            post_to_loop(shared, [weak, value = std::move(value)]() mutable {
                if (auto call = weak.lock()) call->settle(std::move(*value));
            });
        });
        return progress;
    }

private:
    struct Shared;
    void submit(std::function<void()> task);
    static void post_to_loop(const std::shared_ptr<Shared> &shared, std::function<void()> handler);
    // Looks at the call once per `deadline`: no step since the last look, it is given up.
    // (So a call is given up between one and two deadlines after its last sign of life.)
    template <class CallPtr>
    static void watch(const CallPtr &call, std::chrono::milliseconds deadline) {
        // The watch holds the call (and so its own timer) until it is settled: stop() then
        // lets the record go once its aborted wait is done.
        call->deadline.every(deadline, [call] {
            if (call->settled) return;
            const std::uint64_t steps = call->progress->steps.load();
            if (steps != call->steps_seen) {   // alive: another deadline
                call->steps_seen = steps;
                return;
            }
            call->progress->cancelled = true;
            call->settle_timed_out();
        });
    }

    boost::asio::io_context &loop_;
    std::shared_ptr<Shared> shared_;
};

}  // namespace dailysync
