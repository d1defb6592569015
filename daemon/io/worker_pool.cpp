#include "io/worker_pool.hpp"

#include <thread>

namespace dailysync {

// Held by the pool and by each thread, so a thread that returns from a hung call after the
// pool (and the loop) are gone finds `loop` cleared and drops its result.
struct WorkerPool::Shared {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> queue;
    boost::asio::io_context *loop = nullptr;   // nullptr once the pool is destroyed
};

WorkerPool::WorkerPool(boost::asio::io_context &loop, unsigned threads) : loop_(loop), shared_(std::make_shared<Shared>()) {
    shared_->loop = &loop;
    for (unsigned i = 0; i < std::max(1u, threads); ++i) {
        std::thread([shared = shared_] {
            for (;;) {
                std::function<void()> task;
                {
                    std::unique_lock lock(shared->mutex);
                    // Once the pool is gone the thread stays parked here until the process
                    // ends; it never returns (see ~WorkerPool).
                    shared->wake.wait(lock, [&] { return shared->loop && !shared->queue.empty(); });
                    task = std::move(shared->queue.front());
                    shared->queue.pop_front();
                }
                task();
            }
        }).detach();
    }
}

WorkerPool::~WorkerPool() {
    // The threads are parked for good, not ended: a thread that ends runs its thread-local
    // destructors (OpenSSL's, in a thread that posted a webhook through libcurl), and
    // when that happens while the main thread's exit() is cleaning up the same library,
    // the process dies of SIGSEGV at its very end (found by the stress test). A parked or
    // stuck thread ends with the process, as exit_group ends it.
    std::lock_guard lock(shared_->mutex);
    shared_->loop = nullptr;
    shared_->queue.clear();
}

void WorkerPool::submit(std::function<void()> task) {
    std::lock_guard lock(shared_->mutex);
    shared_->queue.push_back(std::move(task));
    shared_->wake.notify_one();
}

void WorkerPool::post_to_loop(const std::shared_ptr<Shared> &shared, std::function<void()> handler) {
    std::lock_guard lock(shared->mutex);
    if (shared->loop) boost::asio::post(*shared->loop, std::move(handler));
}

}  // namespace dailysync
