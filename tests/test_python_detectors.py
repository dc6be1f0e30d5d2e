"""Detectors written in Python (`kind: python`): a class in a .py file, run by `dosim run`,
`dosim bench` and dosim.run exactly as a built-in kind is.

The rule `values / above` in Python raises the same alerts as the built-in threshold with
`above`; the class gets its series as "<service>:<metric>" and its parameters as keyword
arguments (whole numbers as int); `fit_ticks: N` hands the first N ticks to fit() once and
scores them 0. A detector that raises, returns the wrong shape or a NaN ends the run with
exit 2, the Python file and line and the simulated time, and an incomplete trace. A missing
class is a validation error with a did-you-mean at the detector. Runs are deterministic: the
same detector twice gives the same trace bytes, a bench the same JSON on 1 or 2 threads.

The fixtures are in tests/data/python/: detectors.py (the classes) and error-fault.yaml (three
services, five minutes, an error fault on api for 15 s every 40 s, noisy traffic)."""
import json
import os
import re

import h5py
import numpy as np
import pytest

import dosim
from dosim_test_util import SOURCE_DIR, TMP, Checks, dosim as dosim_cli

DATA = SOURCE_DIR / "tests" / "data" / "python"
MODULE = DATA / "detectors.py"
SCENARIO = DATA / "error-fault.yaml"
# The fixture scenario without its detectors, for scenarios with other detectors.
BASE = SCENARIO.read_text().split("\ndetectors:")[0]
SECOND = 1_000_000_000


def scenario(name, detectors, replace=()):
    """Writes the fixture scenario with these detectors (YAML flow mappings) to TMP; `replace`
    holds (old, new) text substitutions of the rest."""
    text = BASE
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new)
    path = TMP / f"{name}.yaml"
    path.write_text(text + "\ndetectors:\n" + "".join(f"  - {d}\n" for d in detectors))
    return path


def python_detector(class_name, params="", metrics="[error_ratio]", name="py", extra=""):
    """A `kind: python` entry of the fixture module (by absolute path: the scenario is in TMP)."""
    text = (f"{{name: {name}, kind: python, module: {MODULE}, class: {class_name}, "
            f"metrics: {metrics}")
    if params:
        text += f", params: {{{params}}}"
    return text + (f", {extra}" if extra else "") + "}"


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def alerts_of(trace, detector):
    """The trace's /alerts rows of one detector: (t_ns, service, target, metric, resolved_ns)."""
    with h5py.File(trace, "r") as f:
        group = f["alerts"]
        rows = zip(group["t_ns"][:], group["detector"][:], group["service"][:],
                   group["target"][:], group["metric"][:], group["resolved_ns"][:])
        return [(int(t), text(s), text(target), text(m), int(r))
                for t, d, s, target, m, r in rows if text(d) == detector]


def run_cli(scenario_path, trace, *args, env=None):
    return dosim_cli("run", scenario_path, "--out", trace, "--quiet", *args, env=env)


def raise_line():
    """The line of detectors.py where RaisesAt raises."""
    lines = MODULE.read_text().splitlines()
    return next(i + 1 for i, line in enumerate(lines)
                if line.strip().startswith("raise") and "# RAISE HERE" in line)


# --- the same rule as the built-in threshold ------------------------------------------------

def test_python_rule_raises_exactly_the_builtin_thresholds_alerts_from_dosim_run_cli():
    trace = TMP / "rule-cli.h5"
    run = run_cli(SCENARIO, trace)
    assert run.returncode == 0, run.stderr
    builtin, python = alerts_of(trace, "builtin"), alerts_of(trace, "py")
    assert len(builtin) >= 10  # the fault comes and goes: many alerts, on web and api
    assert python == builtin


def test_python_rule_raises_exactly_the_builtin_thresholds_alerts_from_the_package():
    trace = TMP / "rule-package.h5"
    report = dosim.run(SCENARIO, out=trace)
    builtin, python = alerts_of(trace, "builtin"), alerts_of(trace, "py")
    assert len(builtin) >= 10
    assert python == builtin
    # The report's alerts are the trace's.
    mine = report.alerts[report.alerts.detector == "py"]
    assert list(zip(mine.t_ns, mine.target)) == [(a[0], a[2]) for a in python]
    scores = report.scores()
    for metric in ["alerts", "precision", "recall", "f1", "time_to_detect_ns", "nab_standard",
                   "range_f1"]:
        assert scores["py"][metric] == scores["builtin"][metric], metric


