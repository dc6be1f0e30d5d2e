"""dosim report and dosim run --report: the page's embedded data checked against the trace as
h5py reads it (services, edges, incidents with their propagation, every alert, detectors,
the score table's rows), the downsampling keeps each series' extremes, the page needs no
network, the same trace gives the same bytes, and bad input (not a trace, a missing one, an
unwritable output) ends in exit 2 naming the file, with nothing half-written.
"""
import json
import pathlib
import re

import h5py
import numpy as np

from dosim_test_util import SOURCE_DIR, TMP, dosim

SCENARIO = SOURCE_DIR / "scenarios" / "payments-mad.yaml"


def embedded_data(page):
    match = re.search(r'<script type="application/json" id="dosim-data">(.*?)</script>', page, re.S)
    assert match, "the page embeds its data"
    return json.loads(match.group(1).replace("<\\/", "</"))


def run_with_report(name):
    TMP.mkdir(parents=True, exist_ok=True)
    trace, page = TMP / f"{name}.h5", TMP / f"{name}.html"
    result = dosim("run", SCENARIO, "-q", "-o", trace, "--report", page)
    assert result.returncode == 0, result.stderr
    return trace, page


def text(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def test_the_page_holds_what_the_trace_holds():
    trace, page = run_with_report("payments")
    data = embedded_data(page.read_text())
    with h5py.File(trace) as f:
        assert [s["name"] for s in data["services"]] == text(f["services/name"][()])
        assert data["edges"] == [[int(a), int(b)] for a, b in zip(f["edges/src"][()], f["edges/dst"][()])]
        truth = f["truth/incidents"]
        assert [i["id"] for i in data["incidents"]] == list(truth["id"][()])
        for row, incident in enumerate(data["incidents"]):
            assert incident["root"] == int(truth["root_service"][row])
            assert incident["start"] == truth["start_ns"][row] / 1e9
            if not truth["silent"][row]:
                assert incident["impact_start"] == truth["impact_start_ns"][row] / 1e9
                ids = f["truth/propagation/incident_id"][()]
                assert incident["propagation"] == list(f["truth/propagation/edge"][()][ids == incident["id"]])
                ids = f["truth/affected/incident_id"][()]
                assert incident["affected"] == list(f["truth/affected/service"][()][ids == incident["id"]])
        alerts = f["alerts"]
        assert len(data["alerts"]["t"]) == len(alerts["t_ns"])
        assert data["alerts"]["t"] == [t / 1e9 for t in alerts["t_ns"][()]]
        assert [data["detectors"][d] for d in data["alerts"]["detector"]] == text(alerts["detector"][()])
        assert data["alerts"]["incident"] == list(alerts["incident_id"][()])
        assert data["detectors"] == text(f["detectors/name"][()])
        n = f["notifications"]
        assert [(x["t"], x["alerts"], x["resolution"]) for x in data["notifications"]] == [
            (t / 1e9, int(a), bool(r)) for t, a, r in
            zip(n["t_ns"][()], n["alerts"][()], n["resolution"][()])]
        assert any(x["resolution"] for x in data["notifications"])  # webhooks send_resolved
        assert data["facts"]["seed"] == str(f.attrs["seed"])  # text: exact past 2^53
        assert data["facts"]["trace_dosim_version"] == f.attrs["dosim_version"].decode()
        assert data["facts"]["mode"] == f.attrs["mode"].decode() == "fluid"
    assert data["facts"]["wall_s"] > 0  # dosim run --report knows it
    assert data["facts"]["scenario_path"] == str(SCENARIO)  # and the scenario's path
    rows = set(data["scores"]["scores"])
    assert set(data["detectors"]) | {"all detectors", "random baseline", "null baseline"} == rows


def test_times_late_in_a_long_run_are_exact():
    """Times on the page are the trace's to the nanosecond's double, however late in the run:
    four significant digits put an incident on day 12 at 12d3h6m40s instead of 12d3h7m."""
    TMP.mkdir(parents=True, exist_ok=True)
    scenario = TMP / "late.yaml"
    scenario.write_text("""name: late
duration: 13d
tick: 10s
record: 1h
services:
  - {name: a, replicas: 2, capacity_rps: 100, base_latency: 10ms}
  - {name: b, replicas: 2, capacity_rps: 200, base_latency: 5ms}
dependencies:
  - {caller: a, callee: b}
traffic:
  - {name: u, entry: a, base_rps: 50}
faults:
  - {name: broken, kind: error, target: {service: b}, percent: 60, start: 12d3h7m, duration: 20m}
""")
    trace, page = TMP / "late.h5", TMP / "late.html"
    result = dosim("run", scenario, "-q", "-o", trace, "--report", page)
    assert result.returncode == 0, result.stderr
    data = embedded_data(page.read_text())
    with h5py.File(trace) as f:
        truth = f["truth/incidents"]
        assert data["incidents"][0]["start"] == truth["start_ns"][0] / 1e9 == 12 * 86400 + 3 * 3600 + 7 * 60
        assert data["incidents"][0]["end"] == truth["end_ns"][0] / 1e9
        assert data["incidents"][0]["impact_start"] == truth["impact_start_ns"][0] / 1e9
        assert data["alerts"]["t"] == [t / 1e9 for t in f["alerts/t_ns"][()]]
    # A row an hour: the incident's charts still have rows on each side of its 20 minutes
    # (a margin of ten minutes held none).
    t = data["incidents"][0]["series"]["t"]
    impact_start, impact_end = data["incidents"][0]["impact_start"], data["incidents"][0]["impact_end"]
    assert sum(x < impact_start for x in t) >= 8 and sum(x > impact_end for x in t) >= 8, t


LONG = """name: long-rows
duration: 3h
tick: 1s
services:
  - {name: api, replicas: 2, capacity_rps: 100, base_latency: 5ms}
  - {name: db, replicas: 2, capacity_rps: 300, base_latency: 2ms}
dependencies:
  - {caller: api, callee: db}
traffic:
  - {name: users, entry: api, base_rps: 120, noise: 0.1}
faults:
  - {name: slow-db, kind: latency, target: {service: db}, fixedDelay: 80ms, start: 1h, duration: 20m}
"""


def test_series_are_downsampled_with_their_extremes_kept():
    TMP.mkdir(parents=True, exist_ok=True)
    scenario, trace, page = TMP / "long.yaml", TMP / "long.h5", TMP / "long.html"
    scenario.write_text(LONG)
    result = dosim("run", scenario, "-q", "-o", trace, "--report", page)
    assert result.returncode == 0, result.stderr
    data = embedded_data(page.read_text())
    overview = data["overview"]
    with h5py.File(trace) as f:
        rows = len(f["time_ns"])
        p95 = f["metrics/service/latency_p95_s"][()]
    assert overview["services"] == list(range(p95.shape[1]))
    assert len(overview["t"]) <= 800 < rows  # downsampled: two points a bucket at most
    for s in range(p95.shape[1]):
        drawn = np.array(overview["metrics"]["latency_p95_s"][s], dtype=float)
        assert np.isclose(np.nanmax(drawn), p95[:, s].max(), rtol=1e-3), s
        assert np.isclose(np.nanmin(drawn), p95[:, s].min(), rtol=1e-3), s
    # Each incident's charts cover its impact window.
    for incident in data["incidents"]:
        if incident["silent"]:
            continue
        t = incident["series"]["t"]
        assert t[0] <= incident["impact_start"] and t[-1] >= incident["impact_end"]
        assert len(t) <= 400  # half the points of the overview at most


def test_the_page_needs_no_network_and_the_same_trace_gives_the_same_bytes():
    trace, _ = run_with_report("payments")
    first, second = TMP / "first.html", TMP / "second.html"
    for out in (first, second):
        result = dosim("report", trace, "-o", out)
        assert result.returncode == 0, result.stderr
        assert str(out) in result.stdout
    page = first.read_text()
    assert first.read_bytes() == second.read_bytes()
    assert not re.search(r'(src|href)\s*=\s*["\']?https?:', page)
    assert "@import" not in page and "url(http" not in page
    assert embedded_data(page)["facts"]["wall_s"] is None  # a trace holds no wall clock
    assert embedded_data(page)["facts"]["scenario_path"] is None  # nor its scenario's path
    # The default output: the trace's name with .html.
    default = trace.with_suffix(".html")
    default.unlink(missing_ok=True)
    assert dosim("report", trace).returncode == 0
    assert default.exists()


def test_bad_input_exits_2_naming_the_file_and_writes_nothing():
    TMP.mkdir(parents=True, exist_ok=True)
    not_a_trace = TMP / "not-a-trace.h5"
    not_a_trace.write_text("hello")
    out = TMP / "never.html"
    out.unlink(missing_ok=True)
    for trace in (not_a_trace, TMP / "no-such-trace.h5"):
        result = dosim("report", trace, "-o", out)
        assert result.returncode == 2, result.stderr
        assert str(trace) in result.stderr
        assert not out.exists()
    trace, _ = run_with_report("payments")
    folder = TMP / "a-folder.html"
    folder.mkdir(exist_ok=True)
    result = dosim("report", trace, "-o", folder)
    assert result.returncode == 2 and "cannot write the report" in result.stderr
    result = dosim("run", SCENARIO, "-q", "-o", TMP / "x.h5", "--report", TMP / "no-such-folder" / "r.html")
    assert result.returncode == 2 and "cannot write the report" in result.stderr
    assert not (TMP / "x.h5").exists()  # checked before anything ran


def test_the_page_holds_what_the_responders_did():
    """scenarios/auto-rollback.yaml: the playbook's actions and each incident's loop, as the
    trace's /remediation and /truth/timeline hold them."""
    TMP.mkdir(parents=True, exist_ok=True)
    trace, page = TMP / "auto-rollback.h5", TMP / "auto-rollback.html"
    result = dosim("run", SOURCE_DIR / "scenarios" / "auto-rollback.yaml", "-q", "-o", trace,
                   "--report", page)
    assert result.returncode == 0, result.stderr
    data = embedded_data(page.read_text())
    with h5py.File(trace) as f:
        r = f["remediation"]
        assert [(a["t"], a["service"], a["action"], a["outcome"]) for a in data["remediation"]] == [
            (t / 1e9, int(s), a, o) for t, s, a, o in
            zip(r["t_ns"][()], r["service"][()], text(r["action"][()]), text(r["outcome"][()]))]
        t = f["truth/timeline"]
        assert [(e["t"], e["event"]) for e in data["incidents"][0]["loop"]] == [
            (x / 1e9, e) for x, e in zip(t["t_ns"][()], text(t["event"][()]))]
    assert [e["event"] for e in data["incidents"][0]["loop"]][:4] == [
        "impact-start", "first-alert", "first-notification", "rollback"]


def test_an_output_link_is_kept_its_file_keeps_its_mode_and_a_device_is_written_in_place():
    """A report (and an export) replaces the file a symbolic link names, not the link, and
    keeps that file's permissions; a device or pipe is written in place (never replaced by a
    regular file), and a full one is an error, exit 2."""
    import os
    import stat
    import threading
    trace, _ = run_with_report("outputs")
    folder = TMP / "outputs"
    folder.mkdir(exist_ok=True)
    for command, name in (("report", "page.html"), ("export", "series.om")):
        real, link = folder / name, folder / f"link-{name}"
        for path in (real, link):
            path.unlink(missing_ok=True)
        real.write_text("old")
        real.chmod(0o600)
        link.symlink_to(real.name)
        extra = ["--format", "openmetrics"] if command == "export" else []
        result = dosim(command, trace, "-o", link, *extra)
        assert result.returncode == 0, result.stderr
        assert link.is_symlink() and real.read_text() != "old"
        assert stat.S_IMODE(real.stat().st_mode) == 0o600
    full = dosim("report", trace, "-o", "/dev/full")
    assert full.returncode == 2 and "No space left" in full.stderr, full.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    fifo = folder / "pipe"
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo, "rb").read()))
    reader.start()
    result = dosim("report", trace, "-o", fifo)
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and received[0].startswith(b"<!DOCTYPE html>")


