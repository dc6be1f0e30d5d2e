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
  kQueueNoise = 9,  // fluid model: the chance of arrivals and completions in a queue

  kTest = 1000,
};

// Stable 64-bit identifier of a named entity (FNV-1a followed by a mixer).
std::uint64_t entity_id(std::string_view name);

// One Philox4x32-10 block: 128 random bits for a 128-bit counter under a 64-bit key.
// Inline, with the draws below: the request level makes several per request.
[[gnu::always_inline]] inline std::array<std::uint32_t, 4> philox4x32(
    std::array<std::uint32_t, 4> ctr, std::uint64_t key) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  std::uint32_t k0 = static_cast<std::uint32_t>(key);
  std::uint32_t k1 = static_cast<std::uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = std::uint64_t{kM0} * ctr[0];
    const std::uint64_t p1 = std::uint64_t{kM1} * ctr[2];
    ctr = {static_cast<std::uint32_t>(p1 >> 32) ^ ctr[1] ^ k0, static_cast<std::uint32_t>(p1),
           static_cast<std::uint32_t>(p0 >> 32) ^ ctr[3] ^ k1, static_cast<std::uint32_t>(p0)};
    k0 += kW0;
    k1 += kW1;
  }
  return ctr;
}

// A double in [0, 1) from the top 53 of 64 random bits.
inline double to_unit(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

class RandomStream {
 public:
  RandomStream() = default;
  RandomStream(std::uint64_t seed, std::uint64_t entity, Purpose purpose);

  // 64 random bits for draw `index`.
  std::uint64_t bits(std::uint64_t index) const {
    const auto b = block(index);
    return (std::uint64_t{b[0]} << 32) | b[1];
  }
  // The four 32-bit words of draw `index`'s Philox block (one block, four draws).
  std::array<std::uint32_t, 4> words(std::uint64_t index) const { return block(index); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform(std::uint64_t index) const { return to_unit(bits(index)); }
  // Standard normal (Box-Muller on one Philox block).
  double normal(std::uint64_t index) const;
  // Approximately standard normal, about ten times cheaper than normal(): the sum of the
  // block's four 32-bit uniforms, centred and scaled to unit variance (Irwin-Hall, n = 4;
  // tails end at +-3.46). For measurement noise, where the cost is per series per tick.
  double fast_normal(std::uint64_t index) const;
  // Exponential with the given mean.
  double exponential(std::uint64_t index, double mean) const;

 private:
  [[gnu::always_inline]] std::array<std::uint32_t, 4> block(std::uint64_t index) const {
    return philox4x32({static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32),
                       entity_low_, purpose_},
                      key_);
  }
  std::uint64_t key_ = 0;
  std::uint32_t entity_low_ = 0;
  std::uint32_t purpose_ = 0;
};

}  // namespace dosim
