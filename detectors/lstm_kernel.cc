// LstmKernel: per-ISA bodies compiled by Highway's foreach_target, a scalar body doing the
// same float operations lane by lane, and the plain reference. Compiled with
// -ffp-contract=off: the compiler must not fuse what the code keeps separate.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "detectors/lstm_kernel.cc"
#include "detectors/lstm_kernel.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

// Eigen's 13/6-degree rational interpolant of tanh on [-9, 9], float coefficients.
#ifndef DOSIM_LSTM_TANH_COEFFICIENTS
#define DOSIM_LSTM_TANH_COEFFICIENTS
namespace dosim::lstm_tanh {
constexpr float kClamp = 9.0f;
constexpr float kA1 = 4.89352455891786e-03f, kA3 = 6.37261928875436e-04f,
                kA5 = 1.48572235717979e-05f, kA7 = 5.12229709037114e-08f,
                kA9 = -8.60467152213735e-11f, kA11 = 2.00018790482477e-13f,
                kA13 = -2.76076847742355e-16f;
constexpr float kB0 = 4.89352518554385e-03f, kB2 = 2.26843463243900e-03f,
                kB4 = 1.18534705686654e-04f, kB6 = 1.19825839466702e-06f;
}  // namespace dosim::lstm_tanh
#endif

