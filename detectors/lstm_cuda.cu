// LstmCudaKernel (lstm_cuda.h): a persistent kernel per launch, a block per tile of
// kTile = 32 sequences, one thread per (hidden unit, group of 4 sequences).
//
// Device layout (all float32):
//   weights  per layer [K_l][4H] transposed and gate-interleaved: column 4j + q is gate q
//            (i, f, g, o) of unit j, so a thread reads its unit's four weights of input k
//            as one float4; K_l = I_l + H rows: W_ih's then W_hh's.
//   bias     per layer [4H] interleaved the same way, b_ih + b_hh summed (as the CPU does).
//   head     [H][I] transposed, and [I] bias.
//   state    h, c per layer [H][batch]; x and forecast [steps][I][batch].
// Shared memory per block: per layer its inputs [K_l][kTile] (u rows, then h rows) and c
// [H][kTile], a scratch [H][kTile] for the new h; the weights too when they fit in the
// device's opt-in shared memory.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "detectors/lstm_cuda.h"

namespace dosim {
namespace {

constexpr int kTile = 32;  // sequences per block
constexpr int kGroup = 4;  // sequences per thread
constexpr int kMaxLayers = 8;
constexpr int kMaxThreads = 1024;  // the kernel is compiled for it: at most 64 registers

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("CUDA ") + what + ": " + cudaGetErrorString(status));
}

struct DeviceModel {
  int input = 0, hidden = 0, layers = 0;
  int k[kMaxLayers] = {};
  const float* weights[kMaxLayers] = {};  // [K_l][4H] interleaved
  const float* bias[kMaxLayers] = {};     // [4H] interleaved
  const float* head_w = nullptr;          // [H][I]
  const float* head_b = nullptr;          // [I]
};

// The CPU kernel's tanh (Eigen's 13/6 rational on [-9, 9]) and sigmoid, operation for
// operation.
__device__ __forceinline__ float tanh_rational(float x) {
  x = fminf(fmaxf(x, -9.0f), 9.0f);
  const float x2 = x * x;
  float p = fmaf(x2, -2.76076847742355e-16f, 2.00018790482477e-13f);
  p = fmaf(x2, p, -8.60467152213735e-11f);
  p = fmaf(x2, p, 5.12229709037114e-08f);
  p = fmaf(x2, p, 1.48572235717979e-05f);
  p = fmaf(x2, p, 6.37261928875436e-04f);
  p = fmaf(x2, p, 4.89352455891786e-03f);
  p = x * p;
  float q = fmaf(x2, 1.19825839466702e-06f, 1.18534705686654e-04f);
  q = fmaf(x2, q, 2.26843463243900e-03f);
  q = fmaf(x2, q, 4.89352518554385e-03f);
  return __fdiv_rn(p, q);
}

__device__ __forceinline__ float sigmoid_rational(float x) {
  return fmaf(0.5f, tanh_rational(0.5f * x), 0.5f);
}

// Shared memory of a block: per layer in [K_l][kTile] and c [H][kTile], a scratch for the
// new h, then the weights when `shared_weights`. Every region starts on a float4 boundary
// (kTile and 4H are multiples of 4).
struct SharedLayout {
  int in_at[kMaxLayers];
  int c_at[kMaxLayers];
  int h_next_at = 0;  // [H][kTile]: a layer's new h before it replaces the old
  int weights_at[kMaxLayers];
  int total = 0;  // floats
};

__host__ __device__ SharedLayout shared_layout(const DeviceModel& m, bool shared_weights) {
  SharedLayout s{};
  int at = 0;
  for (int l = 0; l < m.layers; ++l) {
    s.in_at[l] = at;
    at += m.k[l] * kTile;
    s.c_at[l] = at;
    at += m.hidden * kTile;
  }
  s.h_next_at = at;
  at += m.hidden * kTile;
  for (int l = 0; l < m.layers; ++l) {
    s.weights_at[l] = at;
    if (shared_weights) at += m.k[l] * 4 * m.hidden;
  }
  s.total = at;
  return s;
}

