// Root-cause rankers written in Python (docs/rca.md, "Your own ranker"): a function called
// once per case and delay with a dict of what was known at the ranking instant, returning
// the candidates best first:
//
//   def rank(case):   # case["time_ns"], case["alerts"], case["services"], ...
//       return ["service:db", ("edge:api->db", 0.5), {"id": "change:v2", "score": 0.1}]
//
// The case: incident, time_ns, delay_ns, lookback_ns (ints); services (names); edges
// ((caller, callee) pairs); places ({service: [zones and regions]}); alerts (dicts with
// time_ns, service ("" for none), detector, metric, severity, target, resolved_ns (-1: still
// firing at time_ns)), in time order; changes (dicts with name, times_ns, services), those made
// by time_ns. A candidate is a string, an (id, score) pair or a dict with `id` and an
// optional `score` (default: higher for earlier ones). A Python exception or a result of
// another shape is a ScriptError naming the file and line. Every call holds the GIL for its
// own duration only.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "dosim/analysis/root_cause.h"

namespace dosim::python {

// A ranker calling `function` of the .py file `module` (executed once per process and file):
// the maker the Python layer installs (set_python_ranker_maker). Throws ScriptError
// ("FILE:LINE: Type: message") when the module raises as it loads, InputError without a
// position when it has no such function. REQUIRES: an initialized interpreter.
RcaRanker load_python_ranker(const std::string& module, const std::string& function);

// A ranker calling `callable` (any Python callable taking the case); `label` names it in
// messages. REQUIRES: the GIL.
RcaRanker python_callable_ranker(pybind11::object callable, const std::string& label);

}  // namespace dosim::python
