// The detector interface: streaming, batched across series.
//
// A Detector watches a fixed list of series (columns of one metric family of the Frame,
// chosen by a DetectorSpec) and is stepped once per tick with one value per series. It
// returns a score per series, higher = more anomalous, and is prequential: a value is
// scored before it updates the detector's state. State is owned by the detector, laid out
// across series; the only virtual call is one step() per detector per tick.
//
// Adding a kind: a class deriving from Detector in its own file, plus one entry in
// detectors/registry.cc (docs/architecture.md shows how); the kinds are listed in
// dosim/detectors/registry.h.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dosim/engine/scenario.h"

namespace dosim {

class Detector {
 public:
  virtual ~Detector() = default;
  // Scores one tick: scores[i] for values[i], then learns values[i].
  // REQUIRES: values.size() == scores.size() == the series count it was made for.
  virtual void step(std::span<const float> values, std::span<float> scores) = 0;
  // The score above which a series is anomalous.
  virtual double limit() const = 0;

  // Optional gauges a detector publishes besides its scores (the Lab 7 monitor's y, band,
  // MAE, MAPE and anomaly count). There are gauge_kinds().size() x gauge_groups() of them;
  // after each step(), read_gauges(out) writes them kind-major: out[k * groups + g]. A
  // group g is named after series g (the regression detector: the edge of its rate series).
  virtual std::vector<std::string> gauge_kinds() const { return {}; }
  virtual std::size_t gauge_groups() const { return 0; }
  virtual void read_gauges(std::span<float> /*out*/) const {}
};

// Parameters of a DetectorSpec, read with defaults; unknown names are reported.
// The most memory one detector's state may take (1 GiB): its sizes come from the scenario.
inline constexpr double kMaxDetectorStateBytes = 1024.0 * 1024 * 1024;

class DetectorParams {
 public:
  DetectorParams(const DetectorSpec& spec, std::string file, SimTime tick,
                 std::vector<std::string> series_names = {})
      : spec_(spec), file_(std::move(file)), tick_(tick), series_names_(std::move(series_names)) {}
  // The watched series' names, "<column>:<metric>" ("web:latency_p95_s",
  // "api->db:rps", "shop /pay:error_ratio"); empty when the caller did not say.
  const std::vector<std::string>& series_names() const { return series_names_; }
  // Marks every parameter as used (a kind that hands them all on, as kind python does).
  void use_all();
  // The simulation tick: detectors that think in durations convert them to ticks.
  SimTime tick() const { return tick_; }
  // The whole spec (kinds that need more than numbers: lstm's model and metrics).
  const DetectorSpec& spec() const { return spec_; }
  const std::string& file() const { return file_; }
  // The parameter's value, or `fallback` when the scenario does not set it.
  double get(const std::string& name, double fallback);
  // The spec's direction (+1 up, -1 down, 0 both); a kind that does not call this rejects
  // any direction but both.
  int direction() {
    direction_used_ = true;
    return spec_.direction;
  }
  // Throws InputError (at the detector's position) if a parameter was given that the kind
  // did not ask for, or a value was out of range.
  void require(bool condition, const std::string& message) const;
  // Throws InputError unless `bytes` of state that the parameters size (windows x series)
  // fit in kMaxDetectorStateBytes; `what` names the parameters.
  void require_state(double bytes, const std::string& what) const;
  void check_all_used() const;

 private:
  const DetectorSpec& spec_;
  std::string file_;  // the scenario, for messages
  SimTime tick_;
  std::vector<std::string> series_names_;
  std::vector<std::string> used_;
  bool direction_used_ = false;
};

// Makes a detector of spec.kind for `series` series. Throws InputError for an unknown kind
// or bad parameters, at the position in `file` (the scenario) where the detector stands.
std::unique_ptr<Detector> make_detector(const DetectorSpec& spec, std::size_t series,
                                        const std::string& file, SimTime tick = kSecond,
                                        std::vector<std::string> series_names = {});

// The kinds make_detector knows.
std::vector<std::string> detector_kinds();

// Makes detectors of kinds the registry does not know (a Lua script's, a library user's);
// returns nullptr for a kind it does not know either. Throws InputError for bad parameters.
using DetectorFactory =
    std::function<std::unique_ptr<Detector>(const DetectorSpec& spec, std::size_t series)>;

}  // namespace dosim
