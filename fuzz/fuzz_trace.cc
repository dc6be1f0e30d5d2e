// A trace from the bytes: read_trace_for_scoring (include/dosim/analysis/trace_reader.h) on
// them written to a file must throw InputError or return what it read, never crash. HDF5
// itself parses the container; a crash inside libhdf5 is HDF5's, and reported there.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dosim/analysis/trace_reader.h"
#include "dosim/error.h"
#include "fuzz/fuzz_util.h"
#include "hdf5.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = dosim::fuzz::scratch_path(".h5");
  dosim::fuzz::write_file(path, data, size);
  try {
    (void)dosim::read_trace_for_scoring(path);
  } catch (const dosim::Error&) {
  }
  dosim::fuzz::require_no_open_hdf5_objects();
  return 0;
}
