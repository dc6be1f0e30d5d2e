// Detectors written in Python (`kind: python`, docs/python.md): a class in a .py file,
// constructed once per detector with the watched series' names and the detector's
// parameters as keyword arguments, and called once per tick for all its series:
//
//   class Detector:
//       def __init__(self, series: list[str], **params): ...
//       def step(self, t_ns: int, values: numpy.ndarray) -> numpy.ndarray: ...  # one score each
//       def fit(self, history: numpy.ndarray) -> None: ...   # optional, with `fit_ticks`
//
// `values` is a float32 view of the tick's values (no copy; valid during the call). A series
// is anomalous when its score exceeds the `threshold` parameter (default 1.0); `fit_ticks: N`
// (default 0) holds the first N ticks back (scored 0) and hands them to fit() as an
// [N, series] array first. `threshold` and `fit_ticks` are dosim's; every other parameter
// goes to the class, and so does the detector's `direction` when given (`direction=1` for up,
// `-1` for down; absent for both). A module is executed once per process and file.
//
// A Python exception, a wrong shape or a NaN score becomes a ScriptError naming the Python
// file and line, the detector and the simulated time. Every call holds the GIL for its
// duration only, so detectors may run on several threads (a bench).
#pragma once

#include <memory>

#include "dosim/detectors/detector.h"

namespace dosim::python {

// Makes a detector of kind python (DetectorParams: module, class, params). Throws InputError
// (no module or class, a file that does not load, a class that is not there, a constructor
// that raises). REQUIRES: an initialized interpreter (the module or embed_interpreter()).
std::unique_ptr<Detector> make_python_detector(DetectorParams& params, std::size_t series);

}  // namespace dosim::python
