"""Load a dosim HDF5 trace into pandas (layout: docs/trace-format.md).

    import dosim
    trace = dosim.load_trace("run.h5")
    trace.service_metric("latency_p95_s")      # DataFrame: index time_s, one column per service

Metadata, topology (`services` with their `regions`, `zones` and `placement`, `edges`,
`endpoints`), the ground truth (`incidents`, `affected`, `propagation`), the change log
(`changes`), `alerts`, `notifications`, the incident rules' `incidents_detected` and a
chaos script's `experiments` and `script_log` are read at once, as DataFrames; metric
datasets and detector scores (`detector_scores`, `detector_gauges`) are read on request,
one at a time, so a long trace costs only the metrics you ask for. Times are float seconds
since the start of the run (index `time_s`); strings come back as `str`. dosim.plots draws
them.

Run as a script (`/usr/bin/python3 -m dosim.trace TRACE.h5`) to print a summary.
Needs h5py, numpy and pandas (Debian's python3-h5py, python3-numpy, python3-pandas).
"""

import os
import sys

import h5py
import numpy as np
import pandas as pd

EDGE_COLUMNS = ("src", "dst", "name")
ENDPOINT_COLUMNS = ("service", "name")
INCIDENT_COLUMNS = ("id", "name", "cause", "root_cause", "root_service", "start_ns", "end_ns",
                    "impact_start_ns", "impact_end_ns", "silent", "ongoing")
ALERT_COLUMNS = ("t_ns", "detector", "service", "metric", "severity", "incident_id",
                 "resolved_ns", "target", "notified_ns")
AFFECTED_COLUMNS = ("incident_id", "service")
CHANGE_COLUMNS = ("t_ns", "kind", "target", "from", "to")
PROPAGATION_COLUMNS = ("incident_id", "edge", "src", "dst")
NOTIFICATION_COLUMNS = ("t_ns", "group", "alerts", "receiver", "resolution")
PLACEMENT_COLUMNS = ("service", "zone", "region", "replica_share")
ROUTE_COLUMNS = ("traffic", "region", "home")
DETECTED_COLUMNS = ("rule", "start_ns", "end_ns", "severity", "peak_temperature")
EXPERIMENT_COLUMNS = ("title", "verdict", "probe", "message", "start_ns", "end_ns",
                      "failed_at_ns")
SCRIPT_LOG_COLUMNS = ("t_ns", "text")
REMEDIATION_COLUMNS = ("t_ns", "playbook", "service", "alert_ns", "action", "outcome", "acted",
                       "target", "fault")
REMEDY_COLUMNS = ("incident_id", "action", "target")
TIMELINE_COLUMNS = ("incident_id", "t_ns", "event", "detail")
RCA_COLUMNS = ("incident_id", "ranker", "delay_ns", "t_ns", "rank", "candidate", "score")
METRIC_FAMILIES = ("service", "edge", "endpoint", "zone", "route")  # /metrics/<family>/


def _text(value):
    return value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else value


def _column(dataset):
    """A 1-D dataset as a numpy array; fixed-length strings decoded to str."""
    if h5py.check_string_dtype(dataset.dtype) is not None:
        return np.array(dataset.asstr()[()], dtype=object)
    return dataset[()]


def _table(file, group, order):
    """A group of equal-length 1-D columns as a DataFrame, documented columns first
    (subgroups, such as /incidents_detected/timeline, are not columns).

    A missing group (a trace closed without its ground truth) gives an empty DataFrame."""
    if group not in file:
        return pd.DataFrame(columns=list(order))
    columns = {name for name, item in file[group].items() if isinstance(item, h5py.Dataset)}
    names = [n for n in order if n in columns] + sorted(columns - set(order))
    return pd.DataFrame({name: _column(file[group][name]) for name in names})