HWY_BEFORE_NAMESPACE();
namespace dosim {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class D, class V = hn::Vec<D>>
HWY_INLINE V Tanh(D d, V x) {
  using namespace lstm_tanh;
  x = hn::Min(hn::Max(x, hn::Set(d, -kClamp)), hn::Set(d, kClamp));
  const V x2 = hn::Mul(x, x);
  V p = hn::MulAdd(x2, hn::Set(d, kA13), hn::Set(d, kA11));
  p = hn::MulAdd(x2, p, hn::Set(d, kA9));
  p = hn::MulAdd(x2, p, hn::Set(d, kA7));
  p = hn::MulAdd(x2, p, hn::Set(d, kA5));
  p = hn::MulAdd(x2, p, hn::Set(d, kA3));
  p = hn::MulAdd(x2, p, hn::Set(d, kA1));
  p = hn::Mul(x, p);
  V q = hn::MulAdd(x2, hn::Set(d, kB6), hn::Set(d, kB4));
  q = hn::MulAdd(x2, q, hn::Set(d, kB2));
  q = hn::MulAdd(x2, q, hn::Set(d, kB0));
  return hn::Div(p, q);
}

template <class D, class V = hn::Vec<D>>
HWY_INLINE V Sigmoid(D d, V x) {
  const V half = hn::Set(d, 0.5f);
  return hn::MulAdd(half, Tanh(d, hn::Mul(half, x)), half);
}

// out[r][v * n + lane] = bias[r] + sum_k w[r][k] in[k][b + v * n + lane] (k ascending) for
// rows [row, row + kRows) and kVectors vectors of the batch from b: each weight is
// broadcast once per tile. `out` rows are out_stride apart.
template <int kRows, int kVectors, class D>
HWY_INLINE void MatTile(D d, const float* HWY_RESTRICT w, const float* HWY_RESTRICT bias, int row,
                        int k_count, const float* HWY_RESTRICT in, std::size_t stride,
                        std::size_t b, float* HWY_RESTRICT out, std::size_t out_stride) {
  using V = hn::Vec<D>;
  const std::size_t n = hn::Lanes(d);
  V acc[kRows][kVectors];
  for (int r = 0; r < kRows; ++r)
    for (int v = 0; v < kVectors; ++v) acc[r][v] = hn::Set(d, bias[row + r]);
  const float* w_row = w + static_cast<std::size_t>(row) * k_count;
  for (int k = 0; k < k_count; ++k) {
    V u[kVectors];
    for (int v = 0; v < kVectors; ++v)
      u[v] = hn::Load(d, in + static_cast<std::size_t>(k) * stride + b + v * n);
    for (int r = 0; r < kRows; ++r) {
      const V weight = hn::Set(d, w_row[static_cast<std::size_t>(r) * k_count + k]);
      for (int v = 0; v < kVectors; ++v) acc[r][v] = hn::MulAdd(weight, u[v], acc[r][v]);
    }
  }
  for (int r = 0; r < kRows; ++r)
    for (int v = 0; v < kVectors; ++v)
      hn::Store(acc[r][v], d, out + static_cast<std::size_t>(row + r) * out_stride + v * n);
}

// All `rows` rows for kVectors vectors of the batch from b.
template <int kVectors, class D>
HWY_INLINE void MatColumns(D d, const float* w, const float* bias, int rows, int k_count,
                           const float* in, std::size_t stride, std::size_t b, float* out,
                           std::size_t out_stride) {
  int row = 0;
  for (; row + 4 <= rows; row += 4)
    MatTile<4, kVectors>(d, w, bias, row, k_count, in, stride, b, out, out_stride);
  for (; row < rows; ++row)
    MatTile<1, kVectors>(d, w, bias, row, k_count, in, stride, b, out, out_stride);
}

// One layer for kVectors vectors of the batch from b: the gates into the tile's scratch
// (kept in cache), then the cell update of those sequences in place: a sequence's gates read
// only its own h, so updating it right away is safe.
template <int kVectors, class D>
HWY_INLINE void LayerColumns(D d, LstmState& st, int l, std::size_t b) {
  const std::size_t n = hn::Lanes(d);
  const std::size_t stride = st.padded_batch;
  const std::size_t width = kVectors * n;
  const int hidden = st.hidden;
  MatColumns<kVectors>(d, st.weights[l], st.bias[l], 4 * hidden, st.k[l], st.in[l], stride, b,
                       st.gates, width);
  float* h = st.in[l] + static_cast<std::size_t>(st.k[l] - hidden) * stride;
  float* next = l + 1 < st.layers ? st.in[l + 1] : nullptr;
  const std::size_t block = static_cast<std::size_t>(hidden) * width;
  for (int j = 0; j < hidden; ++j) {
    const float* gi = st.gates + static_cast<std::size_t>(j) * width;
    float* c_row = st.c[l] + static_cast<std::size_t>(j) * stride + b;
    float* h_row = h + static_cast<std::size_t>(j) * stride + b;
    for (std::size_t v = 0; v < width; v += n) {
      const auto i = Sigmoid(d, hn::Load(d, gi + v));
      const auto f = Sigmoid(d, hn::Load(d, gi + block + v));
      const auto g = Tanh(d, hn::Load(d, gi + 2 * block + v));
      const auto o = Sigmoid(d, hn::Load(d, gi + 3 * block + v));
      const auto c = hn::MulAdd(f, hn::Load(d, c_row + v), hn::Mul(i, g));
      const auto h_new = hn::Mul(o, Tanh(d, c));
      hn::Store(c, d, c_row + v);
      hn::Store(h_new, d, h_row + v);
      if (next != nullptr) hn::Store(h_new, d, next + static_cast<std::size_t>(j) * stride + b + v);
    }
  }
}

template <int kVectors, class D>
HWY_INLINE void StepColumns(D d, LstmState& st, std::size_t b) {
  for (int l = 0; l < st.layers; ++l) LayerColumns<kVectors>(d, st, l, b);
  const int top = st.layers - 1;
  const std::size_t stride = st.padded_batch;
  const float* h_top = st.in[top] + static_cast<std::size_t>(st.k[top] - st.hidden) * stride;
  MatColumns<kVectors>(d, st.head_w, st.head_b, st.input, st.hidden, h_top, stride, b,
                       st.forecast + b, stride);
}

void StepImpl(LstmState& st) {
  const hn::ScalableTag<float> d;
  const std::size_t n = hn::Lanes(d);
  constexpr int kWide = 4;
  std::size_t b = 0;
  for (; b + kWide * n <= st.padded_batch; b += kWide * n) StepColumns<kWide>(d, st, b);
  for (; b < st.padded_batch; b += n) StepColumns<1>(d, st, b);
}

}  // namespace HWY_NAMESPACE
}  // namespace dosim
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace dosim {
namespace {

using StepFn = void (*)(LstmState&);

float tanh_scalar(float x) {
  using namespace lstm_tanh;
  x = std::min(std::max(x, -kClamp), kClamp);
  const float x2 = x * x;
  float p = std::fma(x2, kA13, kA11);
  p = std::fma(x2, p, kA9);
  p = std::fma(x2, p, kA7);
  p = std::fma(x2, p, kA5);
  p = std::fma(x2, p, kA3);
  p = std::fma(x2, p, kA1);
  p = x * p;
  float q = std::fma(x2, kB6, kB4);
  q = std::fma(x2, q, kB2);
  q = std::fma(x2, q, kB0);
  return p / q;
}

float sigmoid_scalar(float x) { return std::fma(0.5f, tanh_scalar(0.5f * x), 0.5f); }

void mat_vec_scalar(const float* w, const float* bias, int rows, int k_count, const float* in,
                    std::size_t stride, float* out) {
  for (int r = 0; r < rows; ++r) {
    for (std::size_t b = 0; b < stride; ++b) {
      float acc = bias[r];
      for (int k = 0; k < k_count; ++k)
        acc = std::fma(w[static_cast<std::size_t>(r) * k_count + k],
                       in[static_cast<std::size_t>(k) * stride + b], acc);
      out[static_cast<std::size_t>(r) * stride + b] = acc;
    }
  }
}

// The scalar path: the vector bodies' operations, one lane at a time.
void step_scalar(LstmState& st) {
  const std::size_t stride = st.padded_batch;
  const int hidden = st.hidden;
  for (int l = 0; l < st.layers; ++l) {
    mat_vec_scalar(st.weights[l], st.bias[l], 4 * hidden, st.k[l], st.in[l], stride, st.gates);
    float* h = st.in[l] + static_cast<std::size_t>(st.k[l] - hidden) * stride;
    float* next = l + 1 < st.layers ? st.in[l + 1] : nullptr;
    for (int j = 0; j < hidden; ++j) {
      const std::size_t row = static_cast<std::size_t>(j) * stride;
      const std::size_t block = static_cast<std::size_t>(hidden) * stride;
      for (std::size_t b = 0; b < stride; ++b) {
        const float i = sigmoid_scalar(st.gates[row + b]);
        const float f = sigmoid_scalar(st.gates[block + row + b]);
        const float g = tanh_scalar(st.gates[2 * block + row + b]);
        const float o = sigmoid_scalar(st.gates[3 * block + row + b]);
        const float c = std::fma(f, st.c[l][row + b], i * g);
        const float h_new = o * tanh_scalar(c);
        st.c[l][row + b] = c;
        h[row + b] = h_new;
        if (next != nullptr) next[row + b] = h_new;
      }
    }
  }
  const int top = st.layers - 1;
  const float* h_top = st.in[top] + static_cast<std::size_t>(st.k[top] - hidden) * stride;
  mat_vec_scalar(st.head_w, st.head_b, st.input, hidden, h_top, stride, st.forecast);
}

StepFn step_for(SimdPath path) {
  switch (path) {
#if HWY_TARGETS & HWY_AVX3
    case SimdPath::kAvx512:
      return &N_AVX3::StepImpl;
#endif
#if HWY_TARGETS & HWY_AVX2
    case SimdPath::kAvx2:
      return &N_AVX2::StepImpl;
#endif
    default:
      return &step_scalar;
  }
}

void require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument("LSTM weights: " + message);
}

}  // namespace

