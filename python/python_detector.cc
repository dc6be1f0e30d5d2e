#include "python/python_detector.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "dosim/error.h"
#include "python/python_util.h"
#include "util/interrupt_hook.h"

namespace dosim::python {
namespace {

namespace py = pybind11;

class PythonDetector : public Detector {
 public:
  PythonDetector(std::string name, py::object instance, std::vector<std::string> series,
                 double threshold, std::int64_t fit_ticks, SimTime tick)
      : name_(std::move(name)),
        series_names_(std::move(series)),
        instance_(std::move(instance)),
        step_(instance_.attr("step")),
        series_(series_names_.size()),
        threshold_(threshold),
        fit_ticks_(fit_ticks),
        tick_(tick),
        step_at_(where_defined(step_)) {}

  ~PythonDetector() override {
    py::gil_scoped_acquire gil;  // the references are let go with the GIL held
    step_ = py::object();
    instance_ = py::object();
  }

  double limit() const override { return threshold_; }

  void step(std::span<const float> values, std::span<float> scores) override {
    py::gil_scoped_acquire gil;
    ++steps_;
    const SimTime t = steps_ * tick_;  // the end of the tick, as the frame's time
    if (steps_ <= fit_ticks_) {
      history_.insert(history_.end(), values.begin(), values.end());
      std::fill(scores.begin(), scores.end(), 0.0f);
      if (steps_ == fit_ticks_) fit(t);
      return;
    }
    // The tick's values, an array of the detector's own: a view of the runner's buffer was
    // writable and, kept past the call, read freed memory (a copy is a small part of a call
    // into Python).
    py::array_t<float> view(static_cast<py::ssize_t>(series_));
    std::copy(values.begin(), values.end(), view.mutable_data());
    py::object out;
    try {
      out = step_(t, view);
    } catch (py::error_already_set& error) {
      // The run was asked to stop while step() ran (util/interrupt_hook.h): no scores; the
      // run stops at this tick's end, its trace incomplete, as for any stop.
      // From the dosim module, a Ctrl-C (KeyboardInterrupt) stops the run the same way.
      if (error.matches(PyExc_KeyboardInterrupt) &&
          (interrupt_hook_fired() || request_python_stop())) {
        std::fill(scores.begin(), scores.end(), 0.0f);
        return;
      }
      fail(t, describe(error));
    }
    if (out.is_none())
      fail(t, step_at_ +
                  "step() returned None: it must return an array of one score per "
                  "series (" +
                  std::to_string(series_) + " here); is a `return` missing?");
    // Numbers only: numpy would cast text ("1.5") and drop an imaginary part (with a warning
    // that names no detector), and a list of text failed as "must return an array".
    if (const py::array raw = py::array::ensure(out)) {
      const char kind = raw.dtype().kind();
      if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f')
        fail(t, step_at_ + "step() must return numbers, one score per series; got " +
                    (kind == 'c' ? std::string("complex numbers")
                     : kind == 'U' || kind == 'S'
                         ? std::string("text")
                         : "items of dtype " + py::str(raw.dtype()).cast<std::string>()));
    } else {
      PyErr_Clear();
    }
    const auto array = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(out);
    if (!array) {
      PyErr_Clear();
      fail(t, step_at_ + "step() must return an array of one score per series, got " +
                  py::str(py::type::of(out).attr("__name__")).cast<std::string>());
    }
    if (array.ndim() == 0)
      fail(t, step_at_ + "step() returned one number, not an array of one score per series (" +
                  std::to_string(series_) + " here)");
    if (array.ndim() != 1 || static_cast<std::size_t>(array.shape(0)) != series_)
      fail(t, step_at_ + "step() returned " + shape_text(array) + " scores for " +
                  std::to_string(series_) + " series");
    // One branch-free (vectorized) pass; the offending series is looked for only on failure.
    const double* data = array.data();
    const std::size_t count = series_;
    float* const score_data = scores.data();
    // Scores are kept as 32-bit floats: one above their range (1e39) is as infinite as inf.
    // A float is not finite when its exponent bits are all ones; adding one to the lowest of
    // them then carries into the sign bit, so the OR of every sum has it set (integer SIMD).
    constexpr std::uint32_t kExponent = 0x7f800000, kExponentOne = 0x00800000;
    std::uint32_t carries = 0;
    for (std::size_t i = 0; i < count; ++i) {
      score_data[i] = static_cast<float>(data[i]);
      carries |= (std::bit_cast<std::uint32_t>(score_data[i]) & kExponent) + kExponentOne;
    }
    if ((carries >> 31) == 0) return;
    for (std::size_t i = 0; i < series_; ++i) {
      if (!std::isfinite(score_data[i])) {
        char value[32];  // 1e39 as written, not its 40 digits
        std::snprintf(value, sizeof value, "%.9g", data[i]);
        fail(t, step_at_ + "step() returned a score that is not a finite 32-bit number (" + value +
                    ") for series " + std::to_string(i) + " (" + series_names_[i] + ")");
      }
    }
  }

