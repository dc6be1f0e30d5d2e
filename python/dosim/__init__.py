"""dosim from Python: run and step scenarios, write detectors in Python, read traces.

    import dosim
    report = dosim.run("scenarios/retry-storm.yaml", out="retry.h5")
    report.scores()["all detectors"]["f1"]
    report.alerts                                  # DataFrame
    trace = dosim.load_trace("retry.h5")           # the whole trace, as pandas
    dosim.plots.timeline(trace)                    # a matplotlib Figure (dosim.plots)

    sim = dosim.Simulation("scenarios/retry-storm.yaml")
    sim.step(60)                                   # a minute of ticks
    sim.frame.services                             # [services, metrics], no copy
    sim.inject(kind="latency", target={"service": "db"}, fixedDelay="200ms", duration="5m")
    report = sim.finish()

Everything is deterministic: the same scenario, seed and calls give the same report and
the same trace bytes. Simulating releases the GIL. Errors are dosim.Error subclasses
(InputError, ScriptError, RunControlError) carrying `diagnostics`. docs/python.md has the
whole API and the interface of a Python detector (`kind: python`).
"""

import numbers as _numbers
import warnings as _warnings

import pandas as _pd

from ._dosim import (Diagnostic, Error, InputError, RunControlError, ScriptError,  # noqa: F401
                     __version__, detector_kinds, edge_metrics, endpoint_metrics,
                     service_metrics)
from . import _dosim
# `python3 -m dosim.trace` runs the module this package has just imported: runpy's warning
# about it says nothing a user can act on.
_warnings.filterwarnings("ignore", message=r"'dosim\.trace' found in sys\.modules",
                         category=RuntimeWarning)
from .trace import Trace, load_trace  # noqa: F401,E402
from .sweep import SweepResults, load_sweep  # noqa: F401 - dosim sweep's results (docs/sweep.md)
from . import plots  # noqa: F401 - matplotlib is imported only when a plot is drawn

def _path(value, what, optional=False, also=""):
    """A path argument as text: str or os.PathLike (None and "" too where `optional`);
    anything else is a TypeError, never a file named after it ("None", "5"). `also`: what
    else the argument takes, for the message ("a DataFrame or ")."""
    import os
    if optional and value is None:
        return ""
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        if isinstance(text, str):
            return text
    raise TypeError(f"{what} must be {also}a path (str or os.PathLike), got {type(value).__name__}")


def _scenario_path(value):
    """A scenario's path (as _path); YAML text given in its place is said to be text (it was
    "<the whole text>: cannot read file")."""
    import os
    text = _path(value, "path")
    if "\n" in text and not os.path.exists(text):
        _dosim._raise_input_error(
            "path", "a scenario is given by its file's path, and this is text of several "
            "lines (YAML?): write it to a file and give the file's path")
    return text


def _threads(value):
    """`threads` as `dosim run --threads` takes it: a whole number from 1 to 256."""
    if isinstance(value, bool) or not isinstance(value, _numbers.Integral):
        raise TypeError(f"threads must be a whole number, got {type(value).__name__}")
    if not 1 <= value <= 256:
        _dosim._raise_input_error("threads", f"threads must be from 1 to 256, got {value}")
    return int(value)


def _entry(call, given, keys):
    """A control's dict (a scenario entry): `given` (a mapping or None) with `keys` over it."""
    from collections.abc import Mapping
    if given is not None and not isinstance(given, Mapping):
        raise TypeError(f"{call}: takes a dict (or keywords), got {type(given).__name__} "
                        f"{given!r}")
    return dict(given or {}, **keys)


def validate(path, script="", strict=False):
    """Checks a scenario as a run would, without running it (docs/python.md): returns its
    warnings; raises InputError with every problem. `path` and `script`: str or PathLike."""
    return _dosim.validate(_path(path, "path"), _path(script or None, "script", True), strict)


INCIDENT_COLUMNS = ["id", "name", "cause", "root_cause", "start_ns", "end_ns",
                    "impact_start_ns", "impact_end_ns", "silent", "ongoing"]
ALERT_COLUMNS = ["t_ns", "detector", "service", "metric", "severity", "incident_id",
                 "resolved_ns", "target"]
DETECTED_COLUMNS = ["rule", "start_ns", "end_ns", "severity", "peak_temperature"]
EXPERIMENT_COLUMNS = ["title", "verdict", "probe", "message", "start_ns", "end_ns",
                      "failed_at_ns"]
