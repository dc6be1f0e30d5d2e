// The keys and handles the engine's pending-event set (calendar_queue.h) is built from.
//
// Events are ordered by (time, priority, sequence number): the earliest time first; at equal
// times the lower priority value first; at equal priorities the one pushed first. Ties
// therefore resolve identically on every run and on every machine. A key (time, priority,
// sequence, slot) compares as one unsigned 128-bit integer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "dosim/engine/sim_time.h"

namespace dosim {

// Identifies a scheduled event for cancellation. Stale handles (the event fired or was
// cancelled) are recognised and ignored.
struct EventHandle {
  std::uint32_t slot = ~0u;
  std::uint32_t generation = 0;
  bool valid() const { return slot != ~0u; }
};

namespace detail {

// Cache-line-aligned storage, so that sibling groups of the heap never straddle two lines.
// Blocks of 2 MiB and more are 2 MiB-aligned and advised to use transparent huge pages.
template <class T>
struct CacheAlignedAllocator {
  using value_type = T;
  static constexpr std::size_t kLine = alignof(T) > 64 ? alignof(T) : 64;
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;
  CacheAlignedAllocator() = default;
  template <class U>
  CacheAlignedAllocator(const CacheAlignedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return static_cast<T*>(::operator new (bytes, std::align_val_t{kLine}));
    const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* block = ::operator new (rounded, std::align_val_t{kHugePage});
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(block, rounded, MADV_HUGEPAGE);  // advice only: failure changes nothing
#endif
    return static_cast<T*>(block);
  }
  void deallocate(T* p, std::size_t n) {
    ::operator delete (p, std::align_val_t{n * sizeof(T) < kHugePage ? kLine : kHugePage});
  }
  template <class U>
  bool operator==(const CacheAlignedAllocator<U>&) const {
    return true;
  }
};

// An event's place in the order: `time` biased to unsigned, then `order`. Compares as the
// unsigned 128-bit integer time:order.
struct EventKey {
  std::uint64_t order;  // priority (8 bits) | sequence (32) | slot (24)
  std::uint64_t time;   // simulated time with its sign bit flipped
};

inline bool operator<(const EventKey& a, const EventKey& b) {
  __extension__ typedef unsigned __int128 Wide;  // GCC and Clang on 64-bit targets
  return ((Wide{a.time} << 64) | a.order) < ((Wide{b.time} << 64) | b.order);
}

// if (other < key) { key = other; index = other_index; }, without a branch: the children
// of a node are random, so a branch would mispredict every other time, and GCC turns the
// plain C++ form into one.
inline void keep_smaller(EventKey& key, std::size_t& index, const EventKey& other,
                         std::size_t other_index) {
#if defined(__x86_64__) && defined(__GNUC__)
  std::uint64_t scratch;
  asm("cmp %[order], %[other_order]\n\t"
      "mov %[other_time], %[scratch]\n\t"
      "sbb %[time], %[scratch]\n\t"
      "cmovc %[other_order], %[order]\n\t"
      "cmovc %[other_time], %[time]\n\t"
      "cmovc %[other_index], %[index]"
      : [order] "+&r"(key.order), [time] "+&r"(key.time), [index] "+&r"(index),
        [scratch] "=&r"(scratch)
      : [other_order] "r"(other.order), [other_time] "r"(other.time), [other_index] "r"(other_index)
      : "cc");
#else
  const bool take = other < key;
  key = take ? other : key;
  index = take ? other_index : index;
#endif
}

// if (key < other) { key = other; index = other_index; }, without a branch.
inline void keep_larger(EventKey& key, std::size_t& index, const EventKey& other,
                        std::size_t other_index) {
#if defined(__x86_64__) && defined(__GNUC__)
  std::uint64_t scratch;
  asm("cmp %[other_order], %[order]\n\t"
      "mov %[time], %[scratch]\n\t"
      "sbb %[other_time], %[scratch]\n\t"
      "cmovc %[other_order], %[order]\n\t"
      "cmovc %[other_time], %[time]\n\t"
      "cmovc %[other_index], %[index]"
      : [order] "+&r"(key.order), [time] "+&r"(key.time), [index] "+&r"(index),
        [scratch] "=&r"(scratch)
      : [other_order] "r"(other.order), [other_time] "r"(other.time), [other_index] "r"(other_index)
      : "cc");
#else
  const bool take = key < other;
  key = take ? other : key;
  index = take ? other_index : index;
#endif
}

}  // namespace detail

}  // namespace dosim
