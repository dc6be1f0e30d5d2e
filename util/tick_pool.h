// TickPool: a few threads kept for the data-parallel loops inside one simulation tick (the
// world's services level by level, the measurement of every series), where starting threads
// per loop would cost more than the loop.
//
// for_blocks(count, grain, fn) calls fn(begin, end) on consecutive blocks [0, grain),
// [grain, 2 grain), ... covering [0, count), each block once, on the calling thread and the
// pool's workers, and returns when every block is done. Blocks are fixed by count and grain,
// never by the number of threads, so a loop whose blocks write only their own outputs
// computes the same bytes on any number of threads (dosim's determinism contract); only the
// order in which blocks run differs. With one thread, or a single block, fn runs on the
// calling thread, in order, with no synchronisation.
//
// Workers spin for a while after a loop (the next one in the same tick follows within
// microseconds), then sleep on an atomic wait until the next loop; with more threads than
// cores they sleep at once (a spinning thread would take the core another one needs). If fn throws,
// the other blocks still run and the first exception caught is rethrown by for_blocks. for_blocks
// must not be called from inside fn, nor from two threads at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dosim {

class TickPool {
 public:
  using BlockFn = std::function<void(std::size_t begin, std::size_t end)>;

  // REQUIRES: threads >= 1 (the calling thread counts as one).
  explicit TickPool(int threads);
  ~TickPool();
  TickPool(const TickPool&) = delete;
  TickPool& operator=(const TickPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // REQUIRES: grain >= 1.
  void for_blocks(std::size_t count, std::size_t grain, const BlockFn& fn);
  // fn(begin, end) for the T parts [count t / T, count (t + 1) / T) of [0, count), T the
  // number of threads, each claimed by the first thread free: the caller, which claims
  // first, usually takes part 0 and a worker part 1, so a loop run every tick over the same
  // data mostly keeps each part in one core's cache, and a worker without a core (a busy
  // machine) leaves its part to a thread that has one. Same contract otherwise.
  void for_parts(std::size_t count, const BlockFn& fn);

 private:
  void start(std::size_t count, std::size_t grain, std::size_t blocks, bool split,
             const BlockFn& fn);
  void run_block(std::size_t begin, std::size_t end);
  void run_blocks();
  void worker_main();

  std::vector<std::thread> workers_;
  // The loop in progress, published by bumping generation_.
  const BlockFn* fn_ = nullptr;
  std::size_t count_ = 0, grain_ = 1, blocks_ = 0;
  bool split_ = false;  // for_parts: each thread its own part
  // Each counter on its own cache line: the workers poll generation_ while blocks are
  // being claimed.
  alignas(64) std::atomic<std::size_t> next_block_{0};
  alignas(64) std::atomic<int> working_{0};  // workers not yet done with the current loop
  alignas(64) std::atomic<std::uint64_t> generation_{0};
  alignas(64) std::atomic<int> sleeping_{0};
  bool stopping_ = false;
  bool oversubscribed_ = false;  // more threads than cores: no spinning
  std::mutex failure_mutex_;
  std::exception_ptr failure_;
};

}  // namespace dosim
