// MadKernel: per-ISA bodies compiled by Highway's foreach_target, a scalar reference body,
// and the path selection. See mad_kernel.h for the contract; every path performs the same
// float operations in the same order (this file is compiled with -ffp-contract=off).

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "detectors/mad_kernel.cc"
#include "detectors/mad_kernel.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cmath>
#include <limits>

HWY_BEFORE_NAMESPACE();
namespace dosim {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Median and MAD of the sorted window of one vector of series starting at `base`.
template <class D, class V = hn::Vec<D>>
HWY_INLINE void median_mad(D d, const MadState& st, std::size_t base, V& median, V& mad) {
  constexpr std::size_t stride = kMadBlock;
  const int w = st.window;
  const float* s = st.sorted + st.first_slot(base);
  const auto row = [&](int k) { return hn::LoadU(d, s + static_cast<std::size_t>(k) * stride); };
  const V half = hn::Set(d, 0.5f);
  if (w % 2 == 1) {
    median = row(w / 2);
    const int k = (w + 1) / 2;  // k-th smallest deviation
    V best = hn::Set(d, HUGE_VALF);
    for (int lo = 0; lo + k - 1 < w; ++lo) {
      const V run = hn::Max(hn::Sub(median, row(lo)), hn::Sub(row(lo + k - 1), median));
      best = hn::Min(best, run);
    }
    mad = best;
  } else {
    median = hn::Mul(hn::Add(row(w / 2 - 1), row(w / 2)), half);
    const int k = w / 2;  // deviations k and k + 1 are averaged
    V best_k = hn::Set(d, HUGE_VALF);
    V best_k1 = hn::Set(d, HUGE_VALF);
    for (int lo = 0; lo + k - 1 < w; ++lo) {
      const V low = hn::Sub(median, row(lo));
      best_k = hn::Min(best_k, hn::Max(low, hn::Sub(row(lo + k - 1), median)));
      if (lo + k < w) best_k1 = hn::Min(best_k1, hn::Max(low, hn::Sub(row(lo + k), median)));
    }
    mad = hn::Mul(hn::Add(best_k, best_k1), half);
  }
}

void step_impl(MadState& st) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  using VF = hn::Vec<decltype(d)>;
  const std::size_t lanes = hn::Lanes(d);  // <= kMadBlock, a divisor: a vector is in one block
  HWY_ASSERT(lanes <= kMadBlock && kMadBlock % lanes == 0);
  constexpr std::size_t stride = kMadBlock;
  const int w = st.window;
  const VF inf = hn::Set(d, HUGE_VALF);
  const VF neg_inf = hn::Set(d, -HUGE_VALF);
  const VF zero = hn::Zero(d);
  const auto window_v = hn::Set(di, w);
  const auto one_i = hn::Set(di, 1);
  const auto stride_v = hn::Set(di, static_cast<std::int32_t>(stride));

