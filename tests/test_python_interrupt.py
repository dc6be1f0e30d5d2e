"""Ctrl-C in a Python program stops a run as it stops `dosim run` (docs/python.md,
Interrupting a run): dosim.run(), Simulation.step() and finish() raise KeyboardInterrupt
soon after the signal (they ran to the scenario's end first), the trace is closed and marked
incomplete with its ground truth, and a Python detector's code that the signal interrupts
stops the run the same way (it was a ScriptError, and the trace lost its ground truth). A
real SIGINT is sent to a real Python process; the trace is read back with h5py."""
import os
import signal
import subprocess
import sys
import time

import h5py

from dosim_test_util import SOURCE_DIR, TMP

PYTHON = "/usr/bin/python3"
FOLDER = TMP / "python-interrupt"
# Three days of 30 services at 1 s ticks: about 10 s uninterrupted (the stop comes within
# a tenth of a second).
SCENARIO = """name: long
duration: 3d
tick: 1s
record: 1m
services:
{services}
dependencies:
{dependencies}
traffic:
  - {{entry: s0, base_rps: 200}}
faults:
  - {{kind: latency, target: {{service: s3}}, start: 1m, duration: 1h, fixedDelay: 50ms}}
"""
SLOW_DETECTOR = """import time


class Slow:
    def __init__(self, series, **params):
        pass

    def step(self, t, values):
        time.sleep(0.002)
        return [0.0] * len(values)
"""


def scenario():
    FOLDER.mkdir(parents=True, exist_ok=True)
    path = FOLDER / "long.yaml"
    services = "\n".join(f"  - {{name: s{i}, replicas: 3, capacity_rps: 400, "
                         f"base_latency: 5ms}}" for i in range(30))
    dependencies = "\n".join(f"  - {{caller: s{i}, callee: s{i + 1}}}" for i in range(29))
    path.write_text(SCENARIO.format(services=services, dependencies=dependencies))
    (FOLDER / "slow.py").write_text(SLOW_DETECTOR)
    return path


def interrupted(program, name):
    """Runs `program` (it prints "ready" before it simulates) and sends it SIGINT a second
    after: its exit code, stderr and seconds from the signal to its end."""
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", str(SOURCE_DIR / "build" / "python")))
    script = FOLDER / f"{name}.py"
    script.write_text(program)
    process = subprocess.Popen([PYTHON, str(script)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, cwd=FOLDER)
    assert process.stdout.readline().strip() == "ready", process.stderr.read()
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr, time.monotonic() - sent


def check_incomplete(trace):
    with h5py.File(trace, "r") as f:
        assert f.attrs["complete"] == 0
        assert len(f["time_ns"]) > 0 and f["time_ns"][-1] < 3 * 86400 * 10**9
        assert "truth" in f and len(f["truth/incidents/id"]) == 1  # the ground truth so far


def test_ctrl_c_stops_dosim_run():
    path = scenario()
    trace = FOLDER / "run.h5"
    code, stderr, took = interrupted(f"""import dosim
print("ready", flush=True)
dosim.run({str(path)!r}, out={str(trace)!r})
""", "run")
    assert code != 0 and stderr.rstrip().endswith("KeyboardInterrupt"), stderr
    assert took < 5, took  # it ran to the end of the three days first
    check_incomplete(trace)


def test_ctrl_c_in_a_python_detector_stops_the_run_as_a_stop_not_an_error():
    path = scenario()
    trace = FOLDER / "detector.h5"
    code, stderr, took = interrupted(f"""import dosim
print("ready", flush=True)
dosim.run({str(path)!r}, out={str(trace)!r}, detectors=["python:slow.py:Slow", "mad"])
""", "detector")
    assert "ScriptError" not in stderr and stderr.rstrip().endswith("KeyboardInterrupt"), stderr
    assert took < 5, took
    check_incomplete(trace)


def test_ctrl_c_stops_a_step_and_the_simulation_stays_stopped():
    path = scenario()
    trace = FOLDER / "step.h5"
    code, stderr, took = interrupted(f"""import dosim, sys
sim = dosim.Simulation({str(path)!r}, out={str(trace)!r})
sim.step(10)
print("ready", flush=True)
try:
    sim.step(10**9)
except KeyboardInterrupt:
    try:
        sim.step(1)
    except dosim.RunControlError as error:
        print(error, file=sys.stderr)
        sys.exit(3)
sys.exit(4)
""", "step")
    assert code == 3, (code, stderr)
    assert "step: the run was interrupted (KeyboardInterrupt)" in stderr, stderr
    assert took < 5, took
    check_incomplete(trace)
