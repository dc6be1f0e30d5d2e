"""Plots of dosim traces and bench results, for notebooks (matplotlib).

    import dosim                                       # then, one per notebook cell:
    trace = dosim.load_trace("run.h5")
    dosim.plots.service_map(trace)                     # dependencies, incidents coloured
    dosim.plots.timeline(trace, start="1h", end="2h")  # faults, changes, alerts per service
    dosim.plots.incident_metrics(trace, 0)             # metrics around incident 0's impact
    dosim.plots.detector_alerts(trace)                 # alerts per detector vs the truth
    dosim.plots.bench_comparison("bench.json")         # `dosim bench --out bench.json`

Every function returns a matplotlib Figure and never calls `plt.show()`: a notebook cell
that ends with one shows it inline (once); elsewhere, `fig.savefig("map.png")`. The
figures are not left open in pyplot (no pile-up in loops, no second copy shown at the end
of the cell). A trace argument is a `dosim.Trace` or the path of a trace (opened and closed
here). Times are simulated time since the start of the run, drawn in hours, minutes or
seconds as suits the span shown (the axis label says which).

Colours follow the ground truth (`/truth`, docs/trace-format.md): a root cause is red
(#d62728), an affected service orange (#ff7f0e), an untouched one grey (#9e9e9e).

Needs matplotlib (Debian's python3-matplotlib), imported only when a plot is drawn, so
`import dosim` does not need it. Series longer than MAX_POINTS are drawn downsampled with
`downsample` (min and max per bucket: spikes stay visible).
"""

import contextlib
import json
import math
import os

import numpy as np
import pandas as pd

from .trace import Trace, load_trace

RED = "#d62728"
ORANGE = "#ff7f0e"
GREY = "#9e9e9e"
EDGE_GREY = "#b8b8b8"
UNTOUCHED, AFFECTED, ROOT = 0, 1, 2
STATE_COLOURS = {ROOT: RED, AFFECTED: ORANGE, UNTOUCHED: GREY}
STATE_NAMES = {ROOT: "root cause", AFFECTED: "affected", UNTOUCHED: "untouched"}
# Incident rules' severities (/incidents_detected/severity): Sev1 darkest.
SEVERITY_COLOURS = {1: "#67000d", 2: "#cb181d", 3: "#fc9272"}
MATCHED_COLOUR = "#2ca02c"
FALSE_ALARM_COLOUR = RED
CHANGE_COLOUR = "#1f1f1f"
# Detector colours: tab10 without the orange, red and grey that mean truth here.
DETECTOR_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
                    "#17becf", "#393b79", "#637939", "#843c39")
DEFAULT_METRICS = ("rps", "error_ratio", "latency_p95_s", "cpu_ratio", "memory_ratio",
                   "ready_replicas")
MAX_POINTS = 2000          # longer series are drawn downsampled
COLLAPSE_ABOVE = 150       # service_map collapses (tier, band) cells above this many services


# --- shared plumbing --------------------------------------------------------------------

def _pyplot():
    import matplotlib.pyplot as plt  # lazily: `import dosim` must not need matplotlib
    return plt


def _new_figure(width, height, layout=None):
    """A Figure that pyplot does not keep: shown once when a notebook cell returns it.

    Made through pyplot so that the notebook's inline backend is set up (it registers how
    a Figure displays), then closed so that pyplot forgets it."""
    plt = _pyplot()
    fig = plt.figure(figsize=(width, height), layout=layout)
    plt.close(fig)
    return fig


@contextlib.contextmanager
def _opened(trace):
    """The Trace itself, or the trace at a path, opened for the block and closed after."""
    if isinstance(trace, Trace):
        yield trace
    else:
        loaded = load_trace(os.fspath(trace))
        try:
            yield loaded
        finally:
            loaded.close()


def _bad_argument(message, file=""):
    """Raises dosim.InputError: a bad argument or file is a dosim.Error, as every error of
    the package (docs/python.md)."""
    from . import _dosim
    _dosim._raise_input_error(file, message)


def _seconds(value, name):
    """A time in seconds: a number (seconds) or a duration string ("90m", "1h30m", "2d")."""
    if value is None:
        return None
    try:
        seconds = (pd.Timedelta(value.strip()).total_seconds() if isinstance(value, str)
                   else float(value))
        if math.isfinite(seconds):  # pandas reads "nan" as a Timedelta of NaT
            return seconds
    except (TypeError, ValueError):
        pass
    _bad_argument(f"{name}={value!r}: not a duration (try '90m', '1h30m' or seconds as a "
                  "number)")


def _window(t, start, end, who):
    """(t0, t1) in seconds: `start` (default 0) to `end` (default the run's end), refused
    with InputError unless t0 < t1."""
    t0 = _seconds(start, "start") or 0.0
    t1 = _seconds(end, "end")
    t1 = _run_end_s(t) if t1 is None else t1
    if t1 <= t0:
        _bad_argument(f"{who}: end ({t1:g} s) must be after start ({t0:g} s)")
    return t0, t1


def time_unit(span_s):
    """(name, seconds) of the unit that suits a time span: h above 3 hours, min above 3
    minutes, else s."""
    if span_s > 3 * 3600:
        return "h", 3600.0
    if span_s > 180:
        return "min", 60.0
    return "s", 1.0


def _run_end_s(trace):
    """The end of the run in seconds: the last row's time (0 for an empty trace)."""
    return float(trace.time_s[-1]) if len(trace.time_s) else 0.0


def _format_duration(seconds):
    """'45 s', '2 min 30 s', '1 h 05 min', '3 d 4 h' (rounded to the second)."""
    seconds = int(round(seconds))
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} d {hours} h"
    elif hours:
        text = f"{hours} h {minutes:02d} min"
    elif minutes:
        text = f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"
    else:
        text = f"{secs} s"
    return sign + text


