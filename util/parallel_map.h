// A deterministic parallel loop: fn(i) for every i in [0, count) on up to `threads` threads
// (the calling thread is one of them), each index exactly once. Callers write each result
// into its own slot (index i), so the outcome is the same for any thread count; only the
// order in which indices run differs. `on_done(finished)` (optional) is called after each
// index, under a lock, with how many have finished: a progress line. If fn throws, the
// other indices still run, and the exception of the lowest failing index is rethrown
// after all have finished. REQUIRES: threads >= 1.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dosim {

template <class Fn>
void parallel_for(std::size_t count, int threads, Fn&& fn,
                  const std::function<void(std::size_t finished)>& on_done = {}) {
  std::vector<std::exception_ptr> failures(count);
  std::atomic<std::size_t> next{0};
  std::size_t finished = 0;
  std::mutex done_mutex;
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        fn(i);
      } catch (...) {
        failures[i] = std::current_exception();
      }
      const std::lock_guard lock(done_mutex);
      ++finished;
      if (on_done) on_done(finished);
    }
  };
  const std::size_t pool_size = std::min<std::size_t>(static_cast<std::size_t>(threads), count);
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < pool_size; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
  for (const std::exception_ptr& failure : failures)
    if (failure) std::rethrow_exception(failure);
}

}  // namespace dosim
