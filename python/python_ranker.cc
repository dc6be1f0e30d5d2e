#include "python/python_ranker.h"

#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <vector>

#include "dosim/error.h"
#include "python/python_util.h"
#include "util/interrupt_hook.h"

namespace dosim::python {
namespace {

namespace py = pybind11;

// The callable, let go of with the GIL held (the ranker may be destroyed on any thread).
struct Callable {
  py::object function;
  std::string label;
  ~Callable() {
    if (!Py_IsInitialized()) return;
    py::gil_scoped_acquire gil;
    function = py::object();
  }
};

std::string type_name(const py::handle& value) {
  return py::str(py::type::of(value).attr("__name__")).cast<std::string>();
}

// The case dict (python_ranker.h). REQUIRES: the GIL.
py::dict make_case(const RcaContext& context) {
  const RcaSystem& system = context.system;
  py::dict out;
  out["incident"] = py::int_(context.incident);
  out["time_ns"] = py::int_(context.at);
  out["delay_ns"] = py::int_(context.delay);
  out["lookback_ns"] = py::int_(context.lookback);
  py::list services;
  for (const std::string& name : system.services) services.append(py::str(name));
  out["services"] = services;
  py::list edges;
  for (const auto& [caller, callee] : system.edges)
    edges.append(py::make_tuple(system.services[caller], system.services[callee]));
  out["edges"] = edges;
  py::dict places;
  for (std::size_t s = 0; s < system.services.size() && s < system.places.size(); ++s)
    places[py::str(system.services[s])] = py::cast(system.places[s]);
  out["places"] = places;
  py::list alerts;
  for (const Alert& alert : context.alerts) {
    py::dict a;
    a["time_ns"] = py::int_(alert.time);
    a["service"] =
        alert.service >= 0 && static_cast<std::size_t>(alert.service) < system.services.size()
            ? system.services[alert.service]
            : std::string();
    a["detector"] = alert.detector;
    a["metric"] = alert.metric;
    a["severity"] = alert.severity;
    a["target"] = alert.target;
    a["resolved_ns"] = py::int_(alert.resolved);
    alerts.append(a);
  }
  out["alerts"] = alerts;
  py::list changes;
  for (const RcaSystem::Change& change : system.changes) {
    py::dict c;
    c["name"] = change.name;
    c["times_ns"] = py::cast(change.times);
    py::list names;
    for (int s : change.services) names.append(py::str(system.services[s]));
    c["services"] = names;
    changes.append(c);
  }
  out["changes"] = changes;
  return out;
}

// One candidate's score, or a problem.
bool read_score(const py::handle& value, double& score) {
  if (value.is_none()) return true;  // the default stays
  if (py::isinstance<py::str>(value) || !PyNumber_Check(value.ptr())) return false;
  try {
    score = py::float_(py::reinterpret_borrow<py::object>(value)).cast<double>();
  } catch (py::error_already_set&) {
    return false;
  }
  return std::isfinite(score);
}

// The candidates `out` holds. REQUIRES: the GIL.
std::vector<RcaCandidate> candidates_of(const py::object& out, const std::string& label) {
  // A sequence: a dict or a set iterates too, but its order or its values would be lost.
  if (py::isinstance<py::str>(out) || py::isinstance<py::dict>(out) ||
      py::isinstance<py::set>(out) || py::isinstance<py::frozenset>(out) ||
      !py::isinstance<py::iterable>(out))
    throw ScriptError(label + " must return a list of candidates, got " + type_name(out));
  std::vector<py::object> items;
  try {
    for (const py::handle item : out) items.push_back(py::reinterpret_borrow<py::object>(item));
  } catch (py::error_already_set& error) {
    throw ScriptError(describe(error));
  }
  std::vector<RcaCandidate> candidates;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const py::object& item = items[i];
    RcaCandidate candidate{"", static_cast<double>(items.size() - i)};
    py::object id, score = py::none();
    if (py::isinstance<py::str>(item)) {
      id = item;
    } else if (py::isinstance<py::dict>(item)) {
      const py::dict d = item.cast<py::dict>();
      if (d.contains("id")) id = d["id"];
      if (d.contains("score")) score = d["score"];
    } else if ((py::isinstance<py::tuple>(item) || py::isinstance<py::list>(item)) &&
               py::len(item) == 2) {
      id = item[py::int_(0)];
      score = item[py::int_(1)];
    } else {
      throw ScriptError(label + " returned a list whose candidate " + std::to_string(i + 1) +
                        " is a " + type_name(item) +
                        ": give a string (\"service:db\"), an (id, score) pair or a dict with "
                        "\"id\" and \"score\"");
    }
    if (!id || !py::isinstance<py::str>(id))
      throw ScriptError(label + " returned a list whose candidate " + std::to_string(i + 1) +
                        " has no id (a string such as \"service:db\")");
    if (!read_score(score, candidate.score))
      throw ScriptError(label + " returned a list whose candidate " + std::to_string(i + 1) +
                        "'s score is not a finite number");
    candidate.id = id.cast<std::string>();
    candidates.push_back(std::move(candidate));
  }
  return candidates;
}

RcaRanker ranker_of(std::shared_ptr<Callable> callable) {
  return [callable = std::move(callable)](const RcaContext& context) {
    py::gil_scoped_acquire gil;
    py::object out;
    try {
      out = callable->function(make_case(context));
    } catch (py::error_already_set& error) {
      // Stopped while it ran (util/interrupt_hook.h): no ranking; the run ends interrupted.
      if (error.matches(PyExc_KeyboardInterrupt) &&
          (interrupt_hook_fired() || request_python_stop()))
        return std::vector<RcaCandidate>{};
      throw ScriptError(describe(error));
    }
    return candidates_of(out, callable->label);
  };
}

}  // namespace

RcaRanker load_python_ranker(const std::string& module, const std::string& function) {
  py::gil_scoped_acquire gil;
  py::object loaded;
  try {
    loaded = load_module(module);
  } catch (py::error_already_set& error) {
    throw ScriptError(describe(error));
  }
  if (!py::hasattr(loaded, function.c_str())) {
    std::vector<std::string> names;
    for (const auto& item : loaded.attr("__dict__").cast<py::dict>())
      names.push_back(py::str(item.first).cast<std::string>());
    throw InputError("", module + " has no function '" + function +
                             "' (the ranker's `function:`, rank by default)" +
                             did_you_mean(function, names));
  }
  py::object callable = loaded.attr(function.c_str());
  if (!PyCallable_Check(callable.ptr()))
    throw InputError(
        "", module + ": '" + function + "' is a " + type_name(callable) + ", not a function");
  auto holder = std::make_shared<Callable>();
  holder->function = std::move(callable);
  holder->label = module + ": " + function + "()";
  return ranker_of(std::move(holder));
}

RcaRanker python_callable_ranker(py::object callable, const std::string& label) {
  auto holder = std::make_shared<Callable>();
  holder->function = std::move(callable);
  holder->label = label;
  return ranker_of(std::move(holder));
}

}  // namespace dosim::python
