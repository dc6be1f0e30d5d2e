"""Errors of the Python package, as a new user meets them (docs/python.md, Errors):

- a Simulation whose step() raised (a Lua callback's ScriptError, a Python detector's) is
  stopped as dosim.run would stop: the error is raised once, the trace is closed and marked
  incomplete, and every later step(), control or finish() raises RunControlError saying
  the run stopped on an error;
- inject refuses a fault's schedule (one fault per call), as documented;
- a Trace asked for a name it does not have raises InputError listing those there are, a
  detector that watched no series is said to, and a closed Trace raises dosim.Error;
- a Python detector shares state with the calling program through a module both import;
- the controls and dosim.run's rankers name the call and the value given.
"""
import pytest

import dosim
from dosim_test_util import SOURCE_DIR, TMP

SMALL = SOURCE_DIR / "tests" / "data" / "python" / "error-fault.yaml"
GAME_DAY = SOURCE_DIR / "scenarios" / "game-day.yaml"


def scratch(name):
    folder = TMP / "python-errors"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


# --- a failed Simulation stays stopped -------------------------------------------------------

def test_a_simulation_stops_for_good_when_a_script_callback_fails():
    script = scratch("fail.lua")
    script.write_text('sim.every(10, function() sim.log("beat") end)\n'
                      'sim.at(15, function() error("boom") end)\n')
    out = scratch("fail.h5")
    sim = dosim.Simulation(GAME_DAY, script=script, out=out)
    with pytest.raises(dosim.ScriptError, match=r"fail\.lua:2: boom") as raised:
        sim.step(30)
    where = raised.value.diagnostics[0]
    assert (where.file, where.line) == (str(script), 2), str(where)
    assert str(where).startswith(f"{script}:2: boom")  # as it was: the message whole
    stopped_at = sim.now_ns
    # The trace is closed at once, incomplete, as dosim.run leaves it.
    with dosim.load_trace(out) as trace:
        assert not trace.complete
    message = r"the run stopped on an error \(.*fail\.lua:2: boom\)"
    with pytest.raises(dosim.RunControlError, match="^step: " + message) as raised:
        sim.step(100)
    # Its Diagnostic is at the error that stopped the run (its file was "the run stopped on
    # an error (.../fail.lua").
    where = raised.value.diagnostics[0]
    assert (where.file, where.line) == (str(script), 2), (where.file, where.line)
    assert sim.now_ns == stopped_at
    with pytest.raises(dosim.RunControlError, match="^scale: " + message):
        sim.scale("checkout", 3)
    with pytest.raises(dosim.RunControlError, match="^inject: " + message):
        sim.inject(kind="latency", target={"service": "checkout"}, fixedDelay="1s")
    with pytest.raises(dosim.RunControlError, match="^finish: " + message):
        sim.finish()
    with dosim.load_trace(out) as trace:
        assert not trace.complete
    # dosim.run with the same script: the same error, the same incomplete trace.
    with pytest.raises(dosim.ScriptError, match=r"fail\.lua:2: boom"):
        dosim.run(GAME_DAY, script=script, out=scratch("run.h5"))
    with dosim.load_trace(scratch("run.h5")) as trace:
        assert not trace.complete


def test_a_simulation_stops_for_good_when_a_python_detector_fails():
    module = scratch("boom_detector.py")
    module.write_text("class Boom:\n"
                      "    def __init__(self, series):\n"
                      "        self.calls = 0\n"
                      "    def step(self, t_ns, values):\n"
                      "        self.calls += 1\n"
                      "        if self.calls == 5:\n"
                      "            raise ValueError('boom')\n"
                      "        return [0.0] * len(values)\n")
    out = scratch("boom.h5")
    sim = dosim.Simulation(SMALL, detectors=[f"python:{module}:Boom"], out=out)
    with pytest.raises(dosim.ScriptError, match=r"ValueError: boom") as raised:
        sim.step(10)
    # Its Diagnostic says where, as docs/python.md has every Diagnostic say (they were empty).
    where = raised.value.diagnostics[0]
    assert (where.file, where.line, where.column) == (str(module), 7, 0), str(where)
    # Raised from the detector's own exception, with its traceback (it was not chained).
    cause = raised.value.__cause__
    assert isinstance(cause, ValueError) and str(cause) == "boom", repr(cause)
    assert cause.__traceback__ is not None
    stopped_at = sim.now_ns
    with pytest.raises(dosim.RunControlError, match=r"^step: the run stopped on an error \("):
        sim.step(1)
    assert sim.now_ns == stopped_at
    with pytest.raises(dosim.RunControlError, match=r"^finish: the run stopped on an error"):
        sim.finish()
    with dosim.load_trace(out) as trace:
        assert not trace.complete


