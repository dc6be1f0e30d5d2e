"""`dosim bench`: detectors x scenarios x seeds.

- the JSON is byte-identical for 1 and 2 threads;
- it holds one run per (scenario, seed), seeds counting up from the scenario's own;
- a detector named after a scenario's own detector scores exactly what `dosim run` and
  `dosim score --json` report for that detector on the same seed (a different code path:
  trace written, read back, scored);
- the summary's median, min and max are those of the runs, recomputed here;
- a run's `ttd_s` are its `time_to_detect_ns` in seconds, and the random baseline's
  precision and recall are beside the detector's;
- `--report` writes one self-contained HTML page (no reference outside it) that embeds the
  same JSON as `--out` and holds a table per scenario with a row per detector and the null
  baseline, identical for 1 and 2 threads;
- `surprise`, with the bench's settings, alerts through payments-mad's whole incident;
- bad input (unknown detector, missing scenario, --seeds 0, an unwritable --out or --report,
  an output naming an input) exits 2 with a message.
"""
import html.parser
import json
import os
import re
import statistics
import sys

import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim

SCENARIOS = [str(SOURCE_DIR / "scenarios" / "payments-mad.yaml"),
             str(SOURCE_DIR / "scenarios" / "crash-loop.yaml")]
DETECTORS = "mad,threshold,ewma,burn_rate"


def bench(threads, out, detectors=DETECTORS, scenarios=SCENARIOS, seeds=2, report=None):
    extra = ["--report", report] if report else []
    result = dosim("bench", "--detectors", detectors, "--scenarios", ",".join(scenarios),
                   "--seeds", seeds, "--threads", threads, "--out", out, "--quiet", *extra,
                   timeout=300)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def tiny_bench():
    """The tiny bench on 1 and on 2 threads, with --out and --report: paths and tables."""
    paths = {k: os.path.join(TMP, f"bench-{k}") for k in ("1.json", "2.json", "1.html", "2.html")}
    table_one = bench(1, paths["1.json"], report=paths["1.html"]).stdout
    table_two = bench(2, paths["2.json"], report=paths["2.html"]).stdout
    return paths, table_one, table_two


def test_results_identical_for_any_thread_count(tiny_bench):
    paths, table_one, table_two = tiny_bench
    one, two = paths["1.json"], paths["2.json"]
    with open(one, "rb") as a, open(two, "rb") as b:
        assert a.read() == b.read()
    with open(paths["1.html"], "rb") as a, open(paths["2.html"], "rb") as b:
        assert a.read() == b.read()
    def strip(text):  # what legitimately differs: the thread count, wall time, output paths
        return [line for line in text.splitlines()
                if not any(word in line for word in ("thread", "wall time", "results", "report"))]
    assert strip(table_one) == strip(table_two)
    results = json.load(open(one))
    assert results["detectors"] == DETECTORS.split(",")
    runs = results["runs"]
    assert [(os.path.basename(r["scenario"]), r["seed"]) for r in runs] == [
        ("payments-mad.yaml", 2024), ("payments-mad.yaml", 2025), ("crash-loop.yaml", 808),
        ("crash-loop.yaml", 809)], [(r["scenario"], r["seed"]) for r in runs]
    for name in DETECTORS.split(",") + ["null"]:
        for metric, s in results["summary"][name].items():
            values = [r["scores"][name][metric] for r in runs if r["scores"][name][metric] is not None]
            assert s["runs"] == len(values)
            if values:
                assert s["median"] == statistics.median(values), (name, metric)
                assert (s["min"], s["max"]) == (min(values), max(values)), (name, metric)
    null = results["summary"]["null"]
    assert null["recall"]["max"] == 0 and null["alerts"]["max"] == 0
    assert "mad" in table_one and "null" in table_one


def test_runs_hold_every_ttd_and_the_random_baseline(tiny_bench):
    runs = json.load(open(tiny_bench[0]["1.json"]))["runs"]
    detected = 0
    for run in runs:
        for name, s in run["scores"].items():
            # The same doubles as the bench's: nanoseconds times 1e-9.
            assert s["ttd_s"] == [ns / 1e9 for ns in s["time_to_detect_ns"]], (name, s)
            assert len(s["ttd_s"]) == s["detected_incidents"]
            assert s["ttd_s"] == sorted(s["ttd_s"])
            assert s["ttd_median_s"] is None if not s["ttd_s"] else s["ttd_median_s"] in s["ttd_s"]
            detected += len(s["ttd_s"])
            p, r = s["precision_random"], s["recall_random"]
            assert 0 <= p <= 1 and 0 <= r <= 1, (name, s)
            assert s["f1_random"] == pytest.approx(2 * p * r / (p + r) if p + r else 0), (name, s)
            assert s["false_alarms_per_hour_random"] is None or s["false_alarms_per_hour_random"] >= 0
        assert run["scores"]["null"]["recall_random"] == 0
    assert detected > 0


