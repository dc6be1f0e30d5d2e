#include "rng.h"

#include <cmath>
#include <numbers>

namespace dosim {
namespace {

std::uint64_t mix64(std::uint64_t x) {  // SplitMix64's finaliser
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::uint64_t entity_id(std::string_view name) {
  std::uint64_t hash = 0xCBF29CE484222325ull;
  for (unsigned char c : name) {
    hash ^= c;
    hash *= 0x100000001B3ull;
  }
  return mix64(hash);
}

RandomStream::RandomStream(std::uint64_t seed, std::uint64_t entity, Purpose purpose)
    : key_(mix64(seed ^ mix64(entity ^ mix64(static_cast<std::uint64_t>(purpose))))),
      entity_low_(static_cast<std::uint32_t>(entity)),
      purpose_(static_cast<std::uint32_t>(purpose)) {}



double RandomStream::normal(std::uint64_t index) const {
  auto b = block(index);
  // u1 in (0, 1] so that log(u1) is finite.
  const double u1 = 1.0 - to_unit((std::uint64_t{b[0]} << 32) | b[1]);
  const double u2 = to_unit((std::uint64_t{b[2]} << 32) | b[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double RandomStream::fast_normal(std::uint64_t index) const {
  auto b = block(index);
  const double sum = static_cast<double>(b[0]) + b[1] + b[2] + b[3];
  // Each lane is uniform on [0, 2^32): mean 2^31, variance 2^64 / 12; four lanes: var 2^64 / 3.
  constexpr double kScale = 1.7320508075688772 * 0x1.0p-32;  // sqrt(3) / 2^32
  return (sum - 0x1.0p33) * kScale;
}

double RandomStream::exponential(std::uint64_t index, double mean) const {
  return -mean * std::log(1.0 - uniform(index));
}

}  // namespace dosim