def test_a_page_on_standard_output_is_the_page_alone():
    """`-o -` and `-o /dev/stdout` write the page to standard output, and the line that says
    so goes to standard error: nothing may follow the page's </html>."""
    trace, _ = run_with_report("stdout")
    page = TMP / "stdout-alone.html"
    assert dosim("report", trace, "-o", page).returncode == 0
    for target in ("-", "/dev/stdout"):
        result = dosim("report", trace, "-o", target)
        assert result.returncode == 0, result.stderr
        assert result.stdout == page.read_text(), target
        assert result.stdout.rstrip().endswith("</html>")
        assert "dosim report:" in result.stderr and "KiB" in result.stderr, result.stderr
    assert not (TMP / "-").exists() and not pathlib.Path("-").exists()


def test_a_zone_or_region_outage_has_its_services_at_the_root():
    """A region's outage has no root service in /truth/incidents (-1): the page's roots are
    the services placed in the region, as dosim.plots.root_services has them (hand-checked
    here from /services/region), so the map colours them red and the timeline draws the
    fault on their lanes (it drew nothing, every service orange)."""
    TMP.mkdir(parents=True, exist_ok=True)
    trace, page = TMP / "outage.h5", TMP / "outage.html"
    result = dosim("run", SOURCE_DIR / "scenarios" / "region-outage.yaml", "-q", "-o", trace,
                   "--report", page)
    assert result.returncode == 0, result.stderr
    data = embedded_data(page.read_text())
    with h5py.File(trace) as f:
        truth = f["truth/incidents"]
        regions = text(f["services/region"][()])
        causes = text(truth["root_cause"][()])
        checked = 0
        for row, incident in enumerate(data["incidents"]):
            if not causes[row].startswith("region "):
                continue
            region = causes[row][len("region "):]
            assert int(truth["root_service"][row]) == -1
            expected = [s for s, r in enumerate(regions) if region in r.split(",")]
            assert expected and incident["roots"] == expected, (incident["roots"], expected)
            assert set(incident["series"]["services"][:1]) <= set(expected)
            checked += 1
        assert checked > 0


def test_an_empty_output_path_and_run_report_to_stdout_are_refused():
    """`-o ""` (a shell variable left empty) is refused for every output option, not read as
    the default; `dosim run --report -` is refused (it wrote a file named '-')."""
    TMP.mkdir(parents=True, exist_ok=True)
    trace = TMP / "empty-out.h5"
    assert dosim("run", SCENARIO, "-q", "-o", trace).returncode == 0
    for args in (["report", trace, "-o", ""], ["export", trace, "-f", "csv", "-o", ""],
                 ["run", SCENARIO, "-q", "-o", ""], ["run", SCENARIO, "-q", "--events", ""],
                 ["run", SCENARIO, "-q", "-o", trace, "--report", ""]):
        result = dosim(*args, cwd=TMP)
        assert result.returncode == 2 and "must name a file (the path is empty)" in result.stderr, \
            (args, result.returncode, result.stderr)
    result = dosim("run", SCENARIO, "-q", "-o", trace, "--report", "-", cwd=TMP)
    assert result.returncode == 2 and "--report -: the run prints its summary" in result.stderr, \
        result.stderr
    assert not (TMP / "-").exists()