def downsample(x, y, max_points=MAX_POINTS):
    """Thins a series for drawing: (x, y) unchanged when it has at most `max_points`
    points, else, over `max_points // 2` equal buckets of consecutive points, each bucket's
    smallest and largest value (NaN ignored where the bucket has numbers), in time order.
    Extremes therefore survive: the global min and max are always kept."""
    x = np.asarray(x)
    y = np.asarray(y)
    n = len(y)
    if n <= max_points:
        return x, y
    buckets = max(1, max_points // 2)
    bucket = (np.arange(n, dtype=np.int64) * buckets) // n
    values = y.astype(np.float64)
    low = np.where(np.isnan(values), np.inf, values)
    high = np.where(np.isnan(values), -np.inf, values)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    # Sort each bucket by value (lexsort: last key first); the first of each is its min.
    by_low = np.lexsort((low, bucket))[starts]
    by_high = np.lexsort((-high, bucket))[starts]
    keep = np.unique(np.concatenate([by_low, by_high]))
    return x[keep], y[keep]


def _incident_row(trace, incident):
    """The /truth/incidents row of an incident given by id (int) or name (str)."""
    incidents = trace.incidents
    if isinstance(incident, str) and incident in set(incidents["name"]):
        return incidents[incidents["name"] == incident].iloc[0]
    if isinstance(incident, (int, np.integer)) and not isinstance(incident, bool):
        rows = incidents[incidents["id"] == int(incident)]
        if len(rows):
            return rows.iloc[0]
    known = ", ".join(f"{i} {n!r}" for i, n in zip(incidents["id"], incidents["name"]))
    _bad_argument(f"no incident {incident!r} in {trace.path} (incidents: {known or 'none'})")


def _placed_in(trace, kind, name):
    """Indices of the services with a place in zone or region `name`."""
    placement = trace.placement
    if len(placement):
        return {int(s) for s, place in zip(placement["service"], placement[kind])
                if place == name}
    places = trace.zones if kind == "zone" else trace.regions
    return {s for s, joined in enumerate(places) if name in joined.split(",")}


def root_services(trace, incident):
    """Indices of the services at the root of an incident (an id, a name or a row of
    `trace.incidents`): its `root_service`; for a zone or region outage, the services placed
    there; for a change, every service its defect reaches (`root_cause` lists them). Empty
    for a partition (the cause is between places, not at a service)."""
    with _opened(trace) as t:
        return _root_services(t, incident)


def _root_services(trace, incident):
    row = incident if isinstance(incident, pd.Series) else _incident_row(trace, incident)
    roots = set()
    if int(row.get("root_service", -1)) >= 0:
        roots.add(int(row["root_service"]))
    index = {name: i for i, name in enumerate(trace.services)}
    for part in str(row["root_cause"]).split(","):
        part = part.strip()
        if part.startswith("zone "):
            roots |= _placed_in(trace, "zone", part[len("zone "):])
        elif part.startswith("region "):
            roots |= _placed_in(trace, "region", part[len("region "):])
        elif part in index:
            roots.add(index[part])
    return sorted(roots)


def affected_services(trace, incident_id):
    """Indices of the services an incident (an id or a name) affected (/truth/affected)."""
    with _opened(trace) as t:
        incident_id = int(_incident_row(t, incident_id)["id"])
        affected = t.affected
        return sorted({int(s) for s in affected["service"][affected["incident_id"] == incident_id]})


def service_states(trace, incident=None):
    """Per service, ROOT (2), AFFECTED (1) or UNTOUCHED (0): for one incident (id or name),
    or, without `incident`, over every incident (the worst state wins)."""
    with _opened(trace) as t:
        states = np.zeros(len(t.services), dtype=int)
        rows = ([_incident_row(t, incident)] if incident is not None
                else [row for _, row in t.incidents.iterrows()])
        for row in rows:
            for s in affected_services(t, int(row["id"])):
                states[s] = max(states[s], AFFECTED)
            for s in _root_services(t, row):
                states[s] = ROOT
        return states


def matched_alerts(trace, incident):
    """The alerts (rows of `trace.alerts`) that match an incident as docs/scoring.md
    matches them (tolerance 0): an alert on an affected service within the impact window,
    ends included, which is also every alert whose `incident_id` is the incident's (the
    trace keeps the lowest id of the incidents an alert matched). Empty for a silent one."""
    with _opened(trace) as opened:
        row = incident if isinstance(incident, pd.Series) else _incident_row(opened, incident)
        alerts = opened.alerts
        if bool(row["silent"]) or not len(alerts):
            return alerts.iloc[0:0]
        affected = {opened.services[s] for s in affected_services(opened, int(row["id"]))}
        t = alerts["t_ns"]
        in_window = ((t >= row["impact_start_ns"]) & (t <= row["impact_end_ns"])
                     & alerts["service"].isin(affected))
        return alerts[in_window | (alerts["incident_id"] == int(row["id"]))]


def _detector_colours(names):
    return {name: DETECTOR_COLOURS[i % len(DETECTOR_COLOURS)] for i, name in enumerate(names)}


def _alert_detectors(trace):
    """Detectors to show: those whose scores the trace keeps, then any other that alerted."""
    names = list(trace.detectors())
    for name in trace.alerts["detector"] if len(trace.alerts) else []:
        if name not in names:
            names.append(name)
    return names


# --- service_map ------------------------------------------------------------------------

def tiers(n, edges):
    """Tier per service: the longest call path from an entry service (one nobody calls),
    so every caller sits left of its callees. `edges`: (caller, callee) index pairs.
    Services on a call cycle that no entry reaches get one more than their placed callers."""
    import numbers
    edges = list(edges)
    for edge in edges:  # an index past n was a bare IndexError
        pair = tuple(edge) if hasattr(edge, "__len__") else ()
        if len(pair) != 2 or not all(isinstance(i, numbers.Integral) and not isinstance(i, bool)
                                     and 0 <= i < n for i in pair):
            _bad_argument(f"tiers: an edge is a (caller, callee) pair of service indices in "
                          f"[0, {n}), got {edge!r}")
    callers = [set() for _ in range(n)]
    callees = [set() for _ in range(n)]
    for src, dst in edges:
        if src != dst:
            callers[dst].add(src)
            callees[src].add(dst)
    tier = [0] * n
    waiting = [len(c) for c in callers]
    ready = [s for s in range(n) if waiting[s] == 0]
    done = [False] * n
    while True:
        while ready:
            s = ready.pop()
            done[s] = True
            for callee in callees[s]:
                tier[callee] = max(tier[callee], tier[s] + 1)
                waiting[callee] -= 1
                if waiting[callee] == 0:
                    ready.append(callee)
        left = [s for s in range(n) if not done[s]]
        if not left:
            return tier
        # A cycle: place its first service after its placed callers, then carry on.
        s = left[0]
        tier[s] = max([tier[c] + 1 for c in callers[s] if done[c]], default=tier[s])
        waiting[s] = 0
        ready.append(s)
        for callee in callees[s]:
            if not done[callee]:
                tier[callee] = max(tier[callee], tier[s] + 1)


def _band_label(region, zone):
    if region and zone:
        return f"{region} / {zone}"
    return region or zone or "(no region)"


def _bands(trace):
    """Per service its band label, and the labels in drawing order (top first): plain
    places sorted by region then zone, services spread over several places last."""
    labels = [_band_label(r, z) for r, z in zip(trace.regions, trace.zones)]
    order = {}
    for label, region, zone in zip(labels, trace.regions, trace.zones):
        order.setdefault(label, ("," in region or "," in zone, region == "", region, zone))
    return labels, sorted(order, key=order.get)


def service_map(trace, incident=None, ax=None, collapse=None):
    """The dependency graph: one node per service, labelled with its name, arrows caller ->
    callee; tiers as columns (tier = longest call path from an entry service, one nobody
    calls: callers left of callees), services in horizontal bands by region / zone.

    Colours: a root cause red (a silent incident's too: its fault was there), an affected
    service orange, an untouched one grey; the dependencies the effect travelled along
    (/truth/propagation; effects flow callee -> caller) drawn thick and red. With
    `incident` (an id or a name) only that incident is coloured, else every incident (the
    worst state wins).

    Above COLLAPSE_ABOVE (150) services (or with collapse=True) each (tier, band) cell is
    one node labelled with its count of services and coloured by its worst member; an arrow
    joins two cells when any of their services call each other.

    Artists carry gids for tools and tests: a node's text is "service:<name>" (collapsed:
    "cell:<tier>:<band>"), an arrow "edge:<caller>-><callee>" (collapsed:
    "edge:<cell>-><cell>"), highlighted or not. Draws into `ax` when given; returns the
    Figure."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    with _opened(trace) as t:
        n = len(t.services)
        edge_pairs = list(zip((int(s) for s in t.edges["src"]), (int(d) for d in t.edges["dst"])))
        states = service_states(t, incident)
        propagation = t.propagation
        if incident is not None:
            row = _incident_row(t, incident)
            propagation = propagation[propagation["incident_id"] == int(row["id"])]
            title = (f"incident #{int(row['id'])} {row['name']}: {row['cause']} on "
                     f"{row['root_cause']}{' (silent)' if row['silent'] else ''}")
        else:
            title = f"{len(t.incidents)} incident{'s' if len(t.incidents) != 1 else ''}"
        hot_edges = {int(e) for e in propagation["edge"]}
        tier = tiers(n, edge_pairs)
        band_of, band_order = _bands(t)
        name = t.meta.get("scenario_name", os.path.basename(str(t.path)))
        collapse = n > COLLAPSE_ABOVE if collapse is None else collapse
        if collapse:
            nodes = _collapsed_nodes(t.services, tier, band_of, band_order, states)
        else:
            nodes = _service_nodes(t.services, tier, band_of, band_order, states, edge_pairs)
        node_of, labels, gids, xs, ys, node_states, band_rows = nodes
        arrows = {}
        for e, (src, dst) in enumerate(edge_pairs):
            a, b = node_of[src], node_of[dst]
            if a == b:
                continue  # a service calling itself, or a call within one collapsed cell
            key = (a, b)
            arrows[key] = arrows.get(key, False) or e in hot_edges

    columns = max(tier, default=0) + 1
    longest = max((len(label) for label in labels), default=8)
    column_in = max(1.7, 0.075 * longest + 0.6)
    rows = sum(band_rows.values())
    if ax is None:
        fig = _new_figure(max(6.0, columns * column_in + 1.8),
                          max(3.0, 0.5 * rows + 0.35 * len(band_rows) + 1.6),
                          layout="constrained")
        ax = fig.add_subplot()
    fig = ax.figure

    # Bands: shaded alternately, labelled on the left.
    top = 0.0
    centres, band_names = [], []
    for i, band in enumerate(band_order):
        height = band_rows[band]
        ax.axhspan(-(top + height) + 0.5 - 0.25, -top + 0.5 + 0.25,
                   color="#f2f2f2" if i % 2 == 0 else "#fafafa", zorder=0, lw=0)
        centres.append(-top - (height - 1) / 2)
        band_names.append(band)
        top += height + 0.5
    fontsize = 8 if len(labels) <= 60 else 6.5
    texts = []
    for label, gid, x, y, state in zip(labels, gids, xs, ys, node_states):
        colour = STATE_COLOURS[state]
        text = ax.text(x, y, label, ha="center", va="center", fontsize=fontsize, zorder=4,
                       color="white" if state == ROOT else "black",
                       bbox=dict(boxstyle="round,pad=0.3", fc=colour, ec="#555555",
                                 lw=0.6))
        text.set_gid(gid)
        texts.append(text)
    _draw_arrows(ax, arrows, texts, gids, xs, ys, fontsize)

    ax.set_xlim(-0.6, columns - 0.4)
    ax.set_ylim(-top + 0.5 - 0.25, 0.75)
    ax.set_xticks(range(columns),
                  ["tier 0\n(entry)"] + [f"tier {c}" for c in range(1, columns)])
    ax.xaxis.tick_top()
    ax.tick_params(length=0, labelsize=8)
    ax.set_yticks(centres, band_names if len(band_order) > 1 or band_order[0] != "(no region)"
                  else [""] * len(centres))
    for spine in ax.spines.values():
        spine.set_visible(False)
    counts = np.bincount(states, minlength=3)
    ax.set_title(f"{name}: {n} services, {len(edge_pairs)} dependencies; {title}\n"
                 f"{counts[ROOT]} root cause, {counts[AFFECTED]} affected, "
                 f"{counts[UNTOUCHED]} untouched"
                 + (f" (collapsed into {len(labels)} cells of tier x band)" if collapse else ""),
                 fontsize=10, pad=28)
    handles = [Patch(fc=STATE_COLOURS[s], ec="#555555", label=STATE_NAMES[s])
               for s in (ROOT, AFFECTED, UNTOUCHED)]
    handles += [Line2D([], [], color=RED, lw=2.2, label="effect spread (callee -> caller)"),
                Line2D([], [], color=EDGE_GREY, lw=1, label="call (caller -> callee)")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=5,
              frameon=False, fontsize=8)
    return fig


def _service_nodes(services, tier, band_of, band_order, states, edge_pairs):
    """One node per service. Within a (tier, band) cell services are stacked and ordered by
    the mean height of their callers (fewer crossings), cells centred in their band."""
    n = len(services)
    cells = {}
    for s in range(n):
        cells.setdefault((tier[s], band_of[s]), []).append(s)
    band_rows = {b: max(len(m) for (t, band), m in cells.items() if band == b)
                 for b in band_order}
    callers = [[] for _ in range(n)]
    for src, dst in edge_pairs:
        if src != dst:
            callers[dst].append(src)
    band_top, top = {}, 0.0
    for band in band_order:
        band_top[band] = top
        top += band_rows[band] + 0.5
    y = [0.0] * n
    for (t, band), members in sorted(cells.items(), key=lambda item: item[0][0]):
        def height(s):
            placed = [y[c] for c in callers[s] if tier[c] < t]
            return -np.mean(placed) if placed else 0.0
        if t > 0:
            members.sort(key=lambda s: (height(s), s))
        offset = band_top[band] + (band_rows[band] - len(members)) / 2
        for k, s in enumerate(members):
            y[s] = -(offset + k)
    labels = list(services)
    gids = [f"service:{name}" for name in services]
    return (list(range(n)), labels, gids, list(tier), y, list(states), band_rows)


def _collapsed_nodes(services, tier, band_of, band_order, states):
    """One node per (tier, band) cell, labelled with its count, coloured by its worst member."""
    cells = {}
    for s in range(len(services)):
        cells.setdefault((tier[s], band_of[s]), []).append(s)
    keys = sorted(cells, key=lambda k: (band_order.index(k[1]), k[0]))
    index = {key: i for i, key in enumerate(keys)}
    node_of = [index[(tier[s], band_of[s])] for s in range(len(services))]
    row_of = {band: i for i, band in enumerate(band_order)}
    labels, gids, xs, ys, worst = [], [], [], [], []
    for t, band in keys:
        members = cells[(t, band)]
        labels.append(services[members[0]] if len(members) == 1
                      else f"{len(members)} services")
        gids.append(f"cell:{t}:{band}")
        xs.append(t)
        ys.append(-1.5 * row_of[band])
        worst.append(int(max(states[s] for s in members)))
    band_rows = {band: 1 for band in band_order}
    # The bands of collapsed cells are one row each, 1.5 apart (as 1 row + 0.5 gap).
    return node_of, labels, gids, xs, ys, worst, band_rows


def _draw_arrows(ax, arrows, texts, gids, xs, ys, fontsize):
    """Arrows from the right of the caller's box to the left of the callee's (a call back
    to the same or an earlier column: from below the caller to above the callee, curved)."""
    from matplotlib.text import OffsetFrom
    gap = 0.3 * fontsize + 1.5  # the box's padding, in points, and a little air
    for (a, b), hot in sorted(arrows.items(), key=lambda item: item[1]):
        forward = xs[b] > xs[a]
        if forward:
            start, end = OffsetFrom(texts[a], (1, 0.5)), OffsetFrom(texts[b], (0, 0.5))
            start_xy, end_xy = (gap, 0), (-gap, 0)
            span = xs[b] - xs[a]
            rad = 0.0 if span <= 1 or abs(ys[b] - ys[a]) > 0.5 else -0.25
        else:
            start, end = OffsetFrom(texts[a], (0.5, 0)), OffsetFrom(texts[b], (0.5, 1))
            start_xy, end_xy = (0, -gap), (0, gap)
            rad = 0.35
        arrow = ax.annotate(
            "", xy=end_xy, xycoords=end, xytext=start_xy, textcoords=start,
            arrowprops=dict(arrowstyle="-|>", color=RED if hot else EDGE_GREY,
                            lw=2.2 if hot else 0.9, shrinkA=0, shrinkB=0,
                            mutation_scale=12 if hot else 9,
                            connectionstyle=f"arc3,rad={rad}"),
            zorder=3 if hot else 2)
        arrow.set_gid(f"edge:{gids[a].split(':', 1)[1]}->{gids[b].split(':', 1)[1]}")


# --- timeline ---------------------------------------------------------------------------

def timeline(trace, start=None, end=None, ax=None):
    """What happened, when: one lane per service that had anything (a fault, an impact, a
    change, an alert; the title counts the untouched ones), on simulated time.

    - faults: a red bar from the cause's start to its end on each root service's lane (a
      cause at no service, a partition, gets a lane of its own; a silent one is grey), and
      its impact window shaded orange on the root's and each affected service's lane;
    - changes (/events/changes): black diamonds on their targets' lanes (a target that is
      no service, a flag, secret, region or traffic source, gets a lane of its own);
    - alerts: ticks on their service's lane, one colour per detector (legend);
    - a lane of notifications (/notifications) and a lane of the incident rules' detected
      incidents (/incidents_detected), bars coloured by severity, Sev1 darkest.

    start, end: the window to show (seconds, or durations such as "90m"); lanes and the
    untouched count then cover that window only. Draws into `ax` when given. Artists carry
    gids: "fault:<id>:<lane>", "impact:<id>:<lane>", "changes", "alerts:<detector>",
    "notifications", "detected:<row>". Returns the Figure."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle
    with _opened(trace) as t:
        run_end = _run_end_s(t)
        t0, t1 = _window(t, start, end, "timeline")
        unit, scale = time_unit(t1 - t0)
        services = list(t.services)
        service_index = {s: i for i, s in enumerate(services)}
        states = service_states(t)

        def visible(a, b):
            return b >= t0 and a <= t1

        bars, spans = [], []
        for _, row in t.incidents.iterrows():
            a, b = row["start_ns"] / 1e9, row["end_ns"] / 1e9
            roots = [services[s] for s in root_services(t, row)] or [str(row["root_cause"])]
            silent = bool(row["silent"])
            if visible(a, b):
                for lane in roots:
                    bars.append((lane, a, b, int(row["id"]),
                                 f"{row['name']} ({row['cause']} on {row['root_cause']})",
                                 silent))
            if not silent:
                ia, ib = row["impact_start_ns"] / 1e9, row["impact_end_ns"] / 1e9
                if visible(ia, ib):
                    hit = roots + [services[s] for s in affected_services(t, int(row["id"]))
                                   if services[s] not in roots]
                    for lane in hit:
                        spans.append((lane, ia, ib, int(row["id"])))
        changes = []
        for _, row in t.changes.iterrows():
            at = row["t_ns"] / 1e9
            if not visible(at, at):
                continue
            for target in str(row["target"]).split(","):
                changes.append((target.strip() or "(no target)", at, str(row["kind"]),
                                str(row.get("to", ""))))
        alerts = t.alerts
        if len(alerts):
            at = alerts["t_ns"] / 1e9
            alerts = alerts[(at >= t0) & (at <= t1)]
        detectors = _alert_detectors(t)
        notifications = t.notifications["t_ns"].to_numpy() / 1e9 if len(t.notifications) else []
        notifications = [x for x in notifications if t0 <= x <= t1]
        detected = []
        for i, row in t.incidents_detected.iterrows():
            a = row["start_ns"] / 1e9
            b = run_end if row["end_ns"] < 0 else row["end_ns"] / 1e9
            if visible(a, b):
                detected.append((i, a, b, int(row["severity"]), str(row["rule"])))
        name = t.meta.get("scenario_name", os.path.basename(str(t.path)))

    used = ({lane for lane, *_ in bars} | {lane for lane, *_ in spans}
            | {lane for lane, *_ in changes} | set(alerts["service"] if len(alerts) else []))
    lane_names = ([s for s in services if s in used]
                  + sorted(lane for lane in used if lane not in service_index))
    untouched = len(services) - sum(1 for s in services if s in used)
    summary_lanes = ["notifications", "incidents detected"]
    y = {lane: i for i, lane in enumerate(lane_names + summary_lanes)}

    if ax is None:
        fig = _new_figure(12, 1.4 + 0.4 * len(y), layout="constrained")
        ax = fig.add_subplot()
    fig = ax.figure

    for lane, a, b, incident_id in spans:
        patch = Rectangle((a / scale, y[lane] - 0.42), (b - a) / scale, 0.84, fc=ORANGE,
                          alpha=0.22, lw=0, zorder=1)
        patch.set_gid(f"impact:{incident_id}:{lane}")
        ax.add_patch(patch)
    for lane, a, b, incident_id, label, silent in bars:
        patch = Rectangle((a / scale, y[lane] - 0.17), (b - a) / scale, 0.34,
                          fc=GREY if silent else RED, ec="black", lw=0.4, zorder=3)
        patch.set_gid(f"fault:{incident_id}:{lane}")
        ax.add_patch(patch)
        ax.text(max(a, t0) / scale, y[lane] - 0.2, f" {label}{' (silent)' if silent else ''}",
                fontsize=7, va="bottom", ha="left", zorder=6, clip_on=True)
    if changes:
        xs = [at / scale for _, at, _, _ in changes]
        ys = [y[lane] for lane, *_ in changes]
        marks = ax.scatter(xs, ys, marker="D", s=28, c=CHANGE_COLOUR, zorder=5, lw=0)
        marks.set_gid("changes")
        # Labels below the markers, one per lane where they would overlap (the markers
        # all stay): at least 8 % of the window after the lane's previous label.
        last = {}
        for lane, at, kind, to in sorted(changes, key=lambda c: c[1]):
            if at - last.get(lane, -np.inf) < 0.08 * (t1 - t0):
                continue
            last[lane] = at
            ax.annotate(f"{kind}{' ' + to if to else ''}", (at / scale, y[lane]),
                        xytext=(2, -4), textcoords="offset points", fontsize=6.5, va="top",
                        color="#333333", zorder=6, annotation_clip=True)
    colours = _detector_colours(detectors)
    handles = []
    for k, detector in enumerate(detectors):
        own = alerts[alerts["detector"] == detector] if len(alerts) else alerts
        if not len(own):
            continue
        offset = 0.3 * ((k % 5) - 2) / 2  # detectors side by side within a lane
        xs = own["t_ns"].to_numpy() / 1e9 / scale
        ys = [y[s] + offset for s in own["service"]]
        marks = ax.scatter(xs, ys, marker="|", s=70, c=colours[detector], zorder=4, lw=1.3)
        marks.set_gid(f"alerts:{detector}")
        handles.append(Line2D([], [], marker="|", ls="", ms=9, mew=1.5, color=colours[detector],
                              label=f"{detector} ({len(own)} alerts)"))
    if len(notifications):
        marks = ax.scatter(np.asarray(notifications) / scale,
                           [y["notifications"]] * len(notifications), marker="v", s=24,
                           c="#444444", zorder=4, lw=0)
        marks.set_gid("notifications")
    for i, a, b, severity, rule in detected:
        colour = SEVERITY_COLOURS.get(severity, "#fc9272")
        patch = Rectangle((a / scale, y["incidents detected"] - 0.3), (b - a) / scale, 0.6,
                          fc=colour, ec="black", lw=0.4, zorder=3)
        patch.set_gid(f"detected:{i}")
        ax.add_patch(patch)
        ax.text(max(a, t0) / scale, y["incidents detected"], f" {rule} Sev{severity}",
                fontsize=7, va="center", ha="left", zorder=6, clip_on=True,
                color="white" if severity <= 2 else "black")

    ax.set_xlim(t0 / scale, t1 / scale)
    ax.set_ylim(len(y) - 0.5, -0.5)
    ax.set_yticks(range(len(y)), list(y))
    for label in ax.get_yticklabels():
        s = service_index.get(label.get_text())
        if s is not None and states[s]:
            label.set_color(STATE_COLOURS[states[s]])
    ax.axhline(len(lane_names) - 0.5, color="#888888", lw=0.6)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel(f"simulated time ({unit})")
    window = "" if (t0 == 0 and t1 == run_end) else " in this window"
    ax.set_title(f"{name}: {len(lane_names)} lane{'' if len(lane_names) == 1 else 's'}; "
                 f"{untouched} of {len(services)} services untouched{window}", fontsize=10)
    handles = [Patch(fc=RED, ec="black", lw=0.4, label="fault (cause)"),
               Patch(fc=ORANGE, alpha=0.3, label="impact window"),
               Line2D([], [], marker="D", ls="", color=CHANGE_COLOUR, ms=5, label="change"),
               Line2D([], [], marker="v", ls="", color="#444444", ms=5, label="notification")
               ] + handles + [Patch(fc=SEVERITY_COLOURS[s], label=f"Sev{s}") for s in (1, 2, 3)]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5,
              frameon=False)
    return fig


