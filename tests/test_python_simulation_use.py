"""How the Python package's runs may be used (docs/python.md): a Simulation from one thread
at a time (a call while another thread's step() or finish() runs is a RunControlError, the
step goes on unharmed); a step() or finish() that a failing script stops puts its trace in
place at once, incomplete, with the script's source, log and experiments and the
detectors' names; arguments of the wrong Python type are TypeErrors (a path is a str or a
PathLike, never a file named "None"); threads as `dosim run --threads` takes them; the
loader's warnings reach Python as UserWarnings."""
import pathlib
import sys
import threading
import warnings

import h5py
import pytest

import dosim
from dosim_test_util import SOURCE_DIR, TMP

FIXTURE = SOURCE_DIR / "tests" / "data" / "python" / "error-fault.yaml"
BASE = FIXTURE.read_text().split("\ndetectors:")[0]

# The detector that holds a step: it says it has started, then waits for the test to let
# it go (a module of events shared with the test through sys.path).
GATE = """
import numpy as np
import simulation_gate as gate


class Gate:
    def __init__(self, series):
        self.count = len(series)

    def step(self, t_ns, values):
        if not gate.entered.is_set():
            gate.entered.set()
            gate.release.wait(60)
        return np.zeros(self.count)
"""


def write(name, text):
    path = TMP / name
    path.write_text(text)
    return path


def test_a_simulation_is_driven_by_one_thread_at_a_time():
    folder = TMP / "simulation-gate"
    folder.mkdir(exist_ok=True)
    (folder / "simulation_gate.py").write_text(
        "import threading\nentered = threading.Event()\nrelease = threading.Event()\n")
    (folder / "gate_detector.py").write_text(GATE)
    sys.path.insert(0, str(folder))
    import simulation_gate as gate
    scenario = write("gate.yaml", BASE + "\ndetectors:\n  - {name: gate, kind: python, module: "
                     f"{folder / 'gate_detector.py'}, class: Gate, metrics: [error_ratio]}}\n")
    sim = dosim.Simulation(scenario)
    stepped = []
    worker = threading.Thread(target=lambda: stepped.append(sim.step(10)))
    worker.start()
    try:
        assert gate.entered.wait(60), "the detector never ran"
        for name, call in {"finish": sim.finish, "step": lambda: sim.step(1),
                           "scale": lambda: sim.scale("api", 3),
                           "inject": lambda: sim.inject(kind="error", target={"service": "db"},
                                                        percent=50),
                           "now_ns": lambda: sim.now_ns, "frame": lambda: sim.frame.services}.items():
            with pytest.raises(dosim.RunControlError,
                               match=rf"^{name}: another thread's step\(\) or finish\(\) of this "
                                     r"Simulation is running"):
                call()
    finally:
        gate.release.set()
        worker.join(60)
    assert stepped == [True]
    assert sim.now_ns == 10 * 1_000_000_000  # the refused calls changed nothing
    report = sim.finish()
    assert report.completed
    alone = dosim.run(scenario)
    assert (report.scores(), len(report.incidents)) == (alone.scores(), len(alone.incidents))


FAILING = 'sim.log("before")\nsim.at(3, function() error("boom") end)\n'


def check_failed_trace(trace):
    """The trace a failing script left: in place, incomplete, with what it did up to there."""
    assert trace.exists(), "the trace was not put in place"
    with h5py.File(trace, "r") as f:
        assert f.attrs["complete"] == 0
        assert b"error(\"boom\")" in f["meta/script_lua"][()]
        assert [t.decode() for t in f["script_log/text"][:]] == ["before"]
        assert "experiments" in f
        assert [n.decode() for n in f["detectors/name"][:]] == ["builtin"]
        assert "truth" not in f


def failing_simulation(name):
    """A Simulation of the fixture with one detector and the failing script, and its trace."""
    scenario = write(f"{name}.yaml", BASE + "\ndetectors:\n  - {name: builtin, kind: threshold, "
                     "metrics: [error_ratio], params: {above: 0.1}}\n")
    trace = TMP / f"{name}.h5"
    trace.unlink(missing_ok=True)
    return dosim.Simulation(scenario, script=write(f"{name}.lua", FAILING), out=trace), trace


def test_a_failing_step_leaves_the_scripts_trace():
    sim, trace = failing_simulation("fail-step")
    with pytest.raises(dosim.ScriptError, match="boom"):
        sim.step(100)
    check_failed_trace(trace)
    with pytest.raises(dosim.RunControlError, match=r"^step: the run stopped on an error \("):
        sim.step(1)


def test_a_failing_finish_puts_its_trace_in_place_at_once():
    sim, trace = failing_simulation("fail-finish")
    with pytest.raises(dosim.ScriptError, match="boom"):
        sim.finish()
    check_failed_trace(trace)  # sim is still alive: not put in place by its collection
    for call, name in ((lambda: sim.step(1), "step"), (sim.finish, "finish"),
                       (lambda: sim.scale("api", 2), "scale")):
        with pytest.raises(dosim.RunControlError, match=rf"^{name}: the run stopped on an error"):
            call()


