"""dosim.plots: the notebook pictures of a trace and of bench results (docs/python.md, Plots).

Each figure is checked against the trace read with h5py directly, not through the package:
- service_map: the ecommerce week has exactly one node per service, named after it; each
  root cause is red, each affected service orange, the untouched one grey; one arrow per
  dependency, callers left of callees, and exactly the propagation edges highlighted (for
  all incidents, and for one incident given by name); zones make bands. A 200-service
  tree collapses into one node per (tier, band) whose counts add up to 200, the root
  cause's cell red;
- timeline: the fault bars span each incident's cause window, the impact shading its
  impact window on the root and every affected service's lane; one tick per alert, per
  detector; changes, notifications and detected incidents (Sev colour) where the trace
  has them; start/end zoom;
- incident_metrics: every chart shades exactly the impact window and has one line per
  matching alert of its service; TTD and TTR in the title are the trace's;
- detector_alerts: matched and false-alarm ticks per detector as /alerts/incident_id says;
- bench_comparison: one precision/recall point per run per detector, at its values; TTD
  points per detected incident; false alarms per hour bars at the median; keys another
  writer may add (ttd_s, precision_random, recall_random) used when present;
- downsample keeps each bucket's extremes; `import dosim` does not load matplotlib; a
  notebook shows each returned figure once.
Every figure is saved as a PNG to prove it renders. Traces come from `dosim run`.
"""
import importlib
import importlib.util
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys

import h5py
import numpy as np
import pytest

from dosim_test_util import DOSIM, SOURCE_DIR, TMP, Checks, dosim

RED, ORANGE, GREY = "#d62728", "#ff7f0e", "#9e9e9e"
UNIT_SECONDS = {"h": 3600.0, "min": 60.0, "s": 1.0}
OUT = TMP / "plots"


def _package_view():
    """A folder holding a `dosim` package made of this checkout's Python files and the
    built extension (build/python/dosim/_dosim*.so beside the dosim binary's build)."""
    view = TMP / "plots-package"
    package = view / "dosim"
    shutil.rmtree(view, ignore_errors=True)
    package.mkdir(parents=True)
    built = pathlib.Path(DOSIM).resolve().parents[1] / "python" / "dosim"
    extensions = sorted(built.glob("_dosim*.so"))
    if not extensions:
        raise RuntimeError(f"no built dosim extension in {built}")
    for source in [*(SOURCE_DIR / "python" / "dosim").glob("*.py"), *extensions]:
        (package / source.name).symlink_to(source.resolve())
    return view


def _import_plots():
    """dosim.plots from PYTHONPATH (build/python under CTest) when it has it, else from a
    view of this checkout's package (a build configured before plots.py existed, or no
    PYTHONPATH, as in `python3 -m pytest tests/test_plots.py`)."""
    try:
        return importlib.import_module("dosim.plots")
    except ImportError:
        for name in [m for m in sys.modules if m == "dosim" or m.startswith("dosim.")]:
            del sys.modules[name]
        sys.path.insert(0, str(_package_view()))
        return importlib.import_module("dosim.plots")


plots = _import_plots()
import dosim as dosim_package  # noqa: E402 - the package plots came from
PACKAGE_ROOT = pathlib.Path(plots.__file__).parent.parent


def hexcolour(colour):
    from matplotlib.colors import to_hex
    return to_hex(colour)


def save(fig, name):
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    fig.savefig(path, dpi=60)
    assert path.stat().st_size > 5000, f"{path} is nearly empty"
    return path


def run_trace(name, scenario):
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"{name}.h5"
    result = dosim("run", scenario, "--out", out, "--quiet", timeout=300)
    assert result.returncode == 0, result.stderr
    return out


def strings(dataset):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in dataset[()]]


def truth(path):
    """What the trace says, read with h5py: services, edges, incidents, affected, propagation,
    alerts, changes, notifications, detected incidents, placement."""
    with h5py.File(path, "r") as f:
        t = {"services": strings(f["services/name"]),
             "zones": strings(f["services/zone"]), "regions": strings(f["services/region"]),
             "src": f["edges/src"][()].tolist(), "dst": f["edges/dst"][()].tolist(),
             "time_ns": f["time_ns"][()]}
        t["incidents"] = {k: (strings(v) if h5py.check_string_dtype(v.dtype) else v[()].tolist())
                          for k, v in f["truth/incidents"].items()}
        t["affected"] = list(zip(f["truth/affected/incident_id"][()].tolist(),
                                 f["truth/affected/service"][()].tolist()))
        t["propagation"] = list(zip(f["truth/propagation/incident_id"][()].tolist(),
                                    f["truth/propagation/edge"][()].tolist()))
        t["alerts"] = {"t_ns": f["alerts/t_ns"][()].tolist(),
                       "detector": strings(f["alerts/detector"]),
                       "service": strings(f["alerts/service"]),
                       "incident_id": f["alerts/incident_id"][()].tolist()}
        t["changes"] = {"t_ns": f["events/changes/t_ns"][()].tolist(),
                        "target": strings(f["events/changes/target"])}
        t["notifications"] = f["notifications/t_ns"][()].tolist()
        t["detected"] = {k: f[f"incidents_detected/{k}"][()].tolist()
                         for k in ("start_ns", "end_ns", "severity")}
        t["placement"] = list(zip(f["services/placement/service"][()].tolist(),
                                  strings(f["services/placement/zone"]),
                                  strings(f["services/placement/region"])))
    return t


