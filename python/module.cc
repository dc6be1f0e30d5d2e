// dosim._dosim: the library (include/dosim/run.h) as a Python module, under the `dosim`
// package (python/dosim/__init__.py adds pandas views and the trace reader). The API is in
// docs/python.md. Every call that simulates releases the GIL; Python detectors take it back
// for their own calls. Errors are dosim.InputError, dosim.ScriptError, dosim.RunControlError
// (all dosim.Error), each with `diagnostics`: a list of Diagnostic.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "dosim/analysis/external_scores.h"
#include "dosim/analysis/score_table.h"
#include "dosim/analysis/trace_reader.h"
#include "dosim/detectors/registry.h"
#include "dosim/engine/inject.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/run.h"
#include "dosim/version.h"
#include "python/python_detector.h"
#include "python/python_ranker.h"
#include "python/python_util.h"
#include "util/input_file.h"
#include "util/interrupt_hook.h"

namespace py = pybind11;

namespace dosim::python {
namespace {

py::object g_error, g_input_error, g_script_error, g_run_control_error;

// A UserWarning at the user's line: the first frame outside the dosim package (its wrappers,
// dosim.run calling _dosim._run, are not where the user can act). Returns PyErr_WarnEx's
// result: -1 where warnings are errors (-W error).
int warn_user(const std::string& message) {
  int level = 1;  // the innermost Python frame: the one that called into the module
  try {
    static const std::string package =
        py::module_::import("os.path")
            .attr("dirname")(py::module_::import("dosim").attr("__file__"))
            .cast<std::string>() +
        "/";
    py::object frame = py::module_::import("sys").attr("_getframe")(0);
    while (!frame.is_none() &&
           frame.attr("f_code").attr("co_filename").cast<std::string>().rfind(package, 0) == 0) {
      frame = frame.attr("f_back");
      ++level;
    }
  } catch (const py::error_already_set&) {
    level = 1;  // no frames to read (called from C): the warning as Python places it
  }
  return PyErr_WarnEx(PyExc_UserWarning, message.c_str(), level);
}

// Where a complete message says it is ("FILE:LINE: ..." of a Lua or Python error, or
// "FILE:LINE:COL: ..." of a SyntaxError, kept whole in Diagnostic::message with no file):
// the file, line and column for Python's Diagnostic.file, .line and .column; none if it
// does not start so.
struct Place {
  std::string file;
  int line = 0, column = 0;
};
Place place_of(const Diagnostic& d) {
  if (!d.file.empty()) return {d.file, d.line, d.column};
  const std::string first = d.message.substr(0, d.message.find('\n'));
  // The number after `colon` up to the next ':' (at most 9 digits), or 0.
  const auto number_at = [&](std::size_t colon, std::size_t& end) {
    end = colon + 1;
    while (end < first.size() && end - colon <= 9 && first[end] >= '0' && first[end] <= '9') ++end;
    if (end == colon + 1 || end >= first.size() || first[end] != ':') return 0;
    return std::stoi(first.substr(colon + 1, end - colon - 1));
  };
  for (std::size_t colon = first.find(':'); colon != std::string::npos && colon > 0;
       colon = first.find(':', colon + 1)) {
    std::size_t end = 0;
    const int line = number_at(colon, end);
    if (line <= 0) continue;
    // The file begins after the last ": " before it (a detector's error names the detector,
    // then says where its Python failed), or after a '(' ("the run stopped on an error
    // (FILE:LINE: ...)": the place of the error that stopped it).
    const std::size_t said = first.rfind(": ", colon);
    const std::size_t opened = first.rfind('(', colon);
    std::size_t begin = said == std::string::npos ? 0 : said + 2;
    if (opened != std::string::npos && (said == std::string::npos || opened > said) &&
        first.find(')', opened) > colon)  // not a folder's "(copy)"
      begin = opened + 1;
    if (begin >= colon) continue;
    Place place{first.substr(begin, colon - begin), line, 0};
    std::size_t after = 0;
    place.column = number_at(end, after);
    return place;
  }
  return {};
}

// A Python dict / list / scalar as a YAML node, for parse_fault (the keys of `faults:`).
// Nested at most kMaxDepth deep, as `dosim serve`'s inject body: a fault is a few levels,
// and a list that holds itself would recurse until the stack ends. `call` names the method.
constexpr int kMaxDepth = 64;
YAML::Node to_yaml(const py::handle& value, const std::string& call, int depth = 0) {
  const bool nested = py::isinstance<py::dict>(value) || py::isinstance<py::list>(value) ||
                      py::isinstance<py::tuple>(value);
  if (nested && depth >= kMaxDepth)
    throw InputError(call, "its argument is nested deeper than " + std::to_string(kMaxDepth) +
                               " levels (a list or dict that holds itself?)");
  if (py::isinstance<py::dict>(value)) {
    YAML::Node node(YAML::NodeType::Map);
    for (const auto& item : value.cast<py::dict>())
      node[py::str(item.first).cast<std::string>()] = to_yaml(item.second, call, depth + 1);
    return node;
  }
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    YAML::Node node(YAML::NodeType::Sequence);
    for (const auto& item : value) node.push_back(to_yaml(item, call, depth + 1));
    return node;
  }
  // numpy: an array of one value (np.array(5.0)) is that value, one of more no value; a
  // numpy bool is a bool (not the number 1).
  if (py::hasattr(value, "dtype") && py::hasattr(value, "ndim")) {
    if (value.attr("ndim").cast<int>() != 0)
      throw py::type_error(call + ": a value must be text, a number, True/False, None, a list " +
                           "or a dict, got an array of shape " +
                           py::str(value.attr("shape")).cast<std::string>() +
                           " (a list is tolist()'s)");
    const py::object item = value.attr("item")();
    if (!item.is(value)) return to_yaml(item, call, depth);
  }
  if (py::isinstance<py::bool_>(value)) return YAML::Node(value.cast<bool>() ? "true" : "false");
  if (value.is_none()) return YAML::Node(YAML::NodeType::Null);
  if (py::isinstance<py::str>(value)) return YAML::Node(value.cast<std::string>());
  // Numbers (numpy's too) as Python writes them; a path as its text. Anything else would be
  // its str() ("b'error'", "<object object at 0x...>"), said as a wrong value far from here.
  if (PyIndex_Check(value.ptr())) {
    const py::object whole = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
    if (whole) return YAML::Node(py::str(whole).cast<std::string>());
    PyErr_Clear();  // __index__ refused (not a whole number): a float below, or no value
  }
  if (PyFloat_Check(value.ptr()) || py::hasattr(value, "__float__"))
    return YAML::Node(
        py::str(py::float_(py::reinterpret_borrow<py::object>(value))).cast<std::string>());
  if (py::hasattr(value, "__fspath__"))
    return YAML::Node(py::str(value.attr("__fspath__")()).cast<std::string>());
  throw py::type_error(call + ": a value must be text, a number, True/False, None, a list or a " +
                       "dict, got " +
                       py::str(py::type::of(value).attr("__name__")).cast<std::string>() + " " +
                       py::repr(value).cast<std::string>());
}

// `rankers` as RunOptions::rankers: None, a dict {name: callable} or (name, callable) pairs.
NamedRcaRankers make_rankers(const py::object& rankers) {
  NamedRcaRankers out;
  if (rankers.is_none()) return out;
  const auto type_name = [](const py::handle& value) {
    return py::str(py::type::of(value).attr("__name__")).cast<std::string>();
  };
  const std::string shape = "rankers must be a dict {name: function} (or (name, function) pairs)";
  py::list pairs;
  if (py::isinstance<py::dict>(rankers))
    pairs = py::list(rankers.attr("items")());
  else if (py::isinstance<py::iterable>(rankers) && !py::isinstance<py::str>(rankers))
    pairs = py::list(rankers);
  else
    throw InputError("rankers", shape + ", got " + type_name(rankers));
  for (const py::handle pair : pairs) {
    if (!py::isinstance<py::tuple>(pair) || py::len(pair) != 2)
      throw InputError("rankers", shape + ", got an item " + py::repr(pair).cast<std::string>());
    const py::tuple named = py::reinterpret_borrow<py::tuple>(pair);
    if (!py::isinstance<py::str>(named[0]))
      throw InputError("rankers", "a ranker's name must be a string, got " + type_name(named[0]) +
                                      " " + py::repr(named[0]).cast<std::string>());
    const std::string name = named[0].cast<std::string>();
    if (!PyCallable_Check(named[1].ptr()))
      throw InputError("rankers", "ranker '" + name + "' is not callable: " +
                                      py::repr(named[1]).cast<std::string>() + " (" +
                                      type_name(named[1]) + "), not a function(case)");
    out.emplace_back(name, python_callable_ranker(named[1], "root-cause ranker '" + name + "'"));
  }
  return out;
}

// A seed as the command line checks it: a whole number in [0, 1e18], never wrapped nor
// clamped; None: the scenario's.
std::optional<std::uint64_t> seed_of(const py::object& seed) {
  if (seed.is_none()) return std::nullopt;
  // Any integer (numpy's too, through __index__), or a float that is a whole number (7.0,
  // 1e18: the command line's --seed 7.0 and 1e18 are), but not a bool.
  const bool is_bool = py::isinstance<py::bool_>(seed) ||
                       (py::hasattr(seed, "dtype") &&
                        py::str(seed.attr("dtype").attr("kind")).cast<std::string>() == "b");
  if (!is_bool && !PyIndex_Check(seed.ptr()) && PyFloat_Check(seed.ptr())) {
    const double value = PyFloat_AsDouble(seed.ptr());
    if (std::isfinite(value) && value == std::floor(value) && value >= 0 && value <= 1e18)
      return static_cast<std::uint64_t>(value);
  }
  if (!is_bool && PyIndex_Check(seed.ptr())) {
    const py::object whole = py::reinterpret_steal<py::object>(PyNumber_Index(seed.ptr()));
    if (!whole) throw py::error_already_set();
    const py::int_ least(0), most(1'000'000'000'000'000'000LL);
    if (PyObject_RichCompareBool(whole.ptr(), least.ptr(), Py_GE) == 1 &&
        PyObject_RichCompareBool(whole.ptr(), most.ptr(), Py_LE) == 1)
      return whole.cast<std::uint64_t>();
  }
  throw InputError(
      "seed", "the seed must be a whole number in [0, 1e18], got " + std::string(py::repr(seed)));
}

RunOptions make_options(const py::object& seed, const std::string& script, const std::string& out,
                        std::optional<std::vector<std::string>> detectors, bool strict,
                        const std::string& mode, const py::object& rankers = py::none(),
                        int threads = 1) {
  RunOptions options;
  if (threads < 1)
    throw InputError("threads", "threads must be >= 1, got " + std::to_string(threads));
  options.threads = threads;
  options.rankers = make_rankers(rankers);
  options.seed = seed_of(seed);
  if (mode == "fluid") options.mode = WorldMode::kFluid;
  if (mode == "requests") options.mode = WorldMode::kRequests;
  if (!mode.empty() && !options.mode)
    throw InputError("mode", "mode must be fluid or requests, got '" + mode + "'");
  options.script_path = script;
  options.trace_path = out;
  options.detectors = std::move(detectors);
  options.detectors_source = "detectors";
  options.strict = strict;
  return options;
}

// The score table as {row: scores}, in the library's one JSON form of scores
// (dosim/analysis/score_table.h), with "rule <name>" rows for the incident rules.
py::dict table_dict(const ScoreTable& table) {
  const py::dict json =
      py::module_::import("json").attr("loads")(score_table_json(table, -1)).cast<py::dict>();
  py::dict rows;
  if (json.contains("scores"))
    for (const auto& [name, scores] : json["scores"].cast<py::dict>()) rows[name] = scores;
  if (json.contains("incident_rules"))
    for (const auto& [name, scores] : json["incident_rules"].cast<py::dict>())
      rows[py::str("rule " + py::str(name).cast<std::string>())] = scores;
  return rows;
}

// RunPlan::load with the GIL released, then its warnings (what `dosim run` prints as
// "warning: ...") as Python UserWarnings, each "FILE:LINE:COL: message".
RunPlan load_plan(const std::string& path, RunOptions options) {
  std::optional<RunPlan> plan;
  {
    py::gil_scoped_release release;
    plan.emplace(RunPlan::load(path, std::move(options)));
  }
  for (const Diagnostic& warning : plan->warnings())
    if (warn_user(warning.format()) != 0)
      throw py::error_already_set();  // warnings made errors (-W error)
  return std::move(*plan);
}

// A stepping run: the plan and the run it drives, kept together.
// Ctrl-C from Python: the run stops as `dosim run` stops on SIGINT. Python runs its signal
// handlers on the main thread, between bytecodes, and a run holds no GIL: it simulates in
// chunks of about 50 ms with the GIL released, and between them lets Python check its
// signals. A KeyboardInterrupt there (or in a Python detector's code: python_detector.cc)
// ends the run by Run::run(stop), which closes the trace as incomplete with its ground
// truth, and is raised. Chunks change when control returns, never what is simulated
// (Run::step); the wall clock only sizes them.
class Interruptible {
 public:
  Interruptible() { set_python_stop(&stop_); }
  ~Interruptible() { set_python_stop(nullptr); }
  Interruptible(const Interruptible&) = delete;
  Interruptible& operator=(const Interruptible&) = delete;