def test_python_rule_scores_as_the_builtin_threshold_in_dosim_bench():
    out = TMP / "rule-bench.json"
    bench = dosim_cli("bench", "--detectors", "builtin,py", "--scenarios", SCENARIO,
                      "--seeds", 2, "--out", out, "--quiet")
    assert bench.returncode == 0, bench.stderr
    runs = json.loads(out.read_text())["runs"]
    assert len(runs) == 2
    for run in runs:
        builtin, python = run["scores"]["builtin"], run["scores"]["py"]
        assert builtin["alerts"] >= 10
        for metric in ["alerts", "precision", "recall", "f1", "time_to_detect_ns",
                       "nab_standard", "range_f1"]:
            assert python[metric] == builtin[metric], (run["seed"], metric)


def test_python_rule_matches_the_builtin_threshold_at_exactly_the_limit():
    # Scores and limits compare as float32 (detectors/runner.cc): a 10 % error ratio is not
    # above 0.1 for either kind. Without measurement noise the ratio is exactly 10 %.
    path = scenario("rule-at-limit", [
        "{name: builtin, kind: threshold, metrics: [error_ratio], params: {above: 0.1}}",
        python_detector("Above", "above: 0.1")],
        replace=[("noise: 0.1", "noise: 0"), ("capacity_rps: 105", "capacity_rps: 400"),
                 ("percent: 30", "percent: 10"),
                 ("seed: 11\n", "seed: 11\nmeasurement_noise: false\n")])
    trace = TMP / "rule-at-limit.h5"
    run = run_cli(path, trace)
    assert run.returncode == 0, run.stderr
    with h5py.File(trace, "r") as f:
        api = f["metrics/service/error_ratio"][:, 1]
    assert (api == np.float32(0.1)).sum() >= 30  # the boundary case is there
    assert alerts_of(trace, "builtin") == []  # 10 % is not above 10 %
    assert alerts_of(trace, "py") == alerts_of(trace, "builtin")


# --- what the class is given ----------------------------------------------------------------

def test_the_class_gets_its_series_as_service_colon_metric_in_the_traces_order():
    record = TMP / "series.json"
    path = scenario("series", [python_detector(
        "Recorder", metrics="[error_ratio, latency_p95_s]", extra="services: [api, db]")])
    trace = TMP / "series.h5"
    run = run_cli(path, trace, env=dict(os.environ, DOSIM_TEST_RECORD=str(record)))
    assert run.returncode == 0, run.stderr
    series = json.loads(record.read_text())["series"]
    with h5py.File(trace, "r") as f:
        names = [text(n) for n in f["services/name"][:]]
        group = f["detectors/py"]
        expected = [f"{names[int(s)]}:{text(m)}"
                    for s, m in zip(group["service"][:], group["metric"][:])]
    assert sorted(series) == sorted(["api:error_ratio", "db:error_ratio", "api:latency_p95_s",
                                     "db:latency_p95_s"])
    assert series == expected


def test_parameters_arrive_as_keyword_arguments_whole_numbers_as_int():
    record = TMP / "params.json"
    path = scenario("params", [python_detector(
        "Recorder", "window: 5, ratio: 0.25, big: 1e6, negative: -3, threshold: 2, fit_ticks: 0")])
    os.environ["DOSIM_TEST_RECORD"] = str(record)
    try:
        dosim.run(path)
    finally:
        del os.environ["DOSIM_TEST_RECORD"]
    params = json.loads(record.read_text())["params"]
    # threshold and fit_ticks are dosim's, not the class's.
    assert params == {"window": ["int", 5], "ratio": ["float", 0.25], "big": ["int", 1000000],
                      "negative": ["int", -3]}


