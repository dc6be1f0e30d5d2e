// Alerts and anomaly scores from any tool, scored against a trace's ground truth exactly as
// the trace's own alerts are (`dosim score TRACE --alerts FILE`, `--scores FILE`;
// docs/scoring.md, "Scoring alerts from elsewhere").
//
// Files. CSV with a header (util/csv.h's dialect), or JSON lines (one object per line, blank
// lines skipped): JSON lines when the name ends in .jsonl, .ndjson or .json or the first
// non-blank character is `{`, CSV otherwise. Columns (CSV) and keys (JSON) are matched
// exactly; others are ignored. A JSON value may be a string, a number or null (= absent).
//
// Times. `time` and `resolved` are seconds since the run's start: a decimal number (`2711`,
// `2711.25`; exact to the nanosecond, rounded half away from zero past 9 decimals), or an
// ISO 8601 date-time (`1970-01-01T00:45:11Z`; util/csv.h's forms) read with the Unix epoch
// as simulated time 0. `time_ns` and `resolved_ns` are whole nanoseconds since the run's
// start, as the trace's /alerts/t_ns and resolved_ns hold them. The unit is the column's
// name, never the value's size: a file has `time` or `time_ns` (not both), and `resolved`
// or `resolved_ns` or neither. Every time lies in [0, the run's span]; a `time` outside it that
// would be a time of the run (past its first second) read as nanoseconds says so. `resolved`
// empty or absent (and `resolved_ns` -1, the trace's own mark) means never resolved;
// otherwise it is at or after `time`.
//
// Series. A `service` is a service name of the trace. A `target` (or a scores file's
// `series`) is a service, `caller->callee` (about the caller, as dosim's edge alerts are) or
// `service /endpoint` (about that service); it is kept as the alert's target.
//
// Errors. Every problem of a file is reported at once, in one InputError: FILE:LINE:COL at
// the field (CSV; a missing column at the header), FILE:LINE (JSON lines). At most 100 are
// listed, then a count of the rest. Unknown services come with a did-you-mean.
//
// Thread-safe (pure functions over their arguments and the file).
#pragma once

#include <string>
#include <vector>

#include "dosim/alert.h"
#include "dosim/analysis/score_table.h"
#include "dosim/analysis/trace_reader.h"

namespace dosim {

// The alerts of an alerts file, in file order. Columns: `time` or `time_ns` (required),
// `service` or `target` (one required per row; `service` decides the service when both are
// given), optional `detector` (empty or absent: "external"), `metric`, `severity`,
// `resolved` or `resolved_ns`. An alert's target is its `target`, else its `service`.
// Throws InputError (the file cannot be read, or any problem above).
std::vector<Alert> read_alerts_file(const std::string& path, const TraceForScoring& trace);

// The alerts that per-series anomaly scores make at `threshold`, with NAB's rule (a row is a
// detection when score >= threshold; analysis/nab_score.h). Columns: `time` or `time_ns`,
// `series`, `score` (a finite number), optional `detector` (default "external"). Per
// detector and series, in time order (rows at one time in file order): an alert fires at
// the first row whose score is >= threshold and resolves at the next row whose score is
// below it (never, if none follows). Alerts are ordered by time, ties by the series' first
// appearance; their metric and severity are empty, their target the series. `detectors`,
// if given, receives every detector the file names, in the order they first appear (those
// whose scores never reach the threshold too).
// Throws InputError as read_alerts_file, and for a threshold that is not finite.
std::vector<Alert> alerts_from_scores_file(const std::string& path, const TraceForScoring& trace,
                                           double threshold,
                                           std::vector<std::string>* detectors = nullptr);

// The score table of `alerts` against the trace's ground truth: per detector, those of
// `detectors` first (one that raised no alert has its row too), then the alerts' others in
// the order they first appear, its row (as `dosim score` computes it for the trace's own detectors)
// followed by "random (NAME)", the random detector at that detector's alert rate
// (score_with_baselines, the trace's seed and services, as `dosim bench` does); then
// "all detectors", "random baseline" and "null baseline" as score_table() makes them. No
// incident rule rows. Fed trace.alerts, every row named after a detector equals the row of
// `dosim score` (score_table) for it.
ScoreTable score_external_alerts(const TraceForScoring& trace, const std::vector<Alert>& alerts,
                                 const std::vector<std::string>& detectors = {});

}  // namespace dosim