def affected_of(t, incident_id):
    return sorted({s for i, s in t["affected"] if i == incident_id})


def scale_of(ax):
    unit = re.search(r"\((h|min|s)\)|^(h|min|s) since", ax.get_xlabel())
    assert unit, ax.get_xlabel()
    return UNIT_SECONDS[unit.group(1) or unit.group(2)]


def by_gid(artists, prefix):
    return {a.get_gid(): a for a in artists if (a.get_gid() or "").startswith(prefix)}


def x_extent(patch):
    """(x0, x1) of a patch in data coordinates (a Rectangle or axvspan's Polygon)."""
    xs = patch.get_patch_transform().transform(patch.get_path().vertices)[:, 0]
    return xs.min(), xs.max()


# --- traces ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ecommerce():
    return run_trace("ecommerce", SOURCE_DIR / "scenarios" / "ecommerce.yaml")


@pytest.fixture(scope="module")
def region_outage():
    return run_trace("region-outage", SOURCE_DIR / "scenarios" / "region-outage.yaml")


@pytest.fixture(scope="module")
def big_tree():
    """200 services in a binary tree over two zones (s_i calls s_2i+1 and s_2i+2), errors on
    s150 for 40 s of two minutes."""
    n = 200
    lines = ["name: big-tree", "duration: 2m", "tick: 1s",
             "regions:", "  - {name: r, zones: [za, zb]}", "services:"]
    lines += [f"  - {{name: s{i}, replicas: 2, capacity_rps: 1000, base_latency: 1ms, "
              f"zone: {'za' if i % 2 else 'zb'}}}" for i in range(n)]
    lines += ["traffic:", "  - {name: users, entry: s0, base_rps: 100}", "dependencies:"]
    lines += [f"  - {{caller: s{(i - 1) // 2}, callee: s{i}, calls_per_request: 1.0}}"
              for i in range(1, n)]
    lines += ["faults:", "  - {name: leaf-errors, kind: error, target: {service: s150}, "
              "start: 30s, duration: 40s, percent: 50}"]
    OUT.mkdir(parents=True, exist_ok=True)
    scenario = OUT / "big-tree.yaml"
    scenario.write_text("\n".join(lines) + "\n")
    return run_trace("big-tree", scenario)


# --- service_map ----------------------------------------------------------------------------

def expected_colours(t, incident_ids):
    """Per service: red for a root service, orange for an affected one, else grey."""
    colours = [GREY] * len(t["services"])
    for i in incident_ids:
        for s in affected_of(t, i):
            if colours[s] != RED:
                colours[s] = ORANGE
    for i in incident_ids:
        colours[t["incidents"]["root_service"][i]] = RED
    return colours


def check_map(fig, t, incident_ids, check):
    [ax] = fig.axes
    nodes = by_gid(ax.texts, "service:")
    check(sorted(nodes) == sorted(f"service:{s}" for s in t["services"]),
          f"one node per service: {sorted(nodes)}")
    check(sorted(n.get_text() for n in nodes.values()) == sorted(t["services"]),
          "nodes are labelled with the service names")
    colours = expected_colours(t, incident_ids)
    for s, name in enumerate(t["services"]):
        node = nodes.get(f"service:{name}")
        got = node and hexcolour(node.get_bbox_patch().get_facecolor())
        check(got == colours[s], f"{name}: colour {got}, expected {colours[s]}")
    arrows = by_gid(ax.texts, "edge:")
    names = t["services"]
    expected = {f"edge:{names[a]}->{names[b]}" for a, b in zip(t["src"], t["dst"])}
    check(set(arrows) == expected, f"one arrow per dependency: {set(arrows) ^ expected}")
    hot = {e for i, e in t["propagation"] if i in incident_ids}
    for e, (a, b) in enumerate(zip(t["src"], t["dst"])):
        arrow = arrows.get(f"edge:{names[a]}->{names[b]}")
        if arrow is None:
            continue
        red = hexcolour(arrow.arrow_patch.get_edgecolor()) == RED
        check(red == (e in hot), f"edge {names[a]}->{names[b]}: highlighted {red}, "
                                 f"propagation {e in hot}")
        check(nodes[f"service:{names[a]}"].get_position()[0]
              < nodes[f"service:{names[b]}"].get_position()[0],
              f"caller {names[a]} left of callee {names[b]}")
    return nodes