# --- inject adds one fault: no schedule ------------------------------------------------------

def test_inject_refuses_a_schedule_as_documented():
    sim = dosim.Simulation(SMALL)
    sim.step(2)
    with pytest.raises(dosim.InputError, match=r"'schedule' is not available here: add one "
                                               r"fault per occurrence"):
        sim.inject(kind="error", target={"service": "api"}, percent=30, duration="5s",
                   schedule={"every": "20s"})


# --- a trace's wrong names and a closed trace -----------------------------------------------

def test_an_argument_that_holds_itself_is_an_input_error_not_a_crash():
    # A list that holds itself (or one nested 30,000 deep) recursed until the stack ended:
    # a segmentation fault. Nested deeper than 64 levels is refused, as dosim serve's body.
    sim = dosim.Simulation(SMALL)
    looped = []
    looped.append(looped)
    deep = []
    for _ in range(30000):
        deep = [deep]
    calls = {"inject": lambda: sim.inject(kind="error", target={"service": "api"}, extra=looped),
             "change": lambda: sim.change(kind="config", services=looped, version="c"),
             "playbook": lambda: sim.playbook(name="p", match=looped, steps=[]),
             "inject ": lambda: sim.inject(kind="error", target={"service": "api"}, extra=deep)}
    for name, call in calls.items():
        with pytest.raises(dosim.InputError, match=f"^{name.strip()}: its argument is nested "
                           "deeper than 64 levels"):
            call()
    sim.step(1)  # the simulation goes on


def test_a_traces_wrong_names_raise_input_error_listing_what_is_there():
    out = scratch("names.h5")
    dosim.run(SMALL, out=out)
    trace = dosim.load_trace(out)
    with pytest.raises(dosim.InputError,
                       match=r"no service metric 'latency_p96_s' in .*names\.h5 \(service "
                             r"metrics: .*latency_p95_s.*\); did you mean 'latency_p9\d_s'\?"):
        trace.service_metric("latency_p96_s")
    with pytest.raises(dosim.InputError, match=r"did you mean 'latency_p95_s'\?"):
        trace.service_metric("latency_p95")
    with pytest.raises(dosim.InputError, match=r"no edge metric 'nope'"):
        trace.edge_metric("nope")
    with pytest.raises(dosim.InputError,
                       match=r"no metric family 'nodes' .*\(metric families: service, edge, "
                             r"endpoint, zone, route\)"):
        trace.metric_names("nodes")
    with pytest.raises(dosim.InputError, match=r"no detector 'nope' .*\(detectors: builtin, py\)"):
        trace.detector_scores("nope")
    with pytest.raises(dosim.InputError, match=r"no detector 'nope'"):
        trace.detector_gauges("nope")
    with pytest.raises(dosim.InputError, match=r"no service metric 'nope'"):
        trace.long_frame("service", ["nope"])
    with pytest.raises(dosim.InputError, match=r"no metric family 'nodes'"):
        trace.long_frame("nodes")
    assert set(trace.long_frame("service", "rps").metric) == {"rps"}
    trace.close()
    for read in (lambda: trace.service_metric("rps"), lambda: trace.metric_names(),
                 lambda: trace.detectors(), lambda: trace.detector_scores("builtin")):
        with pytest.raises(dosim.Error, match=r"names\.h5: the trace is closed"):
            read()
    assert len(trace.services) == 3  # what was read at once stays