class _Page(html.parser.HTMLParser):
    """What a test needs of the report: external references, the embedded data, the tables
    (per table its attributes and, per row, the median shown in each cell)."""

    def __init__(self):
        super().__init__()
        self.references = []  # src= / href= values
        self.data = None      # the text of <script id="dosim-data">
        self.tables = []      # [(attributes, {data-detector: {data-metric: median text}})]
        self._in_data = False
        self._cell = None     # (row, metric) while in a cell, before its span.range
        self._row = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.references += [attrs[k] for k in ("src", "href") if attrs.get(k) is not None]
        if tag == "script" and attrs.get("id") == "dosim-data":
            self._in_data, self.data = True, ""
        if tag == "table" and "bench-table" in (attrs.get("class") or "").split():
            self.tables.append((attrs, {}))
        if tag == "tr" and "data-detector" in attrs and self.tables:
            self._row = attrs["data-detector"]
            self.tables[-1][1][self._row] = {}
        if tag == "td" and "data-metric" in attrs and self._row is not None:
            self._cell = attrs["data-metric"]
            self.tables[-1][1][self._row][self._cell] = ""
        if tag == "span" and "range" in (attrs.get("class") or "").split():
            self._cell = None

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_data = False
        if tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._in_data:
            self.data += data
        if self._cell is not None:
            self.tables[-1][1][self._row][self._cell] += data


# The bench's table columns: key and printf format.
COLUMNS = [("precision", "%.2f"), ("recall", "%.2f"), ("f1", "%.2f"), ("f1_random", "%.2f"),
           ("ttd_median_s", "%.0f"), ("false_alarms_per_hour", "%.2f"), ("alerts", "%.0f"),
           ("nab_standard", "%.1f"), ("range_f1", "%.2f")]


def shown(form, value):
    """A value as the bench's tables show it: a whole-number column keeps a half median."""
    return "%.1f" % value if form == "%.0f" and value != int(value) else form % value


def test_report_is_one_page_with_the_results_and_a_table_per_scenario(tiny_bench):
    paths, table_text = tiny_bench[0], tiny_bench[1]
    text = open(paths["1.html"], encoding="utf-8").read()
    page = _Page()
    page.feed(text)
    # Nothing outside the file: no scripts, styles, images or fonts fetched.
    assert not [r for r in page.references if re.match(r"\s*(https?:)?//", r)], page.references
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//|<link\b(?![^>]*href=\"data:)", text, re.I)
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.I)
    assert "const DosimCharts" in text  # the scripts inline
    # The embedded data is the --out JSON.
    assert page.data is not None
    results = json.load(open(paths["1.json"]))
    assert json.loads(page.data) == results
    # The overall table, then one per scenario: a row per detector, then the null baseline.
    rows = DETECTORS.split(",") + ["null"]
    overall = [t for t in page.tables if "data-overall" in t[0]]
    assert len(overall) == 1 and list(overall[0][1]) == rows
    per_scenario = [t for t in page.tables if "data-scenario" in t[0]]
    assert [t[0]["data-scenario"] for t in per_scenario] == SCENARIOS
    for attrs, cells in per_scenario:
        assert list(cells) == rows, attrs
    # The overall table's medians are those of the bench's text table...
    for line in table_text.splitlines():
        name, *rest = line.split() or [""]
        if name in rows:
            printed = re.findall(r"(\S+)(?: \(\S+\))?", line.split(None, 1)[1])
            assert printed == [overall[0][1][name][key] for key, _ in COLUMNS], (name, line)
    # ...and each scenario's those of its runs.
    for attrs, cells in per_scenario:
        runs = [r for r in results["runs"] if r["scenario"] == attrs["data-scenario"]]
        for name in rows:
            for key, form in COLUMNS:
                values = [r["scores"][name][key] for r in runs if r["scores"][name][key] is not None]
                expected = shown(form, statistics.median(values)) if values else "-"
                assert cells[name][key] == expected, (attrs, name, key)


def seed_of(path):
    for line in open(path):
        if line.startswith("seed:"):
            return int(line.split(":")[1])
    raise AssertionError(f"no seed in {path}")


