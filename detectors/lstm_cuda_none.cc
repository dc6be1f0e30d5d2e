// LstmCudaKernel in a build without CUDA (DOSIM_CUDA=OFF, the default): it reports that it
// is not there. The CUDA build compiles lstm_cuda.cu instead (detectors/CMakeLists.txt).
#include <stdexcept>

#include "detectors/lstm_cuda.h"

namespace dosim {

struct LstmCudaKernel::Device {};

bool lstm_cuda_built() { return false; }
int lstm_cuda_devices() { return 0; }
std::string lstm_cuda_device_name() { return "dosim was built without CUDA (-DDOSIM_CUDA=ON)"; }

LstmCudaKernel::LstmCudaKernel(const LstmWeights&, std::size_t) {
  throw std::runtime_error(lstm_cuda_device_name());
}
LstmCudaKernel::~LstmCudaKernel() = default;
void LstmCudaKernel::step(std::span<const float>, std::span<float>) {}
void LstmCudaKernel::run(std::span<const float>, int, std::span<float>) {}
void LstmCudaKernel::reset() {}
std::vector<float> LstmCudaKernel::h(int, std::size_t) const { return {}; }
std::vector<float> LstmCudaKernel::c(int, std::size_t) const { return {}; }
std::size_t LstmCudaKernel::batch() const { return 0; }
int LstmCudaKernel::input() const { return 0; }
double LstmCudaKernel::last_kernel_seconds() const { return 0; }

}  // namespace dosim
