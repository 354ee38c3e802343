// Runs a function over the indices 0..n-1 on a few threads.
#pragma once
#include <atomic>
#include <cstddef>
#include <functional>

namespace turbodicom::core {

// The number of threads `workers` asks for: 0 means one per core.
unsigned worker_count(unsigned workers) noexcept;

// Calls fn(i) for every i in [0, n) on `workers` threads (the caller's thread is
// one of them), each taking the next index as it finishes one. `done` counts
// finished calls, for progress reports from another thread. fn must not throw.
void parallel_for(std::size_t n, unsigned workers, const std::function<void(std::size_t)>& fn,
                  std::atomic<std::size_t>* done = nullptr);

}  // namespace turbodicom::core
