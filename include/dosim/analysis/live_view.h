// The live page of `dosim serve` (docs/report.md, "The live page"): a frame sink that keeps
// what the page shows while a run goes on: each service's health from its latest tick, a
// short history of its rps, error ratio and p95 for the sparklines, and the story of the run
// (faults, changes, alerts, incidents) as the server tells it. It writes the page itself
// (one self-contained HTML file, like the run report) and the JSON the page polls.
//
// Health, per service and tick: "failing" when its error ratio is 5 % or more or no replica
// is ready; "degraded" when the error ratio is 1 % or more, or its p95 is 1.5 times its
// reference or more (its p95 smoothed over about 10 s, so a service at a few requests a
// second does not flicker); "healthy" otherwise; "idle" before the first tick. The reference is a
// moving average of the service's own p95: it follows with a 5-minute time constant while
// the service is healthy and a 1-hour one while it is not (so a fault stays visible), 30 s
// over the first five simulated minutes (traffic ramping up).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dosim/engine/frame.h"
#include "dosim/engine/scenario.h"

namespace dosim {

class LiveView : public FrameSink {
 public:
  // REQUIRES: `scenario` outlives this. `history`: points each sparkline keeps.
  explicit LiveView(const Scenario& scenario, std::size_t history = 300);
  void on_frame(const Frame& frame) override;

  // Adds a line to the story (kind: "fault", "change", "alert", "incident", "remediation",
  // "control").
  void note(SimTime t, const std::string& kind, const std::string& text);

  // What the server adds to the state: its pacing.
  struct Pacing {
    bool paused = false;
    bool ended = false;
    double speed = 1;  // simulated seconds per wall second; 0: as fast as it goes
  };
  // The state the page polls, as JSON: simulated time, pacing, each service's health and
  // latest rps / error ratio / p95, the story lines from index `since` on, and the history of
  // service `selected` (none when out of range).
  std::string state_json(std::size_t since, int selected, const Pacing& pacing) const;

  // The page (HTML), with the system's map and the fault catalogue it offers.
  std::string page_html() const;

  // The health names above, per service, for the latest tick.
  const std::vector<std::string>& health() const { return health_; }
  std::size_t story_size() const { return story_.size(); }

 private:
  struct StoryLine {
    SimTime t = 0;
    std::string kind, text;
  };
  const Scenario& scenario_;
  std::size_t history_;
  SimTime sample_ = 0;      // one history point per this much simulated time
  SimTime span_start_ = 0;  // the time of the current point's first tick
  SimTime now_ = 0;
  std::int64_t ticks_ = 0;
  std::vector<float> reference_p95_, recent_p95_;
  std::vector<std::string> health_;
  std::vector<float> rps_, errors_, p95_;  // latest, per service
  // History: ring buffers of `history_` points per service, filled by `samples_`.
  std::vector<SimTime> sample_times_;
  std::vector<float> history_rps_, history_errors_, history_p95_;  // [point][service]
  std::size_t samples_ = 0;
  std::vector<StoryLine> story_;
};

}  // namespace dosim
