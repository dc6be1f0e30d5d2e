"""The dosim Python package, as a new user meets it: import it, validate, run, step a
Simulation, score.

`import dosim` needs only PYTHONPATH. dosim.validate returns a scenario's warnings, and raises
InputError whose diagnostics are `dosim validate`'s lines. dosim.run returns a Report whose
alerts are the trace's and whose scores are `dosim score --json`'s; the same seed gives the
same trace bytes, and the run lets other Python threads go on. A Simulation stepped from
Python shows each tick as a zero-copy float32 view of the engine's buffer, holding what the
trace records; stepping in pieces changes nothing; inject adds an incident and its effect;
bad calls raise typed errors. dosim.score of a trace's own alerts, given as a DataFrame,
scores as the trace scores itself."""
import json
import os
import subprocess
import sys
import threading
import time

import h5py
import numpy as np
import pandas as pd
import pytest

import dosim
from dosim_test_util import SOURCE_DIR, TMP, Checks, dosim as dosim_cli

SCENARIOS = SOURCE_DIR / "scenarios"
# Three services, five minutes, tick = record = 1 s, an error fault on api for 15 s every 40 s.
SMALL = SOURCE_DIR / "tests" / "data" / "python" / "error-fault.yaml"
SECOND = 1_000_000_000


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def first_row_at(trace, time_ns):
    """The index of the trace's row that ends at time_ns."""
    with h5py.File(trace, "r") as f:
        [[row]] = np.nonzero(f["time_ns"][:] == time_ns)
    return int(row)


# --- import and validate --------------------------------------------------------------------

def test_import_dosim_needs_only_pythonpath():
    pythonpath = os.pathsep.join(os.path.abspath(entry)
                                 for entry in os.environ["PYTHONPATH"].split(os.pathsep))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": pythonpath}
    probe = subprocess.run(
        [sys.executable, "-c", "import dosim; print(dosim.__file__); print(dosim.__version__); "
         "print(sorted(dosim.detector_kinds()))"],
        capture_output=True, text=True, env=env, cwd=TMP)
    assert probe.returncode == 0, probe.stderr
    file, version, kinds = probe.stdout.splitlines()
    assert os.path.realpath(file).startswith(os.path.realpath(pythonpath.split(os.pathsep)[0]))
    assert version
    assert "python" in kinds and "threshold" in kinds


def test_validate_returns_the_warnings_of_a_bundled_scenario_as_a_list():
    for name in ["retry-storm", "ecommerce"]:
        warnings = dosim.validate(str(SCENARIOS / f"{name}.yaml"))
        assert isinstance(warnings, list), name
        assert all(isinstance(w, dosim.Diagnostic) and w.warning for w in warnings), name
        assert dosim_cli("validate", SCENARIOS / f"{name}.yaml").returncode == 0


def test_validate_raises_input_error_with_the_diagnostics_dosim_validate_prints():
    path = SOURCE_DIR / "tests" / "loader" / "capacity-zero.yaml"
    with pytest.raises(dosim.InputError) as raised:
        dosim.validate(str(path))
    assert isinstance(raised.value, dosim.Error)
    [diagnostic] = raised.value.diagnostics
    cli = dosim_cli("validate", path)
    assert cli.returncode == 2
    line = cli.stderr.splitlines()[0]
    assert (f"{diagnostic.file}:{diagnostic.line}:{diagnostic.column}: {diagnostic.message}"
            == line)
    assert str(diagnostic) == line
    assert (diagnostic.line, diagnostic.column) == (10, 19)
    assert diagnostic.message == "'capacity_rps' must be > 0, got 0"
    assert not diagnostic.warning


# --- dosim.run ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def retry_storm():
    trace = TMP / "retry-storm.h5"
    return dosim.run(SCENARIOS / "retry-storm.yaml", out=trace), trace


def test_run_reports_the_alerts_the_trace_holds(retry_storm):
    report, trace = retry_storm
    assert report.trace_path == str(trace) and report.completed
    with h5py.File(trace, "r") as f:
        group = f["alerts"]
        stored = pd.DataFrame({
            "t_ns": group["t_ns"][:], "detector": [text(d) for d in group["detector"][:]],
            "service": [text(s) for s in group["service"][:]],
            "metric": [text(m) for m in group["metric"][:]],
            "severity": [text(s) for s in group["severity"][:]],
            "incident_id": group["incident_id"][:], "resolved_ns": group["resolved_ns"][:],
            "target": [text(t) for t in group["target"][:]]})
    assert len(stored) >= 5
    columns = list(stored.columns)
    pd.testing.assert_frame_equal(report.alerts[columns].reset_index(drop=True), stored,
                                  check_dtype=False)