RCA_COLUMNS = ["incident_id", "ranker", "delay_ns", "t_ns", "rank", "candidate", "score"]


class Report:
    """What a run produced: ground truth, alerts, detected incidents, experiments, scores.

    Tables are pandas DataFrames with the trace's column names (docs/trace-format.md)."""

    def __init__(self, report):
        self._report = report
        self.scenario = report.scenario
        self.seed = report.seed
        self.completed = report.completed
        self.ticks = report.ticks
        self.simulated_ns = report.simulated_ns
        self.detectors = list(report.detectors)
        self.services = list(report.services)
        self.trace_path = report.trace_path or None
        self.incidents = _pd.DataFrame(report.incident_rows, columns=INCIDENT_COLUMNS)
        self.alerts = _pd.DataFrame(report.alert_rows, columns=ALERT_COLUMNS)
        self.detected = _pd.DataFrame(report.detected_rows, columns=DETECTED_COLUMNS)
        self.experiments = _pd.DataFrame(report.experiment_rows, columns=EXPERIMENT_COLUMNS)
        self.script_log = _pd.DataFrame(report.script_log, columns=["t_ns", "text"])
        self.rca = _pd.DataFrame(report.rca_rows, columns=RCA_COLUMNS)
        self.raw_alerts = report.raw_alerts
        self.notifications = report.notifications
        self.resolutions = report.resolutions

    def experiments_passed(self):
        """Whether every experiment of the script passed (True without any)."""
        return self._report.experiments_passed()

    def scores(self):
        """The score table as {row: {metric: value}}: each detector, 'all detectors',
        'random baseline', 'null baseline', and 'rule <name>' per incident rule."""
        return self._report.scores()

    def rca_scores(self):
        """Root-cause ranking's AC@k per (ranker, delay) (docs/rca.md), as `dosim score
        --json` writes them under "rca": a list of dicts with ranker, delay_s, cases, ac1,
        ac3, ac5, avg5, ac1_path, ac3_path, ac5_path."""
        return list(self._report.rca_scores())

    def scores_frame(self):
        """The score table as a DataFrame, one row per detector or baseline."""
        return _pd.DataFrame.from_dict(self.scores(), orient="index")

    def trace(self):
        """The trace the run wrote (a Trace, to close), or None without `out`."""
        return load_trace(self.trace_path) if self.trace_path else None

    def __repr__(self):
        def count(n, word):
            return f"{n} {word}{'' if n == 1 else 's'}"
        return (f"<dosim.Report {self.scenario} seed {self.seed}: "
                f"{count(len(self.incidents), 'incident')}, {count(len(self.alerts), 'alert')}"
                f"{'' if self.completed else ', stopped'}>")


def run(path, seed=None, script=None, out=None, detectors=None, strict=False, mode=None,
        rankers=None, threads=1):
    """Runs a scenario file to its end and returns its Report.

    seed: instead of the scenario's; script: a Lua chaos script (default: the scenario's
    `script:`); out: the HDF5 trace to write (default: none); detectors: names or
    KIND[:key=value...] tokens to run instead of the scenario's (as `dosim bench`);
    strict: warnings are errors; mode: "fluid" or "requests" instead of the scenario's
    `mode:` (as `dosim run --mode`); rankers: root-cause rankers of your own, {name:
    function(case) -> candidates} (docs/rca.md), ranked after the scenario's; threads: each
    tick's work on that many threads (the same results for any count, as `dosim run
    --threads`). Raises InputError / ScriptError with every problem."""
    return Report(_dosim._run(_scenario_path(path), seed, _path(script or None, "script", True),
                              _path(out or None, "out", True), detectors, strict,
                              str(mode or ""), rankers, _threads(threads)))


def _frame_csv(frame):
    """`frame` as CSV text for dosim's reader, every cell as pandas' to_csv writes it, and
    where each cell lies: {line: (the row's label, None for the header, [(first byte
    column, last byte column, column name)])}. Each line starts with a blank, which the
    reader drops, so that a problem of a whole row (said at its column 1) is in no cell."""
    import csv
    import io
    records = csv.reader(io.StringIO(frame.to_csv(index=False)), strict=True)
    text, places, line = [], {}, 1
    for row, cells in zip([None] + list(frame.index), records):
        places[line] = (row, [])
        column = 2
        fields = []
        for name, cell in zip(frame.columns, cells):
            field = ('"' + cell.replace('"', '""') + '"'
                     if not cell or any(c in cell for c in ',"\r\n') else cell)
            parts = field.split("\n")  # more than one: a quoted cell with line breaks
            places[line][1].append((column, column + len(parts[0].encode()) - 1, name))
            for _ in parts[1:]:
                line += 1
                places[line] = (row, [])
                column = 1
            column += len(parts[-1].encode()) + 1  # and its comma
            fields.append(field)
        text.append(" " + ",".join(fields) + "\n")
        line += 1
    return "".join(text), places


