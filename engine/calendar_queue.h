// A pending-event set with O(1) expected cost per operation: a calendar queue (Brown, 1988)
// with automatic resizing, shaped like one rung of a ladder queue (Tang, Goh and Thng, 2005)
// with a heap above and below it.
//
// Same contract as EventQueue (bench/heap_event_queue.h, its peer): events pop in (time,
// priority, sequence number) order, lower priority values first at equal times, first
// pushed first at equal (time, priority); push, cancel, pop, next_time, size, empty and
// clear behave identically, and the order never depends on the calendar's shape. Handles are
// stale-safe, across clear() too. Limits: at most 2^24 events pending at once, cancelled events not
// yet discarded included; priorities 0..255. Not thread-safe: one queue belongs to one engine.
//
// Implementation. Time is cut into buckets of 2^shift ns; the ring has 2^k of them, so it
// covers the 2^k buckets from the current one on. Every event is in exactly one of three
// places, by its bucket number b = time >> shift:
//  - near: b <= current. A binary min-heap of full keys, usually one to three; pop takes
//    its top.
//  - the ring: current < b < current + 2^k. One unsorted list per bucket, linked through
//    the slot table; push links in O(1). A ring position holds one bucket number at a time.
//  - far: b >= current + 2^k (fault ends days ahead, say). A binary min-heap; its events
//    move into the ring as the window reaches them, each once.
// Every near event precedes every ring event, which precedes every far event, so the top of
// near is the minimum. When near runs dry, the current bucket steps forward and the next
// non-empty bucket's list is heapified into near; with the ring empty, it jumps straight
// to the far minimum. Many events at one time therefore cost a heap's O(log n), never O(n).
//  - cancel() is O(1) and lazy: the slot's generation moves on and the payload is destroyed;
//    the key is dropped when it surfaces in near or far or its bucket drains.
//  - Shape: about 4 buckets per pending event (the ring spans nearly all of a stationary
//    queue, so few events take the far heap's O(log n)), and a width of the largest power
//    of two up to 1.5 times the mean gap between the earlier half of about 512 sampled
//    pending times (a few far-future events do not move it). The calendar is rebuilt, O(n), when
//    the pending count leaves [buckets / 16, buckets / 2], when cancelled events outnumber live
//    ones, and when a review (once per epoch of about n pops) finds that draining cost too
//    much: many empty buckets stepped over, crowded buckets, or most events coming from far.
//    A review whose estimate changes nothing doubles the epoch, so rebuilds stay amortised.
//  - Large calendars load the slots of the buckets 3 to 9 ahead before they drain: the
//    list walk is otherwise a chain of cache misses. Plain loads: on the machines measured,
//    prefetch instructions were dropped on TLB misses and gained nothing.
#pragma once

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "dosim/engine/sim_time.h"
#include "engine/event_key.h"

namespace dosim {

template <class Payload>
class CalendarQueue {
 public:
  static constexpr std::uint8_t kDefaultPriority = 128;
  static constexpr std::size_t kMaxPending = std::size_t{1} << 24;

  struct Event {
    SimTime time;
    std::uint8_t priority;
    Payload payload;
  };

  CalendarQueue() { clear(); }

  // Schedules `payload` at `time`. Throws std::length_error past kMaxPending pending events.
  EventHandle push(SimTime time, Payload payload, std::uint8_t priority = kDefaultPriority) {
    if (next_sequence_ == kSequenceLimit) renumber_sequences();
    const std::uint32_t slot = acquire_slot();
    Slot& entry = slots_[slot];
    entry.payload = std::move(payload);
    entry.key = make_key(time, priority, next_sequence_++, slot);
    ++entry.generation;  // odd: pending
    ++live_;
    place(entry.key, slot, /*keep_heaps=*/true);
    if (live_ * kBucketsPerEvent > 2 * bucket_count() && bucket_count() < kMaxBuckets) retune();
    return EventHandle{slot, entry.generation};
  }

