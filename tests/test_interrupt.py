"""An interrupted `dosim run` leaves a readable trace marked incomplete.

Starts a run far too long to finish (30 days of 200 services), sends SIGINT (then, in a
second run, SIGTERM) once it is simulating, and expects the documented exit code
(128 + signal: 130 for SIGINT, 143 for SIGTERM) and a trace that h5py reads, with
complete == 0, at least one row, and every metric dataset as long as /time_ns.
CTest runs it with DOSIM_BIN, DOSIM_SOURCE_DIR and DOSIM_TEST_TMP.
"""

import os
import re
import signal
import subprocess
import sys
import time

import dosim_test_util
import h5py
import numpy as np
import pytest

from dosim_test_util import DOSIM, SOURCE_DIR, Checks

TMP = str(dosim_test_util.TMP)
MINUTE = 60 * 10**9
SERVICES = 200


def long_scenario():
    """30 days, 200 services calling each other as a binary tree."""
    lines = ["name: interrupt-me", "duration: 30d", "record: 1m", "services:"]
    lines += [f"  - {{name: s{i:03d}, replicas: 2, capacity_rps: 500}}" for i in range(SERVICES)]
    lines.append("dependencies:")
    lines += [f"  - {{caller: s{(i - 1) // 2:03d}, callee: s{i:03d}, calls_per_request: 0.5}}"
              for i in range(1, SERVICES)]
    lines += ["traffic:", "  - {name: users, entry: s000, base_rps: 300}"]
    # Due long after any interruption: an incident of the truth that never began.
    lines += ["faults:", "  - {name: late, kind: error, target: {service: s001}, percent: 50,"
              " start: 20d, duration: 1h}"]
    # A change made at once and one planned long after: the log holds the first alone.
    lines += ["changes:",
              "  - {name: early, kind: deployment, service: s002, version: v2, at: 1s}",
              "  - {name: later, kind: deployment, service: s003, version: v2, at: 20d}"]
    return "\n".join(lines) + "\n"


def interrupt_run(signal_number, expected_code, *extra):
    """Interrupts a long run with the signal; checks its exit code and its trace. Returns its
    stdout and stderr."""
    check = Checks()
    name = signal.Signals(signal_number).name
    os.makedirs(TMP, exist_ok=True)
    yaml_path = os.path.join(TMP, "interrupt.yaml")
    with open(yaml_path, "w") as out:
        out.write(long_scenario())
    out_path = os.path.join(TMP, f"{name.lower()}.h5")
    if os.path.exists(out_path):
        os.remove(out_path)
    process = subprocess.Popen([DOSIM, "run", yaml_path, "--out", out_path, *(extra or ["--quiet"])],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The trace exists before the simulation starts, under a temporary name beside its own
    # (.NAME.dosim-PID-N, renamed to NAME when it stops); give the simulation a second after.
    temporary = f".{os.path.basename(out_path)}.dosim-{process.pid}-"

    def trace_started():
        return any(entry.startswith(temporary) for entry in os.listdir(os.path.dirname(out_path)))
    deadline = time.monotonic() + 30
    while not trace_started() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    check(trace_started() or process.poll() is not None, f"{name}: no trace after 30 s")
    time.sleep(1.0)
    still_running = process.poll() is None
    check(still_running, f"{name}: the run is still going after 1 s (needs a longer scenario)")
    if still_running:
        process.send_signal(signal_number)
    try:
        stdout, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        check(False, f"{name}: dosim did not stop within 60 s of the signal")
        check.assert_passed()
    check(process.returncode == expected_code,
          f"{name}: exit code {expected_code}, got {process.returncode}; stderr: {stderr}")
    check("Traceback" not in stderr and "terminate" not in stderr, f"{name}: clean stop: {stderr}")
    try:
        with h5py.File(out_path, "r") as f:
            check(f.attrs.get("format") == b"dosim-trace", f"{name}: a dosim trace")
            check(f.attrs.get("complete") == 0, f"{name}: complete == 0")
            times = f["time_ns"][()]
            rows = len(times)
            check(rows > 0, f"{name}: rows > 0, got {rows}")
            check(bool(np.all(np.diff(times) > 0)), f"{name}: time_ns increasing")
            check(rows == 0 or times[-1] < 30 * 24 * 60 * MINUTE, f"{name}: stopped early")
            full_rows = times[:-1] if rows > 0 else times
            check(bool(np.all(full_rows == MINUTE * np.arange(1, len(full_rows) + 1))),
                  f"{name}: every row but the last is a whole record interval")
            for family in ("service", "edge", "endpoint"):
                for metric, ds in f[f"metrics/{family}"].items():
                    check(ds.shape[0] == rows, f"{name}: metrics/{family}/{metric} has {rows} rows")
            # What happened before the stop, not what was planned after (found by a new-user
            # audit: a week's run stopped at day 1.6 listed changes up to day 4.65).
            changes = f["events/changes/t_ns"][()]
            check(len(changes) > 0 and bool(np.all(changes <= times[-1])),
                  f"{name}: changes up to the last row: {changes} (last row {times[-1]})")
            rps = f["metrics/service/rps"][()]
            check(rps.shape == (rows, SERVICES) and bool(np.all(np.isfinite(rps))),
                  f"{name}: service rps readable and finite")
    except OSError as error:
        check(False, f"{name}: h5py cannot read the interrupted trace: {error}")
    check.assert_passed()
    return stdout, stderr


def test_sigint_exits_130_with_an_incomplete_readable_trace():
    interrupt_run(signal.SIGINT, 130)
    # Its incident due at 20 d never began: the incident chart says so (it drew an empty,
    # backwards axis titled "silent: changed nothing measurable").
    import dosim
    import dosim.plots
    with pytest.raises(dosim.InputError, match=r"incident 0 \(late\) starts at 20 d 0 h, after "
                                               r"the run stopped at .*: nothing to chart"):
        dosim.plots.incident_metrics(os.path.join(TMP, "sigint.h5"), 0)
    # An export of it says it holds part of a run (it said nothing, its `silent` unexplained).
    exported = subprocess.run([DOSIM, "export", os.path.join(TMP, "sigint.h5"), "--format", "csv",
                               "-o", os.path.join(TMP, "sigint.csv")],
                              capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0 and "warning: the trace is incomplete" in exported.stderr, \
        exported.stderr
    # Its score counts the incidents that began (it said "against 1 incidents").
    scored = subprocess.run([DOSIM, "score", os.path.join(TMP, "sigint.h5")],
                            capture_output=True, text=True, timeout=120)
    assert scored.returncode == 0 and " against 0 incidents " in scored.stdout, scored.stdout


def test_sigterm_exits_143_with_an_incomplete_readable_trace():
    interrupt_run(signal.SIGTERM, 143)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


def test_an_interrupted_run_says_its_report_was_not_written_and_only_that():
    """--report after an interrupted run: no page, said once on stderr; the summary does not
    list the report as written."""
    report = os.path.join(TMP, "interrupted.html")
    if os.path.exists(report):
        os.remove(report)
    stdout, stderr = interrupt_run(signal.SIGINT, 130, "--report", report)
    assert f"{report}: not written: the run was interrupted" in stderr, stderr
    assert "  report " not in stdout, stdout
    # Its summary says the fault due at 20 d never began, as the report does (it said silent).
    assert "0 with measured impact, 0 silent, 1 not begun when the run stopped" in stdout, stdout
    assert re.search(r"#0 late .* not begun\n", stdout), stdout
    assert not os.path.exists(report)