def test_service_map_of_ecommerce_has_one_node_per_service_coloured_by_the_truth(ecommerce):
    t = truth(ecommerce)
    check = Checks()
    check(len(t["services"]) == 11 and len(t["incidents"]["id"]) == 2, "the ecommerce week")
    fig = plots.service_map(str(ecommerce))
    nodes = check_map(fig, t, [0, 1], check)
    check(hexcolour(nodes["service:database"].get_bbox_patch().get_facecolor()) == RED,
          "the database, root cause of both incidents, is red")
    untouched = [s for s, c in zip(t["services"], expected_colours(t, [0, 1])) if c == GREY]
    check(untouched == ["notification-service"], f"one untouched service: {untouched}")
    # Bands: the two zones do not interleave.
    ys = {z: [nodes[f"service:{s}"].get_position()[1] for s, zone in
              zip(t["services"], t["zones"]) if zone == z] for z in set(t["zones"])}
    check(len(ys) == 2 and (min(ys["eu-west-1a"]) > max(ys["eu-west-1b"])
                            or min(ys["eu-west-1b"]) > max(ys["eu-west-1a"])),
          f"zones in separate bands: {ys}")
    labels = [label.get_text() for label in fig.axes[0].get_yticklabels()]
    check(labels == ["eu-west / eu-west-1a", "eu-west / eu-west-1b"], f"band labels {labels}")
    save(fig, "map-ecommerce")

    # One incident, by name: only its propagation is highlighted.
    fig = plots.service_map(dosim_package.load_trace(str(ecommerce)),
                            incident="db-connection-errors")
    check_map(fig, t, [1], check)
    save(fig, "map-ecommerce-incident-1")
    check.assert_passed()


def test_service_map_of_a_zone_outage_colours_the_services_placed_there(region_outage):
    t = truth(region_outage)
    check = Checks()
    fig = plots.service_map(region_outage, incident=0)
    [ax] = fig.axes
    nodes = by_gid(ax.texts, "service:")
    zone = t["incidents"]["root_cause"][0].removeprefix("zone ")
    placed = {s for s, z, _ in t["placement"] if z == zone}
    check(t["incidents"]["root_service"][0] == -1 and placed, "a zone outage")
    affected = set(affected_of(t, 0))
    for s, name in enumerate(t["services"]):
        expected = RED if s in placed else ORANGE if s in affected else GREY
        got = hexcolour(nodes[f"service:{name}"].get_bbox_patch().get_facecolor())
        check(got == expected, f"{name}: {got}, expected {expected}")
    hot = {e for i, e in t["propagation"] if i == 0}
    for e, (a, b) in enumerate(zip(t["src"], t["dst"])):
        arrow = by_gid(ax.texts, "edge:")[f"edge:{t['services'][a]}->{t['services'][b]}"]
        check((hexcolour(arrow.arrow_patch.get_edgecolor()) == RED) == (e in hot),
              f"edge {e} highlighted iff in incident 0's propagation")
    save(fig, "map-region-outage")
    with pytest.raises(dosim_package.InputError, match="no incident 'nope'"):
        plots.service_map(region_outage, incident="nope")
    check.assert_passed()


def test_service_map_of_200_services_collapses_tier_by_band(big_tree):
    t = truth(big_tree)
    check = Checks()
    fig = plots.service_map(big_tree)
    [ax] = fig.axes
    check(not by_gid(ax.texts, "service:"), "no node per service above 150 services")
    cells = by_gid(ax.texts, "cell:")
    # Tier of s_i in the tree: its depth, floor(log2(i + 1)); band: its zone.
    expected = {}
    for s, zone in enumerate(t["zones"]):
        expected.setdefault((int(np.log2(s + 1)), zone), []).append(s)
    check(len(cells) == len(expected), f"{len(cells)} cells, expected {len(expected)}")
    total = 0
    root = t["incidents"]["root_service"][0]
    for (tier, zone), members in expected.items():
        cell = cells.get(f"cell:{tier}:r / {zone}")
        if cell is None:
            check(False, f"no cell for tier {tier}, zone {zone}")
            continue
        text = cell.get_text()
        count = 1 if text.startswith("s") else int(text.split()[0])
        total += count
        check(count == len(members), f"cell {tier}/{zone}: {text}, expected {len(members)}")
        colour = hexcolour(cell.get_bbox_patch().get_facecolor())
        worst = (RED if root in members else
                 ORANGE if set(members) & set(affected_of(t, 0)) else GREY)
        check(colour == worst, f"cell {tier}/{zone}: {colour}, expected {worst}")
    check(total == 200, f"cells count {total} services")
    save(fig, "map-big-tree")
    check.assert_passed()


