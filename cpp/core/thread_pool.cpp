#include "core/thread_pool.hpp"

#include <algorithm>
#include <thread>
#include <vector>

namespace turbodicom::core {

unsigned worker_count(unsigned workers) noexcept {
    if (workers > 0) return workers;
    const unsigned cores = std::thread::hardware_concurrency();
    return cores > 0 ? cores : 1;
}

void parallel_for(std::size_t n, unsigned workers, const std::function<void(std::size_t)>& fn,
                  std::atomic<std::size_t>* done) {
    std::atomic<std::size_t> next{0};
    auto run = [&] {
        for (;;) {
            const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
            if (i >= n) return;
            fn(i);
            if (done) done->fetch_add(1, std::memory_order_relaxed);
        }
    };
    const unsigned threads = std::min<std::size_t>(worker_count(workers), n > 0 ? n : 1);
    std::vector<std::thread> pool;
    pool.reserve(threads > 0 ? threads - 1 : 0);
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(run);
    run();
    for (std::thread& t : pool) t.join();
}

}  // namespace turbodicom::core