class Trace:
    """An open trace. Use as a context manager, or call close()."""

    def __init__(self, path):
        self.path = path
        self.file = h5py.File(path, "r")
        f = self.file
        self.meta = {key: _text(value) for key, value in f.attrs.items()}
        self.scenario_yaml = f["meta/scenario_yaml"].asstr()[()]
        self.complete = bool(self.meta.get("complete", 0))
        self.time_s = f["time_ns"][()] / 1e9
        if not self.complete:
            # A trace recovered from a killed run may hold more rows of some datasets than
            # of others (docs/trace-format.md, "What survives a crash"): the rows every one
            # has.
            self.time_s = self.time_s[:self._rows_of_all(len(self.time_s))]
        self.services = list(_column(f["services/name"]))
        # Per service, as /services/region and /services/zone: "" where none is declared,
        # the places of a service spread over several joined by ",".
        self.regions = self._names("services/region")
        self.zones = self._names("services/zone")
        self.placement = _table(f, "services/placement", PLACEMENT_COLUMNS)
        # The regional traffic sources' routes: a row per region of each (/traffic/routes).
        self.routes = _table(f, "traffic/routes", ROUTE_COLUMNS)
        self.edges = _table(f, "edges", EDGE_COLUMNS)
        endpoints = _table(f, "endpoints", ENDPOINT_COLUMNS)
        self.endpoints = [f"{self.services[s]} {name}"
                          for s, name in zip(endpoints["service"], endpoints["name"])]
        self.incidents = _table(f, "truth/incidents", INCIDENT_COLUMNS)
        self.affected = _table(f, "truth/affected", AFFECTED_COLUMNS)
        self.propagation = _table(f, "truth/propagation", PROPAGATION_COLUMNS)
        self.changes = _table(f, "events/changes", CHANGE_COLUMNS)
        self.alerts = _table(f, "alerts", ALERT_COLUMNS)
        self.notifications = _table(f, "notifications", NOTIFICATION_COLUMNS)
        # The incident rules' declared incidents (end_ns -1: still open at the end).
        self.incidents_detected = _table(f, "incidents_detected", DETECTED_COLUMNS)
        # A chaos script's verdicts and log (empty without a script).
        self.experiments = _table(f, "experiments", EXPERIMENT_COLUMNS)
        self.script_log = _table(f, "script_log", SCRIPT_LOG_COLUMNS)
        # The responders' actions, each incident's remedies and timeline, the root-cause
        # rankings (empty where the run had none).
        self.remediation = _table(f, "remediation", REMEDIATION_COLUMNS)
        self.remedies = _table(f, "truth/remedies", REMEDY_COLUMNS)
        self.timeline = _table(f, "truth/timeline", TIMELINE_COLUMNS)
        self.rca = _table(f, "rca", RCA_COLUMNS)

    def _rows_of_all(self, rows):
        """The fewest rows of the per-row datasets (metrics, detectors' scores and gauges),
        at most `rows`."""
        def visit(name, item):
            nonlocal rows
            if isinstance(item, h5py.Dataset) and item.ndim >= 1 and (
                    name.startswith("metrics/") or
                    (name.startswith("detectors/") and ("/score" in name or "/gauges/" in name))):
                rows = min(rows, item.shape[0])
        self.file.visititems(visit)
        return rows

    def _per_row(self, dataset):
        """A per-row dataset's values, the rows of time_s (all of them in a complete trace)."""
        return dataset[:len(self.time_s)]

    def _names(self, path):
        """A per-service string dataset, or "" per service where the trace has none."""
        if path in self.file:
            return [str(name) for name in _column(self.file[path])]
        return [""] * len(self.services)

    def _open_file(self):
        """The HDF5 file; a dosim.Error once close() was called (h5py's would be `Not a
        location`)."""
        if not self.file:
            from . import _dosim
            _dosim._raise_error(str(self.path), "the trace is closed: load it again "
                                                "(dosim.load_trace) to read its metrics or scores")
        return self.file

    def _no_such(self, what, name, known):
        """Raises dosim.InputError: no `what` `name` in the trace, naming those there are (and
        the closest, if one is close), as dosim.plots does."""
        import difflib
        from . import _dosim
        close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
        listed = ", ".join(map(str, known)) if known else "none"
        plural = what[:-1] + "ies" if what.endswith("y") else what + "s"
        _dosim._raise_input_error(
            "", f"no {what} {name!r} in {self.path} ({plural}: {listed})"
                + (f"; did you mean {close[0]!r}?" if close else ""))

    def _detector_names(self):
        group = self._open_file().get("detectors", {})
        return list(_column(group["name"])) if "name" in group else sorted(group)

    def detectors(self):
        """Names of the detectors whose scores the trace keeps (/detectors/<name>/score)."""
        group = self._open_file().get("detectors", {})
        return [name for name in self._detector_names() if name in group and
                "score" in group[name]]

    def _detector_group(self, name):
        """/detectors/<name>; dosim.InputError for a name the trace keeps no scores of (one
        the run fed that watched no series: said so)."""
        names = self.detectors()
        if name not in names:
            if name in self._detector_names():
                from . import _dosim
                _dosim._raise_input_error(
                    "", f"detector {name!r} watched no series in {self.path} (none of its "
                        "metrics' series exists in the scenario): the trace keeps no scores of it")
            self._no_such("detector", name, names)
        return self.file[f"detectors/{name}"]

    def detector_scores(self, name):
        """[time_s x series] DataFrame of /detectors/<name>/score; columns "label metric"."""
        group = self._detector_group(name)
        columns = [f"{label} {metric}" for label, metric in
                   zip(_column(group["label"]), _column(group["metric"]))]
        return pd.DataFrame(self._per_row(group["score"]), index=pd.Index(self.time_s, name="time_s"),
                            columns=pd.Index(columns, name="series"))

    def detector_gauges(self, name):
        """[time_s x gauge] DataFrame of /detectors/<name>/gauges/ (empty if none)."""
        group = self._detector_group(name).get("gauges", {})
        return pd.DataFrame({gauge: self._per_row(group[gauge]) for gauge in group},
                            index=pd.Index(self.time_s, name="time_s"))

    def metric_names(self, family="service"):
        """The metrics of a family (service, edge, endpoint, zone or route) the trace keeps."""
        metrics = self._open_file().get("metrics", {})
        if family not in METRIC_FAMILIES:
            self._no_such("metric family", family, list(METRIC_FAMILIES))
        return list(metrics[family]) if family in metrics else []

    def _metric(self, family, name, columns):
        names = self.metric_names(family)
        if name not in names:
            self._no_such(f"{family} metric", name, names)
        values = self._per_row(self.file[f"metrics/{family}/{name}"])
        index = pd.Index(self.time_s, name="time_s")
        return pd.DataFrame(values, index=index, columns=pd.Index(columns, name=family))

    def service_metric(self, name):
        """[time_s x service] DataFrame of /metrics/service/<name>."""
        return self._metric("service", name, self.services)

    def edge_metric(self, name):
        """[time_s x edge] DataFrame; columns are "caller->callee"."""
        return self._metric("edge", name, list(self.edges["name"]))

    def endpoint_metric(self, name):
        """[time_s x endpoint] DataFrame; columns are "service /endpoint"."""
        return self._metric("endpoint", name, self.endpoints)

    def zone_metric(self, name):
        """[time_s x place] DataFrame of /metrics/zone/<name>, a column per row of
        `placement`: "service@zone" (the region where the place has no zone)."""
        columns = [f"{self.services[int(s)]}@{zone or region}" for s, zone, region in
                   zip(self.placement["service"], self.placement["zone"], self.placement["region"])]
        return self._metric("zone", name, columns)

    def route_metric(self, name):
        """[time_s x route] DataFrame of /metrics/route/<name>, a column per row of
        `routes`: "traffic@region"."""
        columns = [f"{traffic}@{region}"
                   for traffic, region in zip(self.routes["traffic"], self.routes["region"])]
        return self._metric("route", name, columns)

    def long_frame(self, family="service", metrics=None):
        """Tidy rows (time_s, <family>, metric, value) for the given metrics (default: all)."""
        names = self.metric_names(family)  # an unknown family: dosim.InputError
        getter = {"service": self.service_metric, "edge": self.edge_metric,
                  "endpoint": self.endpoint_metric, "zone": self.zone_metric,
                  "route": self.route_metric}[family]
        if isinstance(metrics, str):  # one metric, not its letters
            metrics = [metrics]
        parts = []
        for metric in metrics or names:
            part = getter(metric).reset_index().melt(id_vars="time_s", value_name="value")
            part.insert(2, "metric", metric)
            parts.append(part)
        if not parts:
            return pd.DataFrame(columns=["time_s", family, "metric", "value"])
        return pd.concat(parts, ignore_index=True)

    def close(self):
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load_trace(path):
    """Opens the trace at `path`; raises dosim.InputError (`PATH: not a dosim trace ...`,
    `PATH: cannot read the trace: ...`) where it is no dosim trace or cannot be read."""
    from . import _dosim  # here: the module stays importable with h5py and pandas alone
    import os
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise TypeError(f"path must be a path (str or os.PathLike), got {type(path).__name__}")
    # A FIFO or a device first: h5py would wait on it for ever (the command line's words).
    if problem := _dosim._input_file_problem(str(path)):
        _dosim._raise_input_error(str(path), f"cannot read the trace: {problem}")
    try:
        with h5py.File(path, "r") as f:
            found = _text(f.attrs.get("format", b""))
            version = int(f.attrs.get("format_version", 1))
    except (OSError, ValueError, TypeError) as error:
        _dosim._raise_input_error(str(path), f"cannot read the trace: {error}")
    if found != "dosim-trace":
        _dosim._raise_input_error(str(path), f"not a dosim trace (its format is {found!r})")
    if version < 1:
        _dosim._raise_input_error(str(path), f"format_version {version} is not one dosim "
                                             "writes (from 1)")
    if version > 1:  # the trace format this package reads (docs/trace-format.md)
        _dosim._raise_input_error(str(path), f"format_version {version} is newer than this "
                                             "dosim reads (1): read it with the dosim that wrote it")
    try:
        return Trace(path)
    except (OSError, KeyError, ValueError, TypeError) as error:
        _dosim._raise_input_error(str(path), f"cannot read the trace: {error!r}")


