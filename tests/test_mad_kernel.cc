// MadKernel: every available SIMD path against a std::nth_element reference, bit for bit.
#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <limits>
#include <random>
#include <vector>

#include "detectors/mad_kernel.h"

namespace {

using dosim::MadKernel;
using dosim::SimdPath;

// The contract of mad_kernel.h written the plain way, one series at a time.
class ReferenceMad {
 public:
  explicit ReferenceMad(int window) : window_(window) {}

  float step(float raw) {
    const float x = raw + 0.0f;
    if (!std::isfinite(x)) return std::numeric_limits<float>::quiet_NaN();
    float score = 0.0f;
    if (static_cast<int>(values_.size()) == window_) {
      std::vector<float> w(values_.begin(), values_.end());
      const float median = median_of(w);
      for (float& v : w) v = std::fabs(v - median);
      const float mad = median_of(w);
      const float diff = x - median;
      if (mad == 0.0f)
        score = diff == 0.0f ? 0.0f : std::copysign(dosim::kMadZeroScore, diff);
      else
        score = (dosim::kMadScale * diff) / mad;
      values_.pop_front();
    }
    values_.push_back(x);
    return score;
  }

 private:
  static float median_of(std::vector<float> v) {
    const std::size_t n = v.size();
    std::nth_element(v.begin(), v.begin() + n / 2, v.end());
    const float upper = v[n / 2];
    if (n % 2 == 1) return upper;
    const float lower = *std::max_element(v.begin(), v.begin() + n / 2);
    return (lower + upper) * 0.5f;
  }

  int window_;
  std::deque<float> values_;
};

// What MadDetector made of the signed z before the kernel folded it in (its direction: 0 the
// absolute value, +1 or -1 the side that counts; NaN scores 0), the reference for
// MadScore::kAbsolute, kUp and kDown.
float one_sided(float z, dosim::MadScore output) {
  if (output == dosim::MadScore::kSigned) return z;
  if (output == dosim::MadScore::kAbsolute) return z == z ? std::fabs(z) : 0.0f;
  const float sign = output == dosim::MadScore::kUp ? 1.0f : -1.0f;
  const float signed_score = z == z ? sign * z : 0.0f;
  return signed_score > 0.0f ? signed_score : 0.0f;
}

enum class Data { kRandom, kTies, kConstant, kHuge };

float sample(Data data, std::mt19937& rng, std::size_t series) {
  switch (data) {
    case Data::kRandom:
      return std::normal_distribution<float>(100.0f, 15.0f)(rng);
    case Data::kTies:
      return static_cast<float>(std::uniform_int_distribution<int>(0, 3)(rng)) * 0.25f;
    case Data::kConstant:
      return series % 3 == 0 ? 7.0f : (series % 3 == 1 ? -0.0f : 0.0f);
    case Data::kHuge:  // deviations overflow to inf, scores to NaN (inf / inf)
      switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
        case 0:
          return 3e38f;
        case 1:
          return -3e38f;
        default:
          return std::normal_distribution<float>(100.0f, 15.0f)(rng);
      }
  }
  return 0.0f;
}

// Runs every path and the reference on the same data and asserts identical bits.
void check_all_paths(std::size_t series, int window, int ticks, Data data, double nan_rate) {
  std::mt19937 rng(static_cast<unsigned>(series * 1000 + window));
  std::vector<ReferenceMad> reference(series, ReferenceMad(window));
  std::vector<MadKernel> kernels;
  std::vector<dosim::MadScore> outputs;
  for (SimdPath path : MadKernel::available_paths())
    for (dosim::MadScore output : {dosim::MadScore::kSigned, dosim::MadScore::kAbsolute,
                                   dosim::MadScore::kUp, dosim::MadScore::kDown}) {
      kernels.emplace_back(series, window, path, output);
      outputs.push_back(output);
    }
  std::vector<float> x(series), expected(series), got(series);
  std::bernoulli_distribution is_nan(nan_rate);
  std::size_t nonzero_scores = 0;
  for (int tick = 0; tick < ticks; ++tick) {
    for (std::size_t i = 0; i < series; ++i) {
      x[i] = is_nan(rng) ? std::numeric_limits<float>::quiet_NaN() : sample(data, rng, i);
      if (data == Data::kConstant && tick == ticks - 1 && i % 2 == 0) x[i] += 1.0f;
      expected[i] = reference[i].step(x[i]);
      if (expected[i] != 0.0f && std::isfinite(expected[i])) ++nonzero_scores;
    }
    for (std::size_t k = 0; k < kernels.size(); ++k) {
      MadKernel& kernel = kernels[k];
      kernel.step(x, got);
      for (std::size_t i = 0; i < series; ++i) {
        INFO("path " << MadKernel::path_name(kernel.path()) << " output "
                     << static_cast<int>(outputs[k]) << " series " << i << " tick " << tick
                     << " window " << window << " x " << x[i]);
        REQUIRE(std::bit_cast<std::uint32_t>(got[i]) ==
                std::bit_cast<std::uint32_t>(one_sided(expected[i], outputs[k])));
      }
    }
  }
  if (ticks > window + 1) CHECK(nonzero_scores > 0);
}

}  // namespace