def _frame_problems(error, frames):
    """The diagnostics of `error` with the places in the temporary files of DataFrames
    (frames: {path: (argument, places)}) said in the DataFrame's terms, as (file, line,
    column, message): `alerts (DataFrame) row R, column C: message`, R the row's label in
    the index. None when no problem is in such a file."""
    if not any(d.file in frames for d in error.diagnostics):
        return None
    problems = []
    for d in error.diagnostics:
        if d.file not in frames:
            problems.append((d.file, d.line, d.column, d.message))
            continue
        key, places = frames[d.file]
        row, cells = places.get(d.line, (None, []))
        where = f"{key} (DataFrame)" + ("" if row is None else f" row {row}")
        for first, last, name in cells:
            if first <= d.column <= last:
                where += ("" if row is None else ",") + f" column {name}"
                break
        problems.append((where, 0, 0, d.message))
    return problems


def score(trace, alerts=None, scores=None, threshold=None):
    """Scores against a trace's ground truth, exactly as `dosim score` does.

    trace: the path of a trace. alerts: alerts produced anywhere, as a DataFrame or the
    path of a CSV / JSON lines file (columns `time` in seconds since the run's start or
    `time_ns`; `service` or `target`; optional `detector`, `metric`, `severity`,
    `resolved` / `resolved_ns`; docs/scoring.md). scores: per-series anomaly scores
    (`time`/`time_ns`, `series`, `score`, optional `detector`), an alert wherever a
    series' score is >= threshold (default 0.5). Neither: the trace's own alerts. alerts
    excludes scores, and threshold requires scores (InputError), as on the command line.
    A problem of a DataFrame is said at its row (its index label) and column. Returns the
    score table as {row: {metric: value}}, one row per detector with its own random
    baseline."""
    import os
    import tempfile
    if threshold is not None:
        if not isinstance(threshold, _numbers.Real) or isinstance(threshold, bool):
            _dosim._raise_input_error("threshold",
                                      f"threshold must be a number, got {threshold!r}")
        threshold = float(threshold)
    trace = _path(trace, "trace")
    paths = {"alerts": alerts, "scores": scores}
    for key, value in paths.items():
        if not isinstance(value, _pd.DataFrame):
            paths[key] = _path(value, key, True, also="a DataFrame or ")
    frames = {}
    with tempfile.TemporaryDirectory() as folder:
        for key, value in paths.items():
            if isinstance(value, _pd.DataFrame):
                path = os.path.join(folder, f"{key}.csv")
                text, places = _frame_csv(value)
                with open(path, "w", encoding="utf-8", newline="") as file:
                    file.write(text)
                paths[key] = path
                frames[path] = (key, places)
        try:
            return _dosim._score(trace, paths["alerts"], paths["scores"], threshold)
        except InputError as error:
            problems = _frame_problems(error, frames)
            if problems is None:
                raise
        _dosim._raise_input_errors(problems)  # outside the except: no second traceback


class Frame:
    """The last simulated tick: zero-copy float32 views [rows, metrics] of the engine's
    buffers (they change as the simulation steps: copy what you keep)."""

    def __init__(self, sim):
        self._sim = sim
        # Before the first step there is no tick: None, not a tick 0 that looks simulated
        # (the arrays are zero; the names are there already).
        tick, time_ns = sim.frame_tick, sim.frame_time_ns  # "frame: ..." while another runs
        simulated = sim.now_ns > 0
        self.tick = tick if simulated else None
        self.time_ns = time_ns if simulated else None
        self.services = sim.services
        self.edges = sim.edges
        self.endpoints = sim.endpoints
        self.service_names = sim.service_names
        self.edge_names = sim.edge_names
        self.endpoint_names = sim.endpoint_names

    def service_frame(self):
        """The services' values as a DataFrame (a copy): one row per service."""
        return _pd.DataFrame(self.services.copy(), index=self.service_names, columns=service_metrics)

    def edge_frame(self):
        return _pd.DataFrame(self.edges.copy(), index=self.edge_names, columns=edge_metrics)

    def endpoint_frame(self):
        return _pd.DataFrame(self.endpoints.copy(), index=self.endpoint_names, columns=endpoint_metrics)


