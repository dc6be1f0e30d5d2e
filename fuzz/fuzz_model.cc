// An lstm model file from the bytes: load_lstm_model (detectors/lstm_model.h) on them written
// to a file must throw ModelError or return a model whose shapes agree, never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "detectors/lstm_model.h"
#include "dosim/error.h"
#include "fuzz/fuzz_util.h"
#include "hdf5.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = dosim::fuzz::scratch_path(".h5");
  dosim::fuzz::write_file(path, data, size);
  try {
    (void)dosim::load_lstm_model(path);
  } catch (const dosim::Error&) {
  }
  dosim::fuzz::require_no_open_hdf5_objects();
  return 0;
}
