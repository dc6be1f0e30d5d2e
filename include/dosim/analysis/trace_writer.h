// Writes a run to an HDF5 trace (layout: docs/trace-format.md).
//
// The writer is a FrameSink. Its constructor creates a temporary file beside the target
// (`.NAME.dosim-PID-N` in the same folder), so an unwritable path fails before any
// simulation work, and marks it `complete = 0`; the target is not touched until the trace is
// closed. Frames are summarised over the scenario's record interval (see
// docs/trace-format.md for how each metric aggregates) and appended in whole chunks from a
// bounded buffer: memory does not grow with the horizon. After the header, and after every
// row that wrote a whole chunk, the file's metadata is flushed, so that a process killed
// outright leaves a temporary file that HDF5 can read (once its open-for-write flag is
// cleared: docs/trace-format.md, "What survives a crash").
//
// The trace replaces the target (a rename, atomic on one file system) when it is closed:
// by finish(), complete or interrupted, or by the destructor (an error elsewhere ended the
// run: closed incomplete). A write that fails (disk full, file size limit) or discard()
// removes the temporary file instead, and the target keeps what it had.
//
// Same scenario + seed => byte-identical file: no object time stamps, object formats pinned
// to HDF5 1.10's, fixed chunking and filters, everything (flushes included) written in a
// fixed order. The frame's dimensions must match the scenario's (services, dependencies,
// declared endpoints). Not thread-safe, and HDF5 itself is not: one writer at a time per
// process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dosim/alert.h"
#include "dosim/engine/frame.h"
#include "dosim/engine/incident.h"
#include "dosim/engine/operations.h"
#include "dosim/engine/scenario.h"
#include "dosim/experiment.h"

namespace dosim {

struct RcaRanking;

class TraceWriter : public FrameSink {
 public:
  // Throws InputError (dosim/error.h) if `path` cannot be written: its folder is missing
  // or not writable, or it names a folder, a device or a file that is not writable. A
  // symbolic link at `path` is kept; the file it names is replaced.
  TraceWriter(const std::string& path, const Scenario& scenario, std::uint64_t seed);
  // Without finish() or discard(): writes the partial last row, the script (set_script) and
  // the detectors' names (set_detectors) it was given, closes the file with `complete = 0`
  // and no /truth or /alerts, and renames it over the target. If that fails,
  // the temporary file is removed. Never throws.
  ~TraceWriter() override;

  // Closes and removes the temporary file without touching the target: for a run that
  // fails before it starts (the earlier trace at the path survives). Later calls, finish()
  // and the destructor then do nothing. Never throws.
  void discard();

  // Adds one tick. Every record_interval / tick frames make one row; time_ns is the time of
  // the row's last frame. Throws InputError if the file cannot be written (disk full), after
  // removing the temporary file.
  void on_frame(const Frame& frame) override;

  // Writes the partial last row if any, flushes, writes /truth/incidents and /alerts, sets
  // `complete` to 1 if `complete` (an interrupted run passes false), closes the file and
  // renames it over the target. Throws InputError if the file cannot be written or renamed,
  // after removing the temporary file. Later calls do nothing.
  // `alert_incident_ids[i]`: the incident alert i matched (-1 for none).
  void finish(const std::vector<IncidentRecord>& incidents, bool complete,
              const std::vector<ChangeEvent>& changes = {}, const std::vector<Alert>& alerts = {},
              const std::vector<std::int64_t>& alert_incident_ids = {});

  // Rows made so far (buffered or on disk): the trace's row count once finished.
  std::int64_t rows_written() const;

  // The names of the detectors the run fed, written by finish() to /detectors/name.
  void set_detectors(std::vector<std::string> names);

  // The names of every fault and change of the run (a script's added ones after the
  // declared ones), which the spans' fault and change columns index: finish() writes them to
  // /spans/fault_names and /spans/change_names in place of the declared ones the file
  // opened with.
  void set_span_sources(std::vector<std::string> faults, std::vector<std::string> changes);

  // Declares a detector whose scores (and gauges) the trace keeps per row, under
  // /detectors/<name>/: `score` [rows, series] is the highest score of the row's ticks,
  // each gauge (a dataset under `gauges/`) its value at the row's last tick. Per series:
  // `service` (index), `metric`, `label` (the column's name); attribute `limit`. Call before
  // the first frame. Returns the index record_detector() takes.
  std::size_t add_detector(const std::string& name, double limit, const std::vector<int>& service,
                           const std::vector<std::string>& metric,
                           const std::vector<std::string>& label,
                           const std::vector<std::string>& gauges);
  // One tick of a declared detector; call before on_frame() of the same tick.
  // REQUIRES: sizes match add_detector's series and gauges.
  void record_detector(std::size_t index, std::span<const float> scores,
                       std::span<const float> gauges);

  // What the alert pipeline delivered, written by finish() to /notifications: one row per
  // notification (time, group, alerts it carried) and the counts as attributes.
  void set_notifications(AlertRouting routing);

  // A chaos script's text, its log and its experiments' verdicts, written by finish() to
  // /meta/script_lua (attribute `path`), /script_log and /experiments.
  void set_script(std::string path, std::string text, std::vector<ScriptLogLine> log,
                  std::vector<ExperimentRecord> experiments);

  // Incidents the run's incident rules declared, written by finish() to
  // /incidents_detected (end -1 while still open at the end of the run).
  void set_detected_incidents(std::vector<DetectedIncident> rows);

  // Root-cause rankings (analysis/root_cause.h), written by finish() to /rca.
  void set_rca_rankings(std::vector<RcaRanking> rankings);

  // What the playbooks did (dosim/run.h's RemediationAction as columns), written by finish()
  // to /remediation.
  struct RemediationRow {
    SimTime time = 0, alerted = 0;
    std::string playbook, action, outcome;
    int service = -1;
    bool acted = false;
    std::string target, fault;
  };
  void set_remediation(std::vector<RemediationRow> rows);

  // Per incident, the actions that would end it (run/remedies.h), written by finish() to
  // /truth/remedies.
  struct RemedyRow {
    std::int64_t incident = 0;
    std::string action, target;
  };
  void set_remedies(std::vector<RemedyRow> rows);

  // Each scored incident's timeline (dosim/run.h's IncidentTimelineEvent), written by
  // finish() to /truth/timeline.
  struct TimelineRow {
    std::int64_t incident = 0;
    SimTime time = 0;
    std::string event, detail;
  };
  void set_incident_timelines(std::vector<TimelineRow> rows);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dosim