def test_fit_ticks_calls_fit_once_with_the_first_ticks_and_scores_them_zero():
    record = TMP / "fit.json"
    fit_ticks = 10
    path = scenario("fit", [python_detector(
        "Fitted", f"fit_ticks: {fit_ticks}, level: 5", metrics="[error_ratio, rps]")])
    trace = TMP / "fit.h5"
    run = run_cli(path, trace, env=dict(os.environ, DOSIM_TEST_RECORD=str(record)))
    assert run.returncode == 0, run.stderr
    seen = json.loads(record.read_text())
    check = Checks()
    with h5py.File(trace, "r") as f:
        group = f["detectors/py"]
        scores = group["score"][:]
        columns = [int(s) for s in group["service"][:]]
        metrics = [text(m) for m in group["metric"][:]]
        # record = tick: row r is tick r, so the history is the trace's first rows.
        history = np.stack([f[f"metrics/service/{m}"][:fit_ticks, c]
                            for c, m in zip(columns, metrics)], axis=1)
        times = f["time_ns"][:]
        alerts = sorted(set(int(t) for t, d in zip(f["alerts/t_ns"][:], f["alerts/detector"][:])
                            if text(d) == "py"))
    series = len(columns)
    check(series == 6, f"watched series: {series}, expected 6 (3 services x 2 metrics)")
    check(len(seen["fits"]) == 1, f"fit() called {len(seen['fits'])} times, expected once")
    fit = seen["fits"][0]
    check(fit["shape"] == [fit_ticks, series], f"history shape {fit['shape']}")
    check(fit["dtype"] == "float32", f"history dtype {fit['dtype']}")
    check(np.array_equal(np.array(fit["history"], dtype=np.float32), history),
          "history differs from the trace's first rows")
    check(seen["steps"][0] == (fit_ticks + 1) * SECOND,
          f"first step() at {seen['steps'][0]} ns, expected tick {fit_ticks + 1}")
    check(times[fit_ticks - 1] == fit_ticks * SECOND, "record is not the tick")
    check((scores[:fit_ticks] == 0).all(),
          f"the first {fit_ticks} ticks scored {scores[:fit_ticks]}")
    check((scores[fit_ticks:] == 5).all(), "ticks after fit not scored by step()")
    check(alerts == [(fit_ticks + 1) * SECOND], f"alerts at {alerts}")
    check.assert_passed()


# --- errors ---------------------------------------------------------------------------------

def test_a_detector_that_raises_exits_2_at_its_file_line_and_simulated_time():
    path = scenario("raises", [python_detector("RaisesAt", "at_s: 30")])
    trace = TMP / "raises.h5"
    run = run_cli(path, trace)
    assert run.returncode == 2, run.stderr
    assert f"{MODULE}:{raise_line()}: RuntimeError: detector gave up" in run.stderr, run.stderr
    assert "python detector 'py'" in run.stderr and "simulated time 30s" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    with h5py.File(trace, "r") as f:
        assert int(f.attrs["complete"]) == 0


def test_a_detector_that_raises_in_dosim_run_is_a_script_error_naming_the_line():
    path = scenario("raises-package", [python_detector("RaisesAt", "at_s: 12")])
    with pytest.raises(dosim.ScriptError) as raised:
        dosim.run(path, out=TMP / "raises-package.h5")
    message = str(raised.value)
    assert f"{MODULE}:{raise_line()}: RuntimeError: detector gave up" in message
    assert "simulated time 12s" in message
    with h5py.File(TMP / "raises-package.h5", "r") as f:
        assert int(f.attrs["complete"]) == 0


def test_a_wrong_number_of_scores_exits_2_with_the_shapes():
    path = scenario("wrong-shape", [python_detector("WrongShape")])
    run = run_cli(path, TMP / "wrong-shape.h5")
    assert run.returncode == 2, run.stderr
    assert f"{MODULE}:" in run.stderr and ": step() returned [4] scores for 3 series" in run.stderr, run.stderr
    assert "python detector 'py' at simulated time 1s" in run.stderr, run.stderr


def test_a_nan_score_exits_2_naming_the_series():
    path = scenario("nan-score", [python_detector("NanScore", "at_s: 20")])
    run = run_cli(path, TMP / "nan-score.h5")
    assert run.returncode == 2, run.stderr
    assert "not a finite 32-bit number" in run.stderr and "(api:error_ratio)" in run.stderr, run.stderr
    assert f"{MODULE}:88: step() returned" in run.stderr, run.stderr  # the line of its def step
    assert "simulated time 20s" in run.stderr, run.stderr


def test_a_score_beyond_a_32_bit_float_is_not_finite():
    """Scores are kept as 32-bit floats: 1e39 would become +inf there, so it is refused as a
    NaN is (it was accepted, and every tick alerted)."""
    path = scenario("huge-score", [python_detector("HugeScore")])
    run = run_cli(path, TMP / "huge-score.h5")
    assert run.returncode == 2, run.stderr
    assert "not a finite 32-bit number (1e+39)" in run.stderr, run.stderr


def test_none_or_one_number_for_the_scores_is_said_as_such():
    forgot = run_cli(scenario("returns-none", [python_detector("ReturnsNone")]),
                     TMP / "returns-none.h5")
    assert forgot.returncode == 2, forgot.stderr
    assert ": step() returned None: it must return an array of one score per series (3 here)" \
        in forgot.stderr, forgot.stderr
    number = run_cli(scenario("returns-number", [python_detector("ReturnsNumber")]),
                     TMP / "returns-number.h5")
    assert number.returncode == 2, number.stderr
    assert ": step() returned one number, not an array of one score per series (3 here)" \
        in number.stderr, number.stderr


