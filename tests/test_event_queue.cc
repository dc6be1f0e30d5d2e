// The engine's pending-event sets: order, ties, cancellation, and a long differential run
// against a std::set reference, each for both EventQueue (the 4-ary heap) and CalendarQueue
// (the calendar queue); then the calendar's own cases: skewed and non-stationary times,
// resizing.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "bench/heap_event_queue.h"
#include "engine/calendar_queue.h"

using dosim::CalendarQueue;
using dosim::EventHandle;
using dosim::EventQueue;
using dosim::kDay;
using dosim::kHour;
using dosim::kMicrosecond;
using dosim::kMillisecond;
using dosim::kMinute;
using dosim::kSecond;
using dosim::SimTime;

namespace {

// Seeded SplitMix64: every randomised test input is reproducible.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n). REQUIRES: n > 0.
  std::uint64_t uniform(std::uint64_t n) { return next() % n; }
  bool one_in(std::uint64_t n) { return uniform(n) == 0; }

 private:
  std::uint64_t state_;
};

// The queue families under test: `typename TestType::template Queue<Payload>`.
struct Heap {
  template <class Payload>
  using Queue = EventQueue<Payload>;
};
struct Calendar {
  template <class Payload>
  using Queue = CalendarQueue<Payload>;
};
#define QUEUE_TYPES Heap, Calendar

// Exposes the test hook that skips ahead to the sequence-number limit.
template <class Queue>
class QueueNearSequenceLimit : public Queue {
 public:
  using Queue::use_up_sequences_for_testing;
};

// Exposes the calendar's shape.
template <class Payload>
class InspectedCalendar : public CalendarQueue<Payload> {
 public:
  using CalendarQueue<Payload>::bucket_count;
  using CalendarQueue<Payload>::bucket_width;
  using CalendarQueue<Payload>::rebuilds;
};

template <class Queue>
auto pop_all(Queue& queue) {
  std::vector<decltype(queue.pop().payload)> payloads;
  while (!queue.empty()) payloads.push_back(queue.pop().payload);
  return payloads;
}

// A queue under test beside a std::set of (time, priority, push order): every pop must
// return the reference's minimum.
template <class Queue>
class CheckedQueue {
 public:
  Queue queue;

  EventHandle push(SimTime time, std::uint8_t priority = 128) {
    const EventHandle handle = queue.push(time, next_id_, priority);
    reference_.emplace(time, priority, next_id_++);
    return handle;
  }
  // Pops one event and checks it; returns its time.
  SimTime pop() {
    REQUIRE(!reference_.empty());
    const auto expected = *reference_.begin();
    reference_.erase(reference_.begin());
    const auto event = queue.pop();
    REQUIRE(std::make_tuple(event.time, event.priority, event.payload) == expected);
    return event.time;
  }
  bool cancel(EventHandle handle, SimTime time, std::uint8_t priority, std::uint64_t id) {
    const bool cancelled = queue.cancel(handle);
    CHECK(cancelled == (reference_.erase(std::make_tuple(time, priority, id)) == 1));
    return cancelled;
  }
  std::uint64_t last_id() const { return next_id_ - 1; }
  std::size_t size() const {
    REQUIRE(queue.size() == reference_.size());
    return reference_.size();
  }

 private:
  std::set<std::tuple<SimTime, std::uint8_t, std::uint64_t>> reference_;
  std::uint64_t next_id_ = 0;
};
}  // namespace

TEMPLATE_TEST_CASE("Events pop in time order", "[event_queue]", QUEUE_TYPES) {
  typename TestType::template Queue<int> queue;
  for (int time : {50, 10, 40, 30, 20, 60, 0}) queue.push(time, time);
  REQUIRE(queue.size() == 7);
  CHECK(pop_all(queue) == std::vector<int>{0, 10, 20, 30, 40, 50, 60});
  CHECK(queue.empty());
}