  // Cancels a pending event and destroys its payload. Returns false if it already fired or
  // was cancelled.
  bool cancel(EventHandle handle) {
    if (handle.slot >= slots_.size()) return false;  // an invalid handle included
    Slot& entry = slots_[handle.slot];
    if (!pending(entry) || entry.generation != handle.generation) return false;
    ++entry.generation;  // even: its handles go stale; the slot is freed once discarded
    if constexpr (!std::is_trivially_destructible_v<Payload>) entry.payload = Payload{};
    --live_;
    ++dead_;
    if (dead_ > live_ && dead_ > kCompactionMinimum) rebuild(bucket_count(), shift_);
    return true;
  }

  bool empty() const { return live_ == 0; }
  std::size_t size() const { return live_; }

  // Time of the earliest pending event. REQUIRES: !empty().
  SimTime next_time() {
    settle_top();
    return time_of(near_.front());
  }

  // Removes and returns the earliest pending event. REQUIRES: !empty().
  Event pop() {
    settle_top();
    return take_top();
  }

  // pop() if the earliest pending event is due before `limit` (into `out`): a drain loop's
  // one step, settling the top once.
  bool pop_before(SimTime limit, Event& out) {
    if (live_ == 0) return false;
    settle_top();
    if (time_of(near_.front()) >= limit) return false;
    out = take_top();
    return true;
  }

 private:
  // Pops the settled top of near_.
  Event take_top() {
    const Key top = near_.front();
    pop_heap(near_);
    const std::uint32_t slot = slot_of(top);
    Event event{time_of(top), priority_of(top), std::move(slots_[slot].payload)};
    release_slot(slot);
    --live_;
    ++pops_;
    if (live_ * kBucketsPerEvent < bucket_count() / 4 && bucket_count() > kMinBuckets) retune();
    return event;
  }

 public:
  // Drops every pending event. Handles issued before stay stale forever.
  void clear() {
    for (Slot& entry : slots_)
      if (pending(entry)) retire(entry);
    live_ = dead_ = 0;
    rebuild(kMinBuckets, shift_);
  }

 protected:
  // Test hook: pretends that all but `remaining` sequence numbers have been used, so that a
  // test reaches the renumbering without 2^32 pushes. REQUIRES: remaining < 2^32.
  void use_up_sequences_for_testing(std::uint64_t remaining) {
    next_sequence_ = std::max(next_sequence_, kSequenceLimit - remaining);
  }
  // Test hooks: the calendar's current shape.
  std::size_t bucket_count() const { return mask_ + 1; }
  SimTime bucket_width() const { return SimTime{1} << shift_; }
  std::size_t rebuilds() const { return rebuilds_; }

 private:
  using Key = detail::EventKey;

  static constexpr int kSlotBits = 24;
  static constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kSlotBits) - 1;
  static constexpr std::uint64_t kSequenceLimit = (std::uint64_t{1} << 32) - 1;
  static constexpr std::uint64_t kTimeBias = std::uint64_t{1} << 63;  // signed -> unsigned order
  static constexpr std::size_t kCompactionMinimum = 256;
  static constexpr std::size_t kMinBuckets = 16;
  static constexpr std::size_t kMaxBuckets = std::size_t{1} << 22;
  static constexpr std::uint32_t kNone = ~0u;
  // Target events per bucket near the front of the queue: fewer means more empty buckets to
  // step over, more means larger near heaps and longer lists to walk.
  static constexpr double kEventsPerBucket = 1.5;
  // Ring buckets per pending event: at 1.5 events per bucket, the window spans about 2.7
  // times the front's mean gap times n, past the bulk of exponential-like spreads.
  static constexpr std::size_t kBucketsPerEvent = 4;
  // Draining costs too much past this many empty buckets per pop, or this many events per
  // drained bucket, on average over an epoch (or more than half the pops' events from far).
  static constexpr std::uint64_t kEmptyBucketsPerPop = 8;
  static constexpr std::uint64_t kEventsPerDrain = 16;
  // In calendars of this many buckets or more (1/4 as many events), the lists of the buckets
  // d, 2d and 3d ahead are loaded one node deeper at every step.
  static constexpr std::size_t kPrefetchAhead = 3;
  static constexpr std::size_t kPrefetchBuckets = std::size_t{1} << 14;