def test_scores_that_are_not_numbers_are_said_as_such():
    """Text ("1.5") and complex scores are refused (numpy cast the first, and dropped the
    imaginary part of the second with a warning that named no detector)."""
    for name, said in (("ReturnsText", "text"), ("ReturnsComplex", "complex numbers")):
        run = run_cli(scenario(name.lower(), [python_detector(name)]), TMP / f"{name}.h5")
        assert run.returncode == 2, run.stderr
        assert f": step() must return numbers, one score per series; got {said}" in run.stderr, \
            run.stderr
        assert "ComplexWarning" not in run.stderr, run.stderr


def test_a_missing_class_fails_validation_at_the_detector_with_did_you_mean():
    path = scenario("missing-class", [
        "{name: builtin, kind: threshold, metrics: [error_ratio], params: {above: 0.1}}",
        python_detector("Abov", "above: 0.1")])
    line = path.read_text().splitlines().index("  - " + python_detector("Abov", "above: 0.1")) + 1
    check = dosim_cli("validate", path)
    assert check.returncode == 2, check.stderr
    assert re.search(rf"^{re.escape(str(path))}:{line}:5: detector 'py': no class 'Abov' in "
                     rf"{re.escape(str(MODULE))}; did you mean 'Above'\?$",
                     check.stderr, re.M), check.stderr
    with pytest.raises(dosim.InputError) as raised:
        dosim.validate(str(path))
    [diagnostic] = raised.value.diagnostics
    assert (diagnostic.line, diagnostic.column) == (line, 5)
    assert "did you mean 'Above'?" in diagnostic.message


# --- determinism ----------------------------------------------------------------------------

def test_the_same_python_detector_twice_gives_byte_identical_traces():
    path = scenario("twice", [python_detector("Above", "above: 0.1"),
                              python_detector("Fitted", "fit_ticks: 5, level: 0.5",
                                              name="fitted")])
    env = dict(os.environ, DOSIM_TEST_RECORD=str(TMP / "twice.json"))
    traces = [TMP / "twice-1.h5", TMP / "twice-2.h5"]
    for trace in traces:
        run = run_cli(path, trace, env=env)
        assert run.returncode == 0, run.stderr
    assert traces[0].read_bytes() == traces[1].read_bytes()


def test_bench_of_a_python_token_gives_the_same_json_on_one_and_two_threads():
    token = f"python:{MODULE}:Above:above=0.1"
    outputs = []
    for threads in (1, 2):
        out = TMP / f"bench-threads-{threads}.json"
        bench = dosim_cli("bench", "--detectors", token, "--scenarios", SCENARIO, "--seeds", 2,
                          "--threads", threads, "--out", out, "--quiet")
        assert bench.returncode == 0, bench.stderr
        outputs.append(out.read_text())
    assert outputs[0] == outputs[1]
    results = json.loads(outputs[0])
    assert results["detectors"] == [token]
    assert [run["seed"] for run in results["runs"]] == [11, 12]
    assert all(run["scores"][token]["alerts"] > 0 for run in results["runs"])


def test_tokens_keep_their_folders_in_names_and_trace_groups():
    """scoring.md: the token as written names the row, folders included, so two modules of
    one file name in two folders are two detectors; each one's scores are in the trace at
    /detectors/<token>/score."""
    tokens = []
    for folder in ("left", "right"):
        (TMP / folder).mkdir(exist_ok=True)
        (TMP / folder / "same.py").write_text(MODULE.read_text())
        tokens.append(f"python:{TMP / folder / 'same.py'}:Above:above=0.1")
    trace = TMP / "folders.h5"
    report = dosim.run(str(SCENARIO), detectors=tokens, out=str(trace))
    assert report.detectors == tokens
    assert list(report.scores_frame().index[:2]) == tokens
    with h5py.File(trace) as f:
        assert [name.decode() for name in f["detectors/name"][()]] == tokens
        for token in tokens:
            assert f[f"detectors/{token}/score"].shape[0] == len(f["time_ns"])
    assert dosim.load_trace(str(trace)).detectors() == tokens


def test_an_lstm_token_reads_the_model_it_names():
    """lstm:model=PATH is that model's detector: the default model (in dosim's data folder,
    not found here) is not looked for."""
    empty = TMP / "no-data"
    empty.mkdir(exist_ok=True)
    model = SOURCE_DIR / "models" / "lstm-noop.h5"
    env = dict(os.environ, DOSIM_DATA_DIR=str(empty))
    bench = dosim_cli("bench", "--detectors", f"lstm:model={model}", "--scenarios", SCENARIO,
                      "--seeds", 1, "--quiet", env=env)
    assert bench.returncode == 0, bench.stderr
    missing = dosim_cli("bench", "--detectors", f"lstm:model={empty / 'none.h5'}", "--scenarios",
                        SCENARIO, "--seeds", 1, "--quiet", env=env)
    assert missing.returncode == 2 and "none.h5" in missing.stderr, missing.stderr