def test_arguments_of_the_wrong_type_are_type_errors():
    trace = TMP / "types.h5"
    dosim.run(FIXTURE, out=trace)
    for call, message in (
            (lambda: dosim.run(None), r"path must be a path \(str or os.PathLike\), got NoneType"),
            (lambda: dosim.run(5), r"got int"),
            (lambda: dosim.Simulation(FIXTURE, out=7), r"out must be a path"),
            (lambda: dosim.validate(None), r"got NoneType"),
            (lambda: dosim.load_trace(None), r"got NoneType"),
            (lambda: dosim.score(trace, alerts=[{"time": 1, "service": "db"}]),
             r"alerts must be a DataFrame or a path \(str or os.PathLike\), got list"),
            (lambda: dosim.run(FIXTURE, threads="2"), r"threads must be a whole number, got str")):
        with pytest.raises(TypeError, match=message):
            call()
    assert not (TMP / "None").exists()
    # A count given as a bool is no count (True was taken as 1).
    sim = dosim.Simulation(FIXTURE)
    for call in (lambda: sim.step(True), lambda: sim.scale(sim.frame.service_names[0], True)):
        with pytest.raises(TypeError, match=r"'bool' object is not taken as a whole number"):
            call()
    sim.finish()


def test_threads_as_the_command_line_takes_them():
    for threads in (0, 257, 1000):
        with pytest.raises(dosim.InputError, match=rf"threads must be from 1 to 256, got {threads}"):
            dosim.run(FIXTURE, threads=threads)
    assert dosim.run(FIXTURE, threads=256).completed


def test_the_loaders_warnings_are_python_warnings():
    scenario = write("warns.yaml", BASE.replace("tick: 1s", "tick: 1"))
    with pytest.warns(UserWarning, match=r"warns\.yaml:6:7: .*'tick' is a bare number"):
        dosim.run(scenario)
    with pytest.warns(UserWarning, match=r"'tick' is a bare number"):
        dosim.Simulation(scenario)
    with warnings.catch_warnings():  # -W error: the warning is raised, nothing runs
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match=r"'tick' is a bare number"):
            dosim.run(scenario)


def test_warnings_point_at_the_users_line_not_at_the_package():
    # They pointed at dosim/__init__.py (the wrapper that called the module), so `-W` filters
    # by module and the line Python prints were the package's.
    scenario = write("warns-here.yaml", BASE.replace("tick: 1s", "tick: 1"))
    for call in (lambda: dosim.run(scenario), lambda: dosim.Simulation(scenario)):
        with pytest.warns(UserWarning, match="'tick' is a bare number") as caught:
            call()
        assert {pathlib.Path(w.filename).name for w in caught} == {pathlib.Path(__file__).name}
    sim = dosim.Simulation(FIXTURE)
    sim.step(10)
    with pytest.warns(UserWarning, match="^inject: ") as caught:
        sim.inject({"kind": "error", "target": {"service": "api"}, "percent": 20,
                    "duration": 30})
    assert caught[0].filename == __file__
    sim.finish()


def test_a_start_in_the_past_says_both_times():
    sim = dosim.Simulation(FIXTURE)
    sim.step(100)
    with pytest.raises(dosim.RunControlError,
                       match=r"^inject: 'start' \(10s\) is in the past \(now: 1m40s\)$"):
        sim.inject(kind="error", target={"service": "db"}, percent=5, start="10s")


def test_a_recovered_trace_is_read_to_the_rows_every_dataset_has():
    # What a killed run's file can hold once recovered (docs/trace-format.md): datasets of
    # uneven lengths, flushed at different times.
    trace = TMP / "recovered.h5"
    dosim.run(FIXTURE, out=trace)
    with h5py.File(trace, "a") as f:
        f.attrs["complete"] = 0
        f["time_ns"].resize((120,))
        f["metrics/service/rps"].resize((90, f["metrics/service/rps"].shape[1]))
        scores = f["detectors/py/score"].shape
    assert scores[0] == 300
    with dosim.load_trace(trace) as t:
        assert len(t.time_s) == 90
        assert t.detector_scores("py").shape == (90, scores[1])
        assert len(t.service_metric("latency_p95_s")) == 90
        assert len(t.service_metric("rps")) == 90


def test_a_trace_reads_its_remediation_remedies_timeline_and_rankings():
    scenario = write("tables.yaml", BASE + """
detectors:
  - {name: builtin, kind: threshold, metrics: [error_ratio], params: {above: 0.1}}
remediation:
  playbooks:
    - {name: scale-api, match: {detector: builtin, services: [api]}, after: 5s,
       steps: [{action: scale, by: 1}]}
""")
    trace = TMP / "tables.h5"
    dosim.run(scenario, out=trace)
    with dosim.load_trace(trace) as t, h5py.File(trace, "r") as f:
        for table, group in ((t.remediation, "remediation"), (t.remedies, "truth/remedies"),
                             (t.timeline, "truth/timeline"), (t.rca, "rca")):
            assert len(table) == len(f[group + "/" + list(f[group])[0]]), group
            assert set(table.columns) == set(f[group]), group
        assert len(t.rca) > 0 and set(t.rca["ranker"]) >= {"change", "pagerank"}
        assert "scale" in set(t.remediation["action"])
        assert "impact-start" in set(t.timeline["event"])


def test_a_record_longer_than_the_run_is_a_warning():
    scenario = write("record-long.yaml", BASE.replace("tick: 1s", "tick: 1s\nrecord: 10m"))
    warnings = [str(w) for w in dosim.validate(scenario)]
    assert warnings == [f"{scenario}:7:9: warning: 'record' (10m) is longer than the run (5m): "
                        "the trace has one row, of the whole run"], warnings
