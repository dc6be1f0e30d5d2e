// LstmCudaKernel: the LSTM kernel of lstm_kernel.h on an NVIDIA GPU (docs/detectors.md,
// "lstm on a GPU"). Built only with the CMake option DOSIM_CUDA=ON and nvcc present; without
// it, lstm_cuda_built() is false and constructing the kernel throws std::runtime_error
// ("built without CUDA"), so everything else builds and runs without CUDA.
//
// One launch runs `steps` steps of every sequence: a persistent kernel with a block per tile
// of 64 sequences, the tile's inputs, h and c in shared memory for all the steps, the
// weights in shared memory when they fit (read through the read-only cache otherwise), and
// no launch per time step. Each thread owns one hidden unit for 4 sequences and computes
// that unit's four gate rows for them (a 4 x 4 register tile: float4 loads of weights and
// inputs, 16 fused multiply-adds per pair), so it can update c and h in place. The float
// operations per sequence are the CPU kernel's (fmaf, k ascending from the summed bias, the
// same rational tanh and IEEE division): GPU and CPU agree to rounding of the last bits at
// most, and the test holds them within 1e-5 relative.
// Not thread-safe; one kernel per host thread.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "detectors/lstm_kernel.h"

namespace dosim {

// Whether this build has CUDA support, and how many devices it can see (0 without).
bool lstm_cuda_built();
int lstm_cuda_devices();
// The first device's name, or why there is none.
std::string lstm_cuda_device_name();

class LstmCudaKernel {
 public:
  // Copies the weights to the device. Throws std::runtime_error without CUDA or a device.
  LstmCudaKernel(const LstmWeights& weights, std::size_t batch);
  ~LstmCudaKernel();
  LstmCudaKernel(const LstmCudaKernel&) = delete;
  LstmCudaKernel& operator=(const LstmCudaKernel&) = delete;

  // One step, as LstmKernel::step: x and forecast [input][batch].
  void step(std::span<const float> x, std::span<float> forecast);
  // `steps` steps in one launch: x [steps][input][batch]; forecast gets the same layout.
  void run(std::span<const float> x, int steps, std::span<float> forecast);
  // Every sequence back to h = c = 0.
  void reset();
  // The state of sequence b (copied from the device): h and c of layer l.
  std::vector<float> h(int layer, std::size_t b) const;
  std::vector<float> c(int layer, std::size_t b) const;

  std::size_t batch() const;
  int input() const;
  // How long the last run's (or step's) kernel took on the device, in seconds, from CUDA
  // events around its launch: without the copies of x and the forecasts to and from the
  // device, which run() and step() also wait for (bench_lstm reports both). 0 before any.
  double last_kernel_seconds() const;

 private:
  struct Device;
  std::unique_ptr<Device> device_;
};

}  // namespace dosim
