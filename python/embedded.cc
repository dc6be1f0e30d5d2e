#include "python/embedded.h"

#include <pybind11/embed.h>

#include <mutex>

#include "dosim/analysis/root_cause.h"
#include "dosim/detectors/registry.h"
#include "python/python_detector.h"
#include "python/python_ranker.h"

namespace dosim::python {
namespace {

void start_interpreter() {
  static std::once_flag started;
  std::call_once(started, [] {
    if (Py_IsInitialized()) return;
    pybind11::initialize_interpreter();
    // Let go of the GIL: every Python call takes it for its own duration. The interpreter
    // lives until the process ends.
    PyEval_SaveThread();
  });
}

std::unique_ptr<Detector> make_with_interpreter(DetectorParams& params, std::size_t series) {
  start_interpreter();
  return make_python_detector(params, series);
}

RcaRanker ranker_with_interpreter(const std::string& module, const std::string& function) {
  start_interpreter();
  return load_python_ranker(module, function);
}

}  // namespace

void enable_embedded_python() {
  set_python_detector_maker(&make_with_interpreter);
  set_python_ranker_maker(&ranker_with_interpreter);
}

}  // namespace dosim::python
