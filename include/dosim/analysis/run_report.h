// The run report (`dosim report TRACE.h5`, `dosim run --report`, docs/report.md): one
// self-contained HTML file, readable without a network, drawn from a trace alone: the
// service map coloured by what each incident did, the incident timeline, per incident the
// key metrics around its impact window with the alerts and TTD/TTR, the score table, each
// detector's alerts against the impact windows, and the run's facts.
//
// The page's data is the trace's, downsampled where it is long: a series longer than
// `max_points` keeps, per bucket of rows, its lowest and its highest value (extremes are what
// a reader looks for), so a week of 1,000 services stays a file a browser opens in seconds.
// Same trace and options, same bytes. Throws InputError for a file that is not a readable
// dosim trace.
#pragma once

#include <cstddef>
#include <string>

namespace dosim {

struct RunReportOptions {
  // Seconds the run took on the wall clock, when the caller knows it (`dosim run
  // --report`); negative: unknown (a trace holds no wall clock: it is byte-identical).
  double wall_seconds = -1;
  // The scenario file as the run was given it, when the caller knows it (`dosim run
  // --report`): the command that reproduces the run names it; empty: the page says to save
  // the scenario file it holds.
  std::string scenario_path;
  // Points per drawn series at most (2 per bucket of rows, the bucket's extremes).
  std::size_t max_points = 800;
  // The services whose whole-run overview (rps, errors, p95) the page carries: all of them
  // up to this many, else those an incident or an alert touched.
  std::size_t overview_services = 300;
  // How many services of one incident get charts: the root cause, then the affected.
  std::size_t incident_services = 8;
};

// The report of the trace at `trace_path`, as HTML text.
std::string render_run_report(const std::string& trace_path, const RunReportOptions& options = {});

}  // namespace dosim