__global__ void __launch_bounds__(kMaxThreads)
    lstm_steps(DeviceModel m, bool shared_weights, int batch, int steps,
               const float* __restrict__ x, float* __restrict__ forecast,
               float* __restrict__ h_state, float* __restrict__ c_state) {
  extern __shared__ float4 shared4[];
  float* shared = reinterpret_cast<float*>(shared4);
  const SharedLayout layout = shared_layout(m, shared_weights);
  const int H = m.hidden, I = m.input;
  const int tile = blockIdx.x * kTile;
  const int threads = blockDim.x;
  const int tid = threadIdx.x;
  constexpr int kGroups = kTile / kGroup;  // sequence groups per tile

  // Load the weights (once per launch) and the state of the tile's sequences.
  const float* weights[kMaxLayers];
  for (int l = 0; l < m.layers; ++l) {
    const int count = m.k[l] * 4 * H;
    if (shared_weights) {
      float* dst = shared + layout.weights_at[l];
      for (int i = tid; i < count; i += threads) dst[i] = m.weights[l][i];
      weights[l] = dst;
    } else {
      weights[l] = m.weights[l];
    }
    float* in = shared + layout.in_at[l];
    float* c = shared + layout.c_at[l];
    const int input_rows = m.k[l] - H;
    for (int i = tid; i < H * kTile; i += threads) {
      const int j = i / kTile, s = i % kTile, b = tile + s;
      const bool live = b < batch;
      in[(input_rows + j) * kTile + s] = live ? h_state[(l * H + j) * batch + b] : 0.0f;
      c[j * kTile + s] = live ? c_state[(l * H + j) * batch + b] : 0.0f;
      if (l + 1 < m.layers)  // the next layer's input rows start as this layer's h
        shared[layout.in_at[l + 1] + j * kTile + s] =
            live ? h_state[(l * H + j) * batch + b] : 0.0f;
    }
  }
  __syncthreads();

  for (int t = 0; t < steps; ++t) {
    float* in0 = shared + layout.in_at[0];
    for (int i = tid; i < I * kTile; i += threads) {
      const int row = i / kTile, s = i % kTile, b = tile + s;
      in0[row * kTile + s] = b < batch ? x[(static_cast<size_t>(t) * I + row) * batch + b] : 0.0f;
    }
    __syncthreads();
    for (int l = 0; l < m.layers; ++l) {
      float* in = shared + layout.in_at[l];
      float* c = shared + layout.c_at[l];
      const int k_count = m.k[l], input_rows = k_count - H;
      const float4* w4 = reinterpret_cast<const float4*>(weights[l]);
      const float4* b4 = reinterpret_cast<const float4*>(m.bias[l]);
      // Each item: unit j, sequences 4g..4g+3, its four gate rows in registers. The new h
      // goes to a scratch first: every item of the layer reads the old h of the tile.
      float* h_next = shared + layout.h_next_at;
      for (int item = tid; item < H * kGroups; item += threads) {
        const int j = item / kGroups, g = item % kGroups;
        const float4 bias = b4[j];
        float acc[4][kGroup];  // [gate][sequence]
        for (int s = 0; s < kGroup; ++s) {
          acc[0][s] = bias.x;
          acc[1][s] = bias.y;
          acc[2][s] = bias.z;
          acc[3][s] = bias.w;
        }
        for (int k = 0; k < k_count; ++k) {
          const float4 w = shared_weights ? w4[k * H + j] : __ldg(&w4[k * H + j]);
          const float4 u = reinterpret_cast<const float4*>(in + k * kTile)[g];
          const float us[kGroup] = {u.x, u.y, u.z, u.w};
          for (int s = 0; s < kGroup; ++s) {
            acc[0][s] = fmaf(w.x, us[s], acc[0][s]);
            acc[1][s] = fmaf(w.y, us[s], acc[1][s]);
            acc[2][s] = fmaf(w.z, us[s], acc[2][s]);
            acc[3][s] = fmaf(w.w, us[s], acc[3][s]);
          }
        }
        for (int s = 0; s < kGroup; ++s) {
          const int at = j * kTile + g * kGroup + s;
          const float i = sigmoid_rational(acc[0][s]);
          const float f = sigmoid_rational(acc[1][s]);
          const float gg = tanh_rational(acc[2][s]);
          const float o = sigmoid_rational(acc[3][s]);
          const float c_new = fmaf(f, c[at], i * gg);  // c of (j, s): this item's alone
          c[at] = c_new;
          h_next[at] = o * tanh_rational(c_new);
        }
      }
      __syncthreads();
      for (int i = tid; i < H * kTile; i += threads) {
        in[input_rows * kTile + i] = h_next[i];
        if (l + 1 < m.layers) shared[layout.in_at[l + 1] + i] = h_next[i];
      }
      __syncthreads();
    }
    // The head: forecast[m][s] = b[m] + sum_j W[m][j] h_top[j][s].
    const int top = m.layers - 1;
    const float* h_top = shared + layout.in_at[top] + (m.k[top] - H) * kTile;
    for (int item = tid; item < I * kTile; item += threads) {
      const int row = item / kTile, s = item % kTile, b = tile + s;
      float acc = m.head_b[row];
      for (int j = 0; j < H; ++j)
        acc = fmaf(__ldg(&m.head_w[j * I + row]), h_top[j * kTile + s], acc);
      if (b < batch) forecast[(static_cast<size_t>(t) * I + row) * batch + b] = acc;
    }
    __syncthreads();
  }

  // Store the state back.
  for (int l = 0; l < m.layers; ++l) {
    const float* in = shared + layout.in_at[l];
    const float* c = shared + layout.c_at[l];
    const int input_rows = m.k[l] - H;
    for (int i = tid; i < H * kTile; i += threads) {
      const int j = i / kTile, s = i % kTile, b = tile + s;
      if (b >= batch) continue;
      h_state[(l * H + j) * batch + b] = in[(input_rows + j) * kTile + s];
      c_state[(l * H + j) * batch + b] = c[j * kTile + s];
    }
  }
}

}  // namespace