def test_detector_scores_of_a_detector_that_watched_nothing_says_so():
    scenario = scratch("no-endpoints.yaml")
    scenario.write_text(SMALL.read_text().split("detectors:")[0] + "detectors:\n"
                        "  - {name: ep, kind: threshold, family: endpoint, metrics: [rps],\n"
                        "     params: {above: 1}}\n"
                        "  - {name: builtin, kind: threshold, metrics: [error_ratio],\n"
                        "     params: {above: 0.1}}\n")
    out = scratch("no-endpoints.h5")
    with pytest.warns(UserWarning, match=r"no-endpoints\.yaml:\d+:\d+: warning: detector 'ep' "
                                         r"watches no series"):
        dosim.run(scenario, out=out)
    with dosim.load_trace(out) as trace:
        assert trace.detectors() == ["builtin"]
        with pytest.raises(dosim.InputError, match=r"detector 'ep' watched no series"):
            trace.detector_scores("ep")


# --- a Python detector shares state through a module both import ----------------------------

def test_a_detector_shares_state_with_the_program_through_a_module_both_import(monkeypatch):
    folder = scratch("shared-state")
    folder.mkdir(exist_ok=True)
    (folder / "dosim_shared_state.py").write_text("seen = []\n")
    (folder / "watcher.py").write_text(
        "import dosim_shared_state\n"
        "ticks = []\n"
        "class Watch:\n"
        "    def __init__(self, series):\n"
        "        pass\n"
        "    def step(self, t_ns, values):\n"
        "        dosim_shared_state.seen.append(t_ns)\n"
        "        ticks.append(t_ns)\n"
        "        return [0.0] * len(values)\n")
    monkeypatch.syspath_prepend(str(folder))
    import dosim_shared_state
    import watcher
    report = dosim.run(SMALL, detectors=[f"python:{folder / 'watcher.py'}:Watch"])
    # The module both import is one object: the program sees every tick the detector saw.
    assert len(dosim_shared_state.seen) == report.ticks
    # The detector file itself was executed as a module of dosim's own, not as `watcher`.
    assert watcher.ticks == []
    import sys
    loaded = [m for name, m in sys.modules.items() if name.startswith("dosim_detector_")
              and getattr(m, "__file__", "") == str(folder / "watcher.py")]
    assert len(loaded) == 1 and len(loaded[0].ticks) == report.ticks


# --- the Python controls name themselves ----------------------------------------------------

def test_the_controls_name_the_call_made():
    sim = dosim.Simulation(SMALL)
    sim.step(2)
    with pytest.raises(dosim.RunControlError,
                       match=r"^scale: a replica count must be within \[0, 1000000\], got -1$"):
        sim.scale("api", -1)
    with pytest.raises(dosim.RunControlError, match=r"^scale: unknown service 'ap'"):
        sim.scale("ap", 3)
    with pytest.raises(dosim.RunControlError,
                       match=r"^set_timeout: a timeout must be >= 0 seconds \(0 for none\), "
                             r"got -1$"):
        sim.set_timeout("web", "api", -1)
    with pytest.raises(dosim.RunControlError, match=r"^set_timeout: 'soon' is not a duration"):
        sim.set_timeout("web", "api", "soon")
    with pytest.raises(dosim.RunControlError, match=r"^set_timeout: db does not call web$"):
        sim.set_timeout("db", "web", 2)
    sim.set_timeout("web", "api", 2.5)
    sim.set_timeout("web", "api", "3s")
    with pytest.raises(dosim.InputError, match=r"ranker 'x' is not callable: 5 \(int\)"):
        dosim.run(SMALL, rankers={"x": 5})
    with pytest.raises(dosim.InputError, match=r"a ranker's name must be a string, got int"):
        dosim.run(SMALL, rankers={5: lambda case: []})
    with pytest.raises(dosim.InputError, match=r"rankers must be a dict .*, got int"):
        dosim.run(SMALL, rankers=5)
    # Names a scenario's ranker could not have (they ran, as rows without a name).
    with pytest.raises(dosim.InputError, match=r"a root-cause ranker's name must not be empty"):
        dosim.run(SMALL, rankers={"": lambda case: []})
    with pytest.raises(dosim.InputError, match=r"must not hold control characters"):
        dosim.run(SMALL, rankers={"a\nb": lambda case: []})


