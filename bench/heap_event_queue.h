// A 4-ary heap pending-event set: the engine's former queue, kept as a peer of
// CalendarQueue (engine/calendar_queue.h) for the hold-model benchmark and its tests.
//
// Events are ordered by (time, priority, sequence number): the earliest time first; at equal
// times the lower priority value first; at equal priorities the one pushed first. Ties
// therefore resolve identically on every run and on every machine.
//
// Implementation: a 4-ary min-heap of 16-byte keys laid out so that the four children of a
// node share one 64-byte cache line. A key (time, priority, sequence, slot) compares as one
// unsigned 128-bit integer. Payloads live in a slot table beside the heap, so sifting moves
// only the keys.
//  - cancel() is O(1) and never scans: it marks the slot dead and destroys the payload; dead
//    keys are skipped when they reach the top, and the heap is compacted in O(n) when dead
//    keys outnumber live ones.
//  - pop() leaves the root vacant; a push() that follows fills the root and sifts once from
//    it. The common "pop one event, schedule its successor" step (the hold model) costs
//    one sift instead of two.
//  - That sift moves the hole down to the bottom level along the smaller children, then the
//    new key up from there (most keys belong near the bottom). Past the last key the array
//    holds sentinels to the end of the bottom level (at worst, just after a level fills,
//    three times as many as keys), so that small heaps walk down the same number of steps
//    every time; child selection and the first step up are branch-free.
//  - Large heaps prefetch grandchildren and the payloads of the next events to pop, stop
//    above the sentinels, and (arrays of 2 MiB and more) ask Linux for transparent huge
//    pages: at a million pending events, TLB misses otherwise cost more than the sift.
//  - pop() keeps the popped event's slot for the next push().
//
// Limits: at most 2^24 (16.7 M) events pending at once, cancelled events not yet discarded
// included; priorities 0..255. Sequence numbers are renumbered transparently after 2^32 - 1
// pushes. Handles stay safe across clear().
// Not thread-safe: one queue belongs to one engine.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "engine/event_key.h"

namespace dosim {

template <class Payload>
class EventQueue {
 public:
  static constexpr std::uint8_t kDefaultPriority = 128;
  static constexpr std::size_t kMaxPending = std::size_t{1} << 24;

  struct Event {
    SimTime time;
    std::uint8_t priority;
    Payload payload;
  };

  EventQueue() { clear(); }

  // Schedules `payload` at `time`. Throws std::length_error past kMaxPending pending events.
  EventHandle push(SimTime time, Payload payload, std::uint8_t priority = kDefaultPriority) {
    const std::uint32_t slot = acquire_slot(std::move(payload));
    if (next_sequence_ == kSequenceLimit) renumber_sequences();
    const Key key = make_key(time, priority, next_sequence_++, slot);
    if (root_vacant_) {
      root_vacant_ = false;
      fill_root(key);
    } else {
      ++count_;
      fit_levels();
      sift_up(kRoot + count_ - 1, key);
    }
    ++live_;
    return EventHandle{slot, slots_[slot].generation};
  }

  // Cancels a pending event and destroys its payload. Returns false if it already fired or
  // was cancelled.
  bool cancel(EventHandle handle) {
    if (handle.slot >= slots_.size()) return false;  // an invalid handle included
    Slot& slot = slots_[handle.slot];
    if (!slot.pending || slot.generation != handle.generation) return false;
    slot.pending = false;  // the key stays in the heap until it surfaces or a compaction
    if constexpr (!std::is_trivially_destructible_v<Payload>) slot.payload = Payload{};
    --live_;
    if (dead_in_heap() > live_ && count_ > kCompactionMinimum) compact();
    return true;
  }

  bool empty() const { return live_ == 0; }
  std::size_t size() const { return live_; }

  // Time of the earliest pending event. REQUIRES: !empty().
  SimTime next_time() {
    settle_top();
    return time_of(heap_[kRoot]);
  }

  // Removes and returns the earliest pending event. REQUIRES: !empty().
  Event pop() {
    settle_top();
    const Key top = heap_[kRoot];
    const std::uint32_t slot = slot_of(top);
    Event event{time_of(top), priority_of(top), std::move(slots_[slot].payload)};
    retire_slot(slot);
    vacated_slot_ = slot;  // kept for the push that usually follows
    --live_;
    root_vacant_ = true;
    return event;
  }

  // Drops every pending event. Handles issued before stay stale forever.
  void clear() {
    free_vacated_slot();
    for (std::size_t index = kRoot + (root_vacant_ ? 1 : 0); index < kRoot + count_; ++index)
      release_slot(slot_of(heap_[index]));
    count_ = live_ = 0;
    root_vacant_ = false;
    depth_ = 0;
    heap_.assign(kRoot + 1, kSentinel);
    std::fill(heap_.begin(), heap_.begin() + kRoot, Key{0, 0});
  }

