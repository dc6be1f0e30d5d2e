// The story of a run in simulated-time order, the way an operator's console shows it:
// faults starting and ending, changes, alerts firing, incidents detected. `dosim run`
// prints it (capped, with a count of what was left out) unless --quiet, and --events FILE
// writes every event as JSON lines.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "detectors/incident_rule.h"
#include "dosim/alert.h"
#include "dosim/engine/operations.h"
#include "dosim/engine/scenario.h"
#include "dosim/experiment.h"
#include "dosim/run.h"

namespace dosim::cli {

struct StoryEvent {
  SimTime time = 0;
  std::string kind;    // fault-start, fault-end, change, alert, incident-open,
                       // incident-escalate, incident-de-escalate, incident-close
  std::string text;    // one line for the console
  std::string detail;  // the JSON line's fields, already encoded (an object's body)
};

std::vector<StoryEvent> run_story(const Scenario& scenario, const std::vector<ChangeEvent>& changes,
                                  const std::vector<Alert>& alerts,
                                  const std::vector<DetectedIncident>& detected, SimTime simulated,
                                  const std::vector<ScriptLogLine>& script_log = {},
                                  const std::vector<RemediationAction>& remediation = {});

// "hh:mm:ss", or "Nd hh:mm:ss" from a day on: the console's time stamp.
std::string story_stamp(SimTime t);

// Prints at most `limit` events, then how many were left out and where they all are
// (`events_path`, the --events file, or "" for none); a script's log lines (shown live on
// stderr) are not repeated.
void print_story(const std::vector<StoryEvent>& story, std::size_t limit,
                 const std::string& events_path);

}  // namespace dosim::cli
