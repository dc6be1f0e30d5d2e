// A trace's series in the formats other tools read (docs/prometheus.md):
//  - OpenMetrics text, for `promtool tsdb create-blocks-from openmetrics` (Prometheus's
//    backfill): gauges per service, edge, endpoint and zone metric, detector scores, the
//    Lab 7 gauges under their lab names, the ground truth as an info series and a 0/1
//    impact gauge per incident, and latency histograms (cumulative _bucket, _count, _sum)
//    rebuilt from each row's p50, p95 and p99 so that histogram_quantile works.
//  - CSV in long form: one line per (row, series).
// Names: the trace's metric with `_s` spelled `_seconds`, prefixed by its family
// (dosim_service_latency_p95_seconds{service="cart"}); docs/prometheus.md lists them all.
// Timestamps: simulated time mapped to `start_unix_s` + simulated seconds, in milliseconds.
// Deterministic for a given start.
#pragma once

#include <ostream>
#include <string>

#include "dosim/analysis/trace_series.h"

namespace dosim {

// The histogram buckets' upper bounds, in seconds (Prometheus client libraries' defaults).
inline constexpr double kLatencyBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1.0,  2.5,   5.0,  10.0};

// The exported name of trace metric `metric` of `family` (service, edge, endpoint, zone).
std::string exported_metric_name(const std::string& family, const std::string& metric);

// The exported name of a detector's gauge (the Lab 7 monitor's `<caller>_to_<callee>_<kind>`):
// lab7_ and the gauge's name with every character outside [A-Za-z0-9_] as `_`.
std::string exported_gauge_name(const std::string& gauge);

void write_openmetrics(const TraceSeries& trace, double start_unix_s, std::ostream& out);

// `start_unix_s` < 0: no wall-clock column, only simulated seconds.
void write_metrics_csv(const TraceSeries& trace, double start_unix_s, std::ostream& out);

// A Grafana dashboard (JSON) over the OpenMetrics export with the same start: per service
// rps, error ratio and p95 panels; per pair a Lab 7 monitor watches, its measured y in its
// band (y_min, y_max), its anomaly count, and its MAE and MAPE; faults, operations and detected
// incidents as annotations; the run's span as its time range; a Prometheus datasource variable.
void write_grafana_dashboard(const TraceSeries& trace, double start_unix_s, std::ostream& out);

// The mean of a latency known by its p50 and p95, for a histogram's _sum where no mean was
// recorded (edges, endpoints): the log-normal's through them, p50 exp(sigma^2 / 2) with
// sigma = ln(p95 / p50) / z95.
double latency_mean_estimate(double p50, double p95);

// The share of requests at or below `x` seconds for a latency known by p50 <= p95 <= p99
// (log-latency piecewise linear in the normal score through the three, extended beyond),
// as the histograms rebuild it. 0 for x below the lowest possible value.
double latency_share_below(double p50, double p95, double p99, double x);

}  // namespace dosim