# --- timeline -------------------------------------------------------------------------------

def check_timeline_faults(ax, t, check):
    scale = scale_of(ax)
    incidents = t["incidents"]
    bars = by_gid(ax.patches, "fault:")
    impacts = by_gid(ax.patches, "impact:")
    for i in incidents["id"]:
        own = [p for gid, p in bars.items() if gid.startswith(f"fault:{i}:")]
        check(own, f"incident {i} has a fault bar")
        for bar in own:
            check(np.allclose([bar.get_x(), bar.get_x() + bar.get_width()],
                              [incidents["start_ns"][i] / 1e9 / scale,
                               incidents["end_ns"][i] / 1e9 / scale]),
                  f"fault bar {bar.get_gid()} spans the cause window")
        lanes = {gid.split(":", 2)[2] for gid, p in impacts.items()
                 if gid.startswith(f"impact:{i}:")}
        for s in affected_of(t, i):
            check(t["services"][s] in lanes, f"incident {i}: impact on {t['services'][s]}")
        for gid, p in impacts.items():
            if gid.startswith(f"impact:{i}:"):
                check(np.allclose([p.get_x(), p.get_x() + p.get_width()],
                                  [incidents["impact_start_ns"][i] / 1e9 / scale,
                                   incidents["impact_end_ns"][i] / 1e9 / scale]),
                      f"{gid} spans the impact window")
    return scale


def check_timeline_alerts(ax, t, check, t0=0.0, t1=np.inf):
    lanes = [label.get_text() for label in ax.get_yticklabels()]
    ticks = by_gid(ax.collections, "alerts:")
    alerts = t["alerts"]
    for detector in set(alerts["detector"]):
        rows = [k for k, d in enumerate(alerts["detector"])
                if d == detector and t0 <= alerts["t_ns"][k] / 1e9 <= t1]
        marks = ticks.get(f"alerts:{detector}")
        got = 0 if marks is None else len(marks.get_offsets())
        check(got == len(rows), f"{detector}: {got} ticks, {len(rows)} alerts")
        if marks is not None and rows:
            lane_of = [lanes[int(round(y))] for y in marks.get_offsets()[:, 1]]
            check(sorted(lane_of) == sorted(alerts["service"][k] for k in rows),
                  f"{detector}: ticks on the alerts' service lanes")


def test_timeline_draws_faults_at_the_incidents_times(region_outage, ecommerce):
    check = Checks()
    t = truth(region_outage)
    fig = plots.timeline(region_outage)
    [ax] = fig.axes
    check_timeline_faults(ax, t, check)
    check_timeline_alerts(ax, t, check)
    lanes = [label.get_text() for label in ax.get_yticklabels()]
    touched = {t["services"][s] for _, s in t["affected"]} | set(t["alerts"]["service"])
    touched |= {t["services"][s] for s, z, r in t["placement"]
                if f"zone {z}" in t["incidents"]["root_cause"]
                or f"region {r}" in t["incidents"]["root_cause"]}
    check(set(lanes[:-2]) == touched, f"lanes {lanes[:-2]}, touched {sorted(touched)}")
    check(lanes[-2:] == ["notifications", "incidents detected"], f"summary lanes {lanes[-2:]}")
    untouched = len(t["services"]) - len(touched)
    check(f"{untouched} of {len(t['services'])} services untouched" in ax.get_title(),
          ax.get_title())
    notes = by_gid(ax.collections, "notifications")["notifications"]
    check(len(notes.get_offsets()) == len(t["notifications"]), "a mark per notification")
    save(fig, "timeline-region-outage")

    # Zoom on the first ecommerce incident: hours become minutes, the window is the axis.
    t = truth(ecommerce)
    start, end = "34h", 36 * 3600
    fig = plots.timeline(ecommerce, start=start, end=end)
    [ax] = fig.axes
    scale = scale_of(ax)
    check(scale == 60.0, f"a 2-hour window in minutes ({ax.get_xlabel()})")
    check(np.allclose(ax.get_xlim(), [34 * 60, 36 * 60]), f"xlim {ax.get_xlim()}")
    bars = by_gid(ax.patches, "fault:")
    check(set(bars) == {"fault:0:database"}, f"only the first incident's bar: {set(bars)}")
    check_timeline_faults(ax, {**t, "incidents": {k: v[:1] for k, v in t["incidents"].items()}},
                          check)
    check_timeline_alerts(ax, t, check, 34 * 3600, 36 * 3600)
    save(fig, "timeline-ecommerce-zoom")
    for start, end, said in [("abc", None, "start='abc': not a duration"),
                             (None, [1], r"end=\[1\]: not a duration"),
                             ("2h", "1h", "end .* must be after start"),
                             # pandas reads "nan" as a duration (NaT): matplotlib's raw
                             # ValueError ("Axis limits cannot be NaN") came out before
                             ("nan", None, "start='nan': not a duration"),
                             (None, float("nan"), "end=nan: not a duration"),
                             (float("inf"), None, "start=inf: not a duration")]:
        with pytest.raises(dosim_package.InputError, match=said):
            plots.timeline(ecommerce, start=start, end=end)
    check.assert_passed()