  // Simulates `ticks` more ticks (< 0: to the end); returns whether ticks are left. Throws
  // py::error_already_set (KeyboardInterrupt, or what a signal handler raised) once the run
  // is stopped: the trace is then closed.
  bool step(Run& run, long long ticks) {
    long long chunk = 1;
    for (;;) {
      const long long n = ticks < 0 ? chunk : std::min(chunk, ticks);
      const auto start = std::chrono::steady_clock::now();
      bool more;
      {
        py::gil_scoped_release release;
        more = run.step(n, &stop_);
      }
      if (ticks > 0) ticks -= n;
      if (stop_.load() || PyErr_CheckSignals() != 0) stop(run);
      if (!more || ticks == 0) return more;
      const double took =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      chunk = took < 0.025 ? std::min(chunk * 2, 1LL << 30)
              : took > 0.1 ? std::max(1LL, chunk / 2)
                           : chunk;
    }
  }
  // Run::run() after step(run, -1); a stop during it (a Python ranker's) is raised after.
  RunReport finish(Run& run) {
    step(run, -1);
    RunReport report;
    {
      py::gil_scoped_release release;
      report = run.run();
    }
    if (stop_.load() || PyErr_CheckSignals() != 0) raise();
    return report;
  }

 private:
  [[noreturn]] void stop(Run& run) {
    stop_.store(true);
    // What the handler raised, kept while the trace is closed (run() may call Python).
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    {
      py::gil_scoped_release release;
      try {
        run.run(&stop_);
      } catch (const std::exception&) {
        // The run's own error while it closes: the interrupt is what the caller asked for.
      }
    }
    PyErr_Restore(type, value, traceback);
    raise();
  }
  [[noreturn]] static void raise() {
    if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);  // a detector's, caught there
    throw py::error_already_set();
  }