def test_scenario_detector_scores_match_dosim_score():
    scenario = SCENARIOS[0]
    out = os.path.join(TMP, "bench-own.json")
    bench(1, out, detectors="mad-services", scenarios=[scenario], seeds=2)
    runs = json.load(open(out))["runs"]
    for run in runs:
        trace = os.path.join(TMP, f"bench-own-{run['seed']}.h5")
        result = dosim("run", scenario, "--seed", run["seed"], "--out", trace, "--quiet",
                       timeout=300)
        assert result.returncode == 0, result.stderr
        scored = dosim("score", trace, "--json", timeout=60)
        assert scored.returncode == 0, scored.stderr
        expected = json.loads(scored.stdout)["scores"]["mad-services"]
        got = run["scores"]["mad-services"]
        for metric in ("precision", "recall", "f1", "false_alarms_per_hour"):
            assert got[metric] == expected[metric], (run["seed"], metric, got, expected)
        assert got["alerts"] == expected["alerts"]
        assert got["ttd_median_s"] == expected["time_to_detect_median_ns"] / 1e9
    assert runs[0]["seed"] == seed_of(scenario)


def test_a_detector_scores_the_same_whoever_runs_beside_it():
    # auto-rollback's playbook rolls the release back when errors-high alerts: were it to run
    # in a bench, benching errors-high beside mad would shorten the incident mad is scored on.
    scenario = os.path.join(SOURCE_DIR, "scenarios", "auto-rollback.yaml")
    alone, beside = os.path.join(TMP, "bench-alone.json"), os.path.join(TMP, "bench-beside.json")
    bench(1, alone, detectors="mad", scenarios=[scenario], seeds=2)
    bench(1, beside, detectors="mad,errors-high", scenarios=[scenario], seeds=2)
    runs_alone, runs_beside = json.load(open(alone))["runs"], json.load(open(beside))["runs"]
    for a, b in zip(runs_alone, runs_beside):
        assert a["scores"]["mad"] == b["scores"]["mad"], (a["seed"], a["scores"], b["scores"])
        assert b["scores"]["errors-high"]["alerts"] > 0  # it alerted, and nothing acted on it


def test_surprise_alerts_as_long_as_the_incident_lasts():
    # dosim bench runs surprise with a day's level and `clip: 3` (detectors/registry.cc):
    # payments-mad's 8-minute incident stays surprising while it lasts, so its alerts cover
    # most of it (range recall: half for detecting it, half the share of its rows covered);
    # with NAB's settings (`window: 288`, no clip) the level and the likelihood take the
    # incident in within a minute or two and cover a sixth of it.
    out = os.path.join(TMP, "bench-surprise.json")
    bench(1, out, detectors="surprise,surprise:window=288:clip=0",
          scenarios=[SCENARIOS[0]], seeds=1)
    scores = json.load(open(out))["runs"][0]["scores"]
    assert scores["surprise"]["recall"] == 1.0 and scores["surprise"]["false_alarms"] == 0
    assert scores["surprise"]["range_recall"] > 0.8, scores["surprise"]
    assert scores["surprise:window=288:clip=0"]["range_recall"] < 0.5


def test_bad_input_exits_2():
    out = os.path.join(TMP, "bench-bad.json")
    unknown = dosim("bench", "--detectors", "mda", "--scenarios", SCENARIOS[0], "--out", out)
    assert unknown.returncode == 2
    assert "'mda' is neither a detector kind" in unknown.stderr and "did you mean 'mad'" in unknown.stderr
    # A token's parameter problem is the token's, not the scenario file's (it said
    # "SCENARIO.yaml: detector 'mad:window=2': ...").
    token = dosim("bench", "--detectors", "mad:window=2", "--scenarios", SCENARIOS[0])
    assert token.returncode == 2
    assert token.stderr.startswith("--detectors: detector 'mad:window=2': 'window' must be"), \
        token.stderr
    # A token's for= takes its unit (for=10 was read as 10 s without a word).
    bare = dosim("bench", "--detectors", "mad:for=10", "--scenarios", SCENARIOS[0])
    assert bare.returncode == 2 and "'for' must be a duration with its unit (like 15s, 1m), " \
        "got '10' (10s or 10ms?)" in bare.stderr, bare.stderr
    # A negative one has its unit: it is below 0 (it said "must be a duration with its unit").
    negative = dosim("bench", "--detectors", "mad:for=-5s", "--scenarios", SCENARIOS[0])
    assert negative.returncode == 2 and "'for' must be >= 0, got '-5s'" in negative.stderr, \
        negative.stderr
    # "threshold, mda" as one argument: the space is no part of the name (it said "' mda'").
    spaced = dosim("bench", "--detectors", "threshold, mda", "--scenarios", SCENARIOS[0])
    assert spaced.returncode == 2 and "--detectors: 'mda' is neither" in spaced.stderr, spaced.stderr
    missing = dosim("bench", "--detectors", "mad", "--scenarios", "no-such.yaml")
    assert missing.returncode == 2 and "no-such.yaml" in missing.stderr, missing.stderr
    zero = dosim("bench", "--detectors", "mad", "--scenarios", SCENARIOS[0], "--seeds", "0")
    assert zero.returncode == 2, zero.stderr
    # A bad --detectors spec is every scenario's problem: said once, not once a scenario.
    twice = dosim("bench", "--detectors", "threshold:metric=error_ratio", "--scenarios",
                  ",".join(SCENARIOS))
    assert twice.returncode == 2 and "1 problem" in twice.stderr, twice.stderr
    assert twice.stderr.count("expected a number for 'metric'") == 1, twice.stderr
    # The scenario's own detector with a kind's parameters: said so, not "did you mean" it.
    own = dosim("bench", "--detectors", "mad-services:window=32", "--scenarios", SCENARIOS[0])
    assert own.returncode == 2, own.stderr
    assert "'mad-services' is a detector of" in own.stderr and "did you mean" not in own.stderr, own.stderr


