#include "util/hdf5.h"

#include <mutex>

namespace dosim::hdf5 {

void quiet_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

}  // namespace dosim::hdf5