def test_run_counts_the_notifications_and_resolutions_the_trace_holds():
    """payments-mad routes through webhook receivers, which send resolutions by default."""
    trace = TMP / "py-payments-mad.h5"
    report = dosim.run(str(SOURCE_DIR / "scenarios" / "payments-mad.yaml"), out=str(trace))
    with h5py.File(trace, "r") as f:
        stored = f["notifications/resolution"][:]
        raw = f["notifications"].attrs["raw_alerts"]
    assert report.notifications == len(stored) and report.resolutions == int(stored.sum()) > 0
    assert report.raw_alerts == raw


def test_run_scores_are_dosim_scores_json_for_every_shared_row(retry_storm):
    report, trace = retry_storm
    score = dosim_cli("score", trace, "--json")
    assert score.returncode == 0, score.stderr
    cli_rows = json.loads(score.stdout)["scores"]
    mine = report.scores()
    shared = set(mine) & set(cli_rows)
    assert set(report.detectors) <= shared
    check = Checks()
    for row in sorted(shared):
        for metric in sorted(set(mine[row]) & set(cli_rows[row])):
            value = mine[row][metric]
            # Without a detection the report's TTD median and p90 are None, the JSON's 0.
            if value is None and metric.startswith("time_to_detect_") and \
                    not mine[row]["time_to_detect_ns"]:
                value = 0
            check(value == cli_rows[row][metric],
                  f"{row} {metric}: report {mine[row][metric]!r}, dosim score "
                  f"{cli_rows[row][metric]!r}")
    check.assert_passed()


def test_the_same_seed_twice_gives_byte_identical_traces():
    traces = [TMP / "seed-1.h5", TMP / "seed-2.h5"]
    for trace in traces:
        dosim.run(SCENARIOS / "retry-storm.yaml", seed=5, out=trace)
    assert traces[0].read_bytes() == traces[1].read_bytes()


def test_threads_give_the_trace_of_one_thread():
    scenario = TMP / "wide-python.yaml"
    scenario.write_text(subprocess.run(
        ["/usr/bin/python3", str(SOURCE_DIR / "bench" / "synthetic_system.py"), "200",
         "--duration", "3m"], capture_output=True, text=True, check=True).stdout)
    one, three = TMP / "py-threads-1.h5", TMP / "py-threads-3.h5"
    dosim.run(scenario, out=one)
    dosim.run(scenario, out=three, threads=3)
    assert one.read_bytes() == three.read_bytes()
    sim = dosim.Simulation(scenario, out=TMP / "py-threads-step.h5", threads=2)
    while sim.step(50):
        pass
    sim.finish()
    assert (TMP / "py-threads-step.h5").read_bytes() == one.read_bytes()
    with pytest.raises(dosim.InputError):
        dosim.run(scenario, threads=0)


def test_run_releases_the_gil_while_it_simulates():
    # The main thread counts while a week of ecommerce simulates in another (about 3 s): with
    # the GIL held the count could move for one switch interval at most.
    rate_window = 0.1
    start, count = time.perf_counter(), 0
    while time.perf_counter() - start < rate_window:
        count += 1
    per_second = count / rate_window
    progress = {}

    def simulate():
        progress["before"] = counter[0]
        begin = time.perf_counter()
        progress["report"] = dosim.run(SCENARIOS / "ecommerce.yaml", detectors=["threshold"])
        progress["seconds"] = time.perf_counter() - begin
        progress["after"] = counter[0]

    counter = [0]
    worker = threading.Thread(target=simulate)
    worker.start()
    while worker.is_alive():
        counter[0] += 1
    worker.join()
    assert progress["report"].completed
    during = progress["after"] - progress["before"]
    # At least 20 switch intervals' worth of counting (one would be all without release).
    assert during > 20 * sys.getswitchinterval() * per_second, (during, per_second, progress)
    assert during > 100_000, (during, progress["seconds"])


# --- Simulation -----------------------------------------------------------------------------