def test_timeline_shows_changes_and_detected_incidents():
    check = Checks()
    canary = run_trace("canary", SOURCE_DIR / "scenarios" / "canary-bad-version.yaml")
    t = truth(canary)
    fig = plots.timeline(canary)
    [ax] = fig.axes
    scale = check_timeline_faults(ax, t, check)
    lanes = [label.get_text() for label in ax.get_yticklabels()]
    marks = by_gid(ax.collections, "changes")["changes"].get_offsets()
    expected = sorted((at / 1e9 / scale, lanes.index(target))
                      for at, target in zip(t["changes"]["t_ns"], t["changes"]["target"]))
    check(len(expected) >= 5 and np.allclose(sorted(map(tuple, marks)), expected),
          f"a diamond per change on its target's lane: {marks} vs {expected}")
    save(fig, "timeline-canary")

    boutique = run_trace("boutique", SOURCE_DIR / "scenarios" / "online-boutique.yaml")
    t = truth(boutique)
    fig = plots.timeline(boutique)
    [ax] = fig.axes
    scale = scale_of(ax)
    detected = by_gid(ax.patches, "detected:")
    check(len(detected) == len(t["detected"]["start_ns"]) >= 1, "a bar per detected incident")
    run_end = t["time_ns"][-1] / 1e9
    for k, (start, end, severity) in enumerate(zip(*t["detected"].values())):
        bar = detected[f"detected:{k}"]
        end_s = run_end if end < 0 else end / 1e9
        check(np.allclose([bar.get_x(), bar.get_x() + bar.get_width()],
                          [start / 1e9 / scale, end_s / scale]), f"detected {k} spans its time")
        check(hexcolour(bar.get_facecolor()) == plots.SEVERITY_COLOURS[severity],
              f"detected {k}: Sev{severity} colour")
    from matplotlib.colors import to_rgb
    lightness = [sum(to_rgb(plots.SEVERITY_COLOURS[s])) for s in (1, 2, 3)]
    check(lightness == sorted(lightness), f"Sev1 darkest, Sev3 lightest: {lightness}")
    save(fig, "timeline-boutique")
    check.assert_passed()


# --- incident_metrics -----------------------------------------------------------------------

