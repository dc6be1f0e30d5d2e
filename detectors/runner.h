// Feeds every tick's Frame to the scenario's detectors and turns their scores into alerts.
//
// Each detector watches the series its DetectorSpec selects (one metric family; the listed
// metrics; all services, or the listed ones). A series is anomalous on a tick when its
// score exceeds the detector's limit; an alert fires when it has been anomalous for the
// spec's `for` duration (at once when 0), once per episode, and the episode ends when the
// series is normal again. An alert names the service the series belongs to (for an edge,
// the caller, where the effect is felt).
// A scenario without `detectors:` runs default_specs(): mad on p95 latency and error ratio
// of every service, and threshold on error ratio > 0.1 and CPU > 0.8 (docs/detectors.md).
// Not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "detectors/incident_rule.h"
#include "dosim/detectors/detector.h"
#include "dosim/engine/frame.h"
#include "dosim/engine/scenario.h"

namespace dosim {

// What one detector watches, as the trace records it (/detectors/<name>/...).
struct WatchedSeries {
  std::string detector;
  double limit = 0;                 // scores above it are anomalous
  std::vector<int> service;         // per series: the service an alert names
  std::vector<std::string> metric;  // per series: the metric
  std::vector<std::string> label;   // per series: the column's name (service, caller->callee,
                                    // "service /endpoint")
  std::vector<std::string> gauges;  // gauge names, `<label>_<kind>` (`->` as `_to_`, other
                                    // characters outside [A-Za-z0-9_] as `_`), kind-major
};

// Receives every detector's scores and gauges each tick, in the order of watched_series().
class DetectorObserver {
 public:
  virtual ~DetectorObserver() = default;
  virtual void on_detector_tick(std::size_t detector, std::span<const float> scores,
                                std::span<const float> gauges) = 0;
};

class DetectorRunner : public FrameSink {
 public:
  // Throws InputError for unknown kinds or bad parameters. REQUIRES: scenario outlives it.
  DetectorRunner(const Scenario& scenario, std::vector<DetectorSpec> specs,
                 DetectorFactory custom = {});
  ~DetectorRunner() override;

  void on_frame(const Frame& frame) override;

  const std::vector<Alert>& alerts() const { return alerts_; }
  // Incidents the scenario's incident rules declared, in the order they opened.
  std::vector<DetectedIncident> detected_incidents() const;
  // Changes (openings, escalations, ...) of detected incidents so far: detected_incidents()
  // has something new only when this grew.
  std::size_t incident_changes() const;
  const std::vector<DetectorSpec>& specs() const { return specs_; }
  // The detectors that watch at least one series, with their series and gauges.
  std::vector<WatchedSeries> watched_series() const;
  // REQUIRES: observer outlives the runner's frames; nullptr stops the calls.
  void set_observer(DetectorObserver* observer) { observer_ = observer; }

  // The set a scenario without `detectors:` runs.
  static std::vector<DetectorSpec> default_specs();

 private:
  struct Watched;
  const Scenario& scenario_;
  std::vector<DetectorSpec> specs_;
  std::vector<std::unique_ptr<Watched>> watched_;
  std::vector<IncidentRule> rules_;
  std::vector<int> rule_detector_;  // per rule: index into watched_
  std::vector<Alert> alerts_;
  DetectorObserver* observer_ = nullptr;
};

}  // namespace dosim