  std::atomic<bool> stop_{false};
};

struct Stepper {
  RunPlan plan;
  std::unique_ptr<Run> run;
  bool done = false;
  bool interrupted = false;  // a KeyboardInterrupt stopped it: the trace is closed
  // A step() or finish() is running with the GIL released. Set and read under the GIL:
  // another thread's call then sees it and refuses (check_idle).
  bool busy = false;
  explicit Stepper(RunPlan p) : plan(std::move(p)), run(std::make_unique<Run>(plan)) {}
};

// RunControlError "<call>: the run is over" once finish() was called, "<call>: the run
// stopped on an error (MESSAGE)" once a step() raised: a control then would change nothing.
void check_running(const Stepper& s, const std::string& call);

// RunControlError while another thread's step() or finish() of the same Simulation runs: a
// Simulation is driven by one thread at a time (a control landing mid-step would act at
// whatever tick it met, and a second step() would see the run as over).
void check_idle(const Stepper& s, const std::string& call) {
  if (s.busy)
    throw RunControlError(call +
                          ": another thread's step() or finish() of this Simulation is running "
                          "(use a Simulation from one thread at a time)");
}

// Marks a Stepper busy for its lifetime: made before the GIL is released, gone after it is
// taken again.
class Busy {
 public:
  explicit Busy(Stepper& s) : s_(s) { s_.busy = true; }
  ~Busy() { s_.busy = false; }
  Busy(const Busy&) = delete;
  Busy& operator=(const Busy&) = delete;