TEMPLATE_TEST_CASE("The whole int64 time range orders correctly, negative times included",
                   "[event_queue]", QUEUE_TYPES) {
  constexpr SimTime kMin = std::numeric_limits<SimTime>::min();
  constexpr SimTime kMax = std::numeric_limits<SimTime>::max();
  typename TestType::template Queue<SimTime> queue;
  for (SimTime time : {SimTime{0}, kMax, SimTime{-1}, kMin, SimTime{1}, kMax - 1, kMin + 1})
    queue.push(time, time);
  std::vector<SimTime> times;
  while (!queue.empty()) {
    CHECK(queue.next_time() == queue.next_time());  // next_time() does not remove anything
    const SimTime next = queue.next_time();
    const auto event = queue.pop();
    CHECK(event.time == next);
    times.push_back(event.time);
  }
  CHECK(times == std::vector<SimTime>{kMin, kMin + 1, -1, 0, 1, kMax - 1, kMax});
}

TEMPLATE_TEST_CASE("At equal times the lower priority value pops first, then the first pushed",
                   "[event_queue]", QUEUE_TYPES) {
  auto run = [] {
    typename TestType::template Queue<char> queue;
    queue.push(5, 'A');  // default priority 128
    queue.push(5, 'B');
    queue.push(5, 'C');
    queue.push(5, 'D', 0);
    queue.push(4, 'E', 255);
    queue.push(5, 'F', 0);
    queue.push(5, 'G', 255);
    queue.push(5, 'H');
    return pop_all(queue);
  };
  const std::vector<char> expected{'E', 'D', 'F', 'A', 'B', 'C', 'H', 'G'};
  CHECK(run() == expected);
  CHECK(run() == expected);  // and identically on every run
}

TEMPLATE_TEST_CASE("Popped events carry their time and priority", "[event_queue]", QUEUE_TYPES) {
  typename TestType::template Queue<int> queue;
  queue.push(7, 1, 3);
  const auto event = queue.pop();
  CHECK(event.time == 7);
  CHECK(event.priority == 3);
  CHECK(event.payload == 1);
}

TEMPLATE_TEST_CASE("A cancelled event never pops and no longer counts", "[event_queue]",
                   QUEUE_TYPES) {
  typename TestType::template Queue<int> queue;
  queue.push(1, 1);
  const EventHandle second = queue.push(2, 2);
  queue.push(3, 3);
  CHECK(queue.cancel(second));
  CHECK(queue.size() == 2);
  CHECK(pop_all(queue) == std::vector<int>{1, 3});
}

TEMPLATE_TEST_CASE("Cancelling the earliest event moves next_time to the next one", "[event_queue]",
                   QUEUE_TYPES) {
  typename TestType::template Queue<int> queue;
  const EventHandle first = queue.push(1, 1);
  queue.push(2, 2);
  CHECK(queue.next_time() == 1);
  CHECK(queue.cancel(first));
  CHECK(queue.next_time() == 2);
}

TEMPLATE_TEST_CASE("Cancelling all events empties the queue", "[event_queue]", QUEUE_TYPES) {
  typename TestType::template Queue<int> queue;
  std::vector<EventHandle> handles;
  for (int i = 0; i < 10; ++i) handles.push_back(queue.push(i, i));
  for (const EventHandle& handle : handles) CHECK(queue.cancel(handle));
  CHECK(queue.empty());
  queue.push(100, 100);
  CHECK(pop_all(queue) == std::vector<int>{100});
}