void LstmWeights::check() const {
  require(input > 0 && hidden > 0 && layers > 0, "input, hidden and layers must be > 0");
  require(static_cast<int>(layer.size()) == layers, "one entry per layer");
  const std::size_t gates = 4 * static_cast<std::size_t>(hidden);
  for (int l = 0; l < layers; ++l) {
    const std::size_t in = static_cast<std::size_t>(l == 0 ? input : hidden);
    const Layer& w = layer[l];
    require(w.w_ih.size() == gates * in, "layer " + std::to_string(l) + " weight_ih size");
    require(w.w_hh.size() == gates * hidden, "layer " + std::to_string(l) + " weight_hh size");
    require(w.b_ih.size() == gates && w.b_hh.size() == gates,
            "layer " + std::to_string(l) + " bias size");
  }
  require(head_w.size() == static_cast<std::size_t>(input) * hidden, "head weight size");
  require(head_b.size() == static_cast<std::size_t>(input), "head bias size");
}

LstmKernel::LstmKernel(const LstmWeights& weights, std::size_t batch, SimdPath path)
    : path_(MadKernel::resolve(path)) {
  weights.check();
  if (batch == 0) throw std::invalid_argument("LstmKernel: batch must be >= 1");
  LstmState& st = state_;
  st.input = weights.input;
  st.hidden = weights.hidden;
  st.layers = weights.layers;
  st.batch = batch;
  st.padded_batch = (batch + 15) / 16 * 16;
  const std::size_t stride = st.padded_batch;
  const int hidden = weights.hidden;
  const std::size_t gates = 4 * static_cast<std::size_t>(hidden);

  // Packed rows W_ih | W_hh and the summed biases, per layer.
  std::vector<std::size_t> weight_at, bias_at, in_at, c_at;
  std::size_t storage = 0;
  for (int l = 0; l < st.layers; ++l) {
    const int input_rows = l == 0 ? weights.input : hidden;
    const int k = input_rows + hidden;
    st.k.push_back(k);
    weight_at.push_back(packed_.size());
    const LstmWeights::Layer& w = weights.layer[l];
    for (std::size_t r = 0; r < gates; ++r) {
      packed_.insert(packed_.end(), w.w_ih.begin() + r * input_rows,
                     w.w_ih.begin() + (r + 1) * input_rows);
      packed_.insert(packed_.end(), w.w_hh.begin() + r * hidden, w.w_hh.begin() + (r + 1) * hidden);
    }
    bias_at.push_back(packed_.size());
    for (std::size_t r = 0; r < gates; ++r) packed_.push_back(w.b_ih[r] + w.b_hh[r]);
    in_at.push_back(storage);
    storage += static_cast<std::size_t>(k) * stride;
    c_at.push_back(storage);
    storage += static_cast<std::size_t>(hidden) * stride;
  }
  const std::size_t gates_at = storage;
  storage += gates * stride;
  const std::size_t forecast_at = storage;
  storage += static_cast<std::size_t>(weights.input) * stride;
  // Highway's Load wants vector-aligned rows: align the base to 64 bytes.
  storage_.assign(storage + 16, 0.0f);
  float* base = storage_.data();
  while (reinterpret_cast<std::uintptr_t>(base) % 64 != 0) ++base;
  for (int l = 0; l < st.layers; ++l) {
    st.weights.push_back(packed_.data() + weight_at[l]);
    st.bias.push_back(packed_.data() + bias_at[l]);
    st.in.push_back(base + in_at[l]);
    st.c.push_back(base + c_at[l]);
  }
  st.gates = base + gates_at;
  st.forecast = base + forecast_at;
  head_ = weights.head_w;
  head_.insert(head_.end(), weights.head_b.begin(), weights.head_b.end());
  st.head_w = head_.data();
  st.head_b = head_.data() + weights.head_w.size();
}