@pytest.mark.parametrize("option", ["--out", "--report"])
def test_unwritable_output_exits_2_before_any_run(option):
    folder = os.path.join(TMP, "no-such-folder", "bench.out")
    result = dosim("bench", "--detectors", "mad", "--scenarios", SCENARIOS[0], option, folder)
    assert result.returncode == 2, result.stderr
    assert folder in result.stderr and "cannot write" in result.stderr, result.stderr
    assert "dosim bench:" not in result.stdout  # no run, no table
    # An output that names an input (or the other output) is refused too.
    named = dosim("bench", "--detectors", "mad", "--scenarios", SCENARIOS[0], option, SCENARIOS[0])
    assert named.returncode == 2 and "it is also" in named.stderr, named.stderr
    both = os.path.join(TMP, "bench-both")
    if os.path.exists(both):
        os.remove(both)
    same = dosim("bench", "--detectors", "mad", "--scenarios", SCENARIOS[0], "--out", both,
                 "--report", both)
    assert same.returncode == 2 and "it is also" in same.stderr, same.stderr
    assert not os.path.exists(both)  # nothing written


def test_a_refused_bench_leaves_an_earlier_output_as_it_was():
    """The outputs are checked before any run and written whole at the end: a bench refused
    for its other output (here the report naming the scenario, or in no folder) keeps the
    results file of an earlier bench, byte for byte, and reports both problems at once."""
    kept = os.path.join(TMP, "bench-kept.json")
    with open(kept, "w") as f:
        f.write('{"precious": 1}\n')
    for report in (SCENARIOS[0], os.path.join(TMP, "no-such-folder", "r.html")):
        result = dosim("bench", "--detectors", "mad", "--scenarios", SCENARIOS[0], "--out", kept,
                       "--report", report)
        assert result.returncode == 2 and "cannot write the report" in result.stderr, result.stderr
        with open(kept) as f:
            assert f.read() == '{"precious": 1}\n'
    both = dosim("bench", "--detectors", "mad", "--scenarios", SCENARIOS[0], "--out",
                 os.path.join(TMP, "no-such-folder", "o.json"), "--report", SCENARIOS[0])
    assert both.returncode == 2 and "2 problems" in both.stderr, both.stderr


def test_an_even_count_of_runs_shows_its_median_half():
    """Medians of an even count are the mean of the two middle values (docs/scoring.md): the
    table shows a whole-number column's half (5.5), as the JSON holds it."""
    out = os.path.join(TMP, "bench-halves.json")
    result = dosim("bench", "--detectors", "threshold", "--scenarios", SCENARIOS[0], "--seeds", "2",
                   "--out", out)
    assert result.returncode == 0, result.stderr
    with open(out) as f:
        summary = json.load(f)["summary"]["threshold"]
    row = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["threshold"])
    halves = 0
    for key in ("alerts", "ttd_median_s"):
        median = summary[key]["median"]
        halves += median != int(median)
        text = f"{median:.1f}" if median != int(median) else f"{median:.0f}"
        assert re.search(rf"(^|\s){re.escape(text)}(\s|\()", row), (key, text, row)
    assert halves > 0, summary  # the two seeds' alert counts differ by an odd number


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


