// LstmKernel: streaming inference of a stacked LSTM with a linear head, batched across
// sequences: the batch is the SIMD dimension. Each sequence carries (h, c) per layer and
// advances one step per call, so a tick costs one step, not a window.
//
// The model is PyTorch's nn.LSTM (gate order i, f, g, o; both biases) followed by
// nn.Linear(hidden -> input): at each step, for layer l with input u (x for layer 0, the
// new h of layer l-1 above it):
//   a_r   = (b_ih[r] + b_hh[r]) + sum_k W_ih[r][k] u[k] + sum_k W_hh[r][k] h[k]   (fused
//           multiply-adds, k ascending, W_ih's terms first)
//   i, f, o = sigmoid(a), g = tanh(a) for their blocks of H rows
//   c' = f c + i g (one fused multiply-add: fma(f, c, i * g)),   h' = o tanh(c')
//   forecast = b_head + sum_j W_head[.][j] h'_top[j]
// with tanh(x) Eigen's 13/6 rational interpolant on x clamped to [-9, 9] (a couple of ulp)
// and sigmoid(x) = fma(0.5, tanh(0.5 x), 0.5). Every lane does the same float operations in
// the same order, so the scalar, AVX2 and AVX-512 paths give bit-identical results (tests);
// against PyTorch (different summation order and activations) they agree within 1e-5
// relative (tests/data/lstm_golden.h5).
//
// Layout: structure of arrays, feature-major: every vector of per-sequence values is a row
// of padded_batch floats, so SIMD lanes run across sequences. Paths as MadKernel's
// (SimdPath; DOSIM_SIMD picks one for kAuto).
// Not thread-safe; distinct kernels are independent.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "detectors/mad_kernel.h"  // SimdPath

namespace dosim {

// Weights in PyTorch's layout (row-major), float32.
struct LstmWeights {
  int input = 0;   // I
  int hidden = 0;  // H
  int layers = 0;  // L
  struct Layer {
    std::vector<float> w_ih;  // [4H][I_l], I_0 = I, I_l = H above
    std::vector<float> w_hh;  // [4H][H]
    std::vector<float> b_ih;  // [4H]
    std::vector<float> b_hh;  // [4H]
  };
  std::vector<Layer> layer;
  std::vector<float> head_w;  // [I][H]
  std::vector<float> head_b;  // [I]

  // Throws std::invalid_argument when sizes do not match input, hidden, layers.
  void check() const;
};

// Plain view of the kernel's state, shared with the per-ISA bodies.
struct LstmState {
  int input = 0, hidden = 0, layers = 0;
  std::size_t batch = 0, padded_batch = 0;  // padded_batch: a multiple of 16
  // Per layer: the packed weight rows [4H][K_l] (W_ih | W_hh, K_l = I_l + H), the summed
  // bias [4H], and its input rows [K_l][padded_batch]: u first, then h (the state).
  std::vector<const float*> weights, bias;
  std::vector<int> k;
  std::vector<float*> in;
  std::vector<float*> c;          // per layer [H][padded_batch]
  const float* head_w = nullptr;  // [I][H]
  const float* head_b = nullptr;  // [I]
  float* gates = nullptr;         // scratch [4H][padded_batch]
  float* forecast = nullptr;      // [I][padded_batch]
};

class LstmKernel {
 public:
  // Throws std::invalid_argument for bad weights or batch == 0.
  LstmKernel(const LstmWeights& weights, std::size_t batch, SimdPath path = SimdPath::kAuto);
  LstmKernel(const LstmKernel&) = delete;
  LstmKernel& operator=(const LstmKernel&) = delete;

  // One step of every sequence. x: [input][batch] (feature-major, sequence b of feature m
  // at x[m * batch + b]); forecast: the same layout. REQUIRES: both of size input x batch.
  void step(std::span<const float> x, std::span<float> forecast);
  // Every sequence back to h = c = 0.
  void reset();

  std::size_t batch() const { return state_.batch; }
  int input() const { return state_.input; }
  int hidden() const { return state_.hidden; }
  SimdPath path() const { return path_; }
  // The state of sequence b after the last step: h and c of layer l, H values each.
  std::vector<float> h(int layer, std::size_t b) const;
  std::vector<float> c(int layer, std::size_t b) const;

 private:
  LstmState state_;
  SimdPath path_;
  std::vector<float> packed_;   // weights and biases, per layer
  std::vector<float> storage_;  // inputs/h, c, gates, forecast
  std::vector<float> head_;     // head_w, head_b
};

// The plain C++ reference (tests): one sequence at a time, in double-free float arithmetic
// with std::tanh and 1 / (1 + exp(-x)): what the model means, not how the kernel does it.
// x [T][I] of one sequence; returns the forecasts [T][I]; h_out/c_out get the final state
// [L][H].
std::vector<float> lstm_reference(const LstmWeights& weights, std::span<const float> x, int steps,
                                  std::vector<float>* h_out = nullptr,
                                  std::vector<float>* c_out = nullptr);

}  // namespace dosim
