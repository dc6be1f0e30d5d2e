#include "detectors/incident_rule.h"

#include <algorithm>

namespace dosim {

namespace {

// The column of a stream "<column>:<metric>" (a column may hold ':', a metric does not).
std::string column_of(const std::string& stream) {
  const std::size_t colon = stream.rfind(':');
  return colon == std::string::npos ? stream : stream.substr(0, colon);
}

}  // namespace

IncidentRule::IncidentRule(IncidentRuleSpec spec, std::vector<std::string> streams)
    : spec_(std::move(spec)),
      streams_(std::move(streams)),
      counts_(streams_.size(), 0),
      accumulators_(streams_.size(), 0.0),
      stream_thresholds_(streams_.size(), spec_.stream_threshold),
      next_poll_(spec_.poll) {
  // A column's threshold first, then a stream's own over it.
  for (const bool whole_stream : {false, true})
    for (const IncidentRuleSpec::StreamThreshold& own : spec_.stream_thresholds)
      for (std::size_t i = 0; i < streams_.size(); ++i)
        if (whole_stream ? own.key == streams_[i] : own.key == column_of(streams_[i]))
          stream_thresholds_[i] = own.value;
}

std::vector<const IncidentRuleSpec::StreamThreshold*> IncidentRule::unknown_keys(
    const IncidentRuleSpec& spec, const std::vector<std::string>& streams) {
  std::vector<const IncidentRuleSpec::StreamThreshold*> unknown;
  for (const IncidentRuleSpec::StreamThreshold& own : spec.stream_thresholds)
    if (std::none_of(streams.begin(), streams.end(), [&](const std::string& stream) {
          return own.key == stream || own.key == column_of(stream);
        }))
      unknown.push_back(&own);
  return unknown;
}

void IncidentRule::observe(SimTime time, const std::vector<char>& anomalous) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += anomalous[i] ? 1 : 0;
  // A poll due within this tick happens at its end, `time`, when the tick's data is in (a
  // 2.5 s poll of 1 s ticks at 3 s: at 2.5 s it would count a tick not yet ended).
  while (time >= next_poll_) {
    poll(time);
    next_poll_ += spec_.poll;
  }
}

void IncidentRule::poll(SimTime time) {
  temperature_ = 0;
  std::size_t hot = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    double& accumulator = accumulators_[i];
    accumulator = counts_[i] > 0 ? accumulator + static_cast<double>(counts_[i])
                                 : std::max(0.0, accumulator - spec_.decay);
    counts_[i] = 0;
    temperature_ += accumulator;
    hot += accumulator > stream_thresholds_[i] ? 1 : 0;
  }
  const int severity = hot == counts_.size() && hot > 0 ? 1 : hot > 0 ? 2 : 3;
  const auto change = [&](const char* what, int now, int before) {
    incidents_.back().timeline.push_back({time, what, now, before, temperature_, accumulators_});
    ++changes_;
  };
  if (!open_ && temperature_ > spec_.threshold) {
    open_ = true;
    incidents_.push_back({spec_.name, time, -1, severity, temperature_, streams_, {}});
    change("opened", severity, 0);
    current_severity_ = severity;
  } else if (open_ && temperature_ <= spec_.threshold) {
    open_ = false;
    incidents_.back().end = time;
    change("closed", current_severity_, current_severity_);
  }
  if (open_) {
    DetectedIncident& current = incidents_.back();
    if (severity != current_severity_) {
      change(severity < current_severity_ ? "escalated" : "de-escalated", severity,
             current_severity_);
      current_severity_ = severity;
    }
    current.severity = std::min(current.severity, severity);
    current.peak_temperature = std::max(current.peak_temperature, temperature_);
  }
}

}  // namespace dosim
