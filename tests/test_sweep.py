"""`dosim sweep`: grids over scenario parameters, scored as `dosim bench` scores.

- a grid of 2 x 2 values, 3 random samples and 2 modes expands to the cells and runs it
  should, in the documented order, each cell's values written into its scenario;
- a path that addresses nothing is reported at its line and column in the sweep file, a
  value the scenario loader rejects at the value's, all at once, with exit code 2 and nothing
  written;
- the results (JSON and HDF5) are byte-identical for 1 and 2 threads, for 3 shards merged,
  for a sweep killed midway then resumed, and for 3 MPI ranks (mpirun on loopback), fresh
  or resumed;
- the runs hold what `dosim bench` reports for the same scenario, detector and seed;
- the HDF5 file reads with h5py (and pandas), and holds the JSON's tables, a path with a '/'
  too, with the snippet of docs/sweep.md;
- a value is a number as the results' header reads numbers (`+-5` is text, 4e-320 a number);
- a merge names a shard whose header is not whole, a resume refuses runs made before a file
  the runs read (a Python detector's module) changed;
- too many cells or runs are reported at the key that makes them, with the other problems.
"""
import json
import os
import stat
import shutil
import signal
import statistics
import subprocess
import time

import pytest

from dosim_test_util import DOSIM, SOURCE_DIR, TMP, Checks, dosim

DATA = SOURCE_DIR / "tests" / "data" / "sweep"
GRID = DATA / "grid.yaml"
WORK = TMP / "sweep"
# A sweep slow enough to be killed midway: 12 runs of 10 simulated hours each (~0.2 s a run).
SLOW = """scenario: {scenario}
parameters:
  - path: duration
    values: [10h]
  - path: services[name=api].capacity_rps
    values: [120, 160, 200]
detectors: [mad]
seeds: 4
"""
MPIRUN = shutil.which("mpirun")
MPI_FLAGS = ["--oversubscribe", "--allow-run-as-root", "-np", "3"]
MPI_ENV = dict(os.environ, OMPI_MCA_btl_vader_single_copy_mechanism="none",
               OMPI_MCA_rmaps_base_oversubscribe="1")


def setup_module():
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)


def sweep(*args, ok=True, timeout=120):
    result = dosim("sweep", *args, timeout=timeout)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write_sweep(name, text):
    path = WORK / name
    path.write_text(text.format(scenario=DATA / "tiny-shop.yaml"))
    return path


@pytest.fixture(scope="module")
def single():
    """The grid sweep in one process on one thread: JSON and HDF5."""
    out = WORK / "single"
    sweep(GRID, "--threads", 1, "-o", f"{out}.json", "-o", f"{out}.h5", "--quiet")
    return {"json": read(f"{out}.json"), "h5": read(f"{out}.h5"), "path": out}


@pytest.fixture(scope="module")
def slow_single():
    path = write_sweep("slow.yaml", SLOW)
    out = WORK / "slow-single.json"
    sweep(path, "--threads", 2, "-o", out, "--quiet")
    return path, read(out)


def test_grid_random_samples_and_modes_expand_in_order():
    path = write_sweep("expand.yaml", """scenario: {scenario}
parameters:
  - path: services[name=api].capacity_rps
    values: [120, 200]
  - path: faults[0].percent
    values: [30, 90]
random:
  samples: 3
  seed: 5
  ranges:
    - {{path: "dependencies[caller=web,callee=api].timeout", min: 0.1, max: 2, log: true, unit: s}}
    - {{path: "services[name=web].replicas", min: 1, max: 4, integer: true}}
detectors: [mad, ewma]
modes: [fluid, requests]
seeds: 2
""")
    result = sweep(path, "--dry-run", "--table-rows", 100)
    checks = Checks()
    checks("2 x 2 x 3 x 2 = 24 cells" and "24 cells x 2 seeds = 48 runs, 2 detectors each"
           in result.stdout, result.stdout)
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    checks(len(rows) == 24, f"{len(rows)} cells listed")
    # The last grid parameter varies fastest, then the random sample, then the mode.
    expected = [(capacity, percent, mode) for capacity in ("120", "200") for percent in ("30", "90")
                for _ in range(3) for mode in ("fluid", "requests")]
    checks([(r[3], r[4], r[2]) for r in rows] == expected, [r[2:5] for r in rows])
    timeouts = [r[5] for r in rows]
    checks(timeouts[:6] == timeouts[6:12], "every grid point has the same random samples")
    for timeout in timeouts:
        seconds = float(timeout.rstrip("s"))
        checks(timeout.endswith("s") and 0.1 <= seconds <= 2, f"timeout {timeout} in [0.1s, 2s]")
    checks(all(r[6] in ("1", "2", "3", "4") for r in rows), "replicas are whole numbers in [1, 4]")
    # A cell's scenario has its values written in, every other line as it was.
    scenario = sweep(path, "--show-scenario", 13).stdout
    checks("{name: api, replicas: 2, capacity_rps: 200, base_latency: 12ms}" in scenario, scenario)
    checks("    percent: 30\n" in scenario, scenario)
    checks(f"timeout: {timeouts[13]}, retries: 1}}" in scenario, scenario)
    original = (DATA / "tiny-shop.yaml").read_text().splitlines()
    # ... and the mode the sweep sets it (it ran differently without: tiny-shop is fluid).
    checks("\nmode: requests\n" in scenario, scenario)
    checks(len(scenario.splitlines()) == len(original) + 1, "the same lines and the mode")
    checks("\nmode: fluid\n" in sweep(path, "--show-scenario", 12).stdout, "cell 12 is fluid")
    # --dry-run checks the outputs as a run would, and --quiet prints nothing but problems.
    for out, problem in (("x.txt", "a results file ends in .json"),
                         ("/nonexistent/x.json", "cannot write the results")):
        bad = sweep(path, "--dry-run", "--out", out, ok=False)
        checks(bad.returncode == 2 and problem in bad.stderr, bad.stderr)
    quiet = sweep(path, "--dry-run", "--quiet")
    checks(quiet.stdout == "", quiet.stdout)
    checks.assert_passed()