 protected:
  // Test hook: pretends that all but `remaining` sequence numbers have been used, so that a
  // test reaches the renumbering without 2^32 pushes. REQUIRES: remaining < 2^32.
  void use_up_sequences_for_testing(std::uint64_t remaining) {
    next_sequence_ = std::max(next_sequence_, kSequenceLimit - remaining);
  }

 private:
  using Key = detail::EventKey;

  static constexpr int kSlotBits = 24;
  static constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kSlotBits) - 1;
  // The all-ones sequence number is never issued, so no event's key equals kSentinel.
  static constexpr std::uint64_t kSequenceLimit = (std::uint64_t{1} << 32) - 1;
  static constexpr std::uint64_t kTimeBias = std::uint64_t{1} << 63;  // signed -> unsigned order
  static constexpr std::size_t kCompactionMinimum = 256;
  static constexpr std::uint32_t kNoSlot = ~0u;
  // Entry p (level order) lives at index p + 3: the root at index 3, and the children of
  // index j at 4j-8 .. 4j-5, which always start on a multiple of four entries (one cache
  // line of the 64-byte-aligned array). Indices 0..2 hold the smallest key, so that nothing
  // moves above the root. Past the last entry, the array holds kSentinel up to the end of
  // the deepest level, so every node of the level above it has four children to compare.
  static constexpr std::size_t kRoot = 3;
  static constexpr Key kSentinel{~std::uint64_t{0}, ~std::uint64_t{0}};
  // From this depth on (5461+ keys, 85+ KiB) the walk down prefetches grandchildren and the
  // slots of the next events to pop; smaller heaps stay in the L1/L2 caches.
  static constexpr int kPrefetchDepth = 7;

  struct Slot {
    Payload payload{};
    std::uint32_t generation = 0;
    bool pending = false;
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
  static std::size_t parent_of(std::size_t index) { return index / 4 + 2; }
  static std::size_t first_child_of(std::size_t index) { return index * 4 - 8; }
  // Number of entries in levels 0 .. depth - 1.
  static std::size_t entries_above(int depth) { return ((std::size_t{1} << (2 * depth)) - 1) / 3; }

  std::size_t dead_in_heap() const { return count_ - live_ - (root_vacant_ ? 1 : 0); }

  std::uint32_t acquire_slot(Payload&& payload) {
    std::uint32_t slot;
    if (vacated_slot_ != kNoSlot) {
      slot = vacated_slot_;
      vacated_slot_ = kNoSlot;
    } else if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      if (slots_.size() >= kMaxPending) throw std::length_error("dosim: too many pending events");
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    slots_[slot].payload = std::move(payload);
    slots_[slot].pending = true;
    return slot;
  }

  // Ends the slot's event: its handles go stale.
  void retire_slot(std::uint32_t slot) {
    if constexpr (!std::is_trivially_destructible_v<Payload>) slots_[slot].payload = Payload{};
    slots_[slot].pending = false;
    ++slots_[slot].generation;
  }

  void release_slot(std::uint32_t slot) {
    retire_slot(slot);
    free_slots_.push_back(slot);
  }

  void free_vacated_slot() {
    if (vacated_slot_ == kNoSlot) return;
    free_slots_.push_back(vacated_slot_);
    vacated_slot_ = kNoSlot;
  }

  // Sets depth_ to the deepest level holding an entry after count_ changed, and makes the
  // array reach the end of that level, sentinels past the last entry.
  void fit_levels() {
    while (count_ > entries_above(depth_ + 1)) ++depth_;
    while (depth_ > 0 && count_ <= entries_above(depth_)) --depth_;
    const std::size_t size = kRoot + entries_above(depth_ + 1);
    if (heap_.size() < size) heap_.resize(size, kSentinel);
  }

  void sift_up(std::size_t index, const Key& key) {
    Key* const heap = heap_.data();
    for (std::size_t parent = parent_of(index); key < heap[parent]; parent = parent_of(index)) {
      heap[index] = heap[parent];
      index = parent;
    }
    heap[index] = key;
  }

  // Fills the vacant root with `key`. The hole walks down depth_ levels, always to the
  // smaller child (it ends on a sentinel when it passes a node without children); then
  // `key` moves up from there, which it always does past a sentinel.
  void fill_root(const Key& key) {
    if (depth_ >= kPrefetchDepth)
      fill_root<true>(key);
    else
      fill_root<false>(key);
  }