def test_a_frame_holds_the_services_as_float32_and_equals_the_trace():
    trace = TMP / "frame.h5"
    sim = dosim.Simulation(SMALL, out=trace)
    # Before a step: no tick (it read tick 0 at 0 ns, all zeros, as if simulated); the names.
    before = sim.frame
    assert before.tick is None and before.time_ns is None
    assert before.service_names == ["web", "api", "db"]
    assert sim.step(60)
    frame = sim.frame
    assert frame.services.shape == (3, len(dosim.service_metrics))
    assert frame.services.dtype == np.float32
    assert frame.time_ns == 60 * SECOND == sim.now_ns
    assert frame.service_names == ["web", "api", "db"]
    values = frame.services.copy()
    assert (values[:, dosim.service_metrics.index("rps")] > 0).all()
    sim.finish()
    row = first_row_at(trace, frame.time_ns)
    with h5py.File(trace, "r") as f:
        for j, metric in enumerate(dosim.service_metrics):
            np.testing.assert_array_equal(values[:, j], f[f"metrics/service/{metric}"][row],
                                          err_msg=metric)


def test_a_frame_is_a_view_of_the_engines_buffer():
    sim = dosim.Simulation(SMALL)
    sim.step(60)
    view = sim.frame.services
    assert view.__array_interface__["data"][0] == sim._sim._service_buffer_address()
    assert view.base is not None
    sim.step(1)  # the view follows the engine
    np.testing.assert_array_equal(view, sim.frame.services.copy())
    # Read-only: a write changed nothing the simulation reads, and was accepted.
    for array in (view, sim.frame.edges, sim.frame.endpoints):
        assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        view[0, 0] = 1e6


def test_service_frame_is_a_copy_that_keeps_its_tick():
    sim = dosim.Simulation(SMALL)
    sim.step(60)
    kept = sim.frame.service_frame()
    values = sim.frame.services.copy()
    sim.step(1)
    assert not np.array_equal(values, sim.frame.services)  # the tick did change
    np.testing.assert_array_equal(kept.to_numpy(), values)


def test_stepping_in_pieces_gives_the_trace_of_one_run():
    stepped, whole = TMP / "pieces.h5", TMP / "whole.h5"
    sim = dosim.Simulation(SMALL, out=stepped)
    for ticks in [1, 0, 7, 52, 100, 3]:
        assert sim.step(ticks)
    stepped_report = sim.finish()
    whole_report = dosim.run(SMALL, out=whole)
    assert stepped.read_bytes() == whole.read_bytes()
    pd.testing.assert_frame_equal(stepped_report.alerts, whole_report.alerts)
    assert stepped_report.scores() == whole_report.scores()


def services_now(sim):
    """The frame's services as a DataFrame of copied values (service_frame() is a view)."""
    frame = sim.frame
    return pd.DataFrame(frame.services.copy(), index=frame.service_names,
                        columns=dosim.service_metrics)


def inject_latency(out):
    """Steps a minute, injects 200 ms on db for 5 m, steps on; returns (sim, index, before,
    after)."""
    sim = dosim.Simulation(SMALL, out=out)
    sim.step(60)
    before = services_now(sim)
    index = sim.inject(kind="latency", target={"service": "db"}, fixedDelay="200ms",
                       duration="5m")
    sim.step(5)
    return sim, index, before, services_now(sim)


def test_inject_adds_an_incident_at_the_inject_time_and_raises_latency():
    sim, index, before, after = inject_latency(TMP / "inject.h5")
    report = sim.finish()
    injected = report.incidents[report.incidents.cause == "latency"]
    assert len(injected) == 1, report.incidents
    assert int(injected.start_ns.iloc[0]) == 60 * SECOND
    assert index >= 0
    rise = after.loc["db", "latency_mean_s"] - before.loc["db", "latency_mean_s"]
    assert rise >= 0.15, (before.loc["db"], after.loc["db"])
    assert after.loc["web", "latency_mean_s"] > before.loc["web", "latency_mean_s"] + 0.15


def test_the_same_seed_and_calls_give_byte_identical_traces():
    traces = [TMP / "calls-1.h5", TMP / "calls-2.h5"]
    for trace in traces:
        sim, index, _, _ = inject_latency(trace)
        sim.scale("api", 3)
        sim.step(30)
        sim.end_fault(index)
        sim.finish()
    assert traces[0].read_bytes() == traces[1].read_bytes()


