#include <stdexcept>

#include "dosim/detectors/detector.h"
#include "detectors/burn_rate_detector.h"
#include "detectors/ewma_detector.h"
#include "detectors/lstm_detector.h"
#include "detectors/mad_detector.h"
#include "detectors/regression_detector.h"
#include "detectors/threshold_detector.h"
#include "dosim/error.h"

namespace dosim {
namespace {

using Factory = std::unique_ptr<Detector> (*)(DetectorParams&, std::size_t);

struct Kind {
  const char* name;
  Factory make;
};

// One line per kind.
constexpr Kind kKinds[] = {
    {"threshold", &make_threshold_detector},
    {"mad", &make_mad_detector},
    {"ewma", &make_ewma_detector},
    {"burn_rate", &make_burn_rate_detector},
    {"regression", &make_regression_detector},
    {"lstm", &make_lstm_detector},
};

}  // namespace

double DetectorParams::get(const std::string& name, double fallback) {
  used_.push_back(name);
  for (const auto& [key, value] : spec_.params)
    if (key == name) return value;
  return fallback;
}

void DetectorParams::require(bool condition, const std::string& message) const {
  if (!condition)
    throw InputError({Diagnostic{file_, spec_.pos.line, spec_.pos.column,
                                 "detector '" + spec_.name + "': " + message}});
}

void DetectorParams::check_all_used() const {
  require(spec_.direction == 0 || direction_used_,
          "'direction' applies to kinds mad and ewma, not " + spec_.kind);
  for (const auto& [key, value] : spec_.params) {
    bool known = false;
    for (const auto& name : used_) known = known || name == key;
    const std::string close = closest_match(key, used_);
    require(known, "unknown parameter '" + key + "' for kind " + spec_.kind +
                       (close.empty() ? "" : "; did you mean '" + close + "'?"));
  }
}

std::vector<std::string> detector_kinds() {
  std::vector<std::string> names;
  for (const Kind& kind : kKinds) names.emplace_back(kind.name);
  return names;
}

std::unique_ptr<Detector> make_detector(const DetectorSpec& spec, std::size_t series,
                                        const std::string& file, SimTime tick) {
  DetectorParams params(spec, file, tick);
  for (const Kind& kind : kKinds) {
    if (spec.kind != kind.name) continue;
    auto detector = kind.make(params, series);
    params.check_all_used();
    return detector;
  }
  const std::string suggestion = closest_match(spec.kind, detector_kinds());
  throw InputError(
      {Diagnostic{file, spec.kind_pos.line, spec.kind_pos.column,
                  "unknown detector kind '" + spec.kind + "'" +
                      (suggestion.empty() ? "" : "; did you mean '" + suggestion + "'?")}});
}

}  // namespace dosim
