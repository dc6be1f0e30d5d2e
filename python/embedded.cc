#include "python/embedded.h"

#include <pybind11/embed.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>

#include "dosim/analysis/root_cause.h"
#include "dosim/detectors/registry.h"
#include "python/python_detector.h"
#include "python/python_ranker.h"
#include "util/interrupt_hook.h"

namespace dosim::python {
namespace {

std::atomic<bool> g_stop_python{false};

// A stop request raises KeyboardInterrupt in the Python code that runs (a loop that never
// returns; util/interrupt_hook.h): on the main thread through Python's own signal path
// (PyErr_SetInterruptEx is async-signal-safe), on any other (a ranker after the run) from
// a watcher, which takes the GIL as the loop lets it go and sets the exception in every
// thread, again every 100 ms while Python code still runs.
void interrupt_python() {
  g_stop_python.store(true);
  PyErr_SetInterruptEx(SIGINT);
}

void watch_for_a_stop() {
  while (!g_stop_python.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (;;) {
    {
      pybind11::gil_scoped_acquire gil;
      const PyThreadState* self = PyThreadState_Get();
      for (PyThreadState* other = PyInterpreterState_ThreadHead(PyInterpreterState_Main());
           other != nullptr; other = PyThreadState_Next(other))
        if (other != self) PyThreadState_SetAsyncExc(other->thread_id, PyExc_KeyboardInterrupt);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void start_interpreter() {
  static std::once_flag started;
  std::call_once(started, [] {
    if (Py_IsInitialized()) return;
    // Python's handler for SIGINT in its own table (a tripped SIGINT then raises
    // KeyboardInterrupt), dosim's at the system's: the signal still stops the run.
    struct sigaction dosim_handler {};
    ::sigaction(SIGINT, nullptr, &dosim_handler);
    pybind11::initialize_interpreter();
    PyRun_SimpleString("import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n");
    ::sigaction(SIGINT, &dosim_handler, nullptr);
    set_interrupt_hook(&interrupt_python);
    std::thread(watch_for_a_stop).detach();  // lives as the interpreter does, to the end
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