def test_incident_metrics_shade_the_impact_window_and_mark_each_matching_alert(ecommerce):
    check = Checks()
    t = truth(ecommerce)
    incidents = t["incidents"]
    i = 0
    roots = [incidents["root_service"][i]]
    shown = roots + [s for s in affected_of(t, i) if s not in roots]
    fig = plots.incident_metrics(ecommerce, i, max_services=len(shown))
    metrics = list(plots.DEFAULT_METRICS)
    check(len(fig.axes) == len(shown) * len(metrics), f"{len(fig.axes)} charts")
    impact_s = (incidents["impact_end_ns"][i] - incidents["impact_start_ns"][i]) / 1e9
    alerts = t["alerts"]
    matched = [k for k, inc in enumerate(alerts["incident_id"]) if inc == i]
    check(len(matched) >= 5, f"{len(matched)} matching alerts")
    start_s = incidents["impact_start_ns"][i] / 1e9
    pad = max(impact_s / 2, 600)
    for row, s in enumerate(shown):
        for col, metric in enumerate(metrics):
            ax = fig.axes[row * len(metrics) + col]
            scale = scale_of(ax) if row == len(shown) - 1 else 60.0
            spans = by_gid(ax.patches, "impact")
            check(len(spans) == 1, f"{t['services'][s]} {metric}: one impact shading")
            for span in spans.values():
                check(np.allclose(x_extent(span), [0, impact_s / scale]),
                      f"{t['services'][s]} {metric}: shading {x_extent(span)} is the impact "
                      f"window [0, {impact_s / scale}]")
            lines = by_gid(ax.lines, "alert:")
            own = {f"alert:{k}" for k in matched if alerts["service"][k] == t["services"][s]}
            check(set(lines) == own, f"{t['services'][s]} {metric}: alert lines {sorted(lines)}"
                                     f", expected {sorted(own)}")
            for k in own & set(lines):
                x = lines[k].get_xdata()[0]
                check(np.isclose(x, (alerts["t_ns"][int(k[6:])] / 1e9 - start_s) / scale),
                      f"{k} at its time")
            check(np.allclose(ax.get_xlim(), [-pad / scale, (impact_s + pad) / scale]),
                  f"padded window {ax.get_xlim()}")
            check(ax.get_ylabel().startswith(t["services"][s]) or col > 0, "row label")
    ttd = min(alerts["t_ns"][k] for k in matched) / 1e9 - start_s
    title = fig._suptitle.get_text()
    check(f"TTD {int(ttd)} s" in title and f"TTR {int(impact_s // 60)} min" in title,
          f"TTD {ttd} s and TTR {impact_s} s in {title!r}")
    check(f"{len(matched)} matching alerts" in title, title)
    save(fig, "incident-ecommerce-0")

    # Fewer services and metrics, chosen by name.
    fig = plots.incident_metrics(ecommerce, "db-connection-errors", metrics=["error_ratio"],
                                 services=["database", "api-gateway"])
    check([ax.get_ylabel().split("\n")[0] for ax in fig.axes] == ["database", "api-gateway"],
          "the chosen services, in order")
    save(fig, "incident-ecommerce-1")
    with pytest.raises(dosim_package.InputError, match="no service metric nope"):
        plots.incident_metrics(ecommerce, 0, metrics=["nope"])
    with pytest.raises(dosim_package.InputError, match="no incident 99"):
        plots.incident_metrics(ecommerce, 99)
    with pytest.raises(dosim_package.InputError, match="no service 99"):
        plots.incident_metrics(ecommerce, 0, services=[99])
    check.assert_passed()


# --- detector_alerts ------------------------------------------------------------------------

def test_detector_alerts_split_matched_alerts_from_false_alarms(region_outage):
    check = Checks()
    t = truth(region_outage)
    fig = plots.detector_alerts(region_outage)
    [ax] = fig.axes
    scale = scale_of(ax)
    alerts = t["alerts"]
    ticks = by_gid(ax.collections, "alerts:")
    false_alarms = 0
    for detector in set(alerts["detector"]):
        for kind, keep in (("matched", lambda i: i >= 0), ("false", lambda i: i < 0)):
            expected = sorted(alerts["t_ns"][k] / 1e9 / scale for k, d in
                              enumerate(alerts["detector"])
                              if d == detector and keep(alerts["incident_id"][k]))
            got = sorted(ticks[f"alerts:{detector}:{kind}"].get_offsets()[:, 0])
            check(np.allclose(got, expected) and len(got) == len(expected),
                  f"{detector} {kind}: {got} vs {expected}")
            false_alarms += len(expected) if kind == "false" else 0
    check(false_alarms > 0, "the region outage has false alarms to show")
    spans = by_gid(ax.patches, "impact:")
    scored = [i for i, silent in zip(t["incidents"]["id"], t["incidents"]["silent"]) if not silent]
    check(sorted(spans) == sorted(f"impact:{i}" for i in scored), f"spans {sorted(spans)}")
    for i in scored:
        check(np.allclose(x_extent(spans[f"impact:{i}"]),
                          [t["incidents"]["impact_start_ns"][i] / 1e9 / scale,
                           t["incidents"]["impact_end_ns"][i] / 1e9 / scale]),
              f"impact {i} shaded over its window")
    save(fig, "detectors-region-outage")
    check.assert_passed()


def test_detector_alerts_of_a_run_without_detectors_draws_without_a_warning():
    # detectors: [] left no lane: matplotlib warned "Attempting to set identical low and
    # high ylims".
    import warnings
    scenario = OUT / "no-detectors.yaml"
    OUT.mkdir(parents=True, exist_ok=True)
    scenario.write_text("name: quiet\nduration: 5m\nservices: [{name: web}]\n"
                        "traffic: [{name: u, entry: web, base_rps: 10}]\ndetectors: []\n")
    trace = run_trace("no-detectors", scenario)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.detector_alerts(trace)
    [ax] = fig.axes
    assert ax.get_ylim()[0] > ax.get_ylim()[1]


# --- bench_comparison -----------------------------------------------------------------------

