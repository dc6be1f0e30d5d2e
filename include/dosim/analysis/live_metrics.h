// The live side of the export (`dosim serve`, docs/prometheus.md): a frame sink that keeps
// the latest tick's series and the latency histograms' running counts, and writes them in
// the Prometheus text exposition format (0.0.4) under the names and labels of the
// OpenMetrics export (metrics_export.h): service, edge and endpoint gauges, the
// `dosim_<family>_latency_seconds` histograms, and `dosim_simulated_seconds` (the simulated
// clock, so a scrape says where the run is).
#pragma once

#include <string>
#include <vector>

#include "dosim/engine/frame.h"
#include "dosim/engine/scenario.h"

namespace dosim {

class LiveMetrics : public FrameSink {
 public:
  // REQUIRES: `scenario` outlives this.
  explicit LiveMetrics(const Scenario& scenario);
  void on_frame(const Frame& frame) override;
  // The exposition text of the latest frame (no samples before the first).
  std::string text() const;
  std::int64_t ticks() const { return ticks_; }

 private:
  const Scenario& scenario_;
  Frame latest_;
  std::int64_t ticks_ = 0;
  // Running counts per family (service, edge, endpoint): per column, the buckets' cumulative
  // requests, then count and sum.
  struct Histogram {
    std::vector<double> below, count, sum;
  };
  Histogram service_, edge_, endpoint_;
};

}  // namespace dosim