def test_a_python_detector_or_ranker_in_a_loop_stops_on_a_signal():
    """reliability.md: SIGINT / SIGTERM stop a run at any moment, with a trace marked
    incomplete. Python code in `while True: pass` never returned, so the stop was never seen:
    only SIGKILL ended it, and no trace was left."""
    import signal
    import subprocess
    import time
    folder = TMP / "python-hang"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hang.py").write_text(
        "class Hang:\n"
        "    def __init__(self, series, **params):\n"
        "        pass\n"
        "    def step(self, t_ns, values):\n"
        "        while t_ns >= 5_000_000_000:\n"
        "            pass\n"
        "        return [0.0] * len(values)\n\n\n"
        "def rank(case):\n"
        "    while True:\n"
        "        pass\n")
    base = ("name: hang\nduration: 10m\n"
            "services: [{name: web, replicas: 2, capacity_rps: 200, base_latency: 5ms}]\n"
            "traffic: [{name: u, entry: web, base_rps: 50}]\n"
            "faults: [{name: e, kind: error, target: {service: web}, percent: 50, start: 2s, "
            "duration: 5s}]\n")
    cases = {
        "detector": (base + "detectors:\n  - {name: hang, kind: python, module: hang.py, "
                     "class: Hang, metrics: [rps]}\n", signal.SIGINT, 130),
        "ranker": (base.replace("duration: 10m", "duration: 20s") +
                   "detectors: [{name: t, kind: threshold, metrics: [error_ratio], "
                   "params: {above: 0.1}}]\n"
                   "rca: {rankers: [{name: hang, python: hang.py, function: rank}]}\n",
                   signal.SIGTERM, 143),
    }
    for name, (text_, sig, code) in cases.items():
        path = folder / f"{name}.yaml"
        path.write_text(text_)
        trace = folder / f"{name}.h5"
        trace.unlink(missing_ok=True)
        process = subprocess.Popen([os.environ["DOSIM_BIN"], "run", path, "-q", "-o", trace],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(4)  # in the loop by then: the detector from 5 s simulated, the ranker at the end
        assert process.poll() is None, (name, process.stderr.read())
        process.send_signal(sig)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(f"{name}: still running 30 s after {sig.name}")
        assert process.returncode == code, (name, process.returncode, stderr)
        with h5py.File(trace, "r") as f:
            assert f.attrs["complete"] == 0, name


def test_a_threshold_of_zero_or_below_is_refused_as_every_kinds():
    # It was taken: every series anomalous from the first tick, its alerts never resolved.
    for value in ("0", "-1"):
        path = scenario(f"threshold-{value}", [python_detector("Above", f"above: 0.1, threshold: {value}")])
        check = dosim_cli("validate", path)
        assert check.returncode == 2, check.stderr
        assert "'threshold' must be a finite number > 0" in check.stderr, check.stderr


def test_the_values_a_detector_keeps_stay_the_ticks_values():
    # `values` was a writable view of dosim's buffer: kept past the call it read freed
    # memory (garbage after the run), and writing to it wrote there.
    module = TMP / "keeper.py"
    module.write_text(
        "import numpy as np\n"
        "kept = []\n"
        "class Keep:\n"
        "    def __init__(self, series):\n"
        "        pass\n"
        "    def step(self, t_ns, values):\n"
        "        kept.append((values, values.copy()))\n"
        "        values[:] = -1  # its own: changes nothing of the run's\n"
        "        return np.zeros(len(values))\n")
    path = scenario("keeper", [f"{{name: keep, kind: python, module: {module}, class: Keep, "
                               "metrics: [error_ratio, rps]}"])
    trace = TMP / "keeper.h5"
    dosim.run(str(path), out=str(trace))
    import sys
    kept = next(m.kept for m in list(sys.modules.values())  # whatever its module's name
                if getattr(m, "__file__", None) == str(module))
    assert len(kept) > 100
    for values, copy in kept:
        assert (values == -1).all()  # what the detector wrote, nothing else since
    with h5py.File(trace, "r") as f:
        rps = f["metrics/service/rps"][:]
    assert all(np.isfinite(copy).all() for _, copy in kept)
    assert rps.min() >= 0  # the detector's -1 never reached the trace
