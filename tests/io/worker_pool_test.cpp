// The worker pool and the periodic timer with real threads, real blocking system calls
// (open() of a FIFO nobody writes to blocks like a stat on a hung NAS) and a real loop.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "io/loop_timer.hpp"
#include "io/worker_pool.hpp"

using namespace dailysync;
using namespace std::chrono_literals;

namespace {
// A FIFO: opening it for reading blocks until somebody opens it for writing.
struct Fifo {
    std::string path;
    Fifo() {
        char dir[] = "/tmp/dailysyncd-fifo.XXXXXX";
        path = std::string(::mkdtemp(dir)) + "/fifo";
        ::mkfifo(path.c_str(), 0600);
    }
    void release() const {   // lets the blocked open() return
        const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
        if (fd >= 0) ::close(fd);
    }
    ~Fifo() {
        ::unlink(path.c_str());
        ::rmdir(path.substr(0, path.rfind('/')).c_str());
    }
};

int blocking_open(const std::string &path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd >= 0) ::close(fd);
    return fd >= 0 ? 1 : 0;
}
}  // namespace

TEST(WorkerPool, AHungCallMeetsItsDeadlineWhileTheLoopGoesOn) {
    boost::asio::io_context io;
    WorkerPool pool(io, 2);
    Fifo fifo;
    int calls = 0;
    std::optional<Worked<int>> answer;
    const auto start = std::chrono::steady_clock::now();
    pool.run<int>(300ms, [path = fifo.path](WorkProgress &) { return blocking_open(path); }, [&](Worked<int> value) {
        ++calls;
        answer = value;
    });
    // The loop stays free: a timer set to fire during the hang fires on time.
    bool ticked = false;
    boost::asio::steady_timer tick(io, 50ms);
    tick.async_wait([&](boost::system::error_code) { ticked = true; });
    io.run_for(1s);
    EXPECT_TRUE(ticked);
    EXPECT_EQ(calls, 1);
    ASSERT_TRUE(answer);
    EXPECT_FALSE(*answer) << "a hung call must report no value";
    EXPECT_TRUE(answer->timed_out());
    EXPECT_FALSE(answer->crashed());
    EXPECT_EQ(answer->problem(Side::source, "/src", "the source /src", 120).kind, ProblemKind::not_answering);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
    // When the call finally returns, its result is dropped: done ran once.
    fifo.release();
    io.restart();
    io.run_for(300ms);
    EXPECT_EQ(calls, 1);
}

TEST(WorkerPool, ACallThatReportsProgressIsNotHung) {
    boost::asio::io_context io;
    WorkerPool pool(io, 1);
    std::optional<int> answer;
    pool.run<int>(
        150ms,
        [](WorkProgress &progress) {
            for (int i = 0; i < 8; ++i) {   // 400 ms in all, never 150 ms without a step
                std::this_thread::sleep_for(50ms);
                ++progress.steps;
            }
            return 7;
        },
        [&](Worked<int> value) {
            if (value) answer = *value;
        });
    io.run_for(2s);
    EXPECT_EQ(answer, 7);
}

TEST(WorkerPool, ItIsBoundedWorkQueuedBehindAHungCallMeetsItsOwnDeadline) {
    boost::asio::io_context io;
    WorkerPool pool(io, 1);
    Fifo fifo;
    int timed_out = 0;
    auto count = [&](Worked<int> value) { timed_out += value.timed_out(); };
    pool.run<int>(200ms, [path = fifo.path](WorkProgress &) { return blocking_open(path); }, count);
    pool.run<int>(200ms, [](WorkProgress &) { return 1; }, count);   // waits for the only thread
    io.run_for(600ms);
    EXPECT_EQ(timed_out, 2);
    fifo.release();
}

TEST(WorkerPool, TheValueComesBackToTheLoopThread) {
    boost::asio::io_context io;
    WorkerPool pool(io, 3);
    std::thread::id worker, done_on;
    pool.run<int>(1s, [&](WorkProgress &) { worker = std::this_thread::get_id(); return 1; },
                  [&](Worked<int>) { done_on = std::this_thread::get_id(); });
    io.run_for(1s);
    EXPECT_NE(worker, std::this_thread::get_id());
    EXPECT_EQ(done_on, std::this_thread::get_id());
}