# --- incident_metrics -------------------------------------------------------------------

def impact_view(trace, incident):
    """(start_s, end_s) of the window incident_metrics shows: the impact window (the
    cause's window for a silent incident) padded by max(50 % of it, 10 min) each side,
    clipped to the run."""
    row = incident if isinstance(incident, pd.Series) else _incident_row(trace, incident)
    if bool(row["silent"]):
        a, b = row["start_ns"] / 1e9, row["end_ns"] / 1e9
    else:
        a, b = row["impact_start_ns"] / 1e9, row["impact_end_ns"] / 1e9
    pad = max(0.5 * (b - a), 600.0)
    return max(0.0, a - pad), min(_run_end_s(trace), b + pad)


def incident_metrics(trace, incident, metrics=DEFAULT_METRICS, services=None, max_services=8,
                     fig=None):
    """Small charts of one incident (an id or a name): a row per service, the root cause
    first (red), then the affected services (orange), a column per metric, around the
    impact window (`impact_view`: padded by max(50 %, 10 min), clipped to the run). The
    time axis counts from the impact's start (from the cause's start for a silent
    incident), so TTD reads off it directly; the title says when that was in the run.

    The impact window is shaded; each alert that matched the incident (`matched_alerts`)
    is a dashed vertical line, coloured by detector, in every chart of its service's row
    (solid in the chart of its own metric). The title gives TTD (first matching alert -
    impact start) and TTR (impact end - impact start), as docs/scoring.md defines them.

    services: names or indices to show instead (in that order); by default at most
    `max_services` (the title says how many more there are). Draws into `fig` when given.
    Gids: the shading "impact", an alert's lines "alert:<row of trace.alerts>". Returns
    the Figure."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    with _opened(trace) as t:
        row = _incident_row(t, incident)
        incident_id = int(row["id"])
        if row["start_ns"] / 1e9 >= _run_end_s(t):  # an interrupted run's, due after it stopped
            _bad_argument(f"incident {incident_id} ({row['name']}) starts at "
                          f"{_format_duration(row['start_ns'] / 1e9)}, after the run stopped at "
                          f"{_format_duration(_run_end_s(t))}: nothing to chart")
        roots = root_services(t, row)
        affected = affected_services(t, incident_id)
        if services is None:
            chosen = roots + [s for s in affected if s not in roots]
            more = max(0, len(chosen) - max_services)
            chosen = chosen[:max_services]
        else:
            index = {name: i for i, name in enumerate(t.services)}
            chosen, more = [], 0
            for s in services:
                if isinstance(s, str):
                    if s not in index:
                        _bad_argument(f"no service {s!r} in {t.path}")
                    s = index[s]
                if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or \
                        not 0 <= s < len(t.services):
                    _bad_argument(f"no service {s!r} in {t.path} (services: a name, or an "
                                  f"index in [0, {len(t.services)}))")
                chosen.append(int(s))
        if not chosen:
            _bad_argument(f"incident {incident!r} has no service to show "
                          "(pass services=[...])")
        available = t.metric_names("service")
        if isinstance(metrics, str):  # one metric's name, not its letters
            metrics = (metrics,)
        metrics = tuple(metrics)
        if not metrics:
            _bad_argument(f"incident_metrics: metrics is empty (metrics: {', '.join(available)})")
        missing = [m for m in metrics if m not in available]
        if missing:
            _bad_argument(f"no service metric {', '.join(missing)} in {t.path} "
                          f"(metrics: {', '.join(available)})")
        v0, v1 = impact_view(t, row)
        r0 = int(np.searchsorted(t.time_s, v0, side="left"))
        r1 = int(np.searchsorted(t.time_s, v1, side="right"))
        times = t.time_s[r0:r1]
        values = {m: t.file[f"metrics/service/{m}"][r0:r1][:, chosen] for m in metrics}
        matched = matched_alerts(t, row)
        names = [t.services[s] for s in chosen]
        detectors = _alert_detectors(t)
        silent = bool(row["silent"])
        impact = (row["impact_start_ns"] / 1e9, row["impact_end_ns"] / 1e9)
        # Time 0 of the charts: the impact's start (the cause's for a silent incident).
        zero = row["start_ns"] / 1e9 if silent else impact[0]

    unit, scale = time_unit(v1 - v0)
    colours = _detector_colours(detectors)
    nrows, ncols = len(chosen), len(metrics)
    if fig is None:
        fig = _new_figure(2.5 * ncols + 0.6, 1.45 * nrows + 1.3, layout="constrained")
    axes = np.atleast_2d(fig.subplots(nrows, ncols, sharex=True, squeeze=False))
    for i, (s, name) in enumerate(zip(chosen, names)):
        state = ROOT if s in roots else AFFECTED if s in affected else UNTOUCHED
        line_colour = {ROOT: RED, AFFECTED: ORANGE, UNTOUCHED: "#1f77b4"}[state]
        own = matched[matched["service"] == name] if len(matched) else matched
        for j, metric in enumerate(metrics):
            ax = axes[i, j]
            x, y = downsample((times - zero) / scale, values[metric][:, i])
            ax.plot(x, y, color=line_colour, lw=1.0)
            if not silent:
                ax.axvspan(0, (impact[1] - zero) / scale, color=ORANGE, alpha=0.18, lw=0,
                           gid="impact")
            for k, alert in own.iterrows():
                ax.axvline((alert["t_ns"] / 1e9 - zero) / scale,
                           color=colours.get(alert["detector"], "k"), lw=1.0,
                           ls="-" if alert["metric"] == metric else "--", alpha=0.9,
                           gid=f"alert:{k}")
            ax.set_xlim((v0 - zero) / scale, (v1 - zero) / scale)
            ax.tick_params(labelsize=7)
            ax.grid(color="#ececec", lw=0.5)
            if i == 0:
                ax.set_title(metric, fontsize=9)
            if j == 0:
                ax.set_ylabel(f"{name}\n({STATE_NAMES[state]})", fontsize=8, color=line_colour)
            if i == nrows - 1:
                ax.set_xlabel(f"{unit} since {'cause' if silent else 'impact'} start",
                              fontsize=8)
    if silent:
        detect = "silent: changed nothing measurable, not scored"
    else:
        ttr = impact[1] - impact[0]
        if len(matched):
            ttd = matched["t_ns"].min() / 1e9 - impact[0]
            detect = f"TTD {_format_duration(ttd)}, TTR {_format_duration(ttr)}"
        else:
            detect = f"not detected, TTR {_format_duration(ttr)}"
    fig.suptitle(f"incident #{incident_id} {row['name']}: {row['cause']} on "
                 f"{row['root_cause']} at {_format_duration(zero)} into the run, "
                 f"{len(matched)} matching alert"
                 f"{'' if len(matched) == 1 else 's'}; {detect}"
                 + (f"\n({more} more affected services not shown: services=[...])"
                    if more else ""), fontsize=10)
    handles = [Patch(fc=ORANGE, alpha=0.3, label="impact window")]
    handles += [Line2D([], [], color=colours.get(d, "k"), lw=1, label=f"alert: {d}")
                for d in sorted(set(matched["detector"])) if len(matched)]
    axes[0, -1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                       fontsize=7.5, frameon=False)
    return fig


# --- detector_alerts --------------------------------------------------------------------

def detector_alerts(trace, start=None, end=None, ax=None):
    """Each detector's alerts against the truth, a row per detector: the impact windows of
    the scored (non-silent) incidents shaded, every alert a tick, green where it matched an
    incident (`incident_id` >= 0) and red where it was a false alarm. The incident rules'
    detected incidents get a row each ("rule <name>", a tick where one opened: scored on
    time alone, docs/scoring.md). start, end: the window (seconds or durations). Gids:
    "impact:<id>", "alerts:<row name>:matched" and "alerts:<row name>:false". Returns the
    Figure."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    with _opened(trace) as t:
        run_end = _run_end_s(t)
        t0, t1 = _window(t, start, end, "detector_alerts")
        scored = t.incidents[t.incidents["silent"] == 0] if len(t.incidents) else t.incidents
        windows = [(int(r["id"]), r["impact_start_ns"] / 1e9, r["impact_end_ns"] / 1e9)
                   for _, r in scored.iterrows()]
        rows = []
        alerts = t.alerts
        for detector in _alert_detectors(t):
            own = alerts[alerts["detector"] == detector] if len(alerts) else alerts
            times = own["t_ns"].to_numpy() / 1e9 if len(own) else np.array([])
            hit = (own["incident_id"].to_numpy() >= 0) if len(own) else np.array([], bool)
            rows.append((detector, times, hit))
        detected = t.incidents_detected
        for rule in dict.fromkeys(detected["rule"]) if len(detected) else []:
            times = detected["start_ns"][detected["rule"] == rule].to_numpy() / 1e9
            hit = np.array([any(a <= x <= b for _, a, b in windows) for x in times], bool)
            rows.append((f"rule {rule}", times, hit))
        name = t.meta.get("scenario_name", os.path.basename(str(t.path)))

    unit, scale = time_unit(t1 - t0)
    if ax is None:
        fig = _new_figure(12, 1.3 + 0.45 * max(1, len(rows)), layout="constrained")
        ax = fig.add_subplot()
    fig = ax.figure
    for incident_id, a, b in windows:
        ax.axvspan(a / scale, b / scale, color=ORANGE, alpha=0.2, lw=0, zorder=0,
                   gid=f"impact:{incident_id}")
    labels = []
    for i, (row_name, times, hit) in enumerate(rows):
        inside = (times >= t0) & (times <= t1)
        for kind, mask, colour in (("matched", hit, MATCHED_COLOUR),
                                   ("false", ~hit, FALSE_ALARM_COLOUR)):
            xs = times[mask & inside] / scale
            marks = ax.scatter(xs, [i] * len(xs), marker="|", s=160, c=colour, lw=1.2,
                               zorder=3)
            marks.set_gid(f"alerts:{row_name}:{kind}")
        shown = int(inside.sum())
        labels.append(f"{row_name}\n{shown} alerts, {int((~hit & inside).sum())} false")
    ax.set_yticks(range(len(rows)), labels)
    # No detector ran: one empty lane, not an axis of no height (matplotlib warns of it).
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    ax.set_xlim(t0 / scale, t1 / scale)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel(f"simulated time ({unit})")
    ax.set_title(f"{name}: alerts per detector vs the {len(windows)} scored incident"
                 f"{'' if len(windows) == 1 else 's'}", fontsize=10)
    ax.legend(handles=[Patch(fc=ORANGE, alpha=0.3, label="impact window"),
                       Line2D([], [], marker="|", ls="", ms=10, mew=1.5, color=MATCHED_COLOUR,
                              label="matched alert"),
                       Line2D([], [], marker="|", ls="", ms=10, mew=1.5,
                              color=FALSE_ALARM_COLOUR, label="false alarm")],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


# --- bench_comparison -------------------------------------------------------------------

def _run_ttds(scores):
    """Per-incident TTDs of one run and detector, in seconds, and whether they are per
    incident (True) or the run's median only (False); [] when nothing was detected."""
    if scores.get("ttd_s") is not None:
        return [float(v) for v in scores["ttd_s"]], True
    if scores.get("time_to_detect_ns") is not None:
        return [v / 1e9 for v in scores["time_to_detect_ns"]], True
    median = scores.get("ttd_median_s")
    return ([] if median is None else [float(median)]), False


def bench_comparison(results, fig=None):
    """`dosim bench --out FILE.json` results (the path or the parsed dict) side by side:

    - precision against recall, one point per run per detector (colour per detector, marker
      per scenario), the null baseline's runs as grey crosses, iso-F1 curves; each
      detector's random baseline as hollow points where the runs carry
      `precision_random`/`recall_random`, else as a dashed iso-F1 curve at its median
      `f1_random`;
    - time to detect per detector: a box and the points, per incident where the runs list
      them (`ttd_s`, else `time_to_detect_ns`), else the runs' `ttd_median_s`;
    - false alarms per hour per detector: a bar at the median over the runs, min-max as
      the error bar, each run a point (a run with no fault-free time, infinite, is left
      out and counted in the label).

    Gids: "pr:<detector>:<scenario>" (scatter), "pr:null", "pr-random:<detector>",
    "f1-random:<detector>", "ttd:<detector>", "false-alarms:<detector>". Draws into `fig`
    when given. Returns the Figure."""
    from matplotlib.lines import Line2D
    source = ""  # the file, when results is one
    if not isinstance(results, dict):
        path = os.fspath(results)
        source = str(path)
        from . import _dosim
        problem = _dosim._input_file_problem(str(path))  # a FIFO would block open() for ever
        if not problem:
            try:
                with open(path, encoding="utf-8") as file:
                    results = json.load(file)
            except (OSError, ValueError) as error:  # UnicodeDecodeError, JSONDecodeError
                problem = str(error)
        if problem:
            _bad_argument(f"cannot read the bench results: {problem}", str(path))
        if not isinstance(results, dict):
            _bad_argument("not the results of dosim bench --out (a JSON object)", str(path))
    # A sweep's table or `dosim score --json` is a JSON object too: each run of bench's has
    # its scenario and a mapping of scores per detector.
    runs = results.get("runs")
    if (not isinstance(runs, list) or not runs or
            not all(isinstance(r, dict) and isinstance(r.get("scores"), dict) and "scenario" in r
                    for r in runs)):
        _bad_argument("not the results of dosim bench --out (a list of 'runs', each with its "
                      "'scenario' and 'scores')", source)
    detectors = list(results.get("detectors") or
                     [d for d in (runs[0]["scores"] if runs else {}) if d != "null"])
    scenarios = list(dict.fromkeys(results.get("scenarios") or [r["scenario"] for r in runs]))
    colours = _detector_colours(detectors)
    markers = {s: "osD^vP*Xhp"[i % 10] for i, s in enumerate(scenarios)}
    sizes = {d: 110 - 80 * i / max(1, len(detectors) - 1) for i, d in enumerate(detectors)}
    if fig is None:
        fig = _new_figure(16, 5.2, layout="constrained")
    pr, ttd_ax, fa_ax = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.15, 1, 1]})

    # Precision / recall.
    for f1 in (0.2, 0.4, 0.6, 0.8):
        recall = np.linspace(f1 / (2 - f1) + 1e-9, 1.0, 200)
        precision = f1 * recall / (2 * recall - f1)
        pr.plot(recall, precision, color="#dddddd", lw=0.8, zorder=0)
        pr.text(1.0, precision[-1], f" F1={f1:g}", fontsize=7, color="#999999", va="center")
    for detector in detectors:
        for scenario in scenarios:
            points = [(r["scores"][detector].get("recall"), r["scores"][detector].get("precision"))
                      for r in runs if r["scenario"] == scenario and detector in r["scores"]]
            points = [p for p in points if None not in p]
            if not points:
                continue
            xs, ys = zip(*points)
            # Later detectors smaller, so that points at the same place show as rings.
            marks = pr.scatter(xs, ys, c=colours[detector], marker=markers[scenario],
                               s=sizes[detector], alpha=0.9, edgecolors="white",
                               linewidths=0.6, zorder=3)
            marks.set_gid(f"pr:{detector}:{scenario}")
        random = [(r["scores"][detector].get("recall_random"),
                   r["scores"][detector].get("precision_random"))
                  for r in runs if detector in r["scores"]]
        random = [p for p in random if None not in p]
        if random:
            xs, ys = zip(*random)
            marks = pr.scatter(xs, ys, facecolors="none", edgecolors=colours[detector], s=30,
                               lw=0.9, zorder=2)
            marks.set_gid(f"pr-random:{detector}")
        else:
            f1s = [r["scores"][detector].get("f1_random") for r in runs
                   if detector in r["scores"]]
            f1s = [f for f in f1s if f is not None]
            median = float(np.median(f1s)) if f1s else 0.0
            if median > 0:
                recall = np.linspace(min(1.0, median / (2 - median) + 1e-9), 1.0, 200)
                precision = np.clip(median * recall / np.maximum(2 * recall - median, 1e-12),
                                    0, 1.05)
                pr.plot(recall, precision, color=colours[detector], ls="--", lw=0.9,
                        alpha=0.7, gid=f"f1-random:{detector}")
    null = [(r["scores"]["null"].get("recall"), r["scores"]["null"].get("precision"))
            for r in runs if "null" in r["scores"]]
    null = [p for p in null if None not in p]
    if null:
        xs, ys = zip(*null)
        marks = pr.scatter(xs, ys, marker="x", c=GREY, s=40, zorder=2)
        marks.set_gid("pr:null")
    pr.set_xlim(-0.03, 1.12)
    pr.set_ylim(-0.03, 1.05)
    pr.set_xlabel("recall")
    pr.set_ylabel("precision")
    pr.set_title("precision / recall, a point per run", fontsize=10)
    handles = [Line2D([], [], marker="o", ls="", color=colours[d], label=d) for d in detectors]
    handles.append(Line2D([], [], marker="x", ls="", color=GREY, label="null baseline"))
    if any(ax_gid.startswith("pr-random") for ax_gid in
           (c.get_gid() or "" for c in pr.collections)):
        handles.append(Line2D([], [], marker="o", ls="", mfc="none", color="#555555",
                              label="random baseline"))
    elif any((line.get_gid() or "").startswith("f1-random") for line in pr.lines):
        handles.append(Line2D([], [], ls="--", color="#555555", label="random baseline (F1)"))
    if len(scenarios) > 1:
        handles += [Line2D([], [], marker=markers[s], ls="", color="#555555",
                           label=os.path.basename(s)) for s in scenarios]
    pr.legend(handles=handles, fontsize=7, loc="lower left", framealpha=0.8)

    # Time to detect.
    per_incident = True
    distributions = []
    for detector in detectors:
        values = []
        for r in runs:
            if detector in r["scores"]:
                ttds, pooled = _run_ttds(r["scores"][detector])
                per_incident &= pooled
                values += ttds
        distributions.append(values)
    positions = np.arange(len(detectors))
    boxes = [v if v else [np.nan] for v in distributions]
    ttd_ax.boxplot(boxes, positions=positions, widths=0.5, showfliers=False,
                   medianprops=dict(color="black"))
    for i, (detector, values) in enumerate(zip(detectors, distributions)):
        jitter = ((np.arange(len(values)) * 0.618034) % 1.0 - 0.5) * 0.3
        marks = ttd_ax.scatter(i + jitter, values, s=14, c=colours[detector], alpha=0.7,
                               zorder=3)
        marks.set_gid(f"ttd:{detector}")
        if not values:
            ttd_ax.text(i, 0, "nothing\ndetected", ha="center", va="bottom", fontsize=7,
                        color="#777777")
    ttd_ax.set_xticks(positions, detectors, rotation=30, ha="right", fontsize=8)
    ttd_ax.set_ylabel("time to detect (s)")
    finite = [v for values in distributions for v in values]
    if finite and max(finite) > 100 * max(1.0, float(np.median(finite))):
        ttd_ax.set_yscale("symlog", linthresh=1.0)
    ttd_ax.set_title("time to detect, " + ("per detected incident" if per_incident
                                           else "median per run"), fontsize=10)

    # False alarms per hour.
    for i, detector in enumerate(detectors):
        values = [r["scores"][detector].get("false_alarms_per_hour") for r in runs
                  if detector in r["scores"]]
        infinite = sum(v is None for v in values)
        values = [float(v) for v in values if v is not None and np.isfinite(v)]
        if values:
            median = float(np.median(values))
            bar = fa_ax.bar(i, median, width=0.6, color=colours[detector], alpha=0.55,
                            yerr=[[median - min(values)], [max(values) - median]],
                            capsize=4, error_kw=dict(lw=1))
            bar.patches[0].set_gid(f"false-alarms:{detector}")
            jitter = ((np.arange(len(values)) * 0.618034) % 1.0 - 0.5) * 0.3
            fa_ax.scatter(i + jitter, values, s=10, c="black", alpha=0.6, zorder=3)
        if infinite:
            fa_ax.annotate(f"+{infinite} runs: inf", (i, 0), xytext=(0, 3),
                           textcoords="offset points", ha="center", fontsize=7)
    fa_ax.set_xticks(positions, detectors, rotation=30, ha="right", fontsize=8)
    fa_ax.set_ylabel("false alarms per hour of fault-free time")
    fa_ax.set_title("false alarms per hour: median, min-max", fontsize=10)
    seeds = results.get("seeds", "?")
    fig.suptitle(f"dosim bench: {len(detectors)} detectors x {len(scenarios)} scenarios x "
                 f"{seeds} seeds ({len(runs)} runs)", fontsize=11)
    return fig