 private:
  Stepper& s_;
};

void check_running(const Stepper& s, const std::string& call) {
  check_idle(s, call);
  if (s.run->failed()) throw RunControlError(call + ": " + s.run->stopped_on_error());
  if (s.interrupted)
    throw RunControlError(call +
                          ": the run was interrupted (KeyboardInterrupt): its trace is "
                          "closed as incomplete");
  if (s.done) throw RunControlError(call + ": the run is over");
}

// A whole number (a Python int, a numpy integer: what has __index__) as a long long,
// saturated at its bounds (2**64 is LLONG_MAX), so that a control's own range check says
// what is wrong instead of pybind11's TypeError. Anything else is a TypeError.
long long saturated_int(const py::object& number) {
  // True is 1 to Python's integers, never a count a user meant: scale("api", True).
  if (py::isinstance<py::bool_>(number))
    throw py::type_error("'bool' object is not taken as a whole number");
  const py::int_ value = py::reinterpret_steal<py::int_>(PyNumber_Index(number.ptr()));
  if (!value) throw py::error_already_set();
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (overflow > 0) return std::numeric_limits<long long>::max();
  if (overflow < 0) return std::numeric_limits<long long>::min();
  return v;
}

// The same, as an int for a control whose value must lie in [low, high]: outside, `problem`
// is raised with the value Python gave.
int int_within(const py::object& value, int low, int high, const std::string& problem) {
  const long long v = saturated_int(value);
  if (v < low || v > high) throw RunControlError(problem + py::str(value).cast<std::string>());
  return static_cast<int>(v);
}

// The index of a service by name; RunControlError "<call>: unknown service ..." with a
// did-you-mean otherwise.
int service_index(const Stepper& s, const std::string& name, const std::string& call) {
  std::vector<std::string> names;
  for (const ServiceSpec& service : s.plan.scenario().services) names.push_back(service.name);
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  throw RunControlError(call + ": unknown service '" + name + "'" + did_you_mean(name, names));
}

// A zero-copy [rows, metrics] view of a metric-major frame block owned by `owner`, read-only:
// a write would change nothing the simulation reads (it was accepted and lost).
py::array frame_view(const std::vector<float>& values, std::size_t rows, std::size_t metrics,
                     py::handle owner) {
  py::array view = py::array_t<float>(
      {rows, metrics}, {sizeof(float), sizeof(float) * std::max<std::size_t>(rows, 1)},
      values.data(), owner);
  view.attr("flags").attr("writeable") = false;
  return view;
}

void raise(const py::object& type, const Error& error) {
  py::list diagnostics;
  for (const Diagnostic& d : error.diagnostics()) diagnostics.append(py::cast(d));
  py::object instance = type(py::str(error.what()));
  instance.attr("diagnostics") = diagnostics;
  // A Python detector's or ranker's own exception, as `raise ... from` it: its traceback.
  if (py::object cause = take_python_cause(error.what()); !cause.is_none())
    instance.attr("__cause__") = cause;
  PyErr_SetObject(type.ptr(), instance.ptr());
}

}  // namespace
}  // namespace dosim::python

