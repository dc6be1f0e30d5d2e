// The hold model (Vaucher and Duval, 1975), the classic benchmark of pending-event sets:
// N events are pending; each step pops the earliest one and schedules its successor at
// popped.time + Exp(mean), so the queue keeps N events and the simulated clock advances.
// items_per_second is holds per second.
//
//  - BM_Hold: dosim's EventQueue with an 8-byte payload, the engine's fused pop+push path.
//  - BM_HoldWithTimeouts: the engine's real usage: every event also arms a timeout of
//    4 x mean for its entity and cancels the previous one, so N work events and N timeouts
//    are pending, plus cancelled keys not yet discarded (a compaction every 2N holds, which
//    the run at a million covers several times). About 98% of timeouts are cancelled, 2%
//    fire. One item is one hold: 1 pop, 1 cancel, 2 pushes (plus the occasional fired
//    timeout popped).
//  - BM_CalendarHold, BM_CalendarHoldWithTimeouts: the same two loops on CalendarQueue, the
//    calendar queue with the same API and order.
//  - BM_HoldReferenceHeap: the yardstick, a bare 4-ary heap of 16-byte keys with a
//    hold fused into one sift from the root and branch-free child selection; no payloads,
//    no cancellation.
//
// Exponential variates come from a 4096-entry table filled once from a dosim RandomStream
// and indexed by a xorshift, so a draw costs about a nanosecond and never dominates.
// bench/run_event_queue_comparison.sh runs this beside SimPy and SimGrid.
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/calendar_queue.h"
#include "bench/heap_event_queue.h"
#include "engine/rng.h"

namespace {

using dosim::CalendarQueue;
using dosim::EventHandle;
using dosim::EventQueue;
using dosim::SimTime;

constexpr SimTime kMean = dosim::kSecond;
constexpr SimTime kTimeout = 4 * kMean;  // P(Exp(mean) > 4 mean) = e^-4, about 1.8%

class ExponentialTable {
 public:
  ExponentialTable() {
    const dosim::RandomStream stream(42, dosim::entity_id("bench_event_queue"),
                                     dosim::Purpose::kTest);
    for (std::size_t i = 0; i < values_.size(); ++i)
      values_[i] = static_cast<SimTime>(stream.exponential(i, static_cast<double>(kMean)));
  }
  SimTime next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return values_[state_ >> 52];
  }

 private:
  std::array<SimTime, 4096> values_;
  std::uint64_t state_ = 0x9E3779B97F4A7C15ull;
};

struct Job {
  std::uint32_t entity;
  std::uint32_t kind;
};
constexpr std::uint32_t kWork = 0;
constexpr std::uint32_t kTimeoutKind = 1;

template <class Queue>
void hold(benchmark::State& state) {
  const auto pending = static_cast<std::uint32_t>(state.range(0));
  ExponentialTable exponential;
  Queue queue;
  for (std::uint32_t entity = 0; entity < pending; ++entity)
    queue.push(exponential.next(), Job{entity, kWork});
  for (auto _ : state) {
    const auto event = queue.pop();
    queue.push(event.time + exponential.next(), event.payload);
  }
  benchmark::DoNotOptimize(queue.next_time());
  state.SetItemsProcessed(state.iterations());
}

template <class Queue>
void hold_with_timeouts(benchmark::State& state) {
  const auto pending = static_cast<std::uint32_t>(state.range(0));
  ExponentialTable exponential;
  Queue queue;
  std::vector<EventHandle> timeouts(pending);
  for (std::uint32_t entity = 0; entity < pending; ++entity) {
    const SimTime time = exponential.next();
    queue.push(time, Job{entity, kWork});
    timeouts[entity] = queue.push(time + kTimeout, Job{entity, kTimeoutKind});
  }
  std::int64_t fired = 0;
  for (auto _ : state) {
    for (;;) {
      const auto event = queue.pop();
      if (event.payload.kind == kTimeoutKind) {
        ++fired;
        continue;
      }
      const std::uint32_t entity = event.payload.entity;
      queue.cancel(timeouts[entity]);
      queue.push(event.time + exponential.next(), event.payload);
      timeouts[entity] = queue.push(event.time + kTimeout, Job{entity, kTimeoutKind});
      break;
    }
  }
  benchmark::DoNotOptimize(queue.next_time());
  state.SetItemsProcessed(state.iterations());
  state.counters["timeouts_fired"] =
      benchmark::Counter(static_cast<double>(fired) / static_cast<double>(state.iterations()));
}

