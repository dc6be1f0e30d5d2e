// Counter-based random streams.
//
// Every random number in dosim is a pure function of (seed, entity, purpose, index):
// Philox4x32-10 (Salmon et al., SC'11) keyed by the seed, the entity and the purpose, applied
// to the draw index. Nothing is shared between entities, so adding a service or a fault does
// not change a single number that any other entity draws, and draws can be made in any
// order or on any thread with identical results.
//
// Entities are named by strings (a service, an edge "a->b", a fault) and hashed with
// entity_id(); purposes are small integers from the Purpose enum, one per use.
// Thread-safe: a RandomStream is immutable; draws are const.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace dosim {

// What a stream is for. Values are part of the determinism contract: append, never renumber.
enum class Purpose : std::uint32_t {
  kTrafficNoise = 1,
  kLatencyNoise = 2,
  kResourceNoise = 3,
  kErrorNoise = 4,
  kScenario = 5,
  kArrivals = 6,  // request level: arrival times of external requests, per entry service
  kRequests = 7,  // request level: every per-request draw at a service
  kUsers = 8,     // request level: Locust users' entry services and waits, per source

  kTest = 1000,
};

// Stable 64-bit identifier of a named entity (FNV-1a followed by a mixer).
std::uint64_t entity_id(std::string_view name);

// One Philox4x32-10 block: 128 random bits for a 128-bit counter under a 64-bit key.
std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> counter, std::uint64_t key);

class RandomStream {
 public:
  RandomStream() = default;
  RandomStream(std::uint64_t seed, std::uint64_t entity, Purpose purpose);

  // 64 random bits for draw `index`.
  std::uint64_t bits(std::uint64_t index) const;
  // Uniform in [0, 1) with 53 random bits.
  double uniform(std::uint64_t index) const;
  // Standard normal (Box-Muller on one Philox block).
  double normal(std::uint64_t index) const;
  // Approximately standard normal, about ten times cheaper than normal(): the sum of the
  // block's four 32-bit uniforms, centred and scaled to unit variance (Irwin-Hall, n = 4;
  // tails end at +-3.46). For measurement noise, where the cost is per series per tick.
  double fast_normal(std::uint64_t index) const;
  // Exponential with the given mean.
  double exponential(std::uint64_t index, double mean) const;

 private:
  std::array<std::uint32_t, 4> block(std::uint64_t index) const;
  std::uint64_t key_ = 0;
  std::uint32_t entity_low_ = 0;
  std::uint32_t purpose_ = 0;
};

}  // namespace dosim
