// The `replay:` section: recorded series (CSV files, engine/replay.h) in place of simulated
// ones, with their labelled anomalies (timestamps as util/csv.h parses them).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "dosim/engine/frame.h"
#include "replay.h"
#include "scenario_loader_internal.h"
#include "util/csv.h"

namespace dosim::loader {

std::optional<ReplaySeries> Loader::read_rows(MapReader& r, std::string& file_path,
                                              std::string& column, SimTime& start, double& scale,
                                              SimTime& step, std::vector<SimTime>& offsets,
                                              std::vector<float>& values) {
  start = r.duration("start", Range::at_least(0)).value_or(0);
  scale = r.number("scale", Range::any()).value_or(1.0);
  column = r.text("column").value_or("");
  const std::string clock = r.text("clock").value_or("time");
  if (clock != "time" && clock != "rows")
    diags_.error(r.value_pos("clock"), "'clock' must be time or rows, got '" + clock + "'" +
                                           did_you_mean(clock, {"time", "rows"}));
  const bool by_rows = clock == "rows";
  if (r.has("column") && column.empty())
    diags_.error(r.value_pos("column"), "'column' must name a column of the file");

  // The file, relative to the scenario's folder.
  const std::optional<std::string> file = r.text("file", Need::kRequired);
  if (!file || file->empty()) {
    if (file) diags_.error(r.value_pos("file"), "'file' must name a CSV file");
    return std::nullopt;
  }
  file_path = beside_scenario(scenario_.file, *file);
  ReplaySeries series;
  try {
    series = read_replay_csv(file_path, column,
                             by_rows ? ReplayOrder::kAsWritten : ReplayOrder::kIncreasing);
  } catch (const InputError& error) {
    // A problem with the file as a whole (it cannot be read) is said at its `file:` value;
    // one inside it, at its own line.
    for (Diagnostic d : error.diagnostics()) {
      if (d.line <= 0) {
        const SourcePos at = r.value_pos("file");
        d.message = "cannot read the replayed file '" + d.file + "': " + d.message;
        d.file = scenario_.file;
        d.line = at.line;
        d.column = at.column;
      }
      diags_.add(d);
    }
    return std::nullopt;
  }
  step = series.step;
  if (by_rows &&
      time_product(static_cast<std::int64_t>(series.rows() - 1), step) > kMaxDuration - start) {
    diags_.error(r.value_pos("clock"), "the file's " + std::to_string(series.rows()) +
                                           " rows at a step of " + format_duration(step) +
                                           " span more than 100 years");
    return std::nullopt;
  }
  offsets.reserve(series.rows());
  values.reserve(series.rows());
  RowProblems out_of_range;  // at most 100 said, as the file's other bad rows
  for (std::size_t i = 0; i < series.rows(); ++i) {
    offsets.push_back(start + (by_rows ? static_cast<SimTime>(i) * step
                                       : series.times[i] - series.times.front()));
    const double value = series.values[i] * scale;
    if (!std::isfinite(static_cast<float>(value)))
      out_of_range.add({file_path, series.lines[i], series.columns[i],
                        "value " + format_number(value) + " (after 'scale') is out of range"});
    values.push_back(static_cast<float>(value));
  }
  for (const Diagnostic& d : out_of_range.take()) diags_.add(d);
  return series;
}

void Loader::read_replay(const YAML::Node& node, int index) {
  MapReader r(node, "replay",
              {"name", "file", "column", "service", "edge", "metric", "start", "scale", "clock",
               "anomalies"},
              diags_);
  if (!r.is_map()) return;
  ReplaySpec spec;
  spec.pos = r.pos();
  spec.start_pos = r.has("start") ? r.value_pos("start") : r.pos();
  spec.name = r.has("name") ? read_name(r, Need::kOptional) : "replay-" + std::to_string(index);
  const SourcePos name_pos = r.has("name") ? r.value_pos("name") : spec.pos;
  if (!spec.name.empty() && replays_.claim(spec.name, index, name_pos) >= 0)
    diags_.error(name_pos, duplicate_name("replay", spec.name, replays_.where(spec.name)));

  // Where it goes: a service's or an edge's series.
  if (r.has("service") && r.has("edge")) {
    diags_.error(r.key_pos("edge"), "a replay names either 'service' or 'edge', not both");
  } else if (r.has("edge")) {
    spec.family = "edge";
    if (auto name = r.text("edge")) {
      const int edge = edge_index(*name);
      if (edge < 0) {
        diags_.error(r.value_pos("edge"), "unknown edge '" + *name + "' (write caller->callee)" +
                                              suggest(*name, [&] { return edge_names(); }));
      } else {
        spec.dependency = edge;
        spec.service = scenario_.dependencies[spec.dependency].caller;
      }
    }
  } else if (auto name = r.text("service", Need::kRequired)) {
    spec.service = service_ref(*name, r.value_pos("service"));
  }
  if (auto metric = r.text("metric", Need::kRequired)) {
    spec.metric = *metric;
    std::vector<std::string> known;
    if (spec.family == "edge")
      known.assign(kEdgeMetricNames.begin(), kEdgeMetricNames.end());
    else
      known.assign(kServiceMetricNames.begin(), kServiceMetricNames.end());
    const auto it = std::find(known.begin(), known.end(), *metric);
    if (it == known.end())
      diags_.error(r.value_pos("metric"), "unknown " + spec.family + " metric '" + *metric + "'" +
                                              did_you_mean(*metric, known));
    else
      spec.metric_index = static_cast<int>(it - known.begin());
  }
  // A series of a known service or edge only: one that names none (a mistake said above) is
  // no other replay's series.
  if (spec.metric_index >= 0 && spec.service >= 0) {
    const auto [it, added] = replayed_series_.emplace(
        std::tuple(spec.family, spec.metric_index, spec.service, spec.dependency), spec.name);
    if (!added)
      diags_.error(r.value_pos("metric"), "replay '" + it->second + "' already replays " +
                                              spec.metric + " of this " + spec.family);
  }

  const std::optional<ReplaySeries> read = read_rows(
      r, spec.file, spec.column, spec.start, spec.scale, spec.step, spec.offsets, spec.values);
  if (!read) {
    scenario_.replay.push_back(std::move(spec));
    return;
  }
  const ReplaySeries& series = *read;

  // Labelled anomalies: [from, to] timestamps of the file, each covering the rows within.
  const std::vector<YAML::Node> anomalies = r.list("anomalies");
  constexpr std::size_t kMostAnomalies = 10000;
  if (anomalies.size() > kMostAnomalies)
    diags_.error(r.value_pos("anomalies"), "more than " + std::to_string(kMostAnomalies) +
                                               " anomalies (" + std::to_string(anomalies.size()) +
                                               ")");
  const bool sorted = std::is_sorted(series.times.begin(), series.times.end());
  for (const YAML::Node& item : anomalies) {
    if (anomalies.size() > kMostAnomalies) break;
    const SourcePos pos = pos_of(item);
    if (!item.IsSequence() || item.size() != 2 || !item[0].IsScalar() || !item[1].IsScalar()) {
      diags_.error(pos,
                   "an anomaly is [from, to]: two timestamps of the file, got " + describe(item));
      continue;
    }
    std::optional<SimTime> ends[2];
    for (int e = 0; e < 2; ++e) {
      ends[e] = parse_timestamp(item[e].Scalar());
      if (!ends[e])
        diags_.error(pos_of(item[e]), "bad timestamp '" + item[e].Scalar() + "' (expected " +
                                          std::string(kTimestampForms) + ")");
    }
    if (!ends[0] || !ends[1]) continue;
    if (*ends[0] > *ends[1]) {
      diags_.error(pos, "the anomaly ends before it starts");
      continue;
    }
    // The first and the last row whose timestamp is within [from, to].
    std::size_t a = series.rows(), b = 0;
    if (sorted) {  // the rows in [from, to] are one run: two binary searches
      const auto from = std::lower_bound(series.times.begin(), series.times.end(), *ends[0]);
      const auto to = std::upper_bound(from, series.times.end(), *ends[1]);
      if (from != to) {
        a = static_cast<std::size_t>(from - series.times.begin());
        b = static_cast<std::size_t>(to - series.times.begin()) - 1;
      }
    } else {
      for (std::size_t i = 0; i < series.rows(); ++i) {
        if (series.times[i] < *ends[0] || series.times[i] > *ends[1]) continue;
        a = std::min(a, i);
        b = i;
      }
    }
    if (a == series.rows()) {
      diags_.error(pos, "the anomaly covers no row of " + spec.file);
      continue;
    }
    const std::pair<SimTime, SimTime> window{spec.offsets[a], spec.offsets[b] + spec.step};
    if (!spec.anomalies.empty() && window.first < spec.anomalies.back().second) {
      diags_.error(pos, "anomalies must be in time order and must not overlap");
      continue;
    }
    spec.anomalies.push_back(window);
    spec.anomaly_pos.push_back(pos);
  }
  scenario_.replay.push_back(std::move(spec));
}

void Loader::warn_unreplayed() {
  if (!duration_) return;
  const SimTime end = *duration_;
  for (const ReplaySpec& replay : scenario_.replay) {
    if (replay.offsets.empty()) continue;
    if (replay.offsets.front() >= end) {
      diags_.warning(replay.start_pos,
                     "replay '" + replay.name + "' starts at " +
                         format_duration(replay.offsets.front()) + ", at or after the run's end (" +
                         format_duration(end) +
                         "): none of its rows is replayed and its anomalies are not scored");
      continue;
    }
    for (std::size_t a = 0; a < replay.anomalies.size(); ++a)
      if (replay.anomalies[a].first >= end)
        diags_.warning(replay.anomaly_pos[a],
                       "this anomaly of replay '" + replay.name + "' starts at " +
                           format_duration(replay.anomalies[a].first) +
                           " in simulated time, at or after the run's end (" +
                           format_duration(end) + "): it is no incident of the ground truth");
  }
}

void Loader::read_recorded_rate(const YAML::Node& node, TrafficSpec& traffic) {
  MapReader r(node, "replay", {"file", "column", "start", "scale", "clock", "repeat"}, diags_);
  if (!r.is_map()) return;
  RecordedRate recorded;
  recorded.repeat = r.boolean("repeat").value_or(false);
  const std::optional<ReplaySeries> series =
      read_rows(r, recorded.file, recorded.column, recorded.start, recorded.scale, recorded.step,
                recorded.offsets, recorded.values);
  if (!series) return;
  if (duration_ && !recorded.repeat && !recorded.offsets.empty() &&
      recorded.offsets.front() >= *duration_)
    diags_.warning(r.has("start") ? r.value_pos("start") : r.pos(),
                   "the recording starts at " + format_duration(recorded.offsets.front()) +
                       ", at or after the run's end (" + format_duration(*duration_) +
                       "): it is never replayed (the source sends its base_rps)");
  // A negative scale turns every rate negative: said once, at it; else each negative value of
  // the file at its field (the first 100, as the file's other bad rows).
  if (recorded.scale < 0) {
    diags_.error(r.value_pos("scale"),
                 "'scale' of a recorded rate must be >= 0, got " + format_number(recorded.scale));
  } else {
    RowProblems negative;
    for (std::size_t i = 0; i < recorded.values.size(); ++i)
      if (recorded.values[i] < 0)
        negative.add({recorded.file, series->lines[i], series->columns[i],
                      "a rate is >= 0 requests/s, got " + format_number(recorded.values[i]) +
                          (recorded.scale == 1 ? "" : " (after 'scale')")});
    for (const Diagnostic& d : negative.take()) diags_.add(d);
  }
  traffic.recorded = std::move(recorded);
}

}  // namespace dosim::loader
