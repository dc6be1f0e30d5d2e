// The pending-event set of the discrete-event engine.
//
// Events are ordered by (time, priority, sequence number): the earliest time first; at equal
// times the lower priority value first; at equal priorities the one pushed first. Ties
// therefore resolve identically on every run and on every machine.
//
// Implementation: a 4-ary min-heap of 16-byte keys laid out so that the four children of a
// node share one 64-byte cache line, with branch-free child selection. Payloads live in a
// slot table beside the heap, so sifting moves only the keys.
//  - cancel() is O(1) and never scans: it marks the slot dead; dead keys are skipped when
//    they reach the top, and the heap is compacted when dead keys outnumber live ones.
//  - pop() leaves the root vacant; a push() that follows fills the root and sifts once from
//    it. The common "pop one event, schedule its successor" step (the hold model) costs
//    one sift instead of two.
//
// Limits: at most 2^24 (16.7 M) events pending at once; priorities 0..255. Sequence numbers
// are renumbered transparently when 2^32 pushes have been made.
// Not thread-safe: one queue belongs to one engine.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

#include "sim_time.h"

namespace dosim {

// Identifies a scheduled event for cancellation. Stale handles (the event fired or was
// cancelled) are recognised and ignored.
struct EventHandle {
  std::uint32_t slot = ~0u;
  std::uint32_t generation = 0;
  bool valid() const { return slot != ~0u; }
};

namespace detail {

// Allocator handing out cache-line-aligned storage, so that sibling groups of the heap
// never straddle two lines.
template <class T>
struct CacheAlignedAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  CacheAlignedAllocator() = default;
  template <class U>
  CacheAlignedAllocator(const CacheAlignedAllocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, kAlign); }
  template <class U>
  bool operator==(const CacheAlignedAllocator<U>&) const { return true; }
};

}  // namespace detail

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

  EventQueue() : heap_(kRoot + 1) {}

  // Schedules `payload` at `time`. Throws std::length_error past kMaxPending pending events.
  EventHandle push(SimTime time, Payload payload, std::uint8_t priority = kDefaultPriority) {
    std::uint32_t slot = acquire_slot(std::move(payload));
    if (next_sequence_ == kSequenceLimit) renumber_sequences();
    Key key{time, (std::uint64_t{priority} << 56) | (next_sequence_++ << kSlotBits) | slot};
    if (root_vacant_) {
      root_vacant_ = false;
      sift_down(kRoot, key);
    } else {
      ++count_;
      sift_up(last_index(), key);
    }
    ++live_;
    return EventHandle{slot, slots_[slot].generation};
  }

  // Cancels a pending event. Returns false if it already fired or was cancelled.
  bool cancel(EventHandle handle) {
    if (!handle.valid() || handle.slot >= slots_.size()) return false;
    Slot& slot = slots_[handle.slot];
    if (!slot.pending || slot.generation != handle.generation) return false;
    slot.pending = false;  // the key stays in the heap until it surfaces or a compaction
    --live_;
    if (dead_in_heap() > live_ && count_ > kCompactionMinimum) compact();
    return true;
  }

  bool empty() const { return live_ == 0; }
  std::size_t size() const { return live_; }

  // Time of the earliest pending event. REQUIRES: !empty().
  SimTime next_time() {
    settle_top();
    return heap_[kRoot].time;
  }

  // Removes and returns the earliest pending event. REQUIRES: !empty().
  Event pop() {
    settle_top();
    const Key top = heap_[kRoot];
    const std::uint32_t slot = slot_of(top);
    Event event{top.time, static_cast<std::uint8_t>(top.order >> 56),
                std::move(slots_[slot].payload)};
    release_slot(slot);
    --live_;
    root_vacant_ = true;
    return event;
  }

  void clear() {
    heap_.assign(kRoot + 1, Key{});
    slots_.clear();
    free_slots_.clear();
    count_ = live_ = 0;
    root_vacant_ = false;
  }

 private:
  static constexpr int kSlotBits = 24;
  static constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kSlotBits) - 1;
  static constexpr std::uint64_t kSequenceLimit = std::uint64_t{1} << 32;
  static constexpr std::size_t kCompactionMinimum = 256;
  // Entry p (level order) lives at index p + 3: the root at index 3, and the children of
  // index j at 4j-8 .. 4j-5, which always start on a multiple of four entries (one cache
  // line of the 64-byte-aligned array). Indices 0..2 are padding.
  static constexpr std::size_t kRoot = 3;

  struct Key {
    SimTime time;
    std::uint64_t order;  // priority (8 bits) | sequence (32 bits) | slot (24 bits)
  };
  static_assert(sizeof(Key) == 16);

  struct Slot {
    Payload payload{};
    std::uint32_t generation = 0;
    bool pending = false;
  };

  static std::uint32_t slot_of(const Key& key) { return static_cast<std::uint32_t>(key.order & kSlotMask); }
  static bool less(const Key& a, const Key& b) {
    return a.time < b.time || (a.time == b.time && a.order < b.order);
  }
  // Heap index of the i-th entry in level order (0 is the root).
  static std::size_t index_of(std::size_t position) { return position + kRoot; }
  std::size_t last_index() const { return index_of(count_ - 1); }
  std::size_t dead_in_heap() const { return count_ - live_ - (root_vacant_ ? 1 : 0); }

  std::uint32_t acquire_slot(Payload&& payload) {
    std::uint32_t slot;
    if (!free_slots_.empty()) {
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

  void release_slot(std::uint32_t slot) {
    slots_[slot].pending = false;
    ++slots_[slot].generation;
    free_slots_.push_back(slot);
  }

  void ensure_capacity(std::size_t index) {
    if (index >= heap_.size()) heap_.resize(std::max(index + 1, heap_.size() * 2));
  }

  void sift_up(std::size_t index, Key key) {
    ensure_capacity(index);
    while (index != kRoot) {
      std::size_t parent = index / 4 + 2;
      if (!less(key, heap_[parent])) break;
      heap_[index] = heap_[parent];
      index = parent;
    }
    heap_[index] = key;
  }

  // Places `key` at `index` and moves it down to its place among count_ entries.
  void sift_down(std::size_t index, Key key) {
    const std::size_t end = kRoot + count_;
    for (;;) {
      std::size_t first = index * 4 - 8;
      if (first >= end) break;
      std::size_t best;
      if (first + 3 < end) {
        // Branch-free minimum of four siblings in one cache line.
        std::size_t a = first + static_cast<std::size_t>(less(heap_[first + 1], heap_[first]));
        std::size_t b = first + 2 + static_cast<std::size_t>(less(heap_[first + 3], heap_[first + 2]));
        best = less(heap_[b], heap_[a]) ? b : a;
      } else {
        best = first;
        for (std::size_t c = first + 1; c < end; ++c)
          if (less(heap_[c], heap_[best])) best = c;
      }
      if (!less(heap_[best], key)) break;
      heap_[index] = heap_[best];
      index = best;
    }
    heap_[index] = key;
  }

  // Makes the root a live event: fills a vacant root and discards cancelled keys.
  void settle_top() {
    assert(live_ > 0);
    if (root_vacant_) remove_root();
    while (!slots_[slot_of(heap_[kRoot])].pending) {
      release_slot(slot_of(heap_[kRoot]));
      remove_root();
    }
  }

  void remove_root() {
    root_vacant_ = false;
    Key last = heap_[last_index()];
    --count_;
    if (count_ > 0) sift_down(kRoot, last);
  }

  std::vector<Key, detail::CacheAlignedAllocator<Key>> collect_live_keys() {
    std::vector<Key, detail::CacheAlignedAllocator<Key>> keys;
    keys.reserve(live_);
    for (std::size_t p = root_vacant_ ? 1 : 0; p < count_; ++p) {
      const Key& key = heap_[index_of(p)];
      if (slots_[slot_of(key)].pending)
        keys.push_back(key);
      else
        release_slot(slot_of(key));
    }
    root_vacant_ = false;
    return keys;
  }

  void rebuild_from(const std::vector<Key, detail::CacheAlignedAllocator<Key>>& keys) {
    count_ = 0;
    for (const Key& key : keys) {
      ++count_;
      sift_up(last_index(), key);
    }
  }

  // Drops cancelled keys: O(n log n), amortised over at least n/2 cancellations.
  void compact() { rebuild_from(collect_live_keys()); }

  // Once 2^32 sequence numbers are used, renumber live keys by rank; relative order is kept.
  void renumber_sequences() {
    auto keys = collect_live_keys();
    std::sort(keys.begin(), keys.end(), less);
    std::uint64_t sequence = 0;
    for (Key& key : keys)
      key.order = (key.order & ~(((kSequenceLimit - 1)) << kSlotBits)) | (sequence++ << kSlotBits);
    next_sequence_ = sequence;
    rebuild_from(keys);
  }

  std::vector<Key, detail::CacheAlignedAllocator<Key>> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t count_ = 0;  // keys in the heap, dead ones and a vacant root included
  std::size_t live_ = 0;   // pending events
  std::uint64_t next_sequence_ = 0;
  bool root_vacant_ = false;
};

}  // namespace dosim