class Simulation:
    """A run advanced from Python, tick by tick, with the Lua API's run-time controls.

    Stepping changes when control returns, never what is simulated: any sequence of step()
    calls then finish() gives the report and trace of one dosim.run()."""

    def __init__(self, path, seed=None, script=None, out=None, detectors=None, strict=False,
                 mode=None, rankers=None, threads=1):
        self._sim = _dosim._Simulation(_scenario_path(path), seed,
                                       _path(script or None, "script", True),
                                       _path(out or None, "out", True), detectors, strict,
                                       str(mode or ""), rankers, _threads(threads))

    def step(self, ticks=1):
        """Simulates at most `ticks` more ticks; returns whether ticks are left."""
        return self._sim.step(ticks)

    @property
    def frame(self):
        return Frame(self._sim)

    @property
    def now_ns(self):
        """The start of the next tick to simulate."""
        return self._sim.now_ns

    @property
    def tick_ns(self):
        return self._sim.tick_ns

    @property
    def duration_ns(self):
        return self._sim.duration_ns

    def inject(self, fault=None, **keys):
        """Adds a fault, as an entry of the scenario's `faults:` (docs/scenario-format.md)
        given as a dict or keywords; `start` defaults to now, `duration` to the rest of the
        run. Returns its index (for end_fault)."""
        return self._sim.inject(_entry("inject", fault, keys))

    def end_fault(self, index):
        """Ends fault `index` now (a fault not started yet never acts)."""
        self._sim.end_fault(index)

    def rollback(self, service):
        """Rolls back the service's deployment in progress, or its last one; False when
        there is nothing to roll back."""
        return self._sim.rollback(service)

    def scale(self, service, replicas):
        """Sets the service's replica count from now on, as `kubectl scale` does."""
        self._sim.scale(service, replicas)

    def revert(self, change):
        """Takes the named change back now (a deployment rolled back, a config reverted, a
        flag turned off, a secret's stragglers restarted, a drain restored); False when
        there is nothing to take back."""
        return self._sim.revert(change)

    def set_timeout(self, caller, callee, timeout):
        """Sets the timeout of caller's calls to callee from now on: a duration ("3s") or
        seconds; 0 for none."""
        self._sim.set_timeout(caller, callee, timeout)

    def shed(self, service, percent):
        """Rejects `percent` of the service's arrivals with HTTP 429 from now on (0 stops)."""
        if not isinstance(percent, _numbers.Real) or isinstance(percent, bool):
            raise TypeError(f"shed: 'percent' must be a number, got {type(percent).__name__}")
        if not 0 <= percent <= 100:
            _dosim._raise_run_control_error(
                f"shed: 'percent' must be a number in [0, 100], got {percent!r}")
        self._sim.shed(service, float(percent) / 100)

    def playbook(self, playbook=None, **keys):
        """Adds a remediation playbook, as an entry of `remediation: playbooks:`
        (docs/remediation.md), given as a dict or keywords."""
        self._sim.playbook(_entry("playbook", playbook, keys))

    def change(self, change=None, **keys):
        """Adds a change, as an entry of the scenario's `changes:` (docs/scenario-format.md)
        given as a dict or keywords; `at` defaults to now. Returns its index."""
        return self._sim.change(_entry("change", change, keys))

    def steer(self, traffic, weights, shift="0s"):
        """Moves a regional traffic source's share per region to `weights` ({region:
        percent}) over `shift`, from now (a `traffic-shift` change)."""
        return self._sim.change({"kind": "traffic-shift", "traffic": traffic,
                                 "weights": _entry("steer", weights, {}), "shift": shift},
                                "steer")

    def drain(self, region, shift="0s", restore=None, traffic=None):
        """Drains `region` from now (of every regional source served there, or of `traffic`
        alone) over `shift`, until `restore` (a time in the run) if given (a `drain` change)."""
        keys = {"kind": "drain", "region": region, "shift": shift}
        if restore is not None:
            keys["restore"] = restore
        if traffic is not None:
            keys["traffic"] = traffic
        return self._sim.change(keys, "drain")

    def finish(self):
        """Simulates to the end and returns the Report (the trace is then complete)."""
        return Report(self._sim.finish())