  for (std::size_t base = 0; base < st.padded_series; base += lanes) {
    const std::size_t first = st.first_slot(base);
    const VF x = hn::Add(hn::LoadU(d, st.x + base), zero);  // -0 -> +0
    const auto finite = hn::Lt(hn::Abs(x), inf);            // false for NaN and inf
    const auto head = hn::LoadU(di, st.head + base);
    const auto count = hn::LoadU(di, st.count + base);
    const auto slot =
        hn::Add(hn::Mul(head, stride_v),
                hn::Add(hn::Set(di, static_cast<std::int32_t>(first)), hn::Iota(di, 0)));
    const VF old = hn::GatherIndex(d, st.ring, slot);
    const VF incoming = hn::IfThenElse(finite, x, old);  // not pushed: replace old by old

    // Score against the window before x.
    VF median, mad;
    median_mad(d, st, base, median, mad);
    const VF diff = hn::Sub(x, median);
    const VF z = hn::Div(hn::Mul(hn::Set(d, kMadScale), diff), mad);
    const VF signed_cap = hn::CopySign(hn::Set(d, kMadZeroScore), diff);
    const VF z_flat = hn::IfThenElse(hn::Eq(diff, zero), zero, signed_cap);
    VF out = hn::IfThenElse(hn::Eq(mad, zero), z_flat, z);
    const auto full = hn::RebindMask(d, hn::Gt(count, hn::Set(di, w - 1)));
    out = hn::IfThenElseZero(full, out);
    if (st.output == MadScore::kSigned) {
      out = hn::IfThenElse(finite, out, hn::Set(d, std::numeric_limits<float>::quiet_NaN()));
    } else {  // non-finite input (or an overflowed score) scores 0
      out = hn::IfThenElseZero(hn::Eq(out, out), out);
      out = st.output == MadScore::kAbsolute ? hn::Abs(out)
            : st.output == MadScore::kUp     ? hn::Max(out, zero)
                                             : hn::Max(hn::Neg(out), zero);
    }
    hn::StoreU(out, d, st.score + base);

    // Remove `old`, insert `incoming`, keeping each series sorted.
    const auto rising = hn::Ge(incoming, old);
    float* s = st.sorted + first;
    // The next block's window, a row a step, so that it is in cache when its turn comes
    // (the hardware prefetcher does not cross into its page on its own soon enough).
    const float* ahead = st.sorted + first + static_cast<std::size_t>(w) * kMadBlock;
    VF previous = neg_inf;
    VF current = hn::LoadU(d, s);
    for (int k = 0; k < w; ++k) {
      __builtin_prefetch(ahead + static_cast<std::size_t>(k) * stride);
      const VF next = k + 1 < w ? hn::LoadU(d, s + static_cast<std::size_t>(k + 1) * stride) : inf;
      const VF up =
          hn::IfThenElse(hn::Lt(current, old), current, hn::Max(current, hn::Min(next, incoming)));
      const VF down = hn::IfThenElse(hn::Gt(current, old), current,
                                     hn::Min(current, hn::Max(previous, incoming)));
      hn::StoreU(hn::IfThenElse(rising, up, down), d, s + static_cast<std::size_t>(k) * stride);
      previous = current;
      current = next;
    }
    hn::ScatterIndex(incoming, d, st.ring, slot);

    const auto finite_i = hn::RebindMask(di, finite);
    const auto advanced = hn::Add(head, one_i);
    const auto wrapped = hn::IfThenZeroElse(hn::Eq(advanced, window_v), advanced);
    hn::StoreU(hn::IfThenElse(finite_i, wrapped, head), di, st.head + base);
    const auto counted = hn::Min(hn::Add(count, one_i), window_v);
    hn::StoreU(hn::IfThenElse(finite_i, counted, count), di, st.count + base);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace dosim
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

namespace dosim {
namespace {

using StepFn = void (*)(MadState&);

// The scalar path: the same operations as the vector body, one series at a time.
void step_scalar(MadState& st) {
  constexpr std::size_t stride = kMadBlock;
  const int w = st.window;
  const auto min = [](float a, float b) { return b < a ? b : a; };
  const auto max = [](float a, float b) { return a < b ? b : a; };
  for (std::size_t i = 0; i < st.padded_series; ++i) {
    const std::size_t first = st.first_slot(i);
    const float x = st.x[i] + 0.0f;
    const bool finite = std::fabs(x) < HUGE_VALF;
    const std::int32_t head = st.head[i];
    const std::int32_t count = st.count[i];
    float* ring_slot = st.ring + static_cast<std::size_t>(head) * stride + first;
    const float old = *ring_slot;
    const float incoming = finite ? x : old;
    float* s = st.sorted + first;
    const auto row = [&](int k) { return s[static_cast<std::size_t>(k) * stride]; };

    float median, mad;
    if (w % 2 == 1) {
      median = row(w / 2);
      const int k = (w + 1) / 2;
      float best = HUGE_VALF;
      for (int lo = 0; lo + k - 1 < w; ++lo)
        best = min(best, max(median - row(lo), row(lo + k - 1) - median));
      mad = best;
    } else {
      median = (row(w / 2 - 1) + row(w / 2)) * 0.5f;
      const int k = w / 2;
      float best_k = HUGE_VALF, best_k1 = HUGE_VALF;
      for (int lo = 0; lo + k - 1 < w; ++lo) {
        const float low = median - row(lo);
        best_k = min(best_k, max(low, row(lo + k - 1) - median));
        if (lo + k < w) best_k1 = min(best_k1, max(low, row(lo + k) - median));
      }
      mad = (best_k + best_k1) * 0.5f;
    }
    const float diff = x - median;
    float out = mad == 0.0f ? (diff == 0.0f ? 0.0f : std::copysign(kMadZeroScore, diff))
                            : (kMadScale * diff) / mad;
    if (count < w) out = 0.0f;
    if (st.output == MadScore::kSigned) {
      if (!finite) out = std::numeric_limits<float>::quiet_NaN();
    } else {
      if (!finite || out != out) out = 0.0f;
      const float side = st.output == MadScore::kDown ? -out : out;
      out = st.output == MadScore::kAbsolute ? std::fabs(out) : side > 0.0f ? side : 0.0f;
    }
    st.score[i] = out;

    const bool rising = incoming >= old;
    float previous = -HUGE_VALF;
    float current = s[0];
    for (int k = 0; k < w; ++k) {
      const float next = k + 1 < w ? row(k + 1) : HUGE_VALF;
      const float up = current < old ? current : max(current, min(next, incoming));
      const float down = current > old ? current : min(current, max(previous, incoming));
      s[static_cast<std::size_t>(k) * stride] = rising ? up : down;
      previous = current;
      current = next;
    }
    *ring_slot = incoming;
    if (finite) {
      st.head[i] = head + 1 == w ? 0 : head + 1;
      st.count[i] = count + 1 < w ? count + 1 : w;
    }
  }
}

StepFn step_for(SimdPath path) {
  switch (path) {
#if HWY_TARGETS & HWY_AVX3
    case SimdPath::kAvx512:
      return &N_AVX3::step_impl;
#endif
#if HWY_TARGETS & HWY_AVX2
    case SimdPath::kAvx2:
      return &N_AVX2::step_impl;
#endif
    default:
      return &step_scalar;
  }
}

bool supported(SimdPath path) {
  const std::int64_t cpu = hwy::SupportedTargets();
  switch (path) {
    case SimdPath::kScalar:
      return true;
    case SimdPath::kAvx2:
      return (HWY_TARGETS & HWY_AVX2) != 0 && (cpu & HWY_AVX2) != 0;
    case SimdPath::kAvx512:
      return (HWY_TARGETS & HWY_AVX3) != 0 && (cpu & HWY_AVX3) != 0;
    case SimdPath::kAuto:
      return false;
  }
  return false;
}

}  // namespace

std::vector<SimdPath> MadKernel::available_paths() {
  std::vector<SimdPath> paths;
  for (SimdPath path : {SimdPath::kScalar, SimdPath::kAvx2, SimdPath::kAvx512})
    if (supported(path)) paths.push_back(path);
  return paths;
}

SimdPath MadKernel::resolve(SimdPath requested) {
  if (requested == SimdPath::kAuto) {
    const char* env = std::getenv("DOSIM_SIMD");
    const std::string name = env != nullptr ? env : "";
    if (name == "scalar") requested = SimdPath::kScalar;
    if (name == "avx2") requested = SimdPath::kAvx2;
    if (name == "avx512") requested = SimdPath::kAvx512;
  }
  if (requested != SimdPath::kAuto && supported(requested)) return requested;
  return available_paths().back();
}

std::string MadKernel::environment_problem() {
  const char* env = std::getenv("DOSIM_SIMD");
  if (env == nullptr || *env == '\0') return "";
  const std::string name = env;
  const std::string runs = "; the " + std::string(path_name(resolve(SimdPath::kAuto))) +
                           " path runs instead";
  for (SimdPath path : {SimdPath::kScalar, SimdPath::kAvx2, SimdPath::kAvx512})
    if (name == path_name(path))
      return supported(path) ? "" : "DOSIM_SIMD=" + name + ": this CPU lacks it" + runs;
  return "DOSIM_SIMD=" + name + " is not scalar, avx2 or avx512: ignored" + runs;
}

std::string_view MadKernel::path_name(SimdPath path) {
  switch (path) {
    case SimdPath::kAuto:
      return "auto";
    case SimdPath::kScalar:
      return "scalar";
    case SimdPath::kAvx2:
      return "avx2";
    case SimdPath::kAvx512:
      return "avx512";
  }
  return "?";
}

MadKernel::MadKernel(std::size_t series, int window, SimdPath path, MadScore output)
    : path_(resolve(path)) {
  state_.output = output;
  if (series == 0) throw std::invalid_argument("MadKernel: series must be >= 1");
  if (window < 3 || window > 256)
    throw std::invalid_argument("MadKernel: window must be in [3, 256]");
  state_.series = series;
  state_.padded_series = (series + kMadBlock - 1) / kMadBlock * kMadBlock;
  state_.window = window;
  const std::size_t stride = state_.padded_series;
  const std::size_t rows = static_cast<std::size_t>(window) * stride;
  storage_.assign(2 * rows + 2 * stride, 0.0f);
  counters_.assign(2 * stride, 0);
  state_.sorted = storage_.data();
  state_.ring = state_.sorted + rows;
  state_.x = state_.ring + rows;
  state_.score = state_.ring + rows + stride;
  state_.head = counters_.data();
  state_.count = counters_.data() + stride;
  reset();
}

void MadKernel::reset() {
  const std::size_t rows = static_cast<std::size_t>(state_.window) * state_.padded_series;
  // +inf marks an empty slot: pushing into a partial window replaces the largest +inf.
  std::fill(state_.sorted, state_.sorted + 2 * rows, HUGE_VALF);
  std::fill(counters_.begin(), counters_.end(), 0);
  std::fill(storage_.begin() + 2 * rows, storage_.end(), std::numeric_limits<float>::quiet_NaN());
}

void MadKernel::step(std::span<const float> x, std::span<float> score) {
  if (x.size() != state_.series || score.size() != state_.series)
    throw std::invalid_argument("MadKernel::step: span size differs from series()");
  float* padded_x =
      storage_.data() + 2 * static_cast<std::size_t>(state_.window) * state_.padded_series;
  std::copy(x.begin(), x.end(), padded_x);
  step_for(path_)(state_);
  std::copy(state_.score, state_.score + state_.series, score.begin());
}

}  // namespace dosim
#endif  // HWY_ONCE