  // A slot whose generation is odd holds a pending event. An even one is free, or holds a
  // cancelled event not yet discarded (its key is still in near_, far_ or the ring).
  struct Slot {
    Key key{};
    Payload payload{};
    std::uint32_t next = kNone;  // the next event in the same ring bucket
    std::uint32_t generation = 0;
  };
  static bool pending(const Slot& entry) { return (entry.generation & 1) != 0; }

  // std heap algorithms build max-heaps: this order puts the smallest key on top.
  struct Later {
    bool operator()(const Key& a, const Key& b) const { return b < a; }
  };

  static Key make_key(SimTime time, std::uint8_t priority, std::uint64_t sequence,
                      std::uint32_t slot) {
    return Key{(std::uint64_t{priority} << 56) | (sequence << kSlotBits) | slot,
               static_cast<std::uint64_t>(time) ^ kTimeBias};
  }
  static SimTime time_of(const Key& key) { return static_cast<SimTime>(key.time ^ kTimeBias); }
  static std::uint8_t priority_of(const Key& key) {
    return static_cast<std::uint8_t>(key.order >> 56);
  }
  static std::uint32_t slot_of(const Key& key) {
    return static_cast<std::uint32_t>(key.order & kSlotMask);
  }
  static void push_heap(std::vector<Key>& heap, const Key& key) {
    heap.push_back(key);
    std::push_heap(heap.begin(), heap.end(), Later{});
  }
  static void pop_heap(std::vector<Key>& heap) {
    std::pop_heap(heap.begin(), heap.end(), Later{});
    heap.pop_back();
  }

  std::uint64_t bucket_of(const Key& key) const { return key.time >> shift_; }

  std::uint32_t acquire_slot() {
    if (!free_slots_.empty()) {
      const std::uint32_t slot = free_slots_.back();
      free_slots_.pop_back();
      return slot;
    }
    if (slots_.size() >= kMaxPending) throw std::length_error("dosim: too many pending events");
    slots_.emplace_back();
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }

  // Ends the slot's pending event: its handles go stale.
  static void retire(Slot& entry) {
    if constexpr (!std::is_trivially_destructible_v<Payload>) entry.payload = Payload{};
    ++entry.generation;
  }

  // Frees the slot of a popped event.
  void release_slot(std::uint32_t slot) {
    retire(slots_[slot]);
    free_slots_.push_back(slot);
  }

  // Frees the slot of a cancelled event, now discarded.
  void discard_slot(std::uint32_t slot) {
    free_slots_.push_back(slot);
    --dead_;
  }

  // Puts a key where its bucket number says. Without keep_heaps, near_ and far_ are only
  // appended to (the caller heapifies them).
  void place(const Key& key, std::uint32_t slot, bool keep_heaps) {
    const std::uint64_t bucket = bucket_of(key);
    if (bucket <= current_) {
      keep_heaps ? push_heap(near_, key) : near_.push_back(key);
    } else if (bucket - current_ <= mask_) {
      std::uint32_t& head = heads_[bucket & mask_];
      slots_[slot].next = head;
      head = slot;
      ++ring_events_;
    } else {
      keep_heaps ? push_heap(far_, key) : far_.push_back(key);
    }
  }

  // Makes the top of near_ a live event. REQUIRES: live_ > 0.
  void settle_top() {
    assert(live_ > 0);
    for (;;) {
      while (!near_.empty()) {
        const std::uint32_t slot = slot_of(near_.front());
        if (pending(slots_[slot])) return;
        pop_heap(near_);
        discard_slot(slot);
      }
      advance();
    }
  }

  // Moves the current bucket forward to the next one holding events and drains it into
  // near_. REQUIRES: near_ empty, events pending.
  void advance() {
    if (ring_events_ == 0) {  // nothing in the window: jump to the far minimum
      assert(!far_.empty());
      current_ = bucket_of(far_.front());
      admit_far();
    } else {
      ++current_;
      ++empty_steps_;
      admit_far();
      drain(current_ & mask_);
      if (bucket_count() >= kPrefetchBuckets) prefetch_ahead();
    }
    if (pops_ >= epoch_ || empty_steps_ > kEmptyBucketsPerPop * pops_ + epoch_) review_costs();
  }