TEST_CASE("MAD kernel paths match the nth_element reference bit for bit on random data", "[mad]") {
  for (int window : {5, 32, 64, 128}) check_all_paths(37, window, window * 3, Data::kRandom, 0.0);
  check_all_paths(1, 3, 20, Data::kRandom, 0.0);
  check_all_paths(100, 256, 300, Data::kRandom, 0.0);
  check_all_paths(333, 64, 150, Data::kRandom, 0.0);
}

TEST_CASE("MAD kernel paths match the reference on tie-heavy data", "[mad]") {
  for (int window : {4, 5, 32, 64, 128}) check_all_paths(21, window, window * 3, Data::kTies, 0.0);
}

TEST_CASE("MAD kernel scores a constant series 0 and a jump off it +kMadZeroScore", "[mad]") {
  check_all_paths(19, 32, 40, Data::kConstant, 0.0);
  MadKernel kernel(2, 5);
  std::vector<float> score(2);
  for (int tick = 0; tick < 5; ++tick) kernel.step(std::vector<float>{3.0f, 3.0f}, score);
  kernel.step(std::vector<float>{3.0f, 2.0f}, score);
  CHECK(score[0] == 0.0f);
  CHECK(score[1] == -dosim::kMadZeroScore);
}

TEST_CASE("MAD kernel scores 0 until the window is full (prequential warm-up)", "[mad]") {
  for (SimdPath path : MadKernel::available_paths()) {
    MadKernel kernel(1, 4, path);
    std::vector<float> score(1);
    for (float v : {1.0f, 2.0f, 3.0f, 4.0f}) {
      kernel.step(std::vector<float>{v * 100.0f}, score);
      CHECK(score[0] == 0.0f);
    }
    // Window {100,200,300,400}: median 250, deviations {150,50,50,150}, MAD 100.
    kernel.step(std::vector<float>{350.0f}, score);
    CHECK(score[0] == (dosim::kMadScale * 100.0f) / 100.0f);
  }
}

TEST_CASE("MAD kernel scores NaN for non-finite input and does not push it", "[mad]") {
  for (SimdPath path : MadKernel::available_paths()) {
    MadKernel kernel(1, 3, path);
    std::vector<float> score(1);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (float v : {1.0f, nan, 2.0f, HUGE_VALF, 4.0f}) {
      kernel.step(std::vector<float>{v}, score);
      if (std::isfinite(v))
        CHECK(score[0] == 0.0f);  // three finite values needed; NaN/inf do not count
      else
        CHECK(std::isnan(score[0]));
    }
    // Window {1,2,4}: median 2, deviations {1,0,2}, MAD 1.
    kernel.step(std::vector<float>{nan}, score);
    CHECK(std::isnan(score[0]));
    kernel.step(std::vector<float>{3.0f}, score);
    CHECK(score[0] == dosim::kMadScale);
  }
  for (int window : {5, 64}) check_all_paths(45, window, window * 3, Data::kRandom, 0.1);
}

TEST_CASE("MAD kernel resolves DOSIM_SIMD and falls back on unknown values", "[mad]") {
  const SimdPath best = MadKernel::available_paths().back();
  ::setenv("DOSIM_SIMD", "scalar", 1);
  CHECK(MadKernel::resolve(SimdPath::kAuto) == SimdPath::kScalar);
  ::setenv("DOSIM_SIMD", "sse9", 1);
  CHECK(MadKernel::resolve(SimdPath::kAuto) == best);
  ::unsetenv("DOSIM_SIMD");
  CHECK(MadKernel::resolve(SimdPath::kAuto) == best);
  CHECK(MadKernel(3, 5, SimdPath::kScalar).path() == SimdPath::kScalar);
  CHECK_THROWS_AS(MadKernel(3, 2), std::invalid_argument);
  CHECK_THROWS_AS(MadKernel(3, 257), std::invalid_argument);
}

TEST_CASE("MAD kernel's one-sided outputs score an overflowed deviation 0, as NaN input", "[mad]") {
  check_all_paths(29, 8, 40, Data::kHuge, 0.05);
}

TEST_CASE("MAD kernel keeps each block of 16 series apart (the state's layout)", "[mad]") {
  // Series on both sides of block edges (15, 16, 17, 31, 32, 33) with different windows'
  // worth of history: a slot read from a neighbouring block would change their scores.
  for (std::size_t series : {15, 16, 17, 31, 32, 33, 49})
    check_all_paths(series, 7, 30, Data::kRandom, 0.02);
}