void BM_Hold(benchmark::State& state) { hold<EventQueue<Job>>(state); }
void BM_HoldWithTimeouts(benchmark::State& state) { hold_with_timeouts<EventQueue<Job>>(state); }
void BM_CalendarHold(benchmark::State& state) { hold<CalendarQueue<Job>>(state); }
void BM_CalendarHoldWithTimeouts(benchmark::State& state) {
  hold_with_timeouts<CalendarQueue<Job>>(state);
}

// The yardstick: a bare 4-ary min-heap of 16-byte (time, sequence) keys, a hold
// fused into one sift from the root with branch-free child selection (the same helper the
// queue uses) and an early exit. No payloads, no cancellation, no handles. Sentinels past
// the last key make every sibling group complete.
class ReferenceHeap {
 public:
  using Key = dosim::detail::EventKey;
  explicit ReferenceHeap(std::size_t capacity) : keys_(kRoot + 4 * capacity + 8, kSentinel) {}
  void push(SimTime time) {
    std::size_t index = kRoot + count_++;
    const Key key = make_key(time);
    while (index != kRoot) {
      const std::size_t parent = index / 4 + 2;
      if (!(key < keys_[parent])) break;
      keys_[index] = keys_[parent];
      index = parent;
    }
    keys_[index] = key;
  }
  SimTime top() const { return static_cast<SimTime>(keys_[kRoot].time); }
  void replace_top(SimTime time) {
    const Key key = make_key(time);
    const std::size_t end = kRoot + count_;
    std::size_t index = kRoot;
    for (std::size_t first = 4; first < end; first = index * 4 - 8) {
      Key low = keys_[first], high = keys_[first + 2];
      std::size_t low_index = first, high_index = first + 2;
      dosim::detail::keep_smaller(low, low_index, keys_[first + 1], first + 1);
      dosim::detail::keep_smaller(high, high_index, keys_[first + 3], first + 3);
      dosim::detail::keep_smaller(low, low_index, high, high_index);
      if (!(low < key)) break;
      keys_[index] = low;
      index = low_index;
    }
    keys_[index] = key;
  }

 private:
  static constexpr std::size_t kRoot = 3;
  static constexpr Key kSentinel{~std::uint64_t{0}, ~std::uint64_t{0}};
  Key make_key(SimTime time) { return Key{sequence_++, static_cast<std::uint64_t>(time)}; }
  std::vector<Key, dosim::detail::CacheAlignedAllocator<Key>> keys_;
  std::size_t count_ = 0;
  std::uint64_t sequence_ = 0;
};

void BM_HoldReferenceHeap(benchmark::State& state) {
  const auto pending = static_cast<std::uint32_t>(state.range(0));
  ExponentialTable exponential;
  ReferenceHeap heap(pending);
  for (std::uint32_t i = 0; i < pending; ++i) heap.push(exponential.next());
  for (auto _ : state) heap.replace_top(heap.top() + exponential.next());
  benchmark::DoNotOptimize(heap.top());
  state.SetItemsProcessed(state.iterations());
}

void pending_sizes(benchmark::internal::Benchmark* benchmark) {
  benchmark->Arg(1'000)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kNanosecond);
}

BENCHMARK(BM_Hold)->Apply(pending_sizes);
BENCHMARK(BM_HoldWithTimeouts)->Arg(1'000)->Arg(100'000);
BENCHMARK(BM_HoldWithTimeouts)->Arg(1'000'000)->MinTime(3.0);  // several compactions
BENCHMARK(BM_CalendarHold)->Apply(pending_sizes);
BENCHMARK(BM_CalendarHoldWithTimeouts)->Arg(1'000)->Arg(100'000);
BENCHMARK(BM_CalendarHoldWithTimeouts)->Arg(1'000'000)->MinTime(3.0);
BENCHMARK(BM_HoldReferenceHeap)->Apply(pending_sizes);

}  // namespace

BENCHMARK_MAIN();
