// The detector kinds dosim knows, in one place. The runner makes detectors from it, and the
// front ends read it: the help texts list its kinds, `dosim bench --detectors KIND` runs a
// kind's bench default, `dosim nab run` its NAB defaults, and both take `KIND:key=value`
// tokens parsed here. Adding a kind is one entry in detectors/registry.cc (docs/architecture.md).
// Thread-safe (read-only tables).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dosim/engine/scenario.h"
#include "dosim/error.h"

namespace dosim {

struct DetectorKindInfo {
  std::string name;
  std::string summary;  // one line, for help texts and docs
};

// Every kind, in the registry's order.
const std::vector<DetectorKindInfo>& detector_kind_infos();

// "threshold, mad, ewma, ...": the kinds for a help text.
std::string detector_kinds_text();

// What `dosim bench --detectors KIND` runs for a kind, named after it (docs/scoring.md).
// `model` (a token's model=PATH) is the spec's model; for lstm the metrics are that model's,
// or its default model's without one (ModelError when it cannot be read). Throws InputError
// for an unknown kind, said at `where` (the option that asked for it).
DetectorSpec bench_detector_spec(const std::string& kind, const std::string& model = {},
                                 const std::string& where = "--detectors");

// Parameter defaults for a kind replayed over standardized NAB series, where a scenario's
// defaults do not fit (threshold: above 3 standard deviations; lstm: adapt 0).
std::vector<std::pair<std::string, double>> nab_parameter_defaults(const std::string& kind);

// Whether a kind's scores are already calibrated across series (a probability-like scale, as
// surprise's likelihood), so that `dosim nab run` maps them by squash rather than by rank.
bool detector_scores_calibrated(const std::string& kind);

// The kind's default `rest` (ticks; 0 for the kinds that do not rest by default): on NAB, a
// kind that rests by default rests a fifth of each file's probationary rows (`rest=auto`).
double detector_rest_default(const std::string& kind);

// A `KIND[:key=value[:key=value...]]` token, as `dosim bench` and `dosim nab run` take them.
struct DetectorToken {
  std::string kind;
  std::vector<std::pair<std::string, double>> params;  // numeric parameters, in order
  int direction = 0;
  bool direction_given = false;
  std::string model;                                        // model=PATH
  std::string module, class_name;                           // python:FILE.py:CLASS
  std::optional<SimTime> for_duration;                      // for=DURATION
  std::vector<std::pair<std::string, std::string>> extras;  // keys in `extra_keys`
};

// Splits and checks a token: the kind must be a registry kind or one of `other_kinds` (a
// scenario's or script's detectors, baselines), `direction` must be up, down or both,
// `model` takes a path, `for` a duration (how long a series is anomalous before an alert),
// keys in `extra_keys` take any text, every other value must be a number. Kind python is
// written python:FILE.py:CLASS[:key=value...]. Problems are appended to `problems` at `where` (such
// as "--detectors").
DetectorToken parse_detector_token(const std::string& token, const std::string& where,
                                   const std::vector<std::string>& other_kinds,
                                   const std::vector<std::string>& extra_keys,
                                   std::vector<Diagnostic>& problems);

// Applies a token's parameters, direction and model to `spec` (a given parameter replaces
// the spec's value of that name).
void apply_detector_token(const DetectorToken& token, DetectorSpec& spec);

// Kind python (a detector class written in Python) is in the registry, but what makes one
// lives in dosim's Python layer (python/), above the libraries: the `dosim` program and the
// `dosim` Python module install it at start. Without it, the kind is an InputError saying
// so. Not thread-safe: call before any run.
class Detector;
class DetectorParams;
using PythonDetectorMaker = std::unique_ptr<Detector> (*)(DetectorParams& params,
                                                          std::size_t series);
void set_python_detector_maker(PythonDetectorMaker maker);

}  // namespace dosim