TEMPLATE_TEST_CASE("Stale handles cancel nothing", "[event_queue]", QUEUE_TYPES) {
  typename TestType::template Queue<int> queue;

  SECTION("a default handle") {
    queue.push(1, 1);
    CHECK_FALSE(EventHandle{}.valid());
    CHECK_FALSE(queue.cancel(EventHandle{}));
    CHECK(queue.size() == 1);
  }
  SECTION("cancelling twice") {
    const EventHandle handle = queue.push(1, 1);
    CHECK(queue.cancel(handle));
    CHECK_FALSE(queue.cancel(handle));
  }
  SECTION("cancelling after the event popped") {
    const EventHandle handle = queue.push(1, 1);
    queue.pop();
    CHECK_FALSE(queue.cancel(handle));
  }
  SECTION("a handle whose slot was reused by a later event") {
    const EventHandle fired = queue.push(1, 1);
    const EventHandle cancelled = queue.push(2, 2);
    queue.push(3, 3);
    CHECK(queue.cancel(cancelled));
    CHECK(queue.pop().payload == 1);
    CHECK(queue.next_time() == 3);  // the cancelled event has been discarded on the way
    // Both slots are free again: the next two events take them, under new generations.
    std::vector<EventHandle> reusing;
    for (int i = 0; i < 2; ++i) reusing.push_back(queue.push(10 + i, 10 + i));
    CHECK(((reusing[0].slot == fired.slot && reusing[1].slot == cancelled.slot) ||
           (reusing[0].slot == cancelled.slot && reusing[1].slot == fired.slot)));
    CHECK_FALSE(queue.cancel(fired));
    CHECK_FALSE(queue.cancel(cancelled));
    CHECK(pop_all(queue) == std::vector<int>{3, 10, 11});
  }
  SECTION("handles issued before clear()") {
    const EventHandle before = queue.push(1, 1);
    queue.clear();
    CHECK(queue.empty());
    const EventHandle after = queue.push(2, 2);
    CHECK(after.slot == before.slot);
    CHECK_FALSE(queue.cancel(before));
    CHECK(pop_all(queue) == std::vector<int>{2});
  }
}

TEMPLATE_TEST_CASE("Cancel and pop release the payload at once", "[event_queue]", QUEUE_TYPES) {
  auto resource = std::make_shared<int>(1);
  typename TestType::template Queue<std::shared_ptr<int>> queue;
  const EventHandle handle = queue.push(1, resource);
  queue.push(2, resource);
  CHECK(resource.use_count() == 3);
  CHECK(queue.cancel(handle));
  CHECK(resource.use_count() == 2);
  {
    auto event = queue.pop();
    CHECK(resource.use_count() == 2);  // the popped event holds it now
  }
  CHECK(resource.use_count() == 1);
  queue.push(3, resource);
  queue.clear();
  CHECK(resource.use_count() == 1);
}

TEMPLATE_TEST_CASE("Move-only payloads are supported", "[event_queue]", QUEUE_TYPES) {
  typename TestType::template Queue<std::unique_ptr<int>> queue;
  queue.push(2, std::make_unique<int>(2));
  const EventHandle handle = queue.push(1, std::make_unique<int>(1));
  queue.push(3, std::make_unique<int>(3));
  CHECK(queue.cancel(handle));
  CHECK(*queue.pop().payload == 2);
  CHECK(*queue.pop().payload == 3);
}