struct LstmCudaKernel::Device {
  DeviceModel model;
  std::size_t batch = 0;
  bool shared_weights = false;
  std::size_t shared_bytes = 0;
  int threads = 0;
  std::vector<float*> allocations;
  float* h = nullptr;
  float* c = nullptr;
  float* x = nullptr;
  float* forecast = nullptr;
  std::size_t x_capacity = 0;
  cudaEvent_t launch_start = nullptr, launch_end = nullptr;  // around the last launch
  float last_kernel_ms = 0.0f;

  float* upload(const std::vector<float>& host) {
    float* device = nullptr;
    check(cudaMalloc(&device, std::max<std::size_t>(1, host.size()) * sizeof(float)), "cudaMalloc");
    allocations.push_back(device);
    if (!host.empty())
      check(cudaMemcpy(device, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice),
            "cudaMemcpy");
    return device;
  }
  float* zeros(std::size_t count) { return upload(std::vector<float>(count, 0.0f)); }
  ~Device() {
    for (float* p : allocations) cudaFree(p);
    if (launch_start != nullptr) cudaEventDestroy(launch_start);
    if (launch_end != nullptr) cudaEventDestroy(launch_end);
  }
};

bool lstm_cuda_built() { return true; }

int lstm_cuda_devices() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) return 0;
  return count;
}

std::string lstm_cuda_device_name() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess)
    return std::string("no CUDA device (") + cudaGetErrorString(status) + ")";
  if (count == 0) return "no CUDA device";
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "no CUDA device";
  return prop.name;
}

LstmCudaKernel::LstmCudaKernel(const LstmWeights& weights, std::size_t batch)
    : device_(std::make_unique<Device>()) {
  weights.check();
  if (batch == 0) throw std::invalid_argument("LstmCudaKernel: batch must be >= 1");
  if (weights.layers > kMaxLayers) throw std::invalid_argument("LstmCudaKernel: too many layers");
  if (lstm_cuda_devices() == 0) throw std::runtime_error("no CUDA device");
  Device& d = *device_;
  d.batch = batch;
  const int H = weights.hidden, I = weights.input;
  d.model.input = I;
  d.model.hidden = H;
  d.model.layers = weights.layers;
  for (int l = 0; l < weights.layers; ++l) {
    const LstmWeights::Layer& w = weights.layer[l];
    const int input_rows = l == 0 ? I : H;
    const int k_count = input_rows + H;
    d.model.k[l] = k_count;
    std::vector<float> packed(static_cast<std::size_t>(k_count) * 4 * H);
    std::vector<float> bias(4 * static_cast<std::size_t>(H));
    for (int j = 0; j < H; ++j) {
      for (int q = 0; q < 4; ++q) {
        const int row = q * H + j;  // PyTorch's row of gate q of unit j
        bias[4 * j + q] = w.b_ih[row] + w.b_hh[row];
        for (int k = 0; k < input_rows; ++k)
          packed[static_cast<std::size_t>(k) * 4 * H + 4 * j + q] =
              w.w_ih[static_cast<std::size_t>(row) * input_rows + k];
        for (int k = 0; k < H; ++k)
          packed[static_cast<std::size_t>(input_rows + k) * 4 * H + 4 * j + q] =
              w.w_hh[static_cast<std::size_t>(row) * H + k];
      }
    }
    d.model.weights[l] = d.upload(packed);
    d.model.bias[l] = d.upload(bias);
  }
  std::vector<float> head_t(static_cast<std::size_t>(H) * I);
  for (int m = 0; m < I; ++m)
    for (int j = 0; j < H; ++j)
      head_t[static_cast<std::size_t>(j) * I + m] =
          weights.head_w[static_cast<std::size_t>(m) * H + j];
  d.model.head_w = d.upload(head_t);
  d.model.head_b = d.upload(weights.head_b);
  const std::size_t state = static_cast<std::size_t>(weights.layers) * H * batch;
  d.h = d.zeros(state);
  d.c = d.zeros(state);

  int optin = 0;
  check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0), "attribute");
  // A thread per (unit, group of 4 sequences), up to what the compiled kernel can launch in
  // one block on this device (its registers per thread decide: 1024 threads need <= 64
  // each); the block's threads stride over the items beyond.
  cudaFuncAttributes attributes{};
  check(cudaFuncGetAttributes(&attributes, lstm_steps), "cudaFuncGetAttributes");
  const int most = std::max(32, std::min(kMaxThreads, attributes.maxThreadsPerBlock) / 32 * 32);
  d.threads = std::min(most, (H * (kTile / kGroup) + 31) / 32 * 32);
  // The weights in each block's shared memory, unless that leaves fewer threads resident
  // per multiprocessor than reading them through the L1 cache does (or does not fit).
  const std::size_t with_weights = shared_layout(d.model, true).total * sizeof(float);
  const std::size_t without = shared_layout(d.model, false).total * sizeof(float);
  if (without > static_cast<std::size_t>(optin))
    throw std::runtime_error("LstmCudaKernel: the model's state does not fit in shared memory");
  const auto resident = [&](std::size_t bytes) {
    check(cudaFuncSetAttribute(lstm_steps, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(bytes)),
          "cudaFuncSetAttribute");
    int blocks = 0;
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, lstm_steps, d.threads, bytes),
          "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
    return blocks;
  };
  d.shared_weights = with_weights <= static_cast<std::size_t>(optin) &&
                     resident(with_weights) >= resident(without);
  d.shared_bytes = d.shared_weights ? with_weights : without;
  check(cudaFuncSetAttribute(lstm_steps, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(d.shared_bytes)),
        "cudaFuncSetAttribute");
  check(cudaEventCreate(&d.launch_start), "cudaEventCreate");
  check(cudaEventCreate(&d.launch_end), "cudaEventCreate");
}

