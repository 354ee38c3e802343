#include "core/thread_pool.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <unistd.h>

namespace turbodicom::core {

unsigned worker_count(unsigned workers) noexcept {
    if (workers > 0) return workers;
    const unsigned cores = std::thread::hardware_concurrency();
    return cores > 0 ? cores : 1;
}

namespace {

// Threads kept between calls. A scan of a few hundred files lasts milliseconds,
// and waking a sleeping thread (on a virtual machine, a halted virtual CPU) is a
// visible part of that; so after a job the threads poll for the next one for a
// moment before they sleep.
class pool {
public:
    explicit pool(unsigned size) {
        for (unsigned i = 0; i < size; ++i) threads_.emplace_back([this, i] { serve(i); });
        for (std::thread& t : threads_) t.detach();  // the process ends them; never joined at exit
    }

    unsigned size() const { return static_cast<unsigned>(threads_.size()); }

    // Runs `body` on the calling thread and on `helpers` pool threads; returns when all are done.
    void run(unsigned helpers, const std::function<void()>& body) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            body_ = &body;
            helpers_ = helpers;
            running_ = helpers;
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        body();
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return running_ == 0; });
        body_ = nullptr;
    }

private:
    void serve(unsigned index) {
        unsigned long seen = 0;
        for (;;) {
            // Poll for up to 2 ms, then sleep until woken.
            const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
            while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until) {
                std::this_thread::yield();
            }
            const std::function<void()>* body = nullptr;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
                seen = generation_.load(std::memory_order_relaxed);
                if (index < helpers_) body = body_;
            }
            if (!body) continue;
            (*body)();
            std::lock_guard<std::mutex> lock(mutex_);
            if (--running_ == 0) done_.notify_one();
        }
    }

    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::atomic<unsigned long> generation_{0};
    const std::function<void()>* body_ = nullptr;
    unsigned helpers_ = 0;
    unsigned running_ = 0;
};

std::mutex pool_mutex;  // one job at a time; a concurrent caller uses threads of its own
pool* shared_pool = nullptr;
pid_t pool_pid = 0;     // threads do not survive fork(): a child makes its own pool

}  // namespace

void parallel_for(std::size_t n, unsigned workers, const std::function<void(std::size_t)>& fn,
                  std::atomic<std::size_t>* done) {
    std::atomic<std::size_t> next{0};
    const std::function<void()> run = [&] {
        for (;;) {
            const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
            if (i >= n) return;
            fn(i);
            if (done) done->fetch_add(1, std::memory_order_relaxed);
        }
    };
    const unsigned threads = static_cast<unsigned>(std::min<std::size_t>(worker_count(workers), n > 0 ? n : 1));
    if (threads <= 1) {
        run();
        return;
    }
    std::unique_lock<std::mutex> lock(pool_mutex, std::try_to_lock);
    if (lock.owns_lock()) {
        if (!shared_pool || pool_pid != ::getpid() || shared_pool->size() < threads - 1) {
            // The old pool (if any) is left to the process: its threads may belong to a parent.
            shared_pool = new pool(std::max(threads - 1, worker_count(0) - 1));
            pool_pid = ::getpid();
        }
        shared_pool->run(threads - 1, run);
        return;
    }
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(run);
    run();
    for (std::thread& t : pool) t.join();
}

}  // namespace turbodicom::core
