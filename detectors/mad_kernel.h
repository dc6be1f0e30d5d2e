// MadKernel: streaming modified z-score over a sliding window, batched across many series.
//
// For every series i and every call to step(), with w the last `window` finite values of
// series i seen BEFORE x[i] (prequential: score first, then push x[i]):
//   median  m   = w[(W-1)/2] of sorted w if W is odd, else (w[W/2-1] + w[W/2]) * 0.5f
//   MAD     d   = the same median taken over the deviations |w_k - m| (computed in float)
//   score   z   = (0.6745f * (x - m)) / d
// Median and MAD are exact (selection, not approximation); every float operation is
// spelled out above so that all paths (scalar, AVX2, AVX-512) give bit-identical scores.
//
// Documented edge cases:
//   - Warm-up: until W finite values have been pushed for a series, its score is 0.
//   - MAD == 0 (e.g. a constant window): score is 0 when x == m, else +/-kMadZeroScore
//     with the sign of x - m (no MeanAD fallback: a flat series that moves is maximally
//     anomalous, and the constant keeps downstream thresholds finite).
//   - Non-finite input (NaN, +/-inf): score is NaN (also during warm-up) and the value is
//     NOT pushed; the window, its order and the warm-up count of that series are unchanged.
//   - -0.0f is treated as +0.0f (canonicalised on input), so signed zeros never differ.
//
// Layout: structure of arrays owned by the kernel, in blocks of kMadBlock series: `sorted`
// and `ring` hold, for each block, its W rows of kMadBlock floats (slot k of the block's
// series contiguous, one cache line), so SIMD lanes run across series and a block's window
// is one contiguous run of memory that the hardware prefetcher streams (rows of all series
// side by side would be padded_series floats apart, a page or more, which it does not
// follow); per series a ring head and a count. The window is kept sorted incrementally
// (one remove-and-insert pass of W lane-uniform min/max/select per tick), the median is a
// fixed slot and the MAD is min over length-k runs of the sorted window of the larger end
// deviation (the k values nearest the median are contiguous in sorted order).
//
// Output: the signed z above (MadScore::kSigned), or, folded into the same pass, a one-sided
// or absolute score: kAbsolute |z|, kUp max(0, z), kDown max(0, -z), where NaN becomes 0.
//
// Paths: step() runs the path chosen at construction. SimdPath::kAuto reads the
// environment variable DOSIM_SIMD=scalar|avx2|avx512; unset, unknown or unsupported on this
// CPU falls back to the best available path (avx512 > avx2 > scalar).
//
// Thread safety: a MadKernel is not thread-safe; distinct kernels are independent.
// REQUIRES: 3 <= window <= 256; series >= 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dosim {

enum class SimdPath { kAuto, kScalar, kAvx2, kAvx512 };

// Score returned when MAD is zero and x differs from the median (sign of x - median).
inline constexpr float kMadZeroScore = 1e9f;
// Consistency constant of the modified z-score (Iglewicz and Hoaglin).
inline constexpr float kMadScale = 0.6745f;

// What step() writes (see Output).
enum class MadScore : std::int32_t { kSigned, kAbsolute, kUp, kDown };

// Series per block of the state (see Layout): 16 floats, one cache line, the widest path's
// lanes.
inline constexpr std::size_t kMadBlock = 16;

// Plain view of the kernel state, shared with the per-ISA implementations.
struct MadState {
  std::size_t series = 0;         // real series
  std::size_t padded_series = 0;  // a multiple of kMadBlock
  int window = 0;
  MadScore output = MadScore::kSigned;
  float* sorted = nullptr;        // [block][window][kMadBlock], ascending per series
  float* ring = nullptr;          // [block][window][kMadBlock], insertion order per series
  std::int32_t* head = nullptr;   // [padded_series], next ring slot to overwrite
  std::int32_t* count = nullptr;  // [padded_series], finite values pushed, saturates at W
  const float* x = nullptr;       // [padded_series] input of this tick
  float* score = nullptr;         // [padded_series] output of this tick

  // Where series i's slot 0 is in `sorted` (and `ring`); slot k is k * kMadBlock further.
  std::size_t first_slot(std::size_t i) const {
    return (i / kMadBlock) * static_cast<std::size_t>(window) * kMadBlock + i % kMadBlock;
  }
};

class MadKernel {
 public:
  // REQUIRES: series >= 1, 3 <= window <= 256. Throws std::invalid_argument otherwise.
  MadKernel(std::size_t series, int window, SimdPath path = SimdPath::kAuto,
            MadScore output = MadScore::kSigned);

  // One tick of every series: score[i] for x[i], then push x[i].
  // REQUIRES: x.size() == score.size() == series().
  void step(std::span<const float> x, std::span<float> score);

  // Forgets all history (every series back to warm-up).
  void reset();

  std::size_t series() const { return state_.series; }
  int window() const { return state_.window; }
  SimdPath path() const { return path_; }

  // Paths this CPU and build can run, scalar first.
  static std::vector<SimdPath> available_paths();
  // The path kAuto resolves to now (reads DOSIM_SIMD).
  static SimdPath resolve(SimdPath requested);
  // What is wrong with DOSIM_SIMD, for a warning: "" when it is unset or names a path this
  // CPU has; else why it is ignored and which path runs instead.
  static std::string environment_problem();
  static std::string_view path_name(SimdPath path);

 private:
  MadState state_;
  SimdPath path_;
  std::vector<float> storage_;          // sorted, ring, x, score (64-byte aligned inside)
  std::vector<std::int32_t> counters_;  // head, count
};

}  // namespace dosim