PYBIND11_MODULE(_dosim, m) {
  using namespace dosim;
  using namespace dosim::python;
  m.doc() = "dosim: deterministic discrete-event simulation of microservice systems (C++ core)";
  m.attr("__version__") = DOSIM_VERSION;
  set_python_detector_maker(&make_python_detector);
  set_python_ranker_maker(&load_python_ranker);

  g_error = py::reinterpret_borrow<py::object>(
      PyErr_NewException("dosim.Error", PyExc_Exception, nullptr));
  g_input_error = py::reinterpret_borrow<py::object>(
      PyErr_NewException("dosim.InputError", g_error.ptr(), nullptr));
  g_script_error = py::reinterpret_borrow<py::object>(
      PyErr_NewException("dosim.ScriptError", g_error.ptr(), nullptr));
  g_run_control_error = py::reinterpret_borrow<py::object>(
      PyErr_NewException("dosim.RunControlError", g_error.ptr(), nullptr));
  m.attr("Error") = g_error;
  m.attr("InputError") = g_input_error;
  m.attr("ScriptError") = g_script_error;
  m.attr("RunControlError") = g_run_control_error;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      raise(g_input_error, e);
    } catch (const ScriptError& e) {
      raise(g_script_error, e);
    } catch (const RunControlError& e) {
      raise(g_run_control_error, e);
    } catch (const Error& e) {
      raise(g_error, e);
    }
  });

  py::class_<Diagnostic>(m, "Diagnostic", "A problem at its place: file, line, column")
      // A script's or Python detector's error has its place in its message (kept whole,
      // with its traceback): read from there.
      .def_property_readonly("file", [](const Diagnostic& d) { return place_of(d).file; })
      .def_property_readonly("line", [](const Diagnostic& d) { return place_of(d).line; })
      .def_property_readonly("column", [](const Diagnostic& d) { return place_of(d).column; })
      .def_readonly("message", &Diagnostic::message)
      .def_readonly("warning", &Diagnostic::warning)
      .def("__str__", &Diagnostic::format)
      .def("__repr__", [](const Diagnostic& d) { return "<Diagnostic " + d.format() + ">"; });

  m.def(
      "validate",
      [](const std::string& path, const std::string& script, bool strict) {
        RunOptions options;
        options.script_path = script;
        std::vector<Diagnostic> found;
        {
          py::gil_scoped_release release;
          found = RunPlan::check(path, options);
        }
        std::vector<Diagnostic> errors;
        for (Diagnostic& d : found) {
          if (d.warning && strict) d.warning = false;
          if (!d.warning) errors.push_back(d);
        }
        if (!errors.empty()) throw InputError(found);
        return found;  // the warnings
      },
      py::arg("path"), py::arg("script") = "", py::arg("strict") = false,
      "Checks a scenario as a run would. Returns its warnings; raises InputError with every "
      "problem (warnings too) when it would not run.");

  py::class_<RunReport>(m, "_Report")
      .def_property_readonly("scenario", [](const RunReport& r) { return r.scenario.name; })
      .def_readonly("seed", &RunReport::seed)
      .def_property_readonly("completed", [](const RunReport& r) { return r.result.completed; })
      .def_property_readonly("ticks", [](const RunReport& r) { return r.result.ticks; })
      .def_property_readonly("simulated_ns", [](const RunReport& r) { return r.result.simulated; })
      .def_readonly("detectors", &RunReport::detectors)
      .def_readonly("trace_path", &RunReport::trace_path)
      .def_readonly("script_path", &RunReport::script_path)
      .def_property_readonly("services",
                             [](const RunReport& r) {
                               std::vector<std::string> names;
                               for (const ServiceSpec& s : r.scenario.services)
                                 names.push_back(s.name);
                               return names;
                             })
      .def_property_readonly(
          "incident_rows",
          [](const RunReport& r) {
            py::list rows;
            for (const IncidentRecord& i : r.incidents)
              rows.append(py::make_tuple(i.id, i.name, i.cause, i.root_cause, i.start, i.end,
                                         i.impact_start, i.impact_end, i.silent, i.ongoing));
            return rows;
          })
      .def_property_readonly(
          "alert_rows",
          [](const RunReport& r) {
            py::list rows;
            for (std::size_t a = 0; a < r.alerts.size(); ++a) {
              const Alert& alert = r.alerts[a];
              const std::string service =
                  alert.service >= 0 ? r.scenario.services[alert.service].name : "";
              rows.append(py::make_tuple(alert.time, alert.detector, service, alert.metric,
                                         alert.severity, r.alert_incidents[a], alert.resolved,
                                         alert.target));
            }
            return rows;
          })
      .def_property_readonly(
          "detected_rows",
          [](const RunReport& r) {
            py::list rows;
            for (const DetectedIncident& d : r.detected)
              rows.append(py::make_tuple(d.rule, d.start, d.end, d.severity, d.peak_temperature));
            return rows;
          })
      .def_property_readonly("experiment_rows",
                             [](const RunReport& r) {
                               py::list rows;
                               for (const ExperimentRecord& e : r.experiments)
                                 rows.append(py::make_tuple(e.title, e.verdict, e.probe, e.message,
                                                            e.start, e.end, e.failed_at));
                               return rows;
                             })
      .def_property_readonly("script_log",
                             [](const RunReport& r) {
                               py::list rows;
                               for (const ScriptLogLine& l : r.script_log)
                                 rows.append(py::make_tuple(l.time, l.text));
                               return rows;
                             })
      .def_property_readonly("notifications",
                             [](const RunReport& r) { return r.routing.notifications.size(); })
      .def_property_readonly("resolutions",
                             [](const RunReport& r) {
                               std::size_t count = 0;
                               for (const Notification& n : r.routing.notifications)
                                 count += n.resolution;
                               return count;
                             })
      .def_property_readonly("raw_alerts", [](const RunReport& r) { return r.routing.raw_alerts; })
      .def_property_readonly(
          "rca_rows",
          [](const RunReport& r) {
            py::list rows;
            for (const RcaRanking& ranking : r.rca)
              for (std::size_t c = 0; c < ranking.candidates.size(); ++c)
                rows.append(py::make_tuple(ranking.incident, ranking.ranker, ranking.delay,
                                           ranking.at, c + 1, ranking.candidates[c].id,
                                           ranking.candidates[c].score));
            return rows;
          })
      .def("rca_scores",
           [](const RunReport& r) {
             // The JSON `dosim score --json` writes under "rca": the same numbers.
             return py::module_::import("json").attr("loads")(rca_scores_json(
                 score_rankings(r.rca, r.incidents, rca_system_of(r.scenario)), -1));
           })
      .def("experiments_passed", &RunReport::experiments_passed)
      .def("scores", [](const RunReport& r) { return table_dict(r.scores()); });

  // For the package's Python half (trace.py, sweep.py): a file it cannot read as what it
  // should be is an InputError, with its diagnostics, as the C++ half's are.
  m.def(
      "_raise_input_error",
      [](const std::string& file, const std::string& message) { throw InputError(file, message); },
      py::arg("file"), py::arg("message"));
  // Problems of the package's own making, each (file, line, column, message): dosim.score
  // names a DataFrame's rows and columns in place of the temporary file's lines.
  m.def(
      "_raise_input_errors",
      [](const std::vector<std::tuple<std::string, int, int, std::string>>& problems) {
        std::vector<Diagnostic> diagnostics;
        for (const auto& [file, line, column, message] : problems)
          diagnostics.push_back({file, line, column, message});
        throw InputError(std::move(diagnostics));
      },
      py::arg("diagnostics"));
  // Why `path` cannot be read as an input file, in the command line's words ("not a regular
  // file (a device, a FIFO or a socket)", ...), or "": checked before h5py or json open it,
  // which would wait for ever on a FIFO.
  m.def("_input_file_problem", &input_file_problem, py::arg("path"));
  // A dosim.Error that is none of the kinds below it (a Trace used after close()).
  m.def(
      "_raise_error",
      [](const std::string& file, const std::string& message) {
        throw Error({Diagnostic{file, 0, 0, message}});
      },
      py::arg("file"), py::arg("message"));
  m.def(
      "_raise_run_control_error",
      [](const std::string& message) { throw RunControlError(message); }, py::arg("message"));

  m.def(
      "_run",
      [](const std::string& path, const py::object& seed, const std::string& script,
         const std::string& out, std::optional<std::vector<std::string>> detectors, bool strict,
         const std::string& mode, const py::object& rankers, int threads) {
        RunOptions options =
            make_options(seed, script, out, std::move(detectors), strict, mode, rankers, threads);
        const RunPlan plan = load_plan(path, std::move(options));
        std::unique_ptr<Run> run;
        {
          py::gil_scoped_release release;
          run = std::make_unique<Run>(plan);
        }
        Interruptible interruptible;
        return interruptible.finish(*run);
      },
      py::arg("path"), py::arg("seed") = py::none(), py::arg("script") = "", py::arg("out") = "",
      py::arg("detectors") = py::none(), py::arg("strict") = false, py::arg("mode") = "",
      py::arg("rankers") = py::none(), py::arg("threads") = 1);

  py::class_<Stepper>(m, "_Simulation")
      .def(py::init([](const std::string& path, const py::object& seed, const std::string& script,
                       const std::string& out, std::optional<std::vector<std::string>> detectors,
                       bool strict, const std::string& mode, const py::object& rankers,
                       int threads) {
             RunOptions options = make_options(seed, script, out, std::move(detectors), strict,
                                               mode, rankers, threads);
             RunPlan plan = load_plan(path, std::move(options));
             py::gil_scoped_release release;
             return std::make_unique<Stepper>(std::move(plan));
           }),
           py::arg("path"), py::arg("seed") = py::none(), py::arg("script") = "",
           py::arg("out") = "", py::arg("detectors") = py::none(), py::arg("strict") = false,
           py::arg("mode") = "", py::arg("rankers") = py::none(), py::arg("threads") = 1)
      .def(
          "step",
          [](Stepper& s, const py::object& count) {
            check_idle(s, "step");
            if (s.run->failed()) throw RunControlError("step: " + s.run->stopped_on_error());
            if (s.done && !s.interrupted)
              throw RunControlError("step: the run is over (finish() was called)");
            check_running(s, "step");
            const long long ticks = saturated_int(count);  // 2**64: to the end of the run
            if (ticks < 0) throw RunControlError("step: ticks must be >= 0");
            const Busy busy(s);
            Interruptible interruptible;
            try {
              return interruptible.step(*s.run, ticks);
            } catch (py::error_already_set&) {
              if (!s.run->failed()) s.interrupted = s.done = true;
              throw;
            }
          },
          py::arg("ticks") = 1)
      .def("finish",
           [](Stepper& s) {
             check_idle(s, "finish");
             if (s.run->failed()) throw RunControlError("finish: " + s.run->stopped_on_error());
             if (s.interrupted) check_running(s, "finish");
             if (s.done) throw RunControlError("finish: the run is over already");
             s.done = true;
             const Busy busy(s);
             Interruptible interruptible;
             try {
               return interruptible.finish(*s.run);
             } catch (py::error_already_set&) {
               if (!s.run->failed()) s.interrupted = true;
               throw;
             }
           })
      .def_property_readonly("now_ns",
                             [](Stepper& s) {
                               check_idle(s, "now_ns");
                               return s.run->simulation().now();
                             })
      .def_property_readonly("tick_ns", [](Stepper& s) { return s.plan.scenario().tick; })
      .def_property_readonly("duration_ns", [](Stepper& s) { return s.plan.scenario().duration; })
      .def_property_readonly("frame_tick",
                             [](Stepper& s) {
                               check_idle(s, "frame");
                               return s.run->frame().tick;
                             })
      .def_property_readonly("frame_time_ns",
                             [](Stepper& s) {
                               check_idle(s, "frame");
                               return s.run->frame().time;
                             })
      .def_property_readonly("service_names",
                             [](Stepper& s) {
                               std::vector<std::string> names;
                               for (const ServiceSpec& service : s.plan.scenario().services)
                                 names.push_back(service.name);
                               return names;
                             })
      .def_property_readonly("edge_names",
                             [](Stepper& s) {
                               const Scenario& scenario = s.plan.scenario();
                               std::vector<std::string> names;
                               for (const DependencySpec& d : scenario.dependencies)
                                 names.push_back(scenario.services[d.caller].name + "->" +
                                                 scenario.services[d.callee].name);
                               return names;
                             })
      .def_property_readonly("endpoint_names",
                             [](Stepper& s) {
                               std::vector<std::string> names;
                               for (const ServiceSpec& service : s.plan.scenario().services)
                                 for (const EndpointSpec& e : service.endpoints)
                                   names.push_back(service.name + " " + e.name);
                               return names;
                             })
      .def_property_readonly("services",
                             [](py::object self) {
                               const Stepper& s = self.cast<Stepper&>();
                               check_idle(s, "frame");
                               const Frame& f = s.run->frame();
                               return frame_view(f.service_values, f.services,
                                                 static_cast<std::size_t>(ServiceMetric::kCount),
                                                 self);
                             })
      .def_property_readonly("edges",
                             [](py::object self) {
                               const Stepper& s = self.cast<Stepper&>();
                               check_idle(s, "frame");
                               const Frame& f = s.run->frame();
                               return frame_view(f.edge_values, f.edges,
                                                 static_cast<std::size_t>(EdgeMetric::kCount),
                                                 self);
                             })
      .def_property_readonly("endpoints",
                             [](py::object self) {
                               const Stepper& s = self.cast<Stepper&>();
                               check_idle(s, "frame");
                               const Frame& f = s.run->frame();
                               return frame_view(f.endpoint_values, f.endpoints,
                                                 static_cast<std::size_t>(EndpointMetric::kCount),
                                                 self);
                             })
      .def("_service_buffer_address",
           [](Stepper& s) {
             return reinterpret_cast<std::uintptr_t>(s.run->frame().service_values.data());
           })
      .def(
          "inject",
          [](Stepper& s, const py::dict& fault) {
            check_running(s, "inject");
            // What a scenario's fault would warn of, as Python warnings (as change's), before
            // it is added: a warning made an error (-W error) adds nothing.
            return inject_fault(s.run->simulation(), to_yaml(fault, "inject"), "inject", "inject",
                                nullptr, s.plan.options().strict,
                                [](const std::vector<Diagnostic>& warnings) {
                                  for (const Diagnostic& warning : warnings)
                                    if (warn_user("inject: " + warning.message) != 0)
                                      throw py::error_already_set();
                                });
          },
          py::arg("fault"))
      .def("end_fault",
           [](Stepper& s, const py::object& fault) {
             check_running(s, "end_fault");
             s.run->simulation().end_fault(
                 int_within(fault, 0, std::numeric_limits<int>::max(), "end_fault: no fault "));
           })
      .def(
          "change",
          [](Stepper& s, const py::dict& change, const std::string& call) {
            check_running(s, call);
            Simulation& simulation = s.run->simulation();
            YAML::Node node = to_yaml(change, call);
            const bool flag =
                node["kind"] && node["kind"].IsScalar() && node["kind"].Scalar() == "feature-flag";
            if (!node["at"] && !flag) node["at"] = std::to_string(simulation.now()) + "ns";
            std::vector<Diagnostic> warnings;
            ChangeSpec spec = parse_change(simulation.scenario(), node, "change", &warnings);
            // strict: what the loader would warn of is the call's error, nothing added.
            if (s.plan.options().strict && !warnings.empty()) {
              for (Diagnostic& d : warnings) d.warning = false;
              throw InputError(std::move(warnings));
            }
            // What a scenario's change would warn of, as Python warnings.
            for (const Diagnostic& warning : warnings)
              if (warn_user(call + ": " + warning.message) != 0) throw py::error_already_set();
            return simulation.add_change(std::move(spec));
          },
          py::arg("change"), py::arg("call") = "change")
      .def(
          "rollback",
          [](Stepper& s, const std::string& service) {
            check_running(s, "rollback");
            return s.run->simulation().rollback(service_index(s, service, "rollback"));
          },
          py::arg("service"))
      .def(
          "scale",
          [](Stepper& s, const std::string& service, const py::object& replicas) {
            check_running(s, "scale");
            const int index = service_index(s, service, "scale");
            s.run->simulation().set_replicas(
                index, int_within(replicas, 0, 1'000'000,
                                  "scale: a replica count must be within [0, 1000000], got "));
          },
          py::arg("service"), py::arg("replicas"))
      .def(
          "revert",
          [](Stepper& s, const std::string& change) {
            check_running(s, "revert");
            Simulation& simulation = s.run->simulation();
            const std::vector<ChangeSpec>& changes = simulation.scenario().changes;
            for (std::size_t c = 0; c < changes.size(); ++c)
              if (changes[c].name == change) return simulation.revert_change(static_cast<int>(c));
            std::vector<std::string> names;
            for (const ChangeSpec& c : changes) names.push_back(c.name);
            throw RunControlError("no change named '" + change + "'" + did_you_mean(change, names));
          },
          py::arg("change"))
      .def(
          "set_timeout",
          [](Stepper& s, const std::string& caller, const std::string& callee,
             const py::object& timeout) {
            check_running(s, "set_timeout");
            Simulation& simulation = s.run->simulation();
            // A duration string, or a number of seconds (numpy's too); said as given.
            const std::string given = py::isinstance<py::str>(timeout)
                                          ? "'" + timeout.cast<std::string>() + "'"
                                          : py::repr(timeout).cast<std::string>();
            std::optional<SimTime> parsed;
            if (py::isinstance<py::str>(timeout)) {
              parsed = parse_duration(timeout.cast<std::string>());
            } else if (!py::isinstance<py::bool_>(timeout) &&
                       py::isinstance(timeout, py::module_::import("numbers").attr("Real"))) {
              const double seconds = py::float_(timeout).cast<double>();
              if (!(seconds >= 0))
                throw RunControlError(
                    "set_timeout: a timeout must be >= 0 seconds (0 for none), got " + given);
              if (seconds <= to_seconds(kMaxDuration))
                parsed = static_cast<SimTime>(std::llround(seconds * 1e9));
            }
            if (!parsed)
              throw RunControlError("set_timeout: " + given +
                                    " is not a duration (a number of seconds, or like 3s, 500ms)");
            const int a = service_index(s, caller, "set_timeout");
            const int b = service_index(s, callee, "set_timeout");
            const std::vector<DependencySpec>& deps = simulation.scenario().dependencies;
            for (std::size_t d = 0; d < deps.size(); ++d)
              if (deps[d].caller == a && deps[d].callee == b)
                return simulation.set_timeout(static_cast<int>(d), *parsed);
            throw RunControlError("set_timeout: " + caller + " does not call " + callee);
          },
          py::arg("caller"), py::arg("callee"), py::arg("timeout"))
      .def(
          "shed",
          [](Stepper& s, const std::string& service, double fraction) {
            check_running(s, "shed");
            s.run->simulation().set_shed(service_index(s, service, "shed"), fraction);
          },
          py::arg("service"), py::arg("fraction"))
      .def(
          "playbook",
          [](Stepper& s, const py::dict& playbook) {
            check_running(s, "playbook");
            Simulation& simulation = s.run->simulation();
            simulation.add_playbook(
                parse_playbook(simulation.scenario(), to_yaml(playbook, "playbook"), "playbook"));
          },
          py::arg("playbook"));

  m.def(
      "_score",
      [](const std::string& trace_path, const std::string& alerts_path,
         const std::string& scores_path, std::optional<double> threshold) {
        // The option mixes `dosim score` refuses (cli/main.cc), in its words.
        if (!alerts_path.empty() && !scores_path.empty())
          throw InputError("alerts", "alerts excludes scores (score one or the other)");
        if (threshold && scores_path.empty())
          throw InputError("threshold", "threshold requires scores");
        if (threshold && !std::isfinite(*threshold))
          throw InputError("threshold", "threshold must be a finite number, got " +
                                            std::string(py::repr(py::float_(*threshold))));
        ScoreTable table;
        bool complete = true;
        {
          py::gil_scoped_release release;
          const TraceForScoring trace = read_trace_for_scoring(trace_path);
          complete = trace.complete;
          if (!alerts_path.empty())
            table = score_external_alerts(trace, read_alerts_file(alerts_path, trace));
          else if (!scores_path.empty()) {
            std::vector<std::string> detectors;
            const std::vector<Alert> alerts =
                alerts_from_scores_file(scores_path, trace, threshold.value_or(0.5), &detectors);
            table = score_external_alerts(trace, alerts, detectors);
          } else
            table = score_table(trace.incidents, trace.alerts, trace.detectors, trace.detected,
                                trace.services.size(), trace.seed, trace.simulated, trace.tick);
        }
        // As `dosim score` marks it [INCOMPLETE]: a partial run's scores are not a whole one's.
        if (!complete &&
            warn_user(trace_path + ": the trace is incomplete (the run was interrupted or "
                                   "stopped on an error): scored on the part it holds") != 0)
          throw py::error_already_set();
        return table_dict(table);
      },
      py::arg("trace"), py::arg("alerts") = "", py::arg("scores") = "",
      py::arg("threshold") = py::none());

  m.attr("service_metrics") =
      std::vector<std::string>(kServiceMetricNames.begin(), kServiceMetricNames.end());
  m.attr("edge_metrics") =
      std::vector<std::string>(kEdgeMetricNames.begin(), kEdgeMetricNames.end());
  m.attr("endpoint_metrics") =
      std::vector<std::string>(kEndpointMetricNames.begin(), kEndpointMetricNames.end());
  m.def("detector_kinds", &detector_kinds, "The detector kinds of the registry");
}