def test_a_control_given_what_no_scenario_entry_holds_raises_type_error():
    """bytes or an object were written as their str() ("got 'b'error''", "unknown service
    '<object object at 0x...>'"), a text where a dict goes failed inside dict()."""
    import numpy as np
    sim = dosim.Simulation(SMALL)
    sim.step(5)
    with pytest.raises(TypeError, match=r"^inject: a value must be text, .* got bytes b'error'"):
        sim.inject(kind=b"error", target={"service": "api"})
    with pytest.raises(TypeError, match=r"^inject: .* got object <object object"):
        sim.inject(kind="error", target={"service": object()})
    with pytest.raises(TypeError, match=r"^playbook: takes a dict \(or keywords\), got str 'x'"):
        sim.playbook("x")
    with pytest.raises(TypeError, match=r"^change: takes a dict .*, got list \[1, 2\]"):
        sim.change([1, 2])
    with pytest.raises(TypeError, match=r"^inject: takes a dict"):
        sim.inject("error")
    # numpy numbers are numbers; None is YAML's null (it was the text 'None').
    assert sim.inject(kind="error", target={"service": "api"}, percent=np.float64(20.5),
                      duration="1m") >= 0
    with pytest.raises(dosim.InputError, match=r"expected a number for 'percent', got nothing"):
        sim.inject(kind="error", target={"service": "api"}, percent=None)
    # A one-value array is its value, a numpy bool a bool (np.array(5.0) was a SystemError,
    # np.bool_(True) the number 1); an array of more values is no value.
    assert sim.inject(kind="error", target={"service": "api"}, percent=np.array(5.0),
                      duration="1m") >= 0
    with pytest.warns(UserWarning, match=r"'at' is a bare number: read as 15.0 s"):
        assert sim.change(name="shift", kind="deployment", service="api", version="v2",
                          at=np.array(sim.now_ns / 1e9 + 10)) is not None
    with pytest.raises(TypeError, match=r"^inject: .* got an array of shape \(1,\)"):
        sim.inject(kind="error", target={"service": "api"}, percent=np.array([5]))
    with pytest.raises(dosim.InputError, match=r"expected a number for 'percent', got 'true'"):
        sim.inject(kind="error", target={"service": "api"}, percent=np.bool_(True))


def test_a_control_whose_warning_is_made_an_error_adds_nothing():
    """Under warnings made errors, inject raised the warning and added the fault all the
    same (its index lost to the caller), where strict=True adds nothing."""
    import warnings
    sim = dosim.Simulation(SMALL)
    sim.step(5)
    first = sim.inject(kind="error", target={"service": "api"}, percent=5, duration="30s")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match=r"'duration' is a bare number"):
            sim.inject(kind="error", target={"service": "api"}, percent=5, duration=30)
    assert sim.inject(kind="error", target={"service": "api"}, percent=5,
                      duration="30s") == first + 1


def test_a_syntax_error_in_a_detector_or_ranker_file_is_said_where_it_is():
    """A SyntaxError is at the user's file, line and column, not at importlib's frame that
    compiled it (`<frozen importlib._bootstrap>:241`)."""
    module = scratch("syntax_error.py")
    module.write_text("class A:\n    def __init__(self, series):\n        pass\n"
                      "    def step(self, t_ns, values)\n        return values\n")
    with pytest.raises(dosim.Error, match=rf"{module}:4:33: SyntaxError: expected ':'") as raised:
        dosim.run(SMALL, detectors=[f"python:{module}:A"], out=scratch("syntax.h5"))
    assert "importlib" not in str(raised.value)


def test_scenario_text_given_as_a_path_is_said_to_be_text():
    # dosim.run("name: x\nduration: 10m\n...") said the whole text, then "cannot read file".
    text = "name: x\nduration: 10m\nservices: [{name: web}]\n"
    for call in (dosim.run, dosim.Simulation):
        with pytest.raises(dosim.InputError, match=r"^path: a scenario is given by its file's "
                                                   r"path, and this is text of several lines"):
            call(text)
