#include "detectors/incident_rule.h"

#include <algorithm>

namespace dosim {

IncidentRule::IncidentRule(IncidentRuleSpec spec, std::vector<std::string> streams)
    : spec_(std::move(spec)),
      streams_(std::move(streams)),
      counts_(streams_.size(), 0),
      accumulators_(streams_.size(), 0.0),
      next_poll_(spec_.poll) {}

void IncidentRule::observe(SimTime time, const std::vector<char>& anomalous) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += anomalous[i] ? 1 : 0;
  while (time >= next_poll_) {
    poll(next_poll_);
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
    hot += accumulator > spec_.stream_threshold ? 1 : 0;
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