def test_a_kind_the_scenarios_script_defines_says_to_give_the_script():
    # The scenario's script: does not run in a bench (docs/scoring.md): its Lua kind was
    # "unknown detector kind", with no word of --script.
    folder = TMP / "bench-script-kind"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "t.lua").write_text(
        'sim.detector{name = "luaz", observe = function(values, t) local s = {} '
        "for i = 1, #values do s[i] = 0 end return s end}\n")
    scenario = folder / "b.yaml"
    scenario.write_text("name: b\nduration: 1m\nscript: t.lua\nservices: [{name: web}]\n"
                        "traffic: [{name: u, entry: web, base_rps: 10}]\n"
                        "detectors: [{name: z, kind: luaz, metrics: [rps]}]\n")
    result = dosim("bench", "--scenarios", scenario, "--seeds", "1", "--detectors", "mad,z")
    assert result.returncode == 2, result.stderr
    assert "unknown detector kind 'luaz' (the scenario's script: t.lua does not run in dosim " \
           "bench: give it with --script" in result.stderr, result.stderr
    given = dosim("bench", "--scenarios", scenario, "--seeds", "1", "--detectors", "mad,z",
                  "--script", folder / "t.lua")
    assert given.returncode == 0, given.stderr
    # A detector the script defines with a watch, named in --detectors: said the same way
    # (it was only "'spike' is neither a detector kind nor a detector of w.yaml").
    (folder / "w.lua").write_text(
        'sim.detector{name = "spike", watch = {metrics = {"rps"}}, observe = function(values) '
        "local s = {} for i = 1, #values do s[i] = 0 end return s end}\n")
    watched = folder / "w.yaml"
    watched.write_text("name: w\nduration: 1m\nscript: w.lua\nservices: [{name: web}]\n"
                       "traffic: [{name: u, entry: web, base_rps: 10}]\n")
    result = dosim("bench", "--scenarios", watched, "--seeds", "1", "--detectors", "spike")
    assert result.returncode == 2, result.stderr
    assert "'spike' is neither a detector kind nor a detector of " in result.stderr and \
        "(the scenario's script: w.lua does not run in dosim bench: give it with --script" \
        in result.stderr, result.stderr


def test_a_script_detector_is_named_as_the_scripts():
    # A --script's sim.detector with a kind's parameters was "a detector of b.yaml", and a
    # slip of its name "neither a detector kind nor a detector of b.yaml": it is the script's.
    folder = TMP / "bench-script-own"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "s.lua").write_text(
        'sim.detector{name = "spike", watch = {metrics = {"rps"}}, observe = function(values) '
        "local s = {} for i = 1, #values do s[i] = 0 end return s end}\n")
    scenario = folder / "b.yaml"
    scenario.write_text("name: b\nduration: 1m\nservices: [{name: web}]\n"
                        "traffic: [{name: u, entry: web, base_rps: 10}]\n")
    script = folder / "s.lua"
    result = dosim("bench", "--scenarios", scenario, "--script", script, "--detectors",
                   "spike:threshold=2")
    assert result.returncode == 2, result.stderr
    assert "'spike' is the script's detector (sim.detector), which takes its parameters from " \
           "there" in result.stderr, result.stderr
    result = dosim("bench", "--scenarios", scenario, "--script", script, "--detectors", "spiek")
    assert result.returncode == 2, result.stderr
    assert "'spiek' is neither a detector kind nor a detector of " in result.stderr \
        and "or of its script; did you mean 'spike'?" in result.stderr, result.stderr


def test_the_default_sets_named_detectors_can_be_chosen():
    # A scenario without `detectors:` reports the default set (mad, errors-above-10pct,
    # cpu-above-80pct), but --detectors cpu-above-80pct was "neither a detector kind nor a
    # detector of" the scenario. `mad` stays the kind with the bench's configuration.
    scenario = SOURCE_DIR / "scenarios" / "retry-storm.yaml"
    assert "\ndetectors:" not in scenario.read_text()
    result = dosim("bench", "--scenarios", scenario, "--seeds", "1", "--detectors",
                   "cpu-above-80pct,errors-above-10pct,mad")
    assert result.returncode == 0, result.stderr
    assert "dosim bench: 3 detectors x 1 scenario x 1 seed = 1 run on 1 thread" in result.stdout
    rows = [line.split()[0] for line in result.stdout.splitlines()[3:6]]
    assert rows == ["cpu-above-80pct", "errors-above-10pct", "mad"], result.stdout