 private:
  void fit(SimTime t) {
    if (!py::hasattr(instance_, "fit"))
      fail(t, "'fit_ticks' is set but the class has no fit(history) method");
    py::array_t<float> history({static_cast<std::size_t>(fit_ticks_), series_});
    std::copy(history_.begin(), history_.end(), history.mutable_data());
    history_.clear();
    history_.shrink_to_fit();
    try {
      instance_.attr("fit")(history);
    } catch (py::error_already_set& error) {
      fail(t, describe(error));
    }
  }

  static std::string shape_text(const py::array& array) {
    std::string text = "[";
    for (py::ssize_t d = 0; d < array.ndim(); ++d)
      text += (d ? ", " : "") + std::to_string(array.shape(d));
    return text + "]";
  }

  // "FILE:LINE: " of the def of a method written in Python (a bad return has no line of its
  // own: the method's is the place to look), or "".
  static std::string where_defined(const py::object& method) {
    try {
      const py::object code = method.attr("__func__").attr("__code__");
      const std::string file = as_named(py::str(code.attr("co_filename")).cast<std::string>());
      return file + ":" + std::to_string(code.attr("co_firstlineno").cast<long>()) + ": ";
    } catch (py::error_already_set&) {
      return "";  // not a Python function (a builtin, a C extension's method)
    }
  }

  [[noreturn]] void fail(SimTime t, const std::string& what) const {
    throw ScriptError(what + " (python detector '" + name_ + "' at simulated time " +
                      format_duration(t) + ")");
  }

  std::string name_;
  std::vector<std::string> series_names_;
  py::object instance_;
  py::object step_;
  std::size_t series_;
  double threshold_;
  std::int64_t fit_ticks_;
  SimTime tick_;
  std::string step_at_;  // where step() is defined, for its bad returns
  std::int64_t steps_ = 0;
  std::vector<float> history_;  // the first fit_ticks ticks, row-major
};

}  // namespace

std::unique_ptr<Detector> make_python_detector(DetectorParams& params, std::size_t series) {
  const DetectorSpec& spec = params.spec();
  const double threshold = params.get("threshold", 1.0);
  const double fit_ticks = params.get("fit_ticks", 0.0);
  // > 0, as every kind's (at 0 or below a score of 0 is anomalous: every series alerts from
  // the first tick and never resolves).
  params.require(std::isfinite(threshold) && threshold > 0,
                 "'threshold' must be a finite number > 0");
  params.require(fit_ticks >= 0 && fit_ticks <= 1e7 && fit_ticks == std::floor(fit_ticks),
                 "'fit_ticks' must be a whole number in [0, 1e7]");
  params.require(!spec.module.empty(), "kind python needs 'module:' (a .py file)");
  params.require(!spec.class_name.empty(), "kind python needs 'class:' (a class in the module)");
  std::error_code error_code;
  params.require(std::filesystem::is_regular_file(spec.module, error_code),
                 "module '" + spec.module + "': no such file");
  params.use_all();  // the class takes the rest; it says itself what it does not know
  const int direction = params.direction();  // handed on when given (up 1, down -1)

  py::gil_scoped_acquire gil;
  try {
    const py::object module = load_module(spec.module);
    if (!py::hasattr(module, spec.class_name.c_str())) {
      std::vector<std::string> names;
      for (const auto& item : module.attr("__dict__").cast<py::dict>())
        names.push_back(py::str(item.first).cast<std::string>());
      params.require(false, "no class '" + spec.class_name + "' in " + spec.module +
                                did_you_mean(spec.class_name, names));
    }
    std::vector<std::string> names = params.series_names();
    if (names.empty())
      for (std::size_t i = 0; i < series; ++i) names.push_back("series-" + std::to_string(i));
    py::dict kwargs;
    for (const auto& [key, value] : spec.params) {
      if (key == "threshold" || key == "fit_ticks") continue;
      if (value == std::floor(value) && std::abs(value) < 9e15)
        kwargs[py::str(key)] = py::int_(static_cast<long long>(value));
      else
        kwargs[py::str(key)] = py::float_(value);
    }
    if (direction != 0) kwargs["direction"] = py::int_(direction);
    py::object instance = module.attr(spec.class_name.c_str())(py::cast(names), **kwargs);
    params.require(py::hasattr(instance, "step"),
                   "class '" + spec.class_name + "' has no step(t_ns, values) method");
    return std::make_unique<PythonDetector>(spec.name, std::move(instance), std::move(names),
                                            threshold, static_cast<std::int64_t>(fit_ticks),
                                            params.tick());
  } catch (py::error_already_set& error) {
    params.require(false, describe(error));
  }
  return nullptr;  // not reached: require(false, ...) throws
}

}  // namespace dosim::python