def test_bad_calls_raise_typed_errors():
    sim = dosim.Simulation(SMALL)
    sim.step(10)
    with pytest.raises(dosim.InputError) as raised:
        sim.inject(kind="latency", target={"service": "db"}, fixedDelay="200ms", bogus=1)
    assert "unknown key 'bogus'" in str(raised.value)
    assert raised.value.diagnostics
    with pytest.raises(dosim.RunControlError, match=r"unknown service 'dbb'; did you mean 'db'\?"):
        sim.rollback("dbb")
    with pytest.raises(dosim.RunControlError, match=r"unknown service 'ap'; did you mean 'api'\?"):
        sim.scale("ap", 3)
    with pytest.raises(dosim.RunControlError, match=r"no change named 'nope'"):
        sim.revert("nope")
    with pytest.raises(dosim.RunControlError, match=r"'soon' is not a duration"):
        sim.set_timeout("web", "api", "soon")
    with pytest.raises(dosim.RunControlError, match=r"'percent' must be a number in \[0, 100\]"
                       r", got 150") as raised:
        sim.shed("web", 150)
    assert raised.value.diagnostics
    sim.shed("web", np.int64(50))  # numpy's numbers are numbers, as for scale and step
    sim.shed("web", np.float32(12.5))
    sim.shed("web", 0)
    for wrong in (True, "10"):  # the wrong Python type: TypeError, as for every control
        with pytest.raises(TypeError, match=r"'percent' must be a number, got (bool|str)"):
            sim.shed("web", wrong)
    sim.finish()
    with pytest.raises(dosim.RunControlError):
        sim.step(1)
    with pytest.raises(dosim.RunControlError):
        sim.finish()


def test_whole_numbers_beyond_a_c_int_are_range_errors_not_type_errors():
    # pybind11 refused them with a TypeError before the controls' own checks could speak.
    sim = dosim.Simulation(SMALL)
    sim.step(np.int64(2))
    for value in (2**31, 10**12, -2**40):
        with pytest.raises(dosim.RunControlError,
                           match=rf"must be within \[0, 1000000\], got {value}$"):
            sim.scale("api", value)
    with pytest.raises(dosim.RunControlError, match=r"^end_fault: no fault 1099511627776$"):
        sim.end_fault(2**40)
    with pytest.raises(dosim.RunControlError, match=r"ticks must be >= 0"):
        sim.step(-2**70)
    with pytest.raises(TypeError):  # not a whole number at all
        sim.scale("api", 2.5)
    sim.scale("api", np.int32(3))
    sim.step(2**64)  # more ticks than the run has: to its end
    assert sim.now_ns == sim.duration_ns
    sim.finish()


def test_every_control_after_finish_says_the_run_is_over():
    sim = dosim.Simulation(SMALL)
    sim.step(10)
    fault = sim.inject(kind="latency", target={"service": "db"}, fixedDelay="200ms",
                       duration="1m")
    sim.finish()
    calls = {
        "inject": lambda: sim.inject(kind="latency", target={"service": "db"},
                                     fixedDelay="200ms", duration="1m"),
        "end_fault": lambda: sim.end_fault(fault),
        "rollback": lambda: sim.rollback("api"),
        "scale": lambda: sim.scale("api", 3),
        "revert": lambda: sim.revert("nope"),
        "set_timeout": lambda: sim.set_timeout("web", "api", "3s"),
        "shed": lambda: sim.shed("api", 10),
        "playbook": lambda: sim.playbook(name="p", trigger={"detector": "builtin"},
                                         steps=[{"action": "scale", "service": "api",
                                                 "replicas": 3}]),
        "change": lambda: sim.change(kind="config", target="api"),
        "steer": lambda: sim.steer("users", {"eu": 100}),
        "drain": lambda: sim.drain("eu"),
    }
    for call, control in calls.items():  # not None, not False, not a message of its own
        with pytest.raises(dosim.RunControlError, match=rf"^{call}: the run is over$"):
            control()


def test_seeds_are_checked_as_the_command_line_checks_them():
    for seed in [-1, 2**64 - 1, 2**64, 10**18 + 1, True, 1.5, "7"]:
        with pytest.raises(dosim.InputError, match=r"seed must be a whole number in \[0, 1e18\]"):
            dosim.run(SMALL, seed=seed)
        with pytest.raises(dosim.InputError):
            dosim.Simulation(SMALL, seed=seed)
    assert dosim.run(SMALL, seed=10**18).seed == 10**18
    assert dosim.run(SMALL, seed=np.int64(5)).seed == 5  # numpy's integers are integers
    # A float that is a whole number is one, as the command line's --seed 7.0 and 1e18.
    assert dosim.run(SMALL, seed=7.0).seed == 7
    assert dosim.Simulation(SMALL, seed=1e18) is not None
    with pytest.raises(dosim.InputError):
        dosim.run(SMALL, seed=np.bool_(True))
    bad = TMP / "seed-too-big.yaml"  # the scenario's own seed, past 1e18 by one
    bad.write_text(SMALL.read_text().replace("seed: 11", "seed: 1000000000000000001"))
    with pytest.raises(dosim.InputError, match=r"'seed' must be in \[0, 1000000000000000000\]"):
        dosim.validate(bad)