def summary(trace):
    m = trace.meta
    span = trace.time_s[-1] if len(trace.time_s) else 0.0
    lines = [
        f"{trace.path}: {m['format']} v{m['format_version']}, scenario {m['scenario_name']!r},"
        f" seed {m['seed']}, {'complete' if trace.complete else 'INCOMPLETE'}",
        f"  {len(trace.time_s)} rows every {m['record_interval_ns'] / 1e9:g} s"
        f" (tick {m['tick_ns'] / 1e9:g} s), {span:g} s simulated",
        f"  {len(trace.services)} services, {len(trace.edges)} edges,"
        f" {len(trace.endpoints)} endpoints",
    ]
    if len(trace.time_s):
        # Over the run, as the rows aggregate ticks (docs/trace-format.md): each row by its
        # length (a run's last row may be shorter), error_ratio by requests.
        length = np.diff(trace.time_s, prepend=0.0)
        rate = trace.service_metric("rps")
        requests = rate.mul(length, axis=0).sum()
        rps = requests / length.sum()
        failed = (rate * trace.service_metric("error_ratio")).mul(length, axis=0).sum()
        errors = (failed / requests.where(requests > 0)).fillna(0.0)
        p95 = trace.service_metric("latency_p95_s").mul(length, axis=0).sum() / length.sum()
        lines.append("  over the run, per service: mean rps, error_ratio (of all requests),"
                     " mean latency_p95_s")
        for service in trace.services:
            lines.append(f"    {service:24} {rps[service]:10.1f} {errors[service]:8.4f}"
                         f" {p95[service]:9.4f}")
    lines.append(f"  {len(trace.incidents)} incidents, {len(trace.alerts)} alerts")
    for _, i in trace.incidents.iterrows():
        impact = ("silent" if i["silent"] else
                  f"impact {i['impact_start_ns'] / 1e9:g}..{i['impact_end_ns'] / 1e9:g} s")
        lines.append(f"    #{i['id']} {i['name']} ({i['cause']} on {i['root_cause']})"
                     f" {i['start_ns'] / 1e9:g}..{i['end_ns'] / 1e9:g} s, {impact}")
    return "\n".join(lines)


USAGE = "usage: python3 -m dosim.trace TRACE.h5"

if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help"):
        print(f"{USAGE}\nPrints a summary of a trace written by dosim.")
        sys.exit(0)
    if len(sys.argv) != 2:  # a usage mistake, as the command line's: exit code 2
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    from . import _dosim
    try:
        with load_trace(sys.argv[1]) as loaded:
            print(summary(loaded))
            sys.stdout.flush()
    except _dosim.Error as error:  # as the command line says it: no traceback, exit 2
        print(error, file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # `... | head`: the reader left, as for any command
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
