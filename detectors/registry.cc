#include "dosim/detectors/registry.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "detectors/burn_rate_detector.h"
#include "detectors/ewma_detector.h"
#include "detectors/lstm_detector.h"
#include "detectors/lstm_model.h"
#include "detectors/mad_detector.h"
#include "detectors/regression_detector.h"
#include "detectors/resting_detector.h"
#include "detectors/surprise_detector.h"
#include "detectors/threshold_detector.h"
#include "dosim/detectors/detector.h"

namespace dosim {
namespace {

using Factory = std::unique_ptr<Detector> (*)(DetectorParams&, std::size_t);
using BenchDefaults = void (*)(DetectorSpec&);

struct Kind {
  const char* name;
  const char* summary;
  Factory make;
  // Adjusts the common bench default (p95 latency and error ratio of every service, for 15 s,
  // rises only) to what suits the kind.
  BenchDefaults bench;
  std::vector<std::pair<std::string, double>> nab;  // parameter defaults on NAB
  double rest = 0;  // the default of the `rest` every kind but python takes (resting_detector.h)
  bool calibrated = false;  // scores on one scale for every series (detector_scores_calibrated)
};

void rises_only(DetectorSpec& spec) { spec.direction = 1; }

void threshold_bench(DetectorSpec& spec) {
  spec.metrics = {"error_ratio"};
  spec.params = {{"above", 0.1}};
  spec.for_duration = 0;
}

void burn_rate_bench(DetectorSpec& spec) {
  spec.metrics = {"error_ratio"};
  spec.for_duration = 0;
}

void regression_bench(DetectorSpec& spec) {
  spec.family = "edge";
  spec.metrics = {"rps", "latency_p95_s"};
  spec.for_duration = 5 * kSecond;
}

// After a step, |x - mean| / sd stays above 4 for about two ticks (the variance learns the
// step too), so a `for:` longer than that would silence it.
void ewma_bench(DetectorSpec& spec) {
  spec.direction = 1;
  spec.for_duration = 0;
}

// On second-by-second telemetry a `for:` filters what `rest` filters on NAB's 5-minute rows
// (the two do not mix: a resting score does not stay above the limit); 30 s and a limit of
// 0.5 were chosen on the bundled scenarios (bench/RESULTS.md). So were a level's window of a
// day, as NAB's 288 rows are (86,400 ticks at 1 s), and the likelihood's history learning
// averages at most 3 deviations out (`clip`): a fault then moves neither much, and its alert
// lasts as long as the fault rather than the few minutes they took to take it in. (On NAB,
// where only a window's first detection counts, `clip` costs 5 points.)
void surprise_bench(DetectorSpec& spec) {
  spec.direction = 1;
  spec.params = {{"rest", 0.0}, {"threshold", 0.5}, {"window", 86400.0}, {"clip", 3.0}};
  spec.for_duration = 30 * kSecond;
}

// The model's metrics (the default model's without one); an unreadable model throws
// ModelError naming it.
void lstm_bench(DetectorSpec& spec) {
  spec.metrics =
      shared_lstm_model(spec.model.empty() ? default_lstm_model_path() : spec.model)->metrics;
}

PythonDetectorMaker g_python_maker = nullptr;  // set by dosim's Python layer

std::unique_ptr<Detector> make_python_detector(DetectorParams& params, std::size_t series) {
  params.require(g_python_maker != nullptr,
                 "kind python needs dosim's Python support (python/, built with pybind11); "
                 "this program has none");
  return g_python_maker(params, series);
}

// The common default as it is: the kind has no direction of its own.
void keep_default(DetectorSpec& /*spec*/) {}

// One entry per kind.
const Kind kKinds[] = {
    {"threshold",
     "a fixed limit on a metric (above:)",
     &make_threshold_detector,
     &threshold_bench,
     {{"above", 3.0}}},
    {"mad",
     "median absolute deviation over a sliding window (SIMD kernel)",
     &make_mad_detector,
     &rises_only,
     {}},
    {"ewma",
     "exponentially weighted mean and variance, a z-score",
     &make_ewma_detector,
     &ewma_bench,
     {}},
    {"surprise",
     "how unlikely the recent values are: level, daily phase, new extremes (NAB's best)",
     &make_surprise_detector,
     &surprise_bench,
     {},
     100,
     true},
    {"burn_rate",
     "multi-window SLO error-budget burn rate",
     &make_burn_rate_detector,
     &burn_rate_bench,
     {}},
    {"regression",
     "the Lab 7 monitor: latency predicted from load per edge",
     &make_regression_detector,
     &regression_bench,
     {}},
    {"lstm",
     "a learned forecaster (models/*.h5), CPU or CUDA",
     &make_lstm_detector,
     &lstm_bench,
     {{"adapt", 0.0}}},
    {"python",
     "a class written in Python (module:, class:), one call per tick",
     &make_python_detector,
     &keep_default,
     {}},
};

const Kind* find_kind(const std::string& name) {
  for (const Kind& kind : kKinds)
    if (name == kind.name) return &kind;
  return nullptr;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string::npos ? at : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

}  // namespace

void set_python_detector_maker(PythonDetectorMaker maker) { g_python_maker = maker; }

const std::vector<DetectorKindInfo>& detector_kind_infos() {
  static const std::vector<DetectorKindInfo> infos = [] {
    std::vector<DetectorKindInfo> list;
    for (const Kind& kind : kKinds) list.push_back({kind.name, kind.summary});
    return list;
  }();
  return infos;
}

std::vector<std::string> detector_kinds() {
  std::vector<std::string> names;
  for (const Kind& kind : kKinds) names.emplace_back(kind.name);
  return names;
}

std::string detector_kinds_text() {
  std::string text;
  for (const Kind& kind : kKinds) text += (text.empty() ? "" : ", ") + std::string(kind.name);
  return text;
}

DetectorSpec bench_detector_spec(const std::string& name, const std::string& model,
                                 const std::string& where) {
  const Kind* kind = find_kind(name);
  if (kind == nullptr)
    throw InputError(where,
                     "unknown detector kind '" + name + "'" + did_you_mean(name, detector_kinds()));
  DetectorSpec spec;
  spec.name = name;
  spec.kind = name;
  spec.metrics = {"latency_p95_s", "error_ratio"};
  spec.for_duration = 15 * kSecond;
  spec.model = model;
  kind->bench(spec);
  return spec;
}

std::vector<std::pair<std::string, double>> nab_parameter_defaults(const std::string& name) {
  const Kind* kind = find_kind(name);
  return kind == nullptr ? std::vector<std::pair<std::string, double>>{} : kind->nab;
}

bool detector_scores_calibrated(const std::string& name) {
  const Kind* kind = find_kind(name);
  return kind != nullptr && kind->calibrated;
}

double detector_rest_default(const std::string& name) {
  const Kind* kind = find_kind(name);
  return kind == nullptr ? 0.0 : kind->rest;
}

DetectorToken parse_detector_token(const std::string& token, const std::string& where,
                                   const std::vector<std::string>& other_kinds,
                                   const std::vector<std::string>& extra_keys,
                                   std::vector<Diagnostic>& problems) {
  const std::vector<std::string> parts = split(token, ':');
  DetectorToken parsed;
  parsed.kind = parts.front();
  auto problem = [&](const std::string& message) {
    problems.push_back({where, 0, 0, "'" + token + "': " + message});
  };
  std::vector<std::string> known = detector_kinds();
  known.insert(known.end(), other_kinds.begin(), other_kinds.end());
  if (std::find(known.begin(), known.end(), parsed.kind) == known.end()) {
    problem("unknown detector kind '" + parsed.kind + "'" + did_you_mean(parsed.kind, known));
    return parsed;
  }
  std::size_t first_pair = 1;
  if (parsed.kind == "python") {  // python:FILE.py:CLASS[:key=value...]
    if (parts.size() < 3 || parts[1].empty() || parts[2].empty() ||
        parts[1].find('=') != std::string::npos || parts[2].find('=') != std::string::npos) {
      problem("kind python is written python:FILE.py:CLASS[:key=value...]");
      return parsed;
    }
    parsed.module = parts[1];
    parsed.class_name = parts[2];
    first_pair = 3;
  }
  std::vector<std::string> given;  // a key given twice is a mistake, as in a scenario
  for (std::size_t i = first_pair; i < parts.size(); ++i) {
    const std::size_t equals = parts[i].find('=');
    if (equals == std::string::npos || equals == 0) {
      problem("expected key=value, got '" + parts[i] + "'");
      continue;
    }
    const std::string key = parts[i].substr(0, equals);
    const std::string value = parts[i].substr(equals + 1);
    if (std::find(given.begin(), given.end(), key) != given.end()) {
      problem("parameter '" + key + "' is given twice");
      continue;
    }
    given.push_back(key);
    if (key == "direction") {
      if (value == "up" || value == "down" || value == "both") {
        parsed.direction = value == "up" ? 1 : value == "down" ? -1 : 0;
        parsed.direction_given = true;
      } else {
        problem("'direction' must be up, down or both, got '" + value + "'");
      }
    } else if (key == "model") {
      parsed.model = value;
    } else if (key == "for") {
      // With its unit: a bare number (for=10) was read as seconds without a word, where a
      // scenario's warns (a token has no place for a warning).
      const std::optional<SimTime> duration = parse_duration(value);
      char* end = nullptr;
      std::strtod(value.c_str(), &end);
      const bool bare = !value.empty() && end == value.c_str() + value.size();
      if (duration && (!bare || *duration == 0))
        parsed.for_duration = *duration;
      else if (!value.empty() && value[0] == '-' && parse_duration(value.substr(1)))
        problem("'for' must be >= 0, got '" + value + "'");
      else
        problem("'for' must be a duration with its unit (like 15s, 1m), got '" + value + "'" +
                (bare && duration ? " (" + value + "s or " + value + "ms?)" : std::string()));
    } else if (std::find(extra_keys.begin(), extra_keys.end(), key) != extra_keys.end()) {
      parsed.extras.emplace_back(key, value);
    } else {
      char* end = nullptr;
      const double number = std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(number))
        problem("expected a number for '" + key + "', got '" + value + "'");
      else
        parsed.params.emplace_back(key, number);
    }
  }
  return parsed;
}

void apply_detector_token(const DetectorToken& token, DetectorSpec& spec) {
  for (const auto& [key, value] : token.params) {
    auto given = std::find_if(spec.params.begin(), spec.params.end(),
                              [&key = key](const auto& param) { return param.first == key; });
    if (given != spec.params.end())
      given->second = value;
    else
      spec.params.emplace_back(key, value);
  }
  if (token.direction_given) spec.direction = token.direction;
  if (!token.model.empty()) spec.model = token.model;
  if (token.for_duration) spec.for_duration = *token.for_duration;
  if (!token.module.empty()) spec.module = token.module;
  if (!token.class_name.empty()) spec.class_name = token.class_name;
}

double DetectorParams::get(const std::string& name, double fallback) {
  used_.push_back(name);
  for (const auto& [key, value] : spec_.params)
    if (key == name) return value;
  return fallback;
}

void DetectorParams::require(bool condition, const std::string& message) const {
  if (condition) return;
  // A message about one parameter ("'window' must be ...") is said at its value where the
  // scenario gave it, else at the detector.
  SourcePos at = spec_.pos;
  if (message.size() > 1 && message.front() == '\'') {
    // The name ends at the quote, or at a ':' or ' ' ("'gpu: 1' needs a device").
    const std::string name = message.substr(1, message.find_first_of("': ", 1) - 1);
    for (std::size_t p = 0; p < spec_.params.size() && p < spec_.param_value_pos.size(); ++p)
      if (spec_.params[p].first == name && spec_.param_value_pos[p].line > 0)
        at = spec_.param_value_pos[p];
  }
  throw InputError(
      {Diagnostic{file_, at.line, at.column, "detector '" + spec_.name + "': " + message}});
}

void DetectorParams::require_state(double bytes, const std::string& what) const {
  require(bytes <= kMaxDetectorStateBytes,
          what + " would need " +
              std::to_string(std::llround(std::min(bytes, 1e18) / (1024 * 1024))) +
              " MiB of state, more than the 1024 MiB a detector may take (a longer tick, "
              "a smaller value or fewer series)");
}

void DetectorParams::check_all_used() const {
  std::vector<Diagnostic> unknown;
  const SourcePos direction_at = spec_.direction_pos.line > 0 ? spec_.direction_pos : spec_.pos;
  if (spec_.direction != 0 && !direction_used_)
    unknown.push_back({file_, direction_at.line, direction_at.column,
                       "detector '" + spec_.name +
                           "': 'direction' applies to kinds mad, ewma "
                           "and surprise, not " +
                           spec_.kind});
  for (std::size_t p = 0; p < spec_.params.size(); ++p) {
    const std::string& key = spec_.params[p].first;
    if (std::find(used_.begin(), used_.end(), key) != used_.end()) continue;
    // Said at the parameter's name when the scenario gave it, else at the detector.
    const SourcePos at = p < spec_.param_pos.size() ? spec_.param_pos[p] : spec_.pos;
    unknown.push_back({file_, at.line, at.column,
                       "detector '" + spec_.name + "': unknown parameter '" + key + "' for kind " +
                           spec_.kind + did_you_mean(key, used_)});
  }
  if (!unknown.empty()) throw InputError(std::move(unknown));
}

void DetectorParams::use_all() {
  for (const auto& [key, value] : spec_.params) used_.push_back(key);
}

namespace {

std::unique_ptr<Detector> make_detector_once(const DetectorSpec& spec, std::size_t series,
                                             const std::string& file, SimTime tick,
                                             std::vector<std::string> series_names) {
  DetectorParams params(spec, file, tick, std::move(series_names));
  if (const Kind* kind = find_kind(spec.kind)) {
    const bool python = spec.kind == std::string("python");
    const bool given_rest = std::any_of(spec.params.begin(), spec.params.end(),
                                        [](const auto& p) { return p.first == "rest"; });
    const double rest = python ? 0.0 : params.get("rest", kind->rest);
    params.require(rest >= 0 && rest <= 1e9 && rest == std::floor(rest),
                   "'rest' must be a whole number of ticks in [0, 1e9]");
    // A resting score is reported as 0, so it never stays above the limit: any `for:` (even
    // one tick, which takes a second anomalous tick, as Prometheus's pending then firing)
    // would never hold, and the detector would never alert.
    params.require(rest == 0 || spec.for_duration == 0,
                   "'rest' (" + std::to_string(static_cast<long long>(rest)) +
                       (given_rest ? "" : ", the kind's default") +
                       ") and 'for: " + format_duration(spec.for_duration) +
                       "' do not mix: a resting score is 0, so the alert would never fire; "
                       "give 'rest: 0' with 'for:', or leave 'for:' out (docs/detectors.md)");
    auto detector = kind->make(params, series);
    params.check_all_used();
    if (rest > 0)
      detector =
          make_resting_detector(std::move(detector), series, static_cast<std::int64_t>(rest));
    return detector;
  }
  throw InputError({Diagnostic{
      file, spec.kind_pos.line, spec.kind_pos.column,
      "unknown detector kind '" + spec.kind + "'" + did_you_mean(spec.kind, detector_kinds())}});
}

// The parameter a problem is about ("detector 'm': 'window' must be ..."), or "".
std::string parameter_of(const Diagnostic& problem) {
  const std::size_t colon = problem.message.find("': '");
  if (colon == std::string::npos) return "";
  const std::size_t begin = colon + 4, end = problem.message.find('\'', begin);
  return end == std::string::npos ? "" : problem.message.substr(begin, end - begin);
}

// The parameter a problem says is missing ("... needs the parameter 'above'"), or "".
std::string missing_parameter_of(const Diagnostic& problem) {
  const std::string needs = "needs the parameter '";
  const std::size_t at = problem.message.find(needs);
  if (at == std::string::npos) return "";
  const std::size_t begin = at + needs.size(), end = problem.message.find('\'', begin);
  return end == std::string::npos ? "" : problem.message.substr(begin, end - begin);
}

}  // namespace

std::unique_ptr<Detector> make_detector(const DetectorSpec& spec, std::size_t series,
                                        const std::string& file, SimTime tick,
                                        std::vector<std::string> series_names) {
  // A kind stops at the first bad value it meets: every problem is said at once by making it
  // again without each parameter found bad (its default in its place), or with a stand-in
  // for a required one that is missing, until one is made or a problem names no parameter
  // (or only a stand-in). Python's class is the user's code: it runs once.
  if (spec.kind == std::string("python"))
    return make_detector_once(spec, series, file, tick, std::move(series_names));
  std::vector<Diagnostic> problems;
  DetectorSpec trial = spec;
  std::vector<std::string> stand_ins;  // required parameters the spec lacks, given 1
  while (true) {
    try {
      auto detector = make_detector_once(trial, series, file, tick, series_names);
      if (problems.empty()) return detector;
      break;
    } catch (const InputError& error) {
      const Diagnostic& first = error.diagnostics().front();
      const std::string bad = parameter_of(first);
      const std::string missing = missing_parameter_of(first);
      const auto stand_in = [&](const std::string& name) {
        return std::find(stand_ins.begin(), stand_ins.end(), name) != stand_ins.end();
      };
      if (stand_in(bad) || stand_in(missing)) break;  // about a stand-in: nothing of the spec
      problems.insert(problems.end(), error.diagnostics().begin(), error.diagnostics().end());
      const bool given = std::any_of(trial.params.begin(), trial.params.end(),
                                     [&](const auto& param) { return param.first == missing; });
      if (!missing.empty() && !given) {
        trial.params.emplace_back(missing, 1.0);
        trial.param_pos.resize(trial.params.size() - 1);
        trial.param_pos.push_back(spec.pos);
        trial.param_value_pos.resize(trial.params.size() - 1);
        trial.param_value_pos.push_back(spec.pos);
        stand_ins.push_back(missing);
        continue;
      }
      const auto at = std::find_if(trial.params.begin(), trial.params.end(),
                                   [&](const auto& param) { return param.first == bad; });
      if (bad.empty() || at == trial.params.end()) break;
      if (bad == "rest" && at->second != 0.0) {
        // Its default (100 for surprise) would clash with `for:` again, said as a second
        // problem of the one value: 0 (no rest) clashes with nothing.
        at->second = 0.0;
        continue;
      }
      const auto index = static_cast<std::size_t>(at - trial.params.begin());
      trial.params.erase(at);
      if (index < trial.param_pos.size()) trial.param_pos.erase(trial.param_pos.begin() + index);
      if (index < trial.param_value_pos.size())
        trial.param_value_pos.erase(trial.param_value_pos.begin() + index);
    }
  }
  std::stable_sort(problems.begin(), problems.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  throw InputError(std::move(problems));
}

}  // namespace dosim