void LstmKernel::reset() { std::fill(storage_.begin(), storage_.end(), 0.0f); }

void LstmKernel::step(std::span<const float> x, std::span<float> forecast) {
  const std::size_t values = static_cast<std::size_t>(state_.input) * state_.batch;
  if (x.size() != values || forecast.size() != values)
    throw std::invalid_argument("LstmKernel::step: spans must hold input x batch values");
  const std::size_t stride = state_.padded_batch;
  for (int m = 0; m < state_.input; ++m)
    std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(m * state_.batch), state_.batch,
                state_.in[0] + static_cast<std::size_t>(m) * stride);
  step_for(path_)(state_);
  for (int m = 0; m < state_.input; ++m)
    std::copy_n(state_.forecast + static_cast<std::size_t>(m) * stride, state_.batch,
                forecast.begin() + static_cast<std::ptrdiff_t>(m * state_.batch));
}

std::vector<float> LstmKernel::h(int layer, std::size_t b) const {
  const std::size_t stride = state_.padded_batch;
  const float* rows =
      state_.in[layer] + static_cast<std::size_t>(state_.k[layer] - state_.hidden) * stride;
  std::vector<float> out(static_cast<std::size_t>(state_.hidden));
  for (int j = 0; j < state_.hidden; ++j) out[j] = rows[static_cast<std::size_t>(j) * stride + b];
  return out;
}

