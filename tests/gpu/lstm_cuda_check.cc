// CTest's check of the LSTM on a GPU (registered as lstm_cuda in tests/CMakeLists.txt): the
// CUDA kernel's forecasts and states against the CPU kernel's on random weights, for one
// launch of many steps and for step-by-step launches, within 1e-5 relative. Exits 77 (CTest:
// skipped) with the reason when dosim was built without CUDA or no device is visible, 0 when
// they agree, 1 otherwise. Not a Catch2 test: it must be able to report itself skipped.
#include <cmath>
#include <cstdio>
#include <random>
#include <tuple>
#include <vector>

#include "detectors/lstm_cuda.h"
#include "detectors/lstm_kernel.h"
#include "tests/lstm_test_support.h"

namespace {

int failures = 0;

void expect_close(float got, float want, const char* what, int config) {
  if (std::fabs(got - want) <= 1e-5f * std::max(std::fabs(want), 0.1f)) return;
  if (++failures <= 10)
    std::printf("config %d: %s differs: GPU %.9g, CPU %.9g\n", config, what, got, want);
}

}  // namespace

int main() {
  if (!dosim::lstm_cuda_built() || dosim::lstm_cuda_devices() == 0) {
    std::printf("SKIPPED: the LSTM on a GPU was not checked: %s\n",
                dosim::lstm_cuda_device_name().c_str());
    return 77;
  }
  std::printf("device: %s\n", dosim::lstm_cuda_device_name().c_str());
  const std::vector<std::tuple<int, int, int, std::size_t>> configs = {
      {4, 8, 1, 5}, {3, 16, 2, 100}, {8, 64, 1, 1024}, {8, 128, 1, 300}, {4, 32, 3, 70}};
  for (std::size_t n = 0; n < configs.size(); ++n) {
    const auto [input, hidden, layers, batch] = configs[n];
    const int config = static_cast<int>(n);
    const auto weights =
        dosim::testing::random_lstm_weights(input, hidden, layers, 17 + static_cast<unsigned>(n));
    const int steps = 25;
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.5f);
    std::vector<float> x(static_cast<std::size_t>(steps) * input * batch);
    for (float& v : x) v = normal(rng);
    const std::size_t per_step = static_cast<std::size_t>(input) * batch;

    dosim::LstmKernel cpu(weights, batch);
    std::vector<float> expected(x.size());
    for (int t = 0; t < steps; ++t)
      cpu.step(std::span<const float>(x.data() + t * per_step, per_step),
               std::span<float>(expected.data() + t * per_step, per_step));

    dosim::LstmCudaKernel gpu(weights, batch);
    std::vector<float> got(x.size());
    gpu.run(x, steps, got);  // one launch, every step
    if (!(gpu.last_kernel_seconds() > 0.0) && ++failures <= 10)
      std::printf("config %d: the kernel's time is %g s\n", config, gpu.last_kernel_seconds());
    for (std::size_t i = 0; i < got.size(); ++i)
      expect_close(got[i], expected[i], "forecast", config);
    for (int l = 0; l < layers; ++l)
      for (std::size_t b = 0; b < batch; b += 13) {
        const auto h = gpu.h(l, b), c = gpu.c(l, b);
        const auto want_h = cpu.h(l, b), want_c = cpu.c(l, b);
        for (int j = 0; j < hidden; ++j) {
          expect_close(h[j], want_h[j], "h", config);
          expect_close(c[j], want_c[j], "c", config);
        }
      }
    gpu.reset();
    for (int t = 0; t < steps; ++t)  // a launch per step: the state carries over
      gpu.step(std::span<const float>(x.data() + t * per_step, per_step),
               std::span<float>(got.data() + t * per_step, per_step));
    for (std::size_t i = 0; i < got.size(); ++i)
      expect_close(got[i], expected[i], "stepped forecast", config);
  }
  std::printf("%s: %d values differ\n", failures == 0 ? "PASS" : "FAIL", failures);
  return failures == 0 ? 0 : 1;
}