def test_bench_comparison_has_a_point_per_run_per_detector():
    check = Checks()
    out = OUT / "bench.json"
    OUT.mkdir(parents=True, exist_ok=True)
    scenarios = [str(SOURCE_DIR / "scenarios" / "payments-mad.yaml"),
                 str(SOURCE_DIR / "scenarios" / "retry-storm.yaml")]
    result = dosim("bench", "--detectors", "mad,threshold,ewma", "--scenarios",
                   ",".join(scenarios), "--seeds", 2, "--out", out, "--quiet", timeout=300)
    assert result.returncode == 0, result.stderr
    results = json.loads(out.read_text())
    runs = results["runs"]
    check(len(runs) == 4, f"{len(runs)} runs")
    fig = plots.bench_comparison(out)
    pr, ttd, fa = fig.axes
    for detector in results["detectors"] + ["null"]:
        points = np.concatenate([c.get_offsets() for c in pr.collections
                                 if c.get_gid() == f"pr:{detector}"
                                 or (c.get_gid() or "").startswith(f"pr:{detector}:")])
        expected = sorted((r["scores"][detector]["recall"], r["scores"][detector]["precision"])
                          for r in runs)
        check(len(points) == len(runs) and np.allclose(sorted(map(tuple, points)), expected),
              f"{detector}: a point per run at (recall, precision): {points} vs {expected}")
        if detector == "null":
            continue
        ttds = sorted(v / 1e9 for r in runs for v in r["scores"][detector]["time_to_detect_ns"])
        got = sorted(by_gid(ttd.collections, f"ttd:{detector}")[f"ttd:{detector}"]
                     .get_offsets()[:, 1])
        check(np.allclose(got, ttds), f"{detector}: TTD per detected incident {got} vs {ttds}")
        bar = by_gid(fa.patches, f"false-alarms:{detector}")[f"false-alarms:{detector}"]
        median = statistics.median(r["scores"][detector]["false_alarms_per_hour"] for r in runs)
        check(np.isclose(bar.get_height(), median), f"{detector}: bar at the median {median}")
    save(fig, "bench")

    # Keys another writer may add: per-incident ttd_s and the random baseline's P and R.
    for r in runs:
        for detector in results["detectors"]:
            scores = r["scores"][detector]
            scores["ttd_s"] = [1.0 + k for k in range(len(scores["time_to_detect_ns"]))]
            scores["precision_random"], scores["recall_random"] = 0.25, 0.5
    fig = plots.bench_comparison(results)
    pr, ttd, _ = fig.axes
    for detector in results["detectors"]:
        random = by_gid(pr.collections, f"pr-random:{detector}")[f"pr-random:{detector}"]
        check(np.allclose(random.get_offsets(), [[0.5, 0.25]] * len(runs)),
              f"{detector}: random baseline points")
        got = sorted(by_gid(ttd.collections, f"ttd:{detector}")[f"ttd:{detector}"]
                     .get_offsets()[:, 1])
        check(got == sorted(v for r in runs for v in r["scores"][detector]["ttd_s"]),
              f"{detector}: ttd_s used")
    save(fig, "bench-extended")
    check.assert_passed()


# --- plumbing -------------------------------------------------------------------------------

def test_bench_comparison_of_a_file_that_is_no_bench_results_raises_input_error():
    OUT.mkdir(parents=True, exist_ok=True)
    binary = OUT / "not-bench.h5"
    binary.write_bytes(b"\x89HDF\r\n\x1a\n\xff\xfe")
    listed = OUT / "list.json"
    listed.write_text("[1, 2]")
    # JSON objects that are not bench results (a sweep's table, `dosim score --json`): a
    # raw KeyError or matplotlib's ValueError came out before.
    other = OUT / "other.json"
    other.write_text('{"a": 1}')
    sweep = OUT / "sweep-like.json"
    sweep.write_text('{"format": "dosim-sweep", "runs": [{"cell": 0, "scenario": "x"}]}')
    for path, said in [(binary, "cannot read the bench results"),
                       (OUT / "no-such.json", "cannot read the bench results"),
                       (listed, "not the results of dosim bench"),
                       (other, "not the results of dosim bench"),
                       (sweep, "not the results of dosim bench")]:
        with pytest.raises(dosim_package.InputError, match=said) as raised:
            plots.bench_comparison(path)
        assert raised.value.diagnostics[0].file == str(path)
    # A FIFO is refused before open() waits on it, in a process of its own: a hang fails.
    fifo = OUT / "fifo.json"
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, dosim, dosim.plots\ntry:\n"
         "    dosim.plots.bench_comparison(sys.argv[1])\nexcept dosim.InputError as error:\n"
         "    print(error)\n", str(fifo)],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT)))
    assert probe.stdout == f"{fifo}: cannot read the bench results: not a regular file (a " \
                           "device, a FIFO or a socket)\n", (probe.stdout, probe.stderr)