  // Once an epoch (or sooner, when stepping over empty buckets gets out of hand): if the
  // calendar cost too much since the last review, re-estimate its shape.
  void review_costs() {
    if (empty_steps_ > kEmptyBucketsPerPop * pops_ || drained_ > kEventsPerDrain * drains_ ||
        far_moves_ > pops_ / 2) {
      retune();
    }
    pops_ = empty_steps_ = drains_ = drained_ = far_moves_ = 0;
  }

  // In a calendar too large for the caches, every event drained would be a cache miss.
  // Walks the lists of the buckets d, 2d and 3d ahead one node further each time (the
  // nodes before were fetched at the earlier steps) and loads that node. Plain loads, not
  // prefetch instructions: on the machines measured those are dropped on TLB misses.
  void prefetch_ahead() {
    std::uint32_t node = heads_[(current_ + 3 * kPrefetchAhead) & mask_];
    if (node != kNone) touch(slots_[node]);
    node = heads_[(current_ + 2 * kPrefetchAhead) & mask_];
    if (node == kNone || (node = slots_[node].next) == kNone) return;
    touch(slots_[node]);
    node = heads_[(current_ + kPrefetchAhead) & mask_];
    if (node == kNone || (node = slots_[node].next) == kNone) return;
    if ((node = slots_[node].next) != kNone) touch(slots_[node]);
  }

  static void touch(const Slot& entry) {
    asm volatile("" : : "r"(entry.generation));  // a load the compiler must keep
  }

  // Moves far events that the window now reaches into the ring (or near_).
  void admit_far() {
    while (!far_.empty() && bucket_of(far_.front()) - current_ <= mask_) {
      const Key key = far_.front();
      pop_heap(far_);
      ++far_moves_;
      const std::uint32_t slot = slot_of(key);
      if (pending(slots_[slot]))
        place(key, slot, /*keep_heaps=*/true);
      else
        discard_slot(slot);
    }
  }

  // Moves the events of one ring bucket, all due in the current bucket, into near_.
  void drain(std::size_t ring_index) {
    std::uint32_t slot = heads_[ring_index];
    if (slot == kNone) return;
    heads_[ring_index] = kNone;
    --empty_steps_;  // it was not empty after all
    ++drains_;
    do {
      Slot& entry = slots_[slot];
      const std::uint32_t next = entry.next;
      --ring_events_;
      ++drained_;
      if (pending(entry))
        near_.push_back(entry.key);
      else
        discard_slot(slot);
      slot = next;
    } while (slot != kNone);
    std::make_heap(near_.begin(), near_.end(), Later{});
  }

  // Re-estimates the calendar's shape from the pending events and rebuilds it if that
  // changes anything; otherwise waits twice as long before the next check.
  void retune() {
    const std::size_t buckets =
        std::clamp(std::bit_ceil(std::max<std::size_t>(live_ * kBucketsPerEvent, 1)), kMinBuckets,
                   kMaxBuckets);
    const int shift = estimate_shift();
    if (buckets == bucket_count() && shift == shift_) {
      epoch_ *= 2;  // a fresh estimate changes nothing: look again later
      return;
    }
    rebuild(buckets, shift);
  }

  // log2 of the bucket width that puts about kEventsPerBucket events in each bucket, judged
  // from the lower half of a sample of pending times (a few far-future events do not count).
  int estimate_shift() {
    sample_.clear();
    const std::size_t stride = std::max<std::size_t>(1, slots_.size() / 512);
    for (std::size_t slot = 0; slot < slots_.size(); slot += stride)
      if (pending(slots_[slot])) sample_.push_back(slots_[slot].key.time);
    if (sample_.size() < 2) return shift_;
    std::sort(sample_.begin(), sample_.end());
    std::size_t upper = sample_.size() / 2;
    while (upper < sample_.size() && sample_[upper] == sample_.front()) ++upper;
    if (upper == sample_.size()) return shift_;  // all at one time: any width will do
    const double share = static_cast<double>(upper) / static_cast<double>(sample_.size());
    const double gap = static_cast<double>(sample_[upper] - sample_.front()) /
                       (share * static_cast<double>(live_));
    const double width = std::max(1.0, kEventsPerBucket * gap);
    if (width >= 0x1p62) return 62;
    return static_cast<int>(std::bit_width(static_cast<std::uint64_t>(width))) - 1;
  }