  template <bool kPrefetch>
  void fill_root(const Key& key) {
    Key* const heap = heap_.data();
    const int depth = depth_;
    std::size_t index = kRoot;
    const std::size_t end = kRoot + count_;
    for (int level = 0; level < depth; ++level) {
      const std::size_t first = first_child_of(index);
      // In a large heap, a walk into the sentinels costs a cache miss, more than the
      // mispredicted branch that avoids it; in a small one, the other way round.
      if (kPrefetch && level + 1 == depth && first >= end) break;
      if (kPrefetch && level + 2 <= depth && first_child_of(first) < end) {
        const Key* const grandchildren = heap + first_child_of(first);
        for (int line = 0; line < 4; ++line) __builtin_prefetch(grandchildren + 4 * line);
      }
      Key low = heap[first], high = heap[first + 2];
      std::size_t low_index = first, high_index = first + 2;
      detail::keep_smaller(low, low_index, heap[first + 1], first + 1);
      detail::keep_smaller(high, high_index, heap[first + 3], first + 3);
      detail::keep_smaller(low, low_index, high, high_index);
      heap[index] = low;
      index = low_index;
      // The keys moving into the top two levels pop soon: fetch their payloads now.
      if (kPrefetch && level < 2) __builtin_prefetch(&slots_[slot_of(low)]);
    }
    // The key most often belongs where the hole is or one level up: one branch-free step.
    const std::size_t parent = parent_of(index);
    Key moved = key;
    std::size_t next = index;
    detail::keep_larger(moved, next, heap[parent], parent);
    heap[index] = moved;
    sift_up(next, key);
  }

  // Classic sift-down with bounds, for heap construction.
  void sift_down(std::size_t index) {
    Key* const heap = heap_.data();
    const Key key = heap[index];
    const std::size_t end = kRoot + count_;
    for (;;) {
      const std::size_t first = first_child_of(index);
      if (first >= end) break;
      std::size_t best = first;
      for (std::size_t child = first + 1; child < std::min(first + 4, end); ++child)
        if (heap[child] < heap[best]) best = child;
      if (!(heap[best] < key)) break;
      heap[index] = heap[best];
      index = best;
    }
    heap[index] = key;
  }

  // Makes the root a live event: fills a vacant root and discards cancelled keys.
  void settle_top() {
    assert(live_ > 0);
    if (root_vacant_) {
      free_vacated_slot();
      remove_root();
    }
    for (;;) {
      const std::uint32_t slot = slot_of(heap_[kRoot]);
      if (slots_[slot].pending) return;
      release_slot(slot);
      remove_root();
    }
  }

  // Removes the root entry, vacant or dead: the last entry fills it.
  void remove_root() {
    root_vacant_ = false;
    --count_;
    const Key last = heap_[kRoot + count_];
    heap_[kRoot + count_] = kSentinel;
    fit_levels();
    if (count_ > 0) fill_root(last);
  }

  // Drops cancelled keys and a vacant root, keeping the live keys in heap order.
  void drop_dead_keys() {
    free_vacated_slot();
    Key* const heap = heap_.data();
    const std::size_t end = kRoot + count_;
    std::size_t out = kRoot;
    for (std::size_t in = kRoot + (root_vacant_ ? 1 : 0); in < end; ++in) {
      const std::uint32_t slot = slot_of(heap[in]);
      if (slots_[slot].pending)
        heap[out++] = heap[in];
      else
        release_slot(slot);
    }
    std::fill(heap + out, heap + end, kSentinel);
    count_ = out - kRoot;
    root_vacant_ = false;
    fit_levels();
  }

  // O(n): Floyd's heap construction after dropping the dead keys; amortised over the at
  // least n/2 cancellations that triggered it.
  void compact() {
    drop_dead_keys();
    if (count_ < 2) return;
    for (std::size_t index = parent_of(kRoot + count_ - 1) + 1; index-- > kRoot;) sift_down(index);
  }

  // Once the sequence numbers are used up, renumber live keys by rank: relative order is
  // kept, and a sorted array is a heap.
  void renumber_sequences() {
    drop_dead_keys();
    Key* const heap = heap_.data();
    std::sort(heap + kRoot, heap + kRoot + count_);
    constexpr std::uint64_t kSequenceBits = std::uint64_t{0xFFFFFFFFu} << kSlotBits;
    for (std::size_t rank = 0; rank < count_; ++rank) {
      std::uint64_t& order = heap[kRoot + rank].order;
      order = (order & ~kSequenceBits) | (std::uint64_t{rank} << kSlotBits);
    }
    next_sequence_ = count_;
  }

  std::vector<Key, detail::CacheAlignedAllocator<Key>> heap_;
  std::vector<Slot, detail::CacheAlignedAllocator<Slot>> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t count_ = 0;  // keys in the heap, dead ones and a vacant root included
  std::size_t live_ = 0;   // pending events
  int depth_ = 0;          // deepest level holding a key; the root is level 0
  std::uint64_t next_sequence_ = 0;
  std::uint32_t vacated_slot_ = kNoSlot;  // the popped root's slot, until the next push
  bool root_vacant_ = false;
};

}  // namespace dosim