TEST(WorkerPool, AnExceptionIsACrashWithItsMessageNeverATimeout) {
    boost::asio::io_context io;
    WorkerPool pool(io, 1);
    std::optional<Worked<int>> answer;
    const auto start = std::chrono::steady_clock::now();
    pool.run<int>(
        30s, [](WorkProgress &) -> int { throw std::runtime_error("vector::at out of range"); },
        [&](Worked<int> value) { answer = value; });
    io.run_for(5s);   // returns once answered: long before the deadline
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    ASSERT_TRUE(answer);
    EXPECT_FALSE(*answer);
    EXPECT_TRUE(answer->crashed());
    EXPECT_FALSE(answer->timed_out());
    EXPECT_EQ(answer->exception_text(), "vector::at out of range");
    const Problem problem = answer->problem(Side::destination, "/dst", "the destination /dst", 120);
    EXPECT_EQ(problem.kind, ProblemKind::defect);
    EXPECT_EQ(problem.side, Side::destination);
    EXPECT_NE(problem.text.find("vector::at out of range"), std::string::npos) << problem.text;
    EXPECT_NE(problem.text.find("a defect in dailysyncd"), std::string::npos) << problem.text;
    EXPECT_EQ(problem.text.find("hung"), std::string::npos) << "a crash is not a hung NAS: " << problem.text;
    // The pool still works after it.
    int value = 0;
    pool.run<int>(1s, [](WorkProgress &) { return 5; }, [&](Worked<int> v) { value = v ? *v : -1; });
    io.restart();
    io.run_for(1s);
    EXPECT_EQ(value, 5);
}

TEST(LoopTimer, TicksUntilStoppedAndStoppingIsFinal) {
    boost::asio::io_context io;
    LoopTimer timer(io);
    int ticks = 0;
    timer.every(10ms, [&] {
        if (++ticks == 3) timer.stop();
    });
    io.run_for(1s);   // returns early: nothing is left to wait for once stopped
    EXPECT_EQ(ticks, 3);
    EXPECT_FALSE(timer.running());
    EXPECT_TRUE(io.stopped());
}

TEST(LoopTimer, AfterFiresOnceAndMayArmItselfAgain) {
    boost::asio::io_context io;
    LoopTimer timer(io);
    int fired = 0;
    std::function<void()> fire = [&] {
        EXPECT_FALSE(timer.running()) << "inside its callback a one-shot timer is no longer armed";
        if (++fired < 3) timer.after(5ms, fire);
    };
    timer.after(5ms, fire);
    io.run_for(1s);
    EXPECT_EQ(fired, 3);
    EXPECT_TRUE(io.stopped());
}

TEST(LoopTimer, AOneShotStoppedBeforeItsTimeNeverFiresAndReleasesWhatItHeld) {
    boost::asio::io_context io;
    auto held = std::make_shared<int>(1);
    bool fired = false;
    {
        LoopTimer timer(io);
        timer.after(20ms, [&fired, held] { fired = true; });
        boost::asio::steady_timer stop_at(io, 5ms);
        stop_at.async_wait([&](boost::system::error_code) { timer.stop(); });
        io.run_for(200ms);
        EXPECT_FALSE(fired);
        EXPECT_EQ(held.use_count(), 1) << "a stopped timer still holds its callback's captures";
    }
}

TEST(LoopTimer, AStopFromOutsideEndsTheTicksAndRunReturns) {
    boost::asio::io_context io;
    LoopTimer timer(io);
    int ticks = 0;
    timer.every(5ms, [&] { ++ticks; });
    boost::asio::steady_timer stop_at(io, 52ms);
    stop_at.async_wait([&](boost::system::error_code) { timer.stop(); });
    io.run_for(2s);
    EXPECT_TRUE(io.stopped()) << "a re-arming tick kept the loop alive after stop()";
    EXPECT_GE(ticks, 5);
    const int at_stop = ticks;
    io.restart();
    io.run_for(50ms);
    EXPECT_EQ(ticks, at_stop);
}
