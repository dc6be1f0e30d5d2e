#include "python/embedded.h"

#include <pybind11/embed.h>

#include <mutex>

#include "dosim/detectors/registry.h"
#include "python/python_detector.h"

namespace dosim::python {
namespace {

std::unique_ptr<Detector> make_with_interpreter(DetectorParams& params, std::size_t series) {
  static std::once_flag started;
  std::call_once(started, [] {
    if (Py_IsInitialized()) return;
    pybind11::initialize_interpreter();
    // Let go of the GIL: every Python call takes it for its own duration. The interpreter
    // lives until the process ends.
    PyEval_SaveThread();
  });
  return make_python_detector(params, series);
}

}  // namespace

void enable_embedded_python() { set_python_detector_maker(&make_with_interpreter); }

}  // namespace dosim::python