def test_problems_are_reported_at_their_line_and_column_all_at_once():
    path = write_sweep("bad.yaml", """scenario: {scenario}
parameters:
  - path: services[name=apii].capacity_rps
    values: [120, 200]
  - path: faults[0].percentt
    values: [30, 40]
  - path: dependencies[caller=web,callee=api].timeout
    values: [1s, fast]
  - path: services[name=db].replicas
    values: [2, -1]
detectors: [mad, nosuch, "mad:window=2"]
seeds: 2
script: no-such-script.lua
""")
    out = WORK / "bad.json"
    result = sweep(path, "-o", out, ok=False)
    name = str(path)
    expected = [
        f"{name}:3:20: 'services[name=apii].capacity_rps' addresses nothing in",
        "no entry of 'services' with name=apii; did you mean 'api'?",
        f"{name}:5:11: unknown key 'percentt' in fault; did you mean 'percent'?",
        f"{name}:8:18: expected a duration",
        f"{name}:10:17: 'replicas' must be",
        f"{name}:11:18: 'nosuch' is neither a detector kind",
        # a token's own parameter problem, at the token, beside an unknown kind
        f"{name}:11:27: detector 'mad:window=2': 'window' must be a whole number in [3, 256]",
        # a script that is not there, at its key, with the others (not first in a run)
        f"{name}:13:9: cannot read the script '",
    ]
    checks = Checks()
    checks(result.returncode == 2, f"exit code {result.returncode}")
    for text in expected:
        checks(text in result.stderr, f"'{text}' not in:\n{result.stderr}")
    checks(not out.exists(), "no results written")
    checks("Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr)
    # A key the path adds is the path's mistake: said once, not once a value (it was).
    checks(result.stderr.count("unknown key 'percentt'") == 1
           and "tiny-shop.yaml, faults[0].percentt)" in result.stderr, result.stderr)
    # The sweep file's own mistakes: unknown keys, a range without a number, a column's name.
    path = write_sweep("bad-keys.yaml", """scenario: {scenario}
parameter:
  - path: seed
    values: [1]
random: {{samples: 2, ranges: [{{path: "faults[0].percent", min: 10}}]}}
detectors: [mad]
""")
    result = sweep(path, ok=False)
    checks(result.returncode == 2, f"exit code {result.returncode}")
    for text in (f"{path}:2:1: unknown key 'parameter' in sweep; did you mean 'parameters'?",
                 f"{path}:5:31: missing required key 'max' in range"):
        checks(text in result.stderr, f"'{text}' not in:\n{result.stderr}")
    # A selector's field that no entry has: the field's typo, at the field (it was said as
    # "no entry with calee=api; did you mean ..." of the values).
    path = write_sweep("bad-field.yaml", """scenario: {scenario}
parameters:
  - path: dependencies[caller=web,calee=api].timeout
    values: [1s]
detectors: [mad]
""")
    result = sweep(path, ok=False)
    text = (f"{path}:3:35: 'dependencies[caller=web,calee=api].timeout' addresses nothing in")
    checks(result.returncode == 2 and text in result.stderr
           and "no entry of 'dependencies' has a field 'calee'; did you mean 'callee'?"
           in result.stderr, result.stderr)
    # A scenario that does not load: its problems and the paths' said together (the paths'
    # were said only once it loaded).
    broken = WORK / "broken-scenario.yaml"
    broken.write_text("name: t\nduration: 1h\nservices: [{name: a, capacity_rps: fast}]\n")
    path = write_sweep("broken-scenario-sweep.yaml", f"""scenario: {broken}
parameters:
  - path: services[name=b].replicas
    values: [1, 2]
detectors: [mad]
""")
    result = sweep(path, "--dry-run", ok=False)
    checks(result.returncode == 2
           and f"{path}:3:20: 'services[name=b].replicas' addresses nothing in" in result.stderr
           and f"{broken}:3:36: expected a number for 'capacity_rps', got 'fast'"
           in result.stderr, result.stderr)
    # "mad, ewma" is two detectors; a bad one is said at its own column, without the space
    # (it was "' ewmaa'" at the opening quote).
    path = write_sweep("bad-token.yaml", """scenario: {scenario}
parameters:
  - path: services[name=api].replicas
    values: [2]
detectors: ["mad, ewmaa", mad:window=2]
""")
    result = sweep(path, ok=False)
    checks(result.returncode == 2
           and f"{path}:5:19: 'ewmaa' is neither a detector kind" in result.stderr
           and f"{path}:5:27: detector 'mad:window=2'" in result.stderr, result.stderr)
    path = write_sweep("two-tokens.yaml", """scenario: {scenario}
parameters:
  - path: services[name=api].replicas
    values: [2, 3]
detectors: mad, ewma
""")
    checks("2 detectors each" in sweep(path, "--dry-run").stdout, "mad, ewma: two detectors")
    # The file's own mistakes and the cells' together (the cells' were said only once the
    # file's were fixed).
    path = write_sweep("bad-both.yaml", """scenario: {scenario}
paramters: []
parameters:
  - path: services[name=apii].capacity_rps
    values: [250]
detectors: [madd]
seeds: 0
""")
    result = sweep(path, ok=False)
    checks(result.returncode == 2, f"exit code {result.returncode}")
    for text in (f"{path}:2:1: unknown key 'paramters' in sweep; did you mean 'parameters'?",
                 f"{path}:4:20: 'services[name=apii].capacity_rps' addresses nothing",
                 f"{path}:6:13: 'madd' is neither a detector kind",
                 f"{path}:7:8: 'seeds' must be in [1, 100000], got 0", "4 problems"):
        checks(text in result.stderr, f"'{text}' not in:\n{result.stderr}")
    # An empty 'modes' (as empty 'seeds' and 'values'), and a bad value said once.
    path = write_sweep("empty-modes.yaml", """scenario: {scenario}
parameters:
  - path: services[name=api].replicas
    values: [{{a: 1}}]
modes: []
detectors: [mad]
""")
    result = sweep(path, "--dry-run", ok=False)
    checks(result.stderr.endswith(f"{path}:4:14: expected a value (a number or a text) in 'values', "
                                  f"got a mapping\n{path}:5:8: 'modes' lists no mode: fluid, "
                                  "requests or both (or leave it out: the scenario's own)\n"
                                  "2 problems\n"), result.stderr)
    # A list of bad seeds is said once per seed, not also as "lists no seed".
    path = write_sweep("bad-seeds.yaml", "scenario: {scenario}\ndetectors: [mad]\nseeds: [-1]\n")
    result = sweep(path, "--dry-run", ok=False)
    checks(result.returncode == 2 and "lists no seed" not in result.stderr and
           "1 problem" in result.stderr, result.stderr)
    # A scenario listed twice, by another spelling of its path too: refused, as a seed or a
    # mode twice is (it ran the same cells twice).
    path = write_sweep("scenario-twice.yaml", "scenarios: [{scenario}, " +
                       str(DATA / "." / "tiny-shop.yaml").replace("/tiny", "/./tiny") +
                       "]\ndetectors: [mad]\n")
    result = sweep(path, "--dry-run", ok=False)
    checks(f"{path}:1:" in result.stderr and "is listed twice (first at line 1)" in result.stderr,
           result.stderr)
    # A random range out of range: its first sample's problem, then a count, not a line each.
    path = write_sweep("many-samples.yaml", """scenario: {scenario}
random:
  samples: 200
  ranges:
    - {{path: "faults[0].percent", min: 150, max: 500}}
detectors: [mad]
""")
    result = sweep(path, "--dry-run", ok=False)
    lines = result.stderr.splitlines()
    checks(len(lines) == 3 and "a random sample)" in lines[0] and
           lines[1].endswith("and 199 more random samples of 'faults[0].percent' with problems "
                             "(each sample is checked)") and lines[2] == "200 problems", lines[:5])
    # A scenario's detector the sweep does not run: its values would change nothing.
    scenario = WORK / "with-detector.yaml"
    scenario.write_text((DATA / "tiny-shop.yaml").read_text() +
                        "detectors:\n  - {name: errs, kind: threshold, metrics: [error_ratio],"
                        " params: {above: 0.2}}\n")
    path = write_sweep("unrun.yaml", f"""scenario: {scenario}
parameters:
  - path: detectors[name=errs].params.above
    values: [0.1, 0.3]
detectors: [mad]
""")
    result = sweep(path, "--dry-run", ok=False)
    checks(result.returncode == 2 and f"{path}:3:11: 'detectors[name=errs].params.above' changes "
           "detector 'errs' of" in result.stderr, result.stderr)
    path.write_text(path.read_text().replace("detectors: [mad]", "detectors: [mad, errs]"))
    checks(sweep(path, "--dry-run").returncode == 0, "run, it may be swept")
    checks.assert_passed()


def test_results_are_identical_for_any_thread_count(single):
    out = WORK / "two-threads"
    sweep(GRID, "--threads", 2, "-o", f"{out}.json", "-o", f"{out}.h5", "--quiet")
    assert read(f"{out}.json") == single["json"]
    assert read(f"{out}.h5") == single["h5"]


def test_the_tables_hold_every_cell_run_and_detector(single):
    results = json.loads(single["json"])
    checks = Checks()
    checks(results["format"] == "dosim-sweep" and results["runs_total"] == 8, results["runs_total"])
    checks(len(results["cells"]) == 4, len(results["cells"]))
    checks(results["rows"] == ["mad", "threshold:above=0.05", "null"], results["rows"])
    runs, summary = results["runs"], results["summary"]
    checks(len(runs) == 8 * 3 and len(summary) == 4 * 3, (len(runs), len(summary)))
    checks([r["seed"] for r in runs[::3]] == [7, 8] * 4, "seeds: the scenario's seed, +1")
    checks([(r["services[name=api].capacity_rps"], r["faults[0].percent"]) for r in runs[::6]] ==
           [(120, 30), (120, 90), (200, 30), (200, 90)], "cells in order")
    for row in summary:
        values = [r["f1"] for r in runs if r["cell"] == row["cell"] and r["detector"] == row["detector"]]
        checks(row["f1_median"] == statistics.median(values), (row, values))
        checks((row["f1_min"], row["f1_max"]) == (min(values), max(values)), row)
        checks(row["seeds"] == 2 and row["f1_n"] == 2, row)
    checks(all(r["recall"] == 0 and r["alerts"] == 0 for r in runs if r["detector"] == "null"),
           "the null detector alerts never")
    checks.assert_passed()


def test_runs_score_what_dosim_bench_scores(single):
    """Cell 2 (capacity 200, percent 30) as its own scenario in dosim bench, seeds 7 and 8."""
    scenario = WORK / "cell2.yaml"
    scenario.write_text(sweep(GRID, "--show-scenario", 2).stdout)
    out = WORK / "cell2-bench.json"
    result = dosim("bench", "--detectors", "mad,threshold:above=0.05", "--scenarios", scenario,
                   "--seeds", 2, "--threads", 1, "--out", out, "--quiet", timeout=120)
    assert result.returncode == 0, result.stderr
    bench = json.load(open(out))
    runs = [r for r in json.loads(single["json"])["runs"] if r["cell"] == 2]
    checks = Checks()
    for run in runs:
        scores = next(b for b in bench["runs"] if b["seed"] == run["seed"])["scores"][run["detector"]]
        for metric in ("precision", "recall", "f1", "f1_random", "ttd_median_s",
                       "false_alarms_per_hour", "alerts", "nab_standard", "range_f1"):
            checks(run[metric] == scores[metric], (run["detector"], run["seed"], metric,
                                                   run[metric], scores[metric]))
    checks.assert_passed()


def three_shards(prefix):
    """GRID's three shards, written to WORK / PREFIX-I.json; their paths."""
    shards = []
    for index in range(3):
        shard = WORK / f"{prefix}-{index}.json"
        sweep(GRID, "--shard", f"{index}/3", "-o", shard, "--quiet")
        shards.append(shard)
    return shards


def test_shards_merged_are_the_single_run(single):
    shards = three_shards("shard")
    out = WORK / "merged"
    sweep("merge", shards[2], shards[0], shards[1], "-o", f"{out}.json", "-o", f"{out}.h5", "--quiet")
    assert read(f"{out}.json") == single["json"]
    assert read(f"{out}.h5") == single["h5"]
    # A missing shard is named, with the runs it held; nothing is written.
    result = sweep("merge", shards[0], shards[2], "-o", WORK / "partial.json", ok=False)
    assert result.returncode == 2
    assert "runs are missing: 1, 4, 7 (shard 1/3 not given)" in result.stderr, result.stderr
    assert not (WORK / "partial.json").exists()
    # A shard given twice (a stale glob, a copy) is refused (it merged).
    copy = WORK / "shard-0-copy.json"
    copy.write_bytes(shards[0].read_bytes())
    result = sweep("merge", shards[0], shards[1], shards[2], copy, "-o", WORK / "twice.json",
                   ok=False)
    assert result.returncode == 2, result.stderr
    assert f"{copy}: shard 0/3 again: {shards[0]} is that shard too" in result.stderr, result.stderr
    # A shard of another sweep is refused.
    other = write_sweep("other.yaml", GRID.read_text().replace("seeds: 2", "seeds: 1").replace(
        "tiny-shop.yaml", "{scenario}"))
    sweep(other, "--shard", "1/3", "-o", WORK / "other-shard.json", "--quiet")
    result = sweep("merge", shards[0], WORK / "other-shard.json", shards[2], "-o",
                   WORK / "mixed.json", ok=False)
    assert result.returncode == 2 and "a shard of another sweep" in result.stderr, result.stderr
    # The same runs under another `name:` (which the sweep hash leaves out): the difference
    # is named, not said as two equal hashes that differ.
    renamed = WORK / "renamed.yaml"
    renamed.write_text(f"name: relabelled\n{GRID.read_text()}".replace(
        "tiny-shop.yaml", str(DATA / "tiny-shop.yaml")))
    sweep(renamed, "--shard", "1/3", "-o", WORK / "renamed-shard.json", "--quiet")
    result = sweep("merge", shards[0], WORK / "renamed-shard.json", shards[2], "-o",
                   WORK / "renamed.json", ok=False)
    assert result.returncode == 2 and f"{WORK / 'renamed-shard.json'}: the same runs as " \
        f"{shards[0]} but described otherwise: 'name' (\"relabelled\" against" in result.stderr, \
        result.stderr
    # An edited shard: a run twice is said so; one run in place of another leaves a run
    # missing from a shard that was given, said as such.
    edited = json.loads(shards[1].read_text())
    edited["results"].append(edited["results"][0])
    twice = WORK / "shard-1-twice.json"
    twice.write_text(json.dumps(edited))
    result = sweep("merge", shards[0], twice, shards[2], "-o", WORK / "twice.json", ok=False)
    assert f"{twice}: run 1 is in the shard twice" in result.stderr, result.stderr
    edited["results"] = edited["results"][1:-1]  # the duplicate and run 1 gone
    lacking = WORK / "shard-1-lacking.json"
    lacking.write_text(json.dumps(edited))
    result = sweep("merge", shards[0], lacking, shards[2], "-o", WORK / "lacking.json", ok=False)
    assert f"runs are missing: 1 (shard 1/3 ({lacking}) lacks them: stopped before it " \
           "finished, or edited)" in result.stderr, result.stderr


def test_a_sweep_killed_midway_resumes_to_the_same_results(slow_single):
    path, expected = slow_single
    out = WORK / "killed.json"
    checkpoint = WORK / "killed.json.ckpt"
    process = subprocess.Popen([DOSIM, "sweep", str(path), "--threads", "1", "-o", str(out),
                                "--quiet"])
    deadline = time.time() + 60
    while time.time() < deadline and process.poll() is None:
        if checkpoint.is_dir() and len(list(checkpoint.glob("run-*.json"))) >= 2:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = len(list(checkpoint.glob("run-*.json")))
    assert process.returncode == -signal.SIGKILL and 2 <= saved < 12, (process.returncode, saved)
    assert not out.exists()
    # Without --resume the saved runs are not thrown away; --dry-run says so too (it said
    # nothing of the folder), and touches nothing.
    result = sweep(path, "-o", out, ok=False)
    assert result.returncode == 2 and "add --resume" in result.stderr, result.stderr
    result = sweep(path, "-o", out, "--dry-run", ok=False)
    assert result.returncode == 2 and "add --resume" in result.stderr, result.stderr
    sweep(path, "-o", out, "--dry-run", "--resume")
    assert len(list(checkpoint.glob("run-*.json"))) == saved
    # A checkpoint folder the run could not make fails the dry run too (it passed).
    result = sweep(path, "-o", WORK / "x.json", "--checkpoint", "/proc/dosim-ckpt", "--dry-run",
                   ok=False)
    assert result.returncode == 2 and "cannot make the checkpoint folder" in result.stderr, \
        result.stderr
    assert not (WORK / "x.json.ckpt").exists()
    # A damaged run file ({} in place of a run) is run again, not said to be another sweep's.
    damaged = sorted(checkpoint.glob("run-*.json"))[0]
    damaged.write_text("{}")
    result = sweep(path, "--threads", 2, "-o", out, "--resume")
    assert f"{damaged}: not a checkpointed run" in result.stderr, result.stderr
    assert f"{13 - saved} to run ({saved - 1} from the checkpoint)" in result.stdout, result.stdout
    assert read(out) == expected
    assert not checkpoint.exists(), "the checkpoint goes once the results are written"


def test_hdf5_reads_with_h5py_and_pandas(single):
    h5py = pytest.importorskip("h5py")
    results = json.loads(single["json"])
    checks = Checks()
    with h5py.File(f"{single['path']}.h5", "r") as f:
        checks(f.attrs["format"] == b"dosim-sweep" or f.attrs["format"] == "dosim-sweep",
               f.attrs["format"])
        checks(sorted(f) == ["cells", "runs", "summary"], list(f))
        tables = {}
        for name in ("cells", "runs", "summary"):
            group = f[name]
            columns = group.attrs["columns"]
            columns = (columns.decode() if isinstance(columns, bytes) else str(columns)).split("\n")
            checks(columns == list(results[name][0].keys()), (name, columns))
            table = {}
            for column in columns:
                data = group[column]
                table[column] = (list(data.asstr()[()]) if data.dtype.kind == "S"
                                 else data[()].tolist())
            tables[name] = table
        for name, table in tables.items():
            for column, values in table.items():
                expected = [row[column] for row in results[name]]
                same = all((a is None and b != b) or a == b for a, b in zip(expected, values))
                checks(same and len(values) == len(expected), (name, column, expected[:3], values[:3]))
        checks(f["runs/seed"].dtype == "int64" and f["runs/f1"].dtype == "float64",
               (f["runs/seed"].dtype, f["runs/f1"].dtype))
    try:
        import pandas
    except ImportError:
        checks.assert_passed()
        return
    frame = pandas.DataFrame(tables["summary"])
    mad = frame[frame.detector == "mad"]
    checks(len(mad) == 4 and list(mad["faults[0].percent"]) == [30, 90, 30, 90], mad)
    checks.assert_passed()


def mpirun(*args, timeout=180):
    return subprocess.run([MPIRUN, *MPI_FLAGS, DOSIM, "sweep", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=MPI_ENV)


def require_mpi():
    if MPIRUN is None:
        pytest.skip("mpirun is not installed (Debian: openmpi-bin; tools/install-deps.sh)")
    probe = mpirun(GRID, "--dry-run")
    if "built without MPI" in probe.stderr:
        pytest.skip("this dosim was built without MPI (libopenmpi-dev, cmake -DDOSIM_MPI=ON)")
    assert probe.returncode == 0, probe.stdout + probe.stderr


def test_three_mpi_ranks_write_the_single_process_bytes(single):
    require_mpi()
    out = WORK / "mpi"
    result = mpirun(GRID, "-o", f"{out}.json", "-o", f"{out}.h5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "on 3 processes x 1 thread" in result.stdout, result.stdout
    assert read(f"{out}.json") == single["json"]
    assert read(f"{out}.h5") == single["h5"]


def test_a_merge_launched_by_mpirun_runs_once(single):
    """`mpirun -np 3 dosim sweep merge ...` merged in every rank: each printed the results
    and all wrote the same files at once (unsafe for HDF5)."""
    require_mpi()
    shards = three_shards("mpi-merge-shard")
    out = WORK / "mpi-merged"
    result = subprocess.run([MPIRUN, *MPI_FLAGS, DOSIM, "sweep", "merge", *map(str, shards),
                             "-o", f"{out}.json", "-o", f"{out}.h5"],
                            capture_output=True, text=True, timeout=180, env=MPI_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("dosim sweep merge:") == 1, result.stdout
    assert read(f"{out}.json") == single["json"]
    assert read(f"{out}.h5") == single["h5"]


def test_an_mpi_sweep_stopped_midway_resumes_to_the_same_results(slow_single):
    require_mpi()
    path, expected = slow_single
    out = WORK / "mpi-stopped.json"
    result = mpirun(path, "-o", out, "--stop-after", 5)
    assert result.returncode != 0 and not out.exists(), result.stdout + result.stderr
    saved = len(list((WORK / "mpi-stopped.json.ckpt").glob("run-*.json")))
    assert 5 <= saved < 12, saved
    result = mpirun(path, "-o", out, "--resume")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"({saved} from the checkpoint)" in result.stdout, result.stdout
    assert read(out) == expected


def test_the_python_package_reads_both_files_into_the_same_frames(single):
    dosim_package = pytest.importorskip("dosim")
    from_h5 = dosim_package.load_sweep(f"{single['path']}.h5")
    from_json = dosim_package.load_sweep(f"{single['path']}.json")
    assert from_h5.meta["parameters"] == ["services[name=api].capacity_rps", "faults[0].percent"]
    # The same header from either file (the HDF5 file lacked the random seed, rows, seeds ...).
    assert from_h5.meta == from_json.meta | {"parameters": from_h5.meta["parameters"]}, (
        from_h5.meta, from_json.meta)
    for name in ("cells", "runs", "summary"):
        a, b = getattr(from_h5, name), getattr(from_json, name)
        assert list(a.columns) == list(b.columns), name
        assert a.astype(str).equals(b.astype(str)) or a.fillna(-1).equals(b.fillna(-1)), name
    best = from_h5.summary[from_h5.summary.detector == "mad"].sort_values("f1_median").iloc[-1]
    assert best["f1_median"] == 1.0


def test_table_rows_and_show_scenario_take_numbers_in_range():
    for option, value in (("--table-rows", "-1"), ("--show-scenario", "-1"),
                          ("--show-scenario", "99999999999")):
        result = sweep(GRID, option, value, ok=False)
        assert result.returncode == 2 and option in result.stderr, (option, value, result.stderr)
        assert len(result.stderr) < 300, result.stderr  # no 300-digit bound


def test_a_python_detector_file_is_found_beside_the_sweep_file():
    """sweep.md: paths in the sweep file are relative to it, a python:FILE.py token's file
    too, from any working directory; the token as written names the detector."""
    folder = WORK / "beside"
    folder.mkdir(exist_ok=True)
    shutil.copy(SOURCE_DIR / "tests" / "data" / "python" / "detectors.py", folder / "mine.py")
    shutil.copy(DATA / "tiny-shop.yaml", folder / "tiny-shop.yaml")
    token = "python:mine.py:Above:above=0.05"
    (folder / "sweep.yaml").write_text(f"scenario: tiny-shop.yaml\ndetectors: [mad, '{token}']\n")
    out = WORK / "beside.json"
    result = subprocess.run([DOSIM, "sweep", folder / "sweep.yaml", "-o", out, "--quiet"],
                            cwd=SOURCE_DIR, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["detectors"] == ["mad", token]


def test_a_value_is_a_number_as_the_header_reads_numbers():
    """A value such as `+-5` is text, a subnormal one (4e-320, or a random range in 1e-320..
    2e-320) a number: the sweep runs, it does not end in an internal error."""
    path = write_sweep("numbers.yaml", """scenario: {scenario}
parameters:
  - path: description
    values: [+-5, "+5"]
  - path: faults[0].percent
    values: [30, 4e-320]
detectors: [mad]
""")
    out = WORK / "numbers.json"
    result = sweep(path, "-o", out, "--threads", 2, "--quiet", ok=False)
    checks = Checks()
    checks(result.returncode == 0, result.stderr)
    if result.returncode == 0:
        results = json.loads(out.read_text())
        numeric = {p["path"]: p["numeric"] for p in results["parameters"]}
        checks(numeric == {"description": False, "faults[0].percent": True}, repr(numeric))
        checks([c["description"] for c in results["cells"]] == ["+-5", "+-5", "+5", "+5"],
               repr(results["cells"]))
        checks([c["faults[0].percent"] for c in results["cells"]] == [30, 4e-320] * 2,
               repr(results["cells"]))
    path = write_sweep("tiny-random.yaml", """scenario: {scenario}
random:
  samples: 2
  ranges:
    - {{path: "faults[0].percent", min: 1e-320, max: 2e-320}}
detectors: [mad]
""")
    result = sweep(path, "--dry-run", ok=False)
    checks(result.returncode == 0 and "2 cells x 1 seed" in result.stdout,
           result.stdout + result.stderr)
    checks.assert_passed()


@pytest.fixture(scope="module")
def grid_shards():
    shards = []
    for index in range(3):
        shard = WORK / f"whole-shard-{index}.json"
        sweep(GRID, "--shard", f"{index}/3", "-o", shard, "--quiet")
        shards.append(json.loads(shard.read_text()))
    return shards


def test_a_merge_refuses_shards_whose_header_is_not_whole(grid_shards):
    """A shard edited by hand (or cut short) is named with what is wrong, exit code 2: never a
    crash or an internal error, whichever key of its header is wrong."""
    def drop_cells(header):
        del header["cells"]

    def cut_cells(header):
        header["cells"] = header["cells"][:2]

    def flag(header):
        header["parameters"][0]["numeric"] = "yes"

    tampered = {
        "runs-total": lambda h: h.update(runs_total=-1),
        "zero-seeds": lambda h: h.update(seeds_per_cell=0),
        "no-cells": drop_cells,
        "few-cells": cut_cells,
        "numeric-flag": flag,
        "rows": lambda h: h.update(rows=["mad"]),
        "metrics": lambda h: h.update(metrics=["precision", "recall", "f1"]),
        "string-cells": lambda h: h.update(cells="many"),
    }
    checks = Checks()
    for name, tamper in tampered.items():
        paths = []
        for index, shard in enumerate(grid_shards):  # every shard alike: they agree
            shard = json.loads(json.dumps(shard))
            tamper(shard["header"])
            path = WORK / f"tampered-{name}-{index}.json"
            path.write_text(json.dumps(shard))
            paths.append(path)
        out = WORK / f"tampered-{name}.json"
        result = sweep("merge", *paths, "-o", out, ok=False)
        checks(result.returncode == 2 and f"{paths[0]}: its header" in result.stderr
               and "internal error" not in result.stderr and not out.exists(),
               repr((name, result.returncode, result.stderr)))
    # The shard's own keys: its number among how many, and runs of its own.
    for name, tamper in (("no-shards", lambda s: s.update(shards=0)),
                         ("other-runs", lambda s: s.update(results=grid_shards[1]["results"]))):
        shard = json.loads(json.dumps(grid_shards[0]))
        tamper(shard)
        path = WORK / f"tampered-{name}.json"
        path.write_text(json.dumps(shard))
        result = sweep("merge", path, WORK / "whole-shard-1.json", WORK / "whole-shard-2.json",
                       "-o", WORK / f"tampered-{name}-out.json", ok=False)
        checks(result.returncode == 2 and f"{path}: " in result.stderr
               and "internal error" not in result.stderr, repr((name, result.returncode, result.stderr)))
    checks.assert_passed()


def test_a_resume_refuses_runs_made_before_a_python_detector_changed():
    """The files the runs read (a Python detector's module here; manifests, CSV files, models)
    are part of the sweep: runs checkpointed before one changed are of another sweep."""
    folder = WORK / "edited"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    shutil.copy(SOURCE_DIR / "tests" / "data" / "python" / "detectors.py", folder / "mine.py")
    shutil.copy(DATA / "tiny-shop.yaml", folder / "tiny-shop.yaml")
    (folder / "sweep.yaml").write_text(
        "scenario: tiny-shop.yaml\ndetectors: ['python:mine.py:Above:above=0.05']\nseeds: 3\n")
    out = folder / "results.json"
    result = sweep(folder / "sweep.yaml", "-o", out, "--threads", 1, "--stop-after", 1, ok=False)
    assert result.returncode == 75, result.stderr
    module = (folder / "mine.py").read_text()
    assert "/ self.above" in module
    (folder / "mine.py").write_text(module.replace("/ self.above", "/ (2 * self.above)"))
    result = sweep(folder / "sweep.yaml", "-o", out, "--resume", ok=False)
    assert result.returncode == 2 and "runs of another sweep" in result.stderr, (
        result.returncode, result.stdout, result.stderr)
    # Without --resume too: it advised "add --resume", which then refused them.
    result = sweep(folder / "sweep.yaml", "-o", out, ok=False)
    assert result.returncode == 2 and "runs of another sweep" in result.stderr, result.stderr
    assert "add --resume" not in result.stderr
    assert not out.exists()


def test_too_many_cells_or_runs_are_reported_at_their_key_with_the_other_problems():
    values = "[" + ", ".join(str(100 + v) for v in range(101)) + "]"
    path = write_sweep("too-many-cells.yaml", """scenario: {scenario}
parameters:
  - path: services[name=api].capacity_rps
    values: VALUES
  - path: services[name=web].capacity_rps
    values: VALUES
  - path: services[name=db].capacity_rps
    values: VALUES
detectors: [mad, madd]
""".replace("VALUES", values))
    result = sweep(path, "--dry-run", ok=False)
    checks = Checks()
    checks(result.returncode == 2, f"exit code {result.returncode}")
    for text in (f"{path}:7:11: the sweep would make 1030301 cells: at most 1000000",
                 f"{path}:9:18: 'madd' is neither a detector kind"):
        checks(text in result.stderr, f"'{text}' not in:\n{result.stderr}")
    path = write_sweep("too-many-runs.yaml", """scenario: {scenario}
parameters:
  - path: services[name=api].capacity_rps
    values: VALUES
  - path: services[name=web].capacity_rps
    values: VALUES
detectors: [madd]
seeds: 1000
""".replace("VALUES", values))
    result = sweep(path, "--dry-run", ok=False)
    checks(result.returncode == 2, f"exit code {result.returncode}")
    for text in (f"{path}:8:8: the sweep would make 10201 cells x 1000 seeds = 10201000 runs: "
                 "at most 10000000",
                 f"{path}:7:13: 'madd' is neither a detector kind"):
        checks(text in result.stderr, f"'{text}' not in:\n{result.stderr}")
    checks.assert_passed()


def test_the_docs_h5py_snippet_reads_a_path_with_a_slash():
    """docs/sweep.md, "Without the package": a '/' in a column's name is '%2F' in HDF5."""
    h5py = pytest.importorskip("h5py")
    pandas = pytest.importorskip("pandas")
    scenario = (DATA / "tiny-shop.yaml").read_text().replace("name: api,", "name: api/v2.1,")
    scenario = scenario.replace("callee: api,", "callee: api/v2.1,").replace(
        "caller: api,", "caller: api/v2.1,")
    (WORK / "slash-shop.yaml").write_text(scenario)
    path = WORK / "slash.yaml"
    path.write_text("scenario: slash-shop.yaml\nparameters:\n"
                    "  - path: services[name=api/v2.1].capacity_rps\n    values: [120, 200]\n"
                    "detectors: [mad]\n")
    out = WORK / "slash.h5"
    sweep(path, "-o", out, "--quiet")
    docs = (SOURCE_DIR / "docs" / "sweep.md").read_text()
    snippet = docs[docs.index("# Without the package"):]
    snippet = snippet[:snippet.index("```")].replace("retry-storm-sweep.h5", str(out))
    namespace = {}
    exec(snippet, namespace)
    summary = namespace["summary"]
    assert list(summary["services[name=api/v2.1].capacity_rps"][::2]) == [120, 200], summary


def test_small_mistakes_are_said_once_and_before_any_run():
    checks = Checks()
    path = write_sweep("twice.yaml", "scenario: {scenario}\ndetectors: [mad, \"mad,mad\"]\n")
    result = sweep(path, "--dry-run", ok=False)
    checks(result.returncode == 2 and result.stderr.count("detector 'mad' is listed twice") == 1,
           result.stderr)
    # An output that is the checkpoint folder is refused before any run.
    out = WORK / "also-checkpoint.json"
    result = sweep(GRID, "-o", out, "--checkpoint", out, ok=False)
    checks(result.returncode == 2 and "checkpoint folder" in result.stderr
           and "to run" not in result.stdout and not out.exists(),
           repr((result.returncode, result.stdout, result.stderr)))
    # A FIFO as the results would wait for a reader for ever once every run is done (or be
    # replaced by a file): refused before any run, as JSON and as HDF5.
    for name in ("fifo.json", "fifo.h5"):
        fifo = WORK / name
        if fifo.exists():
            fifo.unlink()
        os.mkfifo(fifo)
        result = sweep(GRID, "-o", fifo, ok=False, timeout=30)
        checks(result.returncode == 2 and "not a regular file" in result.stderr
               and "to run" not in result.stdout and stat.S_ISFIFO(os.stat(fifo).st_mode),
               repr((name, result.returncode, result.stdout, result.stderr)))
    checks.assert_passed()


def test_a_merge_of_a_file_that_is_not_json_says_where():
    """A shard that is not JSON (a truncated one, the sweep file by mistake) is said at the
    line and column where it stops being JSON, not in the JSON library's own words."""
    bad = WORK / "truncated-shard.json"
    bad.write_text('{"format": "dosim-sweep-shard",\n  "shard": 0,\n  oops\n')
    result = dosim("sweep", "merge", bad, GRID, "--out", WORK / "merged-bad.json")
    assert result.returncode == 2, result.stderr
    assert f"{bad}:3:3: not JSON, so not a shard of dosim sweep (" in result.stderr, result.stderr
    assert f"{GRID}:1:1: not JSON" in result.stderr, result.stderr
    assert "json.exception" not in result.stderr


def test_an_anchored_or_multi_line_value_is_said_why_it_cannot_be_swept():
    scenario = WORK / "anchored.yaml"
    scenario.write_text("""name: anchored
duration: 1h
description: >
  a folded
  description
services:
  - {name: web, capacity_rps: &cap 200}
  - {name: db, capacity_rps: *cap}
dependencies:
  - {caller: web, callee: db}
traffic:
  - {name: users, entry: web, base_rps: 80}
""")
    path = write_sweep("anchored-sweep.yaml", f"""scenario: {scenario}
parameters:
  - path: services[0].capacity_rps
    values: [100]
  - path: services[1].capacity_rps
    values: [100]
  - path: description
    values: [x]
detectors: [mad]
""")
    result = sweep(path, "--dry-run", ok=False)
    shared = "is a YAML anchor or alias in the scenario (&NAME, *NAME): a shared value cannot " \
             "be swept; write the value itself there"
    assert f"{path}:3:23: 'services[0].capacity_rps' addresses nothing in {scenario}: " \
           f"'services[0].capacity_rps' {shared}" in result.stderr, result.stderr
    assert f"'services[1].capacity_rps' {shared}" in result.stderr, result.stderr
    assert "'description' is not written on one line in the scenario" in result.stderr, \
        result.stderr


def test_a_value_listed_twice_is_an_error_and_table_rows_0_prints_no_table():
    # [100, 1e2] made two cells that both read 100 in the table (averaged together by a
    # pivot); --table-rows 0 still printed the table's header.
    path = write_sweep("twice.yaml", """scenario: {scenario}
parameters:
  - path: services[name=api].capacity_rps
    values: [100, 1e2, 200, 200]
detectors: [mad]
seeds: 1
""")
    result = sweep(path, "--dry-run", ok=False)
    assert result.returncode == 2, result.stderr
    assert f"{path}:4:19: value 1e2 is listed twice (first at 4:14)" in result.stderr
    assert f"{path}:4:29: value 200 is listed twice (first at 4:24)" in result.stderr
    path.write_text(path.read_text().replace("[100, 1e2, 200, 200]", "[100, 200]"))
    result = sweep(path, "--dry-run", "--table-rows", "0")
    assert "cell scenario" not in result.stdout and "... 2 more cells" in result.stdout, result.stdout


def test_an_empty_grid_hides_no_other_problem():
    # `values: []` made no cell, so no cell's values were checked: 150 % and 'fast' were said
    # only once the empty list was fixed.
    path = write_sweep("empty-values.yaml", """scenario: {scenario}
parameters:
  - path: faults[0].percent
    values: [50, 150]
  - path: services[name=web].replicas
    values: []
  - path: services[name=api].capacity_rps
    values: [fast]
detectors: [mad]
""")
    result = sweep(path, "--dry-run", ok=False)
    assert result.returncode == 2, result.stderr
    for text in (f"{path}:4:18: 'percent' must be in [0, 100], got 150",
                 f"{path}:6:13: 'values' lists no value",
                 f"{path}:8:14: expected a number for 'capacity_rps', got 'fast'"):
        assert text in result.stderr, result.stderr


def test_a_scenario_problem_of_many_cells_is_said_once_with_the_values_they_share():
    # A swept duration before the fault's start: the fault's line was said once a cell, 100
    # lines that differed only in their "(with ...)"; `detectors: []` was hidden by
    # `values: []`; "mad:window=32,threshold=5" was said an unknown kind 'threshold=5'.
    path = write_sweep("many-cells.yaml", """scenario: {scenario}
parameters:
  - path: duration
    values: [5m, 30m]
  - path: services[name=db].capacity_rps
    values: [100, 200, 300, 400, 500]
modes: [fluid, requests]
detectors: [mad]
""")
    result = sweep(path, "--dry-run", ok=False)
    assert result.returncode == 2, result.stderr
    start = "'start' (8m) must be before the end of the scenario (5m)"
    assert result.stderr.count(start) == 1, result.stderr
    assert f"{start} (in 10 cells, each with duration = 5m)" in result.stderr, result.stderr
    path.write_text(path.read_text().replace("[5m, 30m]", "[5m]").replace(
        "[100, 200, 300, 400, 500]", "[100]").replace("modes: [fluid, requests]\n", ""))
    result = sweep(path, "--dry-run", ok=False)
    assert f"{start} (with duration = 5m, services[name=db].capacity_rps = 100)" in result.stderr
    path = write_sweep("empty-both.yaml", """scenario: {scenario}
parameters:
  - path: services[name=web].capacity_rps
    values: []
detectors: []
""")
    result = sweep(path, "--dry-run", ok=False)
    assert f"{path}:4:13: 'values' lists no value" in result.stderr, result.stderr
    assert f"{path}:5:12: 'detectors' lists no detector" in result.stderr, result.stderr
    path = write_sweep("comma.yaml", """scenario: {scenario}
detectors: ["mad:window=32,threshold=5"]
""")
    result = sweep(path, "--dry-run", ok=False)
    assert "'threshold=5' is not a detector: a kind's parameters follow it after ':'" \
        in result.stderr, result.stderr


def test_a_bad_random_range_is_said_once_at_its_key():
    # A log range from 0 was said, then again as its '-nan' samples; a unit of no duration or
    # size was said only at the path, through made-up samples ('1.02901parsecs').
    path = write_sweep("bad-range.yaml", """scenario: {scenario}
random:
  samples: 3
  ranges:
    - {{path: "services[name=api].capacity_rps", min: 0, max: 100, log: true}}
    - {{path: "faults[0].fixedDelay", min: 1, max: 2, unit: parsecs}}
    - {{path: "services[name=db].capacity_rps", min: 10, max: 20}}
detectors: [mad]
""")
    result = sweep(path, "--dry-run", ok=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"{path}:5:54: a range with 'log: true' needs 'min' > 0",
        f"{path}:6:60: 'unit' must be a duration's (ms, s, m, ...) or a size's (Mi, GB, ...), "
        "got 'parsecs'",
        "2 problems"], result.stderr


def test_a_space_at_a_keys_end_is_said_at_the_space():
    # "expected a key at offset 10" pointed at 'percent', not at the space after it.
    path = write_sweep("space.yaml", """scenario: {scenario}
parameters:
  - path: "faults[0].percent "
    values: [10]
detectors: [mad]
""")
    result = sweep(path, "--dry-run", ok=False)
    assert result.returncode == 2, result.stderr
    assert (f"{path}:3:29: 'faults[0].percent ' is not a path: the key 'percent ' ends with a "
            "space (offset 17 of the path)") in result.stderr, result.stderr


def test_a_resume_keeps_the_runs_it_does_not_write_and_finds_its_checkpoint():
    """Shard 0/3 resumed from shard 0/2's checkpoint writes its runs and keeps the others
    (0/2's resume then needs only the rest: they were all deleted); the same outputs given in
    another order resume from the first output's checkpoint that exists (they ran again)."""
    path = write_sweep("resplit.yaml", SLOW)
    out = WORK / "resplit.json"
    checkpoint = WORK / "resplit.json.ckpt"
    result = sweep(path, "--shard", "0/2", "-o", out, "--threads", 1, "--stop-after", 4, ok=False)
    assert result.returncode == 75, result.stderr
    saved = sorted(int(p.stem.split("-")[1]) for p in checkpoint.glob("run-*.json"))
    assert len(saved) >= 4 and all(run % 2 == 0 for run in saved), saved
    sweep(path, "--shard", "0/3", "-o", out, "--resume", "--quiet")
    kept = sorted(int(p.stem.split("-")[1]) for p in checkpoint.glob("run-*.json"))
    assert kept == [run for run in saved if run % 3 != 0], (saved, kept)
    result = sweep(path, "--shard", "0/2", "-o", out, "--resume")
    assert f"({len(kept)} from the checkpoint)" in result.stdout, result.stdout
    assert not checkpoint.exists()

    both = WORK / "reorder"
    result = sweep(path, "-o", f"{both}.json", "-o", f"{both}.h5", "--threads", 1,
                   "--stop-after", 3, ok=False)
    assert result.returncode == 75, result.stderr
    held = len(list((WORK / "reorder.json.ckpt").glob("run-*.json")))
    result = sweep(path, "-o", f"{both}.h5", "-o", f"{both}.json", "--resume")
    assert f"{12 - held} to run ({held} from the checkpoint)" in result.stdout, result.stdout
    assert not (WORK / "reorder.json.ckpt").exists() and not (WORK / "reorder.h5.ckpt").exists()


def test_the_scenarios_warnings_are_said_once_at_the_swept_value():
    """dosim bench and validate say a scenario's warnings; a sweep said none, even of the
    value it sweeps (capacity_rps against base_latency): each once, at the sweep file's value
    where the value causes it, and nothing with --quiet."""
    path = write_sweep("warned.yaml", """scenario: {scenario}
parameters:
  - path: services[name=api].capacity_rps
    values: [100, 150]
  - path: faults[0].percent
    values: [30, 60]
detectors: [mad]
""")
    result = sweep(path, "--dry-run")
    lines = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert any(line.startswith(f"{path}:4:14: warning: 'capacity_rps' 100 and 'base_latency'")
               and line.endswith("services[name=api].capacity_rps = 100)") for line in lines), lines
    assert any(line.startswith(f"{path}:4:19: warning: 'capacity_rps' 150") for line in lines), lines
    # db's own warning, in every cell: once, where it is in the scenario.
    db = [line for line in lines if "'capacity_rps' 400" in line]
    assert len(db) == 1 and db[0].startswith(f"{DATA / 'tiny-shop.yaml'}:12:44: warning:"), lines
    assert "(in 4 cells)" in db[0], db
    assert sweep(path, "--dry-run", "--quiet").stderr == ""


def test_a_sweep_stopped_by_a_signal_says_where_its_runs_are(slow_single):
    # Ctrl-C killed it without a word: the user learnt of the checkpoint only by looking.
    path, expected = slow_single
    out = WORK / "interrupted.json"
    checkpoint = WORK / "interrupted.json.ckpt"
    process = subprocess.Popen([DOSIM, "sweep", str(path), "--threads", "1", "-o", str(out),
                                "--quiet"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and process.poll() is None:
        if checkpoint.is_dir() and len(list(checkpoint.glob("run-*.json"))) >= 2:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGINT, (process.returncode, stderr)
    assert f"the completed runs are kept in {checkpoint}: run the same command with --resume" \
        in stderr, stderr
    sweep(path, "-o", out, "--resume", "--quiet")
    assert read(out) == expected


def test_the_table_shows_the_mode_where_the_scenarios_own_modes_differ():
    """Two scenarios, one fluid and one at the request level, no `modes:`: the printed table
    has a mode column (it had one only where `modes:` swept it)."""
    requests = WORK / "tiny-requests.yaml"
    requests.write_text((DATA / "tiny-shop.yaml").read_text().replace(
        "duration:", "mode: requests\nduration:", 1))
    path = write_sweep("own-modes.yaml", "scenarios: [{scenario}, " + str(requests) +
                       "]\ndetectors: [mad]\n")
    result = sweep(path, "--out", WORK / "own-modes.json")
    header = next(line for line in result.stdout.splitlines() if line.lstrip().startswith("cell"))
    assert header.split()[:3] == ["cell", "scenario", "mode"], result.stdout
    assert any(line.split()[2:3] == ["requests"] for line in result.stdout.splitlines()), \
        result.stdout


def test_a_path_written_twice_is_said_once():
    """The same path in the grid and in the random ranges: "swept twice", once (it was said
    again as addressing what itself and another path address, and its value written twice
    broke the scenario's YAML)."""
    path = write_sweep("path-twice.yaml", """scenario: {scenario}
parameters:
  - path: services[name=api].capacity_rps
    values: [100, 110]
random:
  samples: 2
  ranges:
    - {{path: "services[1].capacity_rps", min: 60, max: 120}}
    - {{path: "services[name=api].capacity_rps", min: 60, max: 120}}
detectors: [mad]
""")
    result = sweep(path, "--dry-run", ok=False)
    assert result.stderr.count("services[name=api].capacity_rps' is swept twice") == 1, result.stderr
    assert "syntax error" not in result.stderr and "2 problems" in result.stderr, result.stderr


def test_the_example_output_of_the_sweep_page_is_current():
    """docs/sweep.md's first table: the rows bench/sweeps/retry-storm.yaml prints (dosim is
    deterministic, so a reader expects them; they went stale)."""
    page = (SOURCE_DIR / "docs" / "sweep.md").read_text().splitlines()
    start = next(i for i, line in enumerate(page) if line.startswith("  cell dependencies"))
    out = WORK / "retry-storm-sweep.json"
    result = sweep(SOURCE_DIR / "bench" / "sweeps" / "retry-storm.yaml", "--out", out, timeout=600)
    printed = [line.rstrip() for line in result.stdout.splitlines()]
    at = printed.index(page[start])
    assert printed[at:at + 4] == page[start:start + 4], "\n".join(printed[at:at + 4])


def test_a_bad_shard_is_said_with_the_sweep_files_problems():
    """A bad --shard hid every problem of the sweep file (found by a new-user audit), and
    sscanf took " 1/3" and "0/ 3"."""
    broken = WORK / "broken-with-shard.yaml"
    broken.write_text("scenario: no-such-scenario.yaml\n")
    result = sweep(broken, "--shard", "5/3", "--dry-run", ok=False)
    assert result.returncode == 2, result.stderr
    assert "--shard: expected I/N with 0 <= I < N (like 0/4), got '5/3'" in result.stderr
    assert "no-such-scenario.yaml" in result.stderr and "3 problems" in result.stderr, \
        result.stderr
    for shard in (" 1/3", "0/ 3", "1//3"):
        result = sweep(GRID, "--shard", shard, "--dry-run", ok=False)
        assert result.returncode == 2 and "--shard: expected I/N" in result.stderr, (shard, result)