LstmCudaKernel::~LstmCudaKernel() = default;

void LstmCudaKernel::run(std::span<const float> x, int steps, std::span<float> forecast) {
  Device& d = *device_;
  const std::size_t values = static_cast<std::size_t>(steps) * d.model.input * d.batch;
  if (steps < 1 || x.size() != values || forecast.size() != values)
    throw std::invalid_argument("LstmCudaKernel::run: x and forecast hold steps x input x batch");
  if (values > d.x_capacity) {
    d.x = d.zeros(values);
    d.forecast = d.zeros(values);
    d.x_capacity = values;
  }
  check(cudaMemcpy(d.x, x.data(), values * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");
  const unsigned blocks = static_cast<unsigned>((d.batch + kTile - 1) / kTile);
  check(cudaEventRecord(d.launch_start), "cudaEventRecord");
  lstm_steps<<<blocks, d.threads, d.shared_bytes>>>(
      d.model, d.shared_weights, static_cast<int>(d.batch), steps, d.x, d.forecast, d.h, d.c);
  check(cudaGetLastError(), "launch");
  check(cudaEventRecord(d.launch_end), "cudaEventRecord");
  check(cudaMemcpy(forecast.data(), d.forecast, values * sizeof(float), cudaMemcpyDeviceToHost),
        "cudaMemcpy");
  check(cudaEventSynchronize(d.launch_end), "cudaEventSynchronize");
  check(cudaEventElapsedTime(&d.last_kernel_ms, d.launch_start, d.launch_end),
        "cudaEventElapsedTime");
}

void LstmCudaKernel::step(std::span<const float> x, std::span<float> forecast) {
  run(x, 1, forecast);
}

void LstmCudaKernel::reset() {
  Device& d = *device_;
  const std::size_t state = static_cast<std::size_t>(d.model.layers) * d.model.hidden * d.batch;
  check(cudaMemset(d.h, 0, state * sizeof(float)), "cudaMemset");
  check(cudaMemset(d.c, 0, state * sizeof(float)), "cudaMemset");
}

namespace {
std::vector<float> column(const float* device, int layer, int hidden, std::size_t batch,
                          std::size_t b) {
  std::vector<float> all(static_cast<std::size_t>(hidden) * batch);
  check(cudaMemcpy(all.data(), device + static_cast<std::size_t>(layer) * hidden * batch,
                   all.size() * sizeof(float), cudaMemcpyDeviceToHost),
        "cudaMemcpy");
  std::vector<float> out(static_cast<std::size_t>(hidden));
  for (int j = 0; j < hidden; ++j) out[j] = all[static_cast<std::size_t>(j) * batch + b];
  return out;
}
}  // namespace

std::vector<float> LstmCudaKernel::h(int layer, std::size_t b) const {
  return column(device_->h, layer, device_->model.hidden, device_->batch, b);
}
std::vector<float> LstmCudaKernel::c(int layer, std::size_t b) const {
  return column(device_->c, layer, device_->model.hidden, device_->batch, b);
}
std::size_t LstmCudaKernel::batch() const { return device_->batch; }
int LstmCudaKernel::input() const { return device_->model.input; }
double LstmCudaKernel::last_kernel_seconds() const { return device_->last_kernel_ms * 1e-3; }

}  // namespace dosim