std::vector<float> LstmKernel::c(int layer, std::size_t b) const {
  const std::size_t stride = state_.padded_batch;
  std::vector<float> out(static_cast<std::size_t>(state_.hidden));
  for (int j = 0; j < state_.hidden; ++j)
    out[j] = state_.c[layer][static_cast<std::size_t>(j) * stride + b];
  return out;
}

std::vector<float> lstm_reference(const LstmWeights& weights, std::span<const float> x, int steps,
                                  std::vector<float>* h_out, std::vector<float>* c_out) {
  weights.check();
  const int input = weights.input, hidden = weights.hidden, layers = weights.layers;
  std::vector<std::vector<float>> h(layers, std::vector<float>(hidden, 0.0f));
  std::vector<std::vector<float>> c(layers, std::vector<float>(hidden, 0.0f));
  std::vector<float> forecasts;
  const auto sigmoid = [](float v) { return 1.0f / (1.0f + std::exp(-v)); };
  for (int t = 0; t < steps; ++t) {
    std::vector<float> u(x.begin() + static_cast<std::ptrdiff_t>(t) * input,
                         x.begin() + static_cast<std::ptrdiff_t>(t + 1) * input);
    for (int l = 0; l < layers; ++l) {
      const LstmWeights::Layer& w = weights.layer[l];
      const int in = static_cast<int>(u.size());
      std::vector<float> a(4 * static_cast<std::size_t>(hidden));
      for (int r = 0; r < 4 * hidden; ++r) {
        float sum = w.b_ih[r] + w.b_hh[r];
        for (int k = 0; k < in; ++k) sum += w.w_ih[static_cast<std::size_t>(r) * in + k] * u[k];
        for (int k = 0; k < hidden; ++k)
          sum += w.w_hh[static_cast<std::size_t>(r) * hidden + k] * h[l][k];
        a[r] = sum;
      }
      for (int j = 0; j < hidden; ++j) {
        const float i = sigmoid(a[j]), f = sigmoid(a[hidden + j]);
        const float g = std::tanh(a[2 * hidden + j]), o = sigmoid(a[3 * hidden + j]);
        c[l][j] = f * c[l][j] + i * g;
        h[l][j] = o * std::tanh(c[l][j]);
      }
      u = h[l];
    }
    for (int m = 0; m < input; ++m) {
      float sum = weights.head_b[m];
      for (int j = 0; j < hidden; ++j)
        sum += weights.head_w[static_cast<std::size_t>(m) * hidden + j] * h[layers - 1][j];
      forecasts.push_back(sum);
    }
  }
  if (h_out != nullptr) {
    h_out->clear();
    for (const auto& layer : h) h_out->insert(h_out->end(), layer.begin(), layer.end());
  }
  if (c_out != nullptr) {
    c_out->clear();
    for (const auto& layer : c) c_out->insert(c_out->end(), layer.begin(), layer.end());
  }
  return forecasts;
}

}  // namespace dosim
#endif  // HWY_ONCE