TEMPLATE_TEST_CASE("Order survives compaction after many cancellations", "[event_queue]",
                   QUEUE_TYPES) {
  typename TestType::template Queue<int> queue;
  std::vector<EventHandle> handles;
  const int count = 10'000;
  for (int i = 0; i < count; ++i) handles.push_back(queue.push((i * 7919) % 10'007, i));
  // Cancel nine events in ten, popping now and then: dead keys soon outnumber live ones,
  // which compacts the heap several times.
  std::vector<int> popped;
  std::set<int> cancelled;
  for (int i = 0; i < count; ++i) {
    if (i % 10 == 0) continue;
    if (i % 1000 == 1) popped.push_back(queue.pop().payload);
    if (queue.cancel(handles[i])) cancelled.insert(i);
  }
  // Survivors keep working handles; cancelled ones stay stale.
  CHECK(queue.cancel(handles[10]));
  cancelled.insert(10);
  CHECK_FALSE(queue.cancel(handles[11]));
  while (!queue.empty()) popped.push_back(queue.pop().payload);

  std::vector<int> expected;  // everything not cancelled, by time
  for (int i = 0; i < count; ++i)
    if (!cancelled.count(i)) expected.push_back(i);
  std::sort(expected.begin(), expected.end(),
            [](int a, int b) { return (a * 7919) % 10'007 < (b * 7919) % 10'007; });
  std::vector<int> sorted_popped = popped;
  // The pops made during the cancellations came first; every pop was the minimum then.
  std::sort(sorted_popped.begin(), sorted_popped.end(),
            [](int a, int b) { return (a * 7919) % 10'007 < (b * 7919) % 10'007; });
  CHECK(sorted_popped == expected);
  for (std::size_t i = 10; i + 1 < popped.size(); ++i)  // after the interleaved pops
    CHECK((popped[i] * 7919) % 10'007 < (popped[i + 1] * 7919) % 10'007);
}

TEMPLATE_TEST_CASE("A pop followed by a push gives the same order as separate operations",
                   "[event_queue]", QUEUE_TYPES) {
  // `fused` schedules each successor right after pop(), filling the vacant root in one
  // sift; `separate` looks at next_time() in between, which settles the root first.
  typename TestType::template Queue<int> fused, separate;
  Random random(11);
  for (int i = 0; i < 500; ++i) {
    const SimTime time = static_cast<SimTime>(random.uniform(100));
    fused.push(time, i);
    separate.push(time, i);
  }
  for (int step = 0; step < 20'000; ++step) {
    const auto a = fused.pop();
    const auto b = separate.pop();
    REQUIRE(a.time == b.time);
    REQUIRE(a.payload == b.payload);
    if (!separate.empty()) separate.next_time();
    const SimTime delay = static_cast<SimTime>(random.uniform(50));
    const auto priority = static_cast<std::uint8_t>(random.uniform(3));
    fused.push(a.time + delay, a.payload, priority);
    separate.push(b.time + delay, b.payload, priority);
  }
  CHECK(pop_all(fused) == pop_all(separate));
}

TEMPLATE_TEST_CASE("A queue of tens of thousands of events keeps its order through many holds",
                   "[event_queue]", QUEUE_TYPES) {
  // Large enough for the prefetching sift and several levels of sentinels.
  typename TestType::template Queue<std::uint64_t> queue;
  std::set<std::pair<SimTime, std::uint64_t>> reference;  // equal times pop in push order
  Random random(5);
  std::uint64_t next_id = 0;
  auto push = [&](SimTime time) {
    queue.push(time, next_id);
    reference.emplace(time, next_id++);
  };
  for (int i = 0; i < 30'000; ++i) push(static_cast<SimTime>(random.uniform(1'000'000)));
  for (int hold = 0; hold < 100'000; ++hold) {
    const auto event = queue.pop();
    REQUIRE(std::make_pair(event.time, event.payload) == *reference.begin());
    reference.erase(reference.begin());
    push(event.time + static_cast<SimTime>(random.uniform(100'000)));
  }
  while (!queue.empty()) {
    const auto event = queue.pop();
    REQUIRE(std::make_pair(event.time, event.payload) == *reference.begin());
    reference.erase(reference.begin());
  }
  CHECK(reference.empty());
}

TEMPLATE_TEST_CASE("Renumbering sequence numbers keeps first-in first-out order at equal times",
                   "[event_queue]", QUEUE_TYPES) {
  QueueNearSequenceLimit<typename TestType::template Queue<int>> queue;
  std::vector<EventHandle> handles;
  for (int i = 0; i < 10; ++i) handles.push_back(queue.push(5, i));
  queue.push(1, -1, 0);
  queue.use_up_sequences_for_testing(3);
  for (int i = 10; i < 20; ++i) handles.push_back(queue.push(5, i));  // crosses the limit
  CHECK(queue.cancel(handles[4]));
  CHECK(queue.pop().payload == -1);  // leaves the root vacant...
  queue.use_up_sequences_for_testing(0);
  for (int i = 20; i < 30; ++i) queue.push(5, i);  // ...when the next renumbering comes
  std::vector<int> expected;
  for (int i = 0; i < 30; ++i)
    if (i != 4) expected.push_back(i);
  CHECK(pop_all(queue) == expected);
}

TEMPLATE_TEST_CASE("The queue agrees with a std::set reference over long random runs",
                   "[event_queue]", QUEUE_TYPES) {
  // Pushes (many ties), pops, pop+push holds, cancels of live and stale handles,
  // next_time, occasional clear() and sequence renumbering, in phases that grow and shrink
  // the queue so that compaction runs too. Every pop must return the reference's minimum.
  struct Entry {
    SimTime time;
    int priority;
    std::uint64_t sequence;
    std::uint64_t id;
    bool operator<(const Entry& other) const {
      return std::tie(time, priority, sequence) <
             std::tie(other.time, other.priority, other.sequence);
    }
  };
  auto run = [](std::uint64_t seed) {
    Random random(seed);
    QueueNearSequenceLimit<typename TestType::template Queue<std::uint64_t>> queue;
    std::set<Entry> reference;
    std::map<std::uint64_t, typename std::set<Entry>::iterator> by_id;
    std::vector<std::uint64_t> live_ids;  // candidates for cancellation
    std::vector<std::pair<EventHandle, std::uint64_t>> issued;
    std::vector<std::uint64_t> pop_log;
    std::uint64_t next_id = 0, sequence = 0;
    SimTime now = 0;
    const int priorities[] = {0, 1, 128, 128, 128, 255};

    auto push = [&](SimTime time) {
      const int priority = priorities[random.uniform(6)];
      const std::uint64_t id = next_id++;
      const EventHandle handle = queue.push(time, id, static_cast<std::uint8_t>(priority));
      by_id[id] = reference.insert(Entry{time, priority, sequence++, id}).first;
      live_ids.push_back(id);
      issued.emplace_back(handle, id);
    };
    auto random_time = [&] {
      if (random.one_in(20)) return static_cast<SimTime>(random.uniform(1'000'000)) - 500'000;
      return now + static_cast<SimTime>(random.uniform(random.one_in(10) ? 100'000 : 20));
    };
    auto pop = [&] {
      REQUIRE(queue.next_time() == reference.begin()->time);
      const auto event = queue.pop();
      const Entry expected = *reference.begin();
      REQUIRE(event.payload == expected.id);
      REQUIRE(event.time == expected.time);
      REQUIRE(event.priority == expected.priority);
      reference.erase(reference.begin());
      by_id.erase(expected.id);
      pop_log.push_back(event.payload);
      now = event.time;
      return event;
    };

    for (int phase = 0; phase < 12; ++phase) {
      // Weights of push, pop, hold, cancel: growing, shrinking, cancelling, steady.
      static const int kWeights[4][4] = {
          {60, 10, 15, 15}, {10, 50, 15, 25}, {25, 5, 10, 60}, {20, 20, 40, 20}};
      const int* weight = kWeights[phase % 4];
      for (int op = 0; op < 5'000; ++op) {
        int pick = static_cast<int>(random.uniform(100));
        if (random.one_in(5'000)) {
          queue.clear();
          reference.clear();
          by_id.clear();
          live_ids.clear();
        } else if (random.one_in(700)) {
          queue.use_up_sequences_for_testing(random.uniform(40));
        } else if ((pick -= weight[0]) < 0) {
          push(random_time());
        } else if ((pick -= weight[1]) < 0) {
          if (!reference.empty()) pop();
        } else if ((pick -= weight[2]) < 0) {
          if (!reference.empty()) {
            const auto event = pop();
            push(event.time + static_cast<SimTime>(random.uniform(30)));
          }
        } else if (!issued.empty()) {
          // Mostly a live event; sometimes any handle ever issued (mostly stale).
          std::uint64_t id;
          EventHandle handle;
          if (!live_ids.empty() && !random.one_in(4)) {
            const std::size_t at = random.uniform(live_ids.size());
            id = live_ids[at];
            live_ids[at] = live_ids.back();
            live_ids.pop_back();
            handle = issued[id].first;
          } else {
            std::tie(handle, id) = issued[random.uniform(issued.size())];
          }
          const auto found = by_id.find(id);
          const bool expected = found != by_id.end();
          REQUIRE(queue.cancel(handle) == expected);
          if (expected) {
            reference.erase(found->second);
            by_id.erase(found);
          }
        }
        REQUIRE(queue.size() == reference.size());
        REQUIRE(queue.empty() == reference.empty());
      }
    }
    while (!reference.empty()) pop();
    REQUIRE(queue.empty());
    return pop_log;
  };

  for (std::uint64_t seed : {1, 2, 3}) {
    INFO("seed " << seed);
    const auto first = run(seed);
    CHECK(first.size() > 10'000);
    CHECK(run(seed) == first);  // identical on every run
  }
}

TEMPLATE_TEST_CASE("Thousands of events at one instant pop by priority, then in push order",
                   "[event_queue]", QUEUE_TYPES) {
  // Ticks, fault starts and fault ends at the same instant, and events that schedule
  // others at that same instant while it is being processed.
  CheckedQueue<typename TestType::template Queue<std::uint64_t>> checked;
  Random random(7);
  const std::uint8_t priorities[] = {10, 20, 200};
  for (int i = 0; i < 20'000; ++i) checked.push(kSecond, priorities[random.uniform(3)]);
  for (int i = 0; i < 40'000; ++i) {
    checked.pop();
    if (i % 2 == 0) checked.push(kSecond, priorities[random.uniform(3)]);
  }
  while (checked.size() > 0) checked.pop();
}

TEST_CASE("Calendar: all events at one time cost a heap's log n, not a scan", "[event_queue]") {
  InspectedCalendar<std::uint64_t> queue;
  for (std::uint64_t i = 0; i < 100'000; ++i) queue.push(0, i);
  const std::size_t rebuilds = queue.rebuilds();
  // Zero-delay holds at the one instant: FIFO, and no rebuild after rebuild.
  for (std::uint64_t i = 0; i < 200'000; ++i) {
    const auto event = queue.pop();
    REQUIRE(event.payload == i);
    queue.push(0, i + 100'000);
  }
  CHECK(queue.rebuilds() - rebuilds < 20);
}

TEST_CASE("Calendar: pop_before pops what next_time and pop would, and stops at the limit",
          "[event_queue]") {
  // Two queues with the same pushes, drained tick by tick: one with next_time() and pop(),
  // one with pop_before() and some of its events cancelled. The second pops the first's
  // events in the same order, less the cancelled ones, and none at or past the limit.
  CalendarQueue<std::uint64_t> plain, stepped;
  Random random(11);
  std::vector<EventHandle> handles;
  std::set<std::uint64_t> cancelled;
  std::uint64_t id = 0;
  for (SimTime tick = 0; tick < 50 * kSecond; tick += kSecond) {
    for (int i = 0; i < 200; ++i) {
      const SimTime at =
          tick + static_cast<SimTime>(random.uniform(3000)) * kMillisecond;  // ties too
      plain.push(at, id);
      handles.push_back(stepped.push(at, id));
      ++id;
    }
    for (int i = 0; i < 20; ++i) {
      const std::size_t k = random.uniform(handles.size());
      if (stepped.cancel(handles[k])) cancelled.insert(k);
    }
    const SimTime end = tick + kSecond;
    std::vector<std::uint64_t> expected, got;
    while (!plain.empty() && plain.next_time() < end) {
      const std::uint64_t payload = plain.pop().payload;
      if (!cancelled.count(payload)) expected.push_back(payload);
    }
    CalendarQueue<std::uint64_t>::Event event;
    while (stepped.pop_before(end, event)) {
      REQUIRE(event.time < end);
      got.push_back(event.payload);
    }
    REQUIRE(got == expected);
    CHECK((stepped.empty() || stepped.next_time() >= end));
  }
  CalendarQueue<std::uint64_t>::Event event;
  CHECK(!CalendarQueue<std::uint64_t>{}.pop_before(kSecond, event));
}

TEST_CASE("Calendar: far-future events wait while ticks advance a second at a time",
          "[event_queue]") {
  // 1,000 services tick every second; faults end days ahead, some cancelled early.
  CheckedQueue<InspectedCalendar<std::uint64_t>> checked;
  Random random(3);
  std::vector<std::tuple<EventHandle, SimTime, std::uint64_t>> fault_ends;
  for (int service = 0; service < 1'000; ++service)
    checked.push(kSecond + service * kMillisecond, 200);
  for (int i = 0; i < 50; ++i) {
    const SimTime end = kDay + static_cast<SimTime>(random.uniform(7 * kDay));
    const EventHandle handle = checked.push(end, 10);
    fault_ends.emplace_back(handle, end, checked.last_id());
  }
  const std::size_t rebuilds = checked.queue.rebuilds();
  for (int tick = 0; tick < 300'000; ++tick) {
    const SimTime now = checked.pop();
    checked.push(now + kSecond, 200);
    if (tick % 10'000 == 0 && !fault_ends.empty()) {
      const auto [handle, end, id] = fault_ends.back();
      CHECK(checked.cancel(handle, end, 10, id));
      fault_ends.pop_back();
    }
  }
  // The width follows the ticks (1,000 per second), not the days-long spread.
  CHECK(checked.queue.bucket_width() <= 16 * kMillisecond);
  CHECK(checked.queue.rebuilds() - rebuilds < 20);
  while (checked.size() > 0) checked.pop();  // the fault ends, days later, in order
}

TEST_CASE("Calendar: bursts and quiet spells keep the order", "[event_queue]") {
  // Quiet spells of a few events a minute apart, then bursts of thousands within a
  // millisecond, then a day of nothing.
  CheckedQueue<InspectedCalendar<std::uint64_t>> checked;
  Random random(9);
  SimTime now = 0;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 5; ++i) checked.push(now + static_cast<SimTime>(random.uniform(kHour)));
    const SimTime burst = now + kMinute;
    for (int i = 0; i < 5'000; ++i)
      checked.push(burst + static_cast<SimTime>(random.uniform(kMillisecond)),
                   static_cast<std::uint8_t>(random.uniform(3)));
    for (int i = 0; i < 4'000; ++i) {
      now = checked.pop();
      if (random.one_in(4)) checked.push(now + static_cast<SimTime>(random.uniform(kSecond)));
    }
    now += kDay;
  }
  while (checked.size() > 0) checked.pop();
}

TEST_CASE("Calendar: it grows with the pending count and shrinks back", "[event_queue]") {
  CheckedQueue<InspectedCalendar<std::uint64_t>> checked;
  Random random(13);
  const std::size_t initial = checked.queue.bucket_count();
  SimTime now = 0;
  for (int i = 0; i < 200'000; ++i)
    checked.push(now + static_cast<SimTime>(random.uniform(kSecond)));
  const std::size_t grown = checked.queue.bucket_count();
  CHECK(grown >= 200'000);
  for (int i = 0; i < 199'990; ++i) now = checked.pop();
  CHECK(checked.queue.bucket_count() < grown / 100);
  CHECK(checked.queue.bucket_count() >= initial);
  while (checked.size() > 0) checked.pop();
}

TEST_CASE("Calendar: the bucket width follows the time scale", "[event_queue]") {
  // Holds with microsecond gaps, then the same with hour gaps: the width follows, and a
  // hold never costs more than a bounded number of rebuilds.
  CheckedQueue<InspectedCalendar<std::uint64_t>> checked;
  Random random(17);
  for (int i = 0; i < 10'000; ++i)
    checked.push(static_cast<SimTime>(random.uniform(10 * kMillisecond)));
  for (int i = 0; i < 100'000; ++i)
    checked.push(checked.pop() + static_cast<SimTime>(random.uniform(10 * kMillisecond)));
  const SimTime fine = checked.queue.bucket_width();
  CHECK(fine <= 16 * kMicrosecond);
  const std::size_t rebuilds = checked.queue.rebuilds();
  for (int i = 0; i < 100'000; ++i)
    checked.push(checked.pop() + static_cast<SimTime>(random.uniform(10'000 * kHour)));
  CHECK(checked.queue.bucket_width() >= 1000 * fine);
  CHECK(checked.queue.rebuilds() - rebuilds < 30);
  while (checked.size() > 0) checked.pop();
}