def test_files_that_are_no_trace_or_sweep_raise_input_error_and_the_summary_exits_2():
    not_hdf5 = TMP / "not-a-trace.h5"
    not_hdf5.write_text("hello")
    sweep_like = TMP / "not-a-trace-either.h5"
    with h5py.File(sweep_like, "w") as f:
        f.attrs["format"] = "dosim-sweep"
    for path, said in [(not_hdf5, "cannot read the trace"), (sweep_like, "not a dosim trace"),
                       (TMP / "no-such.h5", "cannot read the trace")]:
        with pytest.raises(dosim.InputError, match=said) as raised:
            dosim.load_trace(path)
        assert raised.value.diagnostics[0].file == str(path)
    for path in [not_hdf5, SMALL, TMP / "no-such.json"]:
        with pytest.raises(dosim.InputError):
            dosim.load_sweep(path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    trace = TMP / "summary.h5"
    dosim.run(SMALL, out=trace)
    good = subprocess.run([sys.executable, "-m", "dosim.trace", str(trace)], env=env,
                          capture_output=True, text=True)
    assert good.returncode == 0 and "dosim-trace" in good.stdout, good
    assert good.stderr == "", good.stderr  # no runpy warning
    # A reader that leaves early (`| head`): no BrokenPipeError traceback, exit 0.
    early = subprocess.Popen([sys.executable, "-m", "dosim.trace", str(trace)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    early.stdout.close()
    said = early.stderr.read()
    assert early.wait() == 0 and "Traceback" not in said, said
    bad = subprocess.run([sys.executable, "-m", "dosim.trace", str(not_hdf5)], env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 2, bad
    assert "Traceback" not in bad.stderr and "cannot read the trace" in bad.stderr, bad.stderr


def test_a_fifo_is_refused_at_once_as_the_command_line_refuses_it():
    """h5py and json would wait for a writer for ever: each reader checks first, in the
    words of dosim's own readers. Each call in a process of its own: a hang fails."""
    said = "not a regular file (a device, a FIFO or a socket)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for name in ["fifo.h5", "fifo.json"]:
        fifo = TMP / name
        fifo.unlink(missing_ok=True)
        os.mkfifo(fifo)
    for call, path, words in [("load_trace", "fifo.h5", "cannot read the trace"),
                              ("load_sweep", "fifo.h5", "cannot read the results"),
                              ("load_sweep", "fifo.json", "cannot read the results")]:
        script = (f"import sys, dosim\ntry:\n    dosim.{call}(sys.argv[1])\n"
                  "except dosim.InputError as error:\n    print(error.diagnostics[0].file)\n"
                  "    print(error)\n")
        probe = subprocess.run([sys.executable, "-c", script, str(TMP / path)], env=env,
                               capture_output=True, text=True, timeout=60)
        assert probe.returncode == 0, probe.stderr
        assert probe.stdout == f"{TMP / path}\n{TMP / path}: {words}: {said}\n", probe.stdout
    summary = subprocess.run([sys.executable, "-m", "dosim.trace", str(TMP / "fifo.h5")],
                             env=env, capture_output=True, text=True, timeout=60)
    assert summary.returncode == 2 and said in summary.stderr, summary
    cli = dosim_cli("score", TMP / "fifo.h5", timeout=60)
    assert cli.returncode == 2 and said in cli.stderr, cli


def test_the_trace_summary_says_its_usage_and_exits_2_on_a_usage_mistake():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for args in [[], ["a.h5", "b.h5"]]:
        wrong = subprocess.run([sys.executable, "-m", "dosim.trace", *args], env=env,
                               capture_output=True, text=True)
        assert wrong.returncode == 2, wrong
        assert wrong.stderr == "usage: python3 -m dosim.trace TRACE.h5\n", wrong.stderr
    helped = subprocess.run([sys.executable, "-m", "dosim.trace", "--help"], env=env,
                            capture_output=True, text=True)
    assert helped.returncode == 0 and helped.stdout.startswith("usage: "), helped


def test_a_python_detector_is_made_once_to_check_and_once_to_run():
    folder = TMP / "made-once"
    folder.mkdir(exist_ok=True)
    (folder / "counted.py").write_text(
        "import numpy as np\n"
        "class Counted:\n"
        "    def __init__(self, series, above=1.0):\n"
        "        with open(__file__ + '.made', 'a') as f:\n"
        "            f.write('made\\n')\n"
        "        self.above = above\n"
        "    def step(self, t_ns, values):\n"
        "        return np.asarray(values, dtype=np.float64) / self.above\n")
    scenario = folder / "counted.yaml"
    scenario.write_text(
        "name: counted\nduration: 1m\nservices:\n  - {name: a}\n"
        "detectors:\n  - {name: py, kind: python, module: counted.py, class: Counted,\n"
        "     metrics: [error_ratio], params: {above: 2}}\n"
        "incident_rules:\n  - {name: rule, detector: py}\n")
    made = folder / "counted.py.made"
    made.unlink(missing_ok=True)
    dosim.validate(scenario)
    assert made.read_text().count("made") == 1
    made.unlink()
    dosim.run(scenario)
    assert made.read_text().count("made") == 2


def test_mode_runs_the_request_level_from_python():
    report = dosim.run(SCENARIOS / "payments-mad.yaml", mode="requests", out=TMP / "req.h5")
    with h5py.File(TMP / "req.h5") as f:
        assert f["spans/span_id"].shape[0] > 0  # the scenario traces at request level
    fluid = dosim.run(SCENARIOS / "payments-mad.yaml", out=TMP / "fluid.h5")
    with h5py.File(TMP / "fluid.h5") as f:
        assert f["spans/span_id"].shape[0] == 0
    assert len(report.incidents) == len(fluid.incidents)
    with pytest.raises(dosim.InputError, match="mode must be fluid or requests"):
        dosim.Simulation(SCENARIOS / "payments-mad.yaml", mode="request")


def test_steer_and_drain_move_regional_traffic_as_declared_changes():
    scenario = SOURCE_DIR / "scenarios" / "regional-failover.yaml"
    sim = dosim.Simulation(scenario, out=TMP / "steer.h5")
    sim.step(5 * 60)
    assert sim.steer("eu-users", {"us-east": 100}, shift="1m") >= 0
    sim.step(61)  # the tick at 5m + 1m is the first with all of it moved
    eu_gateway = sim.frame.service_names.index("eu-gateway")
    rps = sim.frame.services[eu_gateway, dosim.service_metrics.index("rps")]
    assert rps == 0.0  # the EU users are in us-east after the shift
    sim.drain("us-east", restore="10m")
    sim.step(60)
    rps = sim.frame.services[eu_gateway, dosim.service_metrics.index("rps")]
    assert rps > 700  # both sources in eu-west while us-east is drained
    with pytest.raises(dosim.InputError, match="unknown region 'mars'"):
        sim.drain("mars")
    # What the scenario's `changes:` would warn of, as a Python warning.
    with pytest.warns(UserWarning, match="restores at 5h.*never happens"):
        sim.drain("eu-west", restore="5h")
    sim.finish()
    with h5py.File(TMP / "steer.h5") as f:
        kinds = f["events/changes/kind"].asstr()[()].tolist()
    assert kinds[:4] == ["traffic-shift", "drain", "drain", "drain-restore"]


def test_inject_warns_as_the_scenarios_faults_and_strict_refuses_what_it_would_warn_of():
    # inject took `duration: 30` (a bare number) and an end past the run's silently, where
    # the scenario's `faults:` warns; strict=True did not apply to the controls at all.
    sim = dosim.Simulation(SCENARIOS / "payments-mad.yaml")
    sim.step(10)
    with pytest.warns(UserWarning, match=r"^inject: 'duration' is a bare number: read as 30 s"):
        sim.inject({"kind": "error", "target": {"service": "payments"}, "percent": 20,
                    "duration": 30})
    sim.finish()
    strict = dosim.Simulation(SCENARIOS / "payments-mad.yaml", strict=True)
    strict.step(10)
    with pytest.raises(dosim.InputError, match="'duration' is a bare number"):
        strict.inject({"kind": "error", "target": {"service": "payments"}, "percent": 20,
                       "duration": 30})
    with pytest.raises(dosim.InputError, match="'at' is a bare number"):
        strict.change({"kind": "config", "services": ["payments"], "version": "v2", "at": 200})
    assert strict.inject({"kind": "error", "target": {"service": "payments"}, "percent": 20,
                          "duration": "30s"}) >= 0  # nothing was added before
    strict.finish()


# --- dosim.score ----------------------------------------------------------------------------

def test_rca_scores_are_the_numbers_dosim_score_json_writes(retry_storm):
    report, trace = retry_storm
    score = dosim_cli("score", trace, "--json")
    assert score.returncode == 0, score.stderr
    rows = report.rca_scores()
    assert {row["delay_s"] for row in rows} >= {0.0, 60.0}  # 60e9 * 1e-9 is not 60.0
    assert rows == json.loads(score.stdout)["rca"]


def test_score_refuses_the_argument_mixes_the_command_line_refuses(retry_storm):
    _, trace = retry_storm
    scores = pd.DataFrame({"time": [60.0], "series": ["db"], "score": [2.0]})
    alerts = pd.DataFrame({"time": [60.0], "service": ["db"]})
    with pytest.raises(dosim.InputError, match="alerts excludes scores") as raised:
        dosim.score(trace, alerts=alerts, scores=scores)
    assert raised.value.diagnostics[0].file == "alerts"
    with pytest.raises(dosim.InputError, match="threshold requires scores"):
        dosim.score(trace, threshold=0.1)
    with pytest.raises(dosim.InputError, match="threshold requires scores"):
        dosim.score(trace, alerts=alerts, threshold=0.5)
    with pytest.raises(dosim.InputError,
                       match=r"^threshold: threshold must be a finite number, got nan$"):
        dosim.score(trace, scores=scores, threshold=float("nan"))
    with pytest.raises(dosim.InputError, match=r"threshold must be a number, got 'high'"):
        dosim.score(trace, scores=scores, threshold="high")
    both = dosim_cli("score", trace, "--alerts", "a.csv", "--scores", "s.csv")
    assert both.returncode == 2 and "--alerts excludes --scores" in both.stderr, both.stderr
    alone = dosim_cli("score", trace, "--threshold", "0.1")
    assert alone.returncode == 2 and "--threshold requires --scores" in alone.stderr, alone
    assert dosim.score(trace, scores=scores, threshold=np.float64(1.0))  # a number
    assert dosim.score(trace, scores=scores) == dosim.score(trace, scores=scores, threshold=0.5)


def test_a_dataframes_problems_are_said_at_its_rows_and_columns(retry_storm):
    _, trace = retry_storm
    alerts = pd.DataFrame({"time": [60.0, 61.0, -5.0], "service": ["db", "dbx", "db"]},
                          index=[0, 1, 2])
    with pytest.raises(dosim.InputError) as raised:
        dosim.score(trace, alerts=alerts)
    said = [str(d) for d in raised.value.diagnostics]
    assert said[0].startswith("alerts (DataFrame) row 1, column service: unknown service "
                              "`dbx`"), said
    assert said[1].startswith("alerts (DataFrame) row 2, column time: "), said
    assert len(said) == 2 and not any(TMP.name in s or "/tmp" in s for s in said), said
    labelled = alerts.set_index(pd.Index(["a", "b", "c"]))[["service", "time"]]
    with pytest.raises(dosim.InputError, match=r"^alerts \(DataFrame\) row b, column service: "):
        dosim.score(trace, alerts=labelled)
    with pytest.raises(dosim.InputError,
                       match=r"^alerts \(DataFrame\): missing column `time` or `time_ns`"):
        dosim.score(trace, alerts=alerts[["service"]])
    both = alerts.assign(time_ns=0)
    with pytest.raises(dosim.InputError,
                       match=r"^alerts \(DataFrame\) column time_ns: both `time` and "):
        dosim.score(trace, alerts=both)
    scores = pd.DataFrame({"time": [60.0, 61.0], "series": ["db", "db"],
                           "score": [0.5, "high"]})
    with pytest.raises(dosim.InputError, match=r"^scores \(DataFrame\) row 1, column score: "):
        dosim.score(trace, scores=scores)
    # A cell with a comma and a line break is one cell; the next row keeps its label.
    odd = pd.DataFrame({"time": [60.0, 61.0], "detector": ["a,\nb", "c"],
                        "service": ["db", "nope"]})
    with pytest.raises(dosim.InputError,
                       match=r"^alerts \(DataFrame\) row 1, column service: unknown service"):
        dosim.score(trace, alerts=odd)


def test_score_of_the_traces_own_alerts_as_a_dataframe_equals_the_traces_scores(retry_storm):
    _, trace = retry_storm
    with dosim.load_trace(trace) as loaded:
        alerts = loaded.alerts
    alerts = alerts.rename(columns={"t_ns": "time_ns"}).drop(columns=["incident_id"])
    assert len(alerts) >= 5
    own = dosim.score(trace)
    external = dosim.score(trace, alerts=alerts)
    check = Checks()
    detectors = sorted(set(alerts.detector))
    for detector in detectors:
        for metric in ["precision", "recall", "f1", "time_to_detect_ns", "nab_standard",
                       "range_f1"]:
            check(external[detector][metric] == own[detector][metric],
                  f"{detector} {metric}: external {external[detector][metric]!r}, own "
                  f"{own[detector][metric]!r}")
    check.assert_passed()


def test_score_of_an_incomplete_trace_warns_as_the_command_line_marks_it(retry_storm):
    """dosim score prints [INCOMPLETE] for an interrupted run's trace; dosim.score returned
    its table without a word, so a pipeline mixed partial runs with whole ones."""
    import shutil
    import warnings
    _, trace = retry_storm
    partial = TMP / "retry-partial.h5"
    shutil.copyfile(trace, partial)
    with h5py.File(partial, "r+") as f:
        f.attrs["complete"] = np.int32(0)
    with pytest.warns(UserWarning, match=r"retry-partial.h5: the trace is incomplete"):
        table = dosim.score(partial)
    assert table == dosim.score(trace)  # the same rows: scored on what it holds
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dosim.score(trace)  # a complete one: no warning


def test_zone_and_route_metrics_and_the_summary_over_the_run():
    """load_trace reads /metrics/zone and /metrics/route (it said there was no such family,
    the data being in the file); a place's columns add up to its service's rps, a source's
    route weights to 1. `python -m dosim.trace` gives each service's figures over the run:
    the mean of the rows by their length, errors of all the requests (it took a plain mean
    of rows, a shorter last row as a whole one, error ratios unweighted)."""
    trace = TMP / "zones-summary.h5"
    run = dosim_cli("run", SOURCE_DIR / "scenarios" / "regional-failover.yaml", "-q", "-o", trace)
    assert run.returncode == 0, run.stderr
    with dosim.load_trace(trace) as loaded:
        assert loaded.metric_names("zone") and loaded.metric_names("route")
        zones = loaded.zone_metric("rps")
        assert list(zones.columns) == [
            f"{loaded.services[int(s)]}@{z or r}" for s, z, r in
            zip(loaded.placement["service"], loaded.placement["zone"], loaded.placement["region"])]
        rps = loaded.service_metric("rps")
        for s, name in enumerate(loaded.services):
            own = [c for c, place in zip(zones.columns, loaded.placement["service"]) if place == s]
            if own:
                np.testing.assert_allclose(zones[own].sum(axis=1), rps[name], rtol=1e-4,
                                           atol=1e-3, err_msg=name)
        weights = loaded.route_metric("weight")
        for traffic in set(loaded.routes["traffic"]):
            own = [c for c in weights.columns if c.startswith(f"{traffic}@")]
            np.testing.assert_allclose(weights[own].sum(axis=1), 1.0, atol=1e-5)
        assert set(loaded.long_frame("route", "rps").route) == set(weights.columns)
    # The summary against h5py's rows, by hand.
    with h5py.File(trace) as f:
        t = f["time_ns"][()] / 1e9
        length = np.diff(t, prepend=0.0)
        names = [n.decode() for n in f["services/name"][()]]
        r = f["metrics/service/rps"][()].astype(float)
        e = f["metrics/service/error_ratio"][()].astype(float)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-m", "dosim.trace", str(trace)], env=env,
                         capture_output=True, text=True).stdout
    for s, name in enumerate(names):
        line = next(l for l in out.splitlines() if l.split()[:1] == [name])
        fields = line.split()
        requests = (r[:, s] * length).sum()
        assert float(fields[1]) == pytest.approx(requests / length.sum(), abs=0.06)
        failed = (r[:, s] * e[:, s] * length).sum()
        assert float(fields[2]) == pytest.approx(failed / requests if requests else 0, abs=6e-5)


def test_a_reports_own_alerts_score_back_as_the_report_scored_them(retry_storm):
    # report.alerts names its time `t_ns`, as the trace's /alerts: dosim.score took only
    # `time` / `time_ns` ("missing column `time` or `time_ns`").
    report, trace = retry_storm
    assert "t_ns" in report.alerts.columns and len(report.alerts) > 0
    scored, own = dosim.score(trace, alerts=report.alerts), report.scores()
    for detector in report.detectors:  # each detector's row (the baselines are per table)
        assert scored[detector] == own[detector], detector


def test_a_report_prints_as_the_docs_show(retry_storm):
    # docs/python.md's first example; it printed "1 incidents".
    report, _ = retry_storm
    assert repr(report) == "<dosim.Report retry-storm seed 3: 1 incident, 12 alerts>"