  // Rebuilds the calendar with `buckets` ring slots of 2^shift ns from the slot table,
  // dropping cancelled events.
  void rebuild(std::size_t buckets, int shift) {
    ++rebuilds_;
    shift_ = shift;
    mask_ = buckets - 1;
    heads_.assign(buckets, kNone);
    near_.clear();
    far_.clear();
    free_slots_.clear();
    ring_events_ = 0;
    dead_ = 0;
    std::uint64_t earliest = std::numeric_limits<std::uint64_t>::max();
    for (const Slot& entry : slots_)
      if (pending(entry)) earliest = std::min(earliest, entry.key.time);
    current_ = live_ > 0 ? earliest >> shift_ : 0;
    for (std::size_t index = slots_.size(); index-- > 0;) {
      Slot& entry = slots_[index];
      const auto slot = static_cast<std::uint32_t>(index);
      if (pending(entry))
        place(entry.key, slot, /*keep_heaps=*/false);
      else
        free_slots_.push_back(slot);
    }
    std::make_heap(near_.begin(), near_.end(), Later{});
    std::make_heap(far_.begin(), far_.end(), Later{});
    pops_ = empty_steps_ = drains_ = drained_ = far_moves_ = 0;
    epoch_ = buckets / kBucketsPerEvent + live_;
  }

  // Once the sequence numbers are used up, renumber pending events by rank: relative order
  // is kept.
  void renumber_sequences() {
    std::vector<Key> keys;
    keys.reserve(live_);
    for (const Slot& entry : slots_)
      if (pending(entry)) keys.push_back(entry.key);
    std::sort(keys.begin(), keys.end());
    constexpr std::uint64_t kSequenceBits = std::uint64_t{0xFFFFFFFFu} << kSlotBits;
    for (std::size_t rank = 0; rank < keys.size(); ++rank) {
      Key& key = slots_[slot_of(keys[rank])].key;
      key.order = (key.order & ~kSequenceBits) | (std::uint64_t{rank} << kSlotBits);
    }
    next_sequence_ = keys.size();
    rebuild(bucket_count(), shift_);
  }

  std::vector<Slot, detail::CacheAlignedAllocator<Slot>> slots_;
  std::vector<std::uint32_t> free_slots_;
  // Ring: the first event of each bucket, or kNone.
  std::vector<std::uint32_t, detail::CacheAlignedAllocator<std::uint32_t>> heads_;
  std::vector<Key> near_;  // min-heap (Later) of events due by the current bucket
  std::vector<Key> far_;   // min-heap (Later) of events beyond the window
  std::vector<std::uint64_t> sample_;
  std::uint64_t current_ = 0;    // bucket number (biased time >> shift_) of the current bucket
  std::size_t mask_ = 0;         // ring slots - 1
  int shift_ = 20;               // log2 of the bucket width in ns (about a millisecond at first)
  std::size_t live_ = 0;         // pending events
  std::size_t dead_ = 0;         // cancelled events not yet discarded
  std::size_t ring_events_ = 0;  // events linked into the ring, dead ones included
  std::uint64_t next_sequence_ = 0;
  // Costs since the last review: pops, buckets stepped over empty, buckets drained and the
  // events they held, events moved in from far_.
  std::uint64_t pops_ = 0, empty_steps_ = 0, drains_ = 0, drained_ = 0, far_moves_ = 0;
  std::uint64_t epoch_ = 0;  // pops between reviews
  std::size_t rebuilds_ = 0;
};

}  // namespace dosim
