#include "tick_pool.h"

#include <algorithm>

#include "util/cores.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DOSIM_CPU_RELAX() _mm_pause()
#else
#define DOSIM_CPU_RELAX() std::this_thread::yield()
#endif

namespace dosim {
namespace {

// About 0.1-0.5 ms of spinning before a worker sleeps: longer than the serial work between
// two loops of a tick (detectors, the trace), far shorter than a human-visible idle.
constexpr int kSpinsBeforeSleep = 20000;

}  // namespace

TickPool::TickPool(int threads) {
  // More threads than cores: a spinning thread would hold the core the one it waits for
  // needs, so workers sleep at once and the caller yields while it waits.
  oversubscribed_ = threads > usable_cores();
  for (int t = 1; t < std::max(1, threads); ++t) workers_.emplace_back([this] { worker_main(); });
}

TickPool::~TickPool() {
  stopping_ = true;
  working_.store(static_cast<int>(workers_.size()), std::memory_order_seq_cst);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  generation_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void TickPool::run_block(std::size_t begin, std::size_t end) {
  try {
    (*fn_)(begin, end);
  } catch (...) {
    const std::lock_guard lock(failure_mutex_);
    if (!failure_) failure_ = std::current_exception();
  }
}

void TickPool::run_blocks() {
  for (std::size_t b = next_block_.fetch_add(1, std::memory_order_relaxed); b < blocks_;
       b = next_block_.fetch_add(1, std::memory_order_relaxed)) {
    if (split_) {  // part b of blocks_
      const std::size_t begin = count_ * b / blocks_, end = count_ * (b + 1) / blocks_;
      if (begin < end) run_block(begin, end);
      continue;
    }
    const std::size_t begin = b * grain_;
    run_block(begin, std::min(count_, begin + grain_));
  }
}

void TickPool::worker_main() {
  std::uint64_t seen = 0;
  for (;;) {
    // Wait for the next loop: spin, then sleep. A sleeper counts itself before it checks
    // once more, and the publisher bumps the generation before it reads the count, so
    // (sequentially consistent) one of them sees the other: no wake-up is lost.
    std::uint64_t now = generation_.load(std::memory_order_acquire);
    const int spins = oversubscribed_ ? 0 : kSpinsBeforeSleep;
    for (int spin = 0; now == seen && spin < spins; ++spin) {
      DOSIM_CPU_RELAX();
      now = generation_.load(std::memory_order_acquire);
    }
    while (now == seen) {
      sleeping_.fetch_add(1, std::memory_order_seq_cst);
      if (generation_.load(std::memory_order_seq_cst) == seen) generation_.wait(seen);
      sleeping_.fetch_sub(1, std::memory_order_seq_cst);
      now = generation_.load(std::memory_order_acquire);
    }
    seen = now;
    if (stopping_) return;
    run_blocks();
    working_.fetch_sub(1, std::memory_order_release);
  }
}

void TickPool::for_blocks(std::size_t count, std::size_t grain, const BlockFn& fn) {
  if (count == 0) return;
  grain = std::max<std::size_t>(1, grain);
  const std::size_t blocks = (count + grain - 1) / grain;
  if (workers_.empty() || blocks == 1) {
    for (std::size_t begin = 0; begin < count; begin += grain)
      fn(begin, std::min(count, begin + grain));
    return;
  }
  start(count, grain, blocks, false, fn);
}

void TickPool::for_parts(std::size_t count, const BlockFn& fn) {
  if (count == 0) return;
  if (workers_.empty()) {
    fn(0, count);
    return;
  }
  start(count, count, workers_.size() + 1, true, fn);
}

void TickPool::start(std::size_t count, std::size_t grain, std::size_t blocks, bool split,
                     const BlockFn& fn) {
  fn_ = &fn;
  count_ = count;
  grain_ = grain;
  blocks_ = blocks;
  split_ = split;
  failure_ = nullptr;
  next_block_.store(0, std::memory_order_relaxed);
  working_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_seq_cst);  // publishes the fields above
  if (sleeping_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
  run_blocks();
  while (working_.load(std::memory_order_acquire) != 0) {
    if (oversubscribed_)
      std::this_thread::yield();
    else
      DOSIM_CPU_RELAX();
  }
  fn_ = nullptr;
  if (failure_) {
    std::exception_ptr failure = failure_;
    failure_ = nullptr;
    std::rethrow_exception(failure);
  }
}

}  // namespace dosim