def test_downsample_keeps_extremes_and_short_series():
    rng = np.random.default_rng(7)
    x = np.arange(100_000) * 0.5
    y = rng.normal(size=x.size)
    y[12_345], y[77_777] = 50.0, -40.0
    xs, ys = plots.downsample(x, y)
    assert len(xs) <= plots.MAX_POINTS and len(xs) == len(ys)
    assert np.all(np.diff(xs) > 0)
    assert ys.max() == 50.0 and ys.min() == -40.0
    assert set(xs) <= set(x)
    # 1,000 buckets of 100 points: each 1 % of the run (10 whole buckets) keeps its extremes.
    for chunk in np.array_split(np.arange(x.size), 100):
        inside = (xs >= x[chunk[0]]) & (xs <= x[chunk[-1]])
        assert ys[inside].max() == y[chunk].max() and ys[inside].min() == y[chunk].min()
    short_x, short_y = plots.downsample(x[:500], y[:500])
    assert np.array_equal(short_x, x[:500]) and np.array_equal(short_y, y[:500])


def test_import_dosim_does_not_load_matplotlib():
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, dosim, dosim.plots; "
         "print('matplotlib' in sys.modules)"],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT)))
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "False"


@pytest.mark.skipif(importlib.util.find_spec("nbconvert") is None
                    or importlib.util.find_spec("ipykernel") is None,
                    reason="nbconvert or ipykernel is not installed")
def test_a_notebook_shows_each_returned_figure_once(region_outage):
    cells = ["import dosim, dosim.plots\n"
             f"trace = dosim.load_trace({str(region_outage)!r})",
             "dosim.plots.service_map(trace)",
             "dosim.plots.timeline(trace, start='30m', end='1h')",
             "for i in trace.incidents['id']:\n"
             "    fig = dosim.plots.incident_metrics(trace, int(i))\nfig",
             "import matplotlib.pyplot as plt\nplt.get_fignums()"]
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None,
                           "outputs": [], "source": c} for c in cells],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                            "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    folder = OUT / "notebook"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plots.ipynb").write_text(json.dumps(notebook))
    run = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
         "--output", "plots-out.ipynb", str(folder / "plots.ipynb")],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), PYDEVD_DISABLE_FILE_VALIDATION="1"))
    assert run.returncode == 0, run.stderr[-3000:]
    executed = json.loads((folder / "plots-out.ipynb").read_text())["cells"]
    images = [sum("image/png" in o.get("data", {}) for o in cell["outputs"])
              for cell in executed]
    assert images == [0, 1, 1, 1, 0], images
    assert "".join(executed[-1]["outputs"][0]["data"]["text/plain"]) == "[]"  # pyplot kept none


def test_the_public_helpers_take_a_path_and_refuse_what_the_trace_lacks(region_outage):
    """root_services, affected_services, service_states and matched_alerts take a trace's
    path as the plots do (docs/python.md), and give what they give on the opened Trace; an
    incident the trace does not have is an InputError (affected_services returned [] for
    it); detector_alerts refuses a window that ends before it starts, as timeline does;
    incident_metrics takes one metric's name, and refuses none."""
    path = str(region_outage)
    with dosim_package.load_trace(path) as t:
        name = str(t.incidents["name"].iloc[0])
        assert plots.root_services(path, 0) == plots.root_services(t, 0) != []
        assert plots.affected_services(path, 0) == plots.affected_services(t, 0) \
            == plots.affected_services(t, name) != []
        assert list(plots.service_states(path)) == list(plots.service_states(t))
        assert plots.matched_alerts(path, 0).equals(plots.matched_alerts(t, 0))
    for call in (lambda: plots.affected_services(path, 99),
                 lambda: plots.affected_services(path, "no-such-incident")):
        with pytest.raises(dosim_package.InputError, match="no incident"):
            call()
    for start, end in (("2h", "1h"), ("1h", "1h"), (None, "-5m")):
        with pytest.raises(dosim_package.InputError, match="must be after start"):
            plots.detector_alerts(path, start=start, end=end)
    fig = plots.incident_metrics(path, 0, metrics="rps")
    assert len([ax for ax in fig.axes if ax.get_visible()]) >= 1
    with pytest.raises(dosim_package.InputError, match="metrics is empty"):
        plots.incident_metrics(path, 0, metrics=())
    # tiers: an edge past its n is an InputError (it was a bare IndexError); numpy ints count.
    import numpy as np
    assert plots.tiers(3, [(np.int64(0), 1), (1, 2)]) == [0, 1, 2]
    for edges in ([(0, 5)], [(0,)], [(0, 1.5)]):
        with pytest.raises(dosim_package.InputError, match=r"tiers: an edge is a \(caller, callee\)"):
            plots.tiers(3, edges)
