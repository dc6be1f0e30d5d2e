"""docs/lab.ipynb, the lab notebook, runs top to bottom as a student runs it.

Executed with nbconvert (a fresh kernel, every cell in order, a cell error stops the run):
the run exits 0, no cell output is an error, the score table shows the student's detector
beside mad, the Lab 7 monitor and the baselines, and the plots are drawn. Run twice: with
the NAB copy ($DOSIM_NAB, else ../shared/nab) when there is one, where the NAB cells score
the class with `dosim nab run`; and with DOSIM_NAB pointing nowhere, where those cells must
say so and skip instead of failing. Skipped when nbconvert or ipykernel is not installed
(Debian's jupyter-nbconvert and python3-ipykernel, tools/install-deps.sh)."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from dosim_test_util import DOSIM, NAB, SOURCE_DIR, TMP, has_nab

NOTEBOOK = SOURCE_DIR / "docs" / "lab.ipynb"
SCORE_ROWS = ["lab7-streams", "shipping-monitor", "mad", "level-shift", "all detectors", "random baseline",
              "null baseline", "rule lab7"]

if importlib.util.find_spec("nbconvert") is None or importlib.util.find_spec("ipykernel") is None:
    pytest.skip("nbconvert or ipykernel is not installed", allow_module_level=True)


def execute(name, nab):
    """Executes the notebook into TMP/<name>/; returns (the executed notebook, its text)."""
    folder = TMP / name
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DOSIM_SOURCE_DIR=str(SOURCE_DIR), DOSIM_BIN=os.path.abspath(DOSIM),
               DOSIM_NAB=str(nab), DOSIM_LAB_DIR=str(folder / "work"))
    run = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=300", "--output-dir", str(folder),
         "--output", "lab.ipynb", str(NOTEBOOK)],
        capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, f"nbconvert exited {run.returncode}:\n{run.stderr[-4000:]}"
    notebook = json.loads((folder / "lab.ipynb").read_text())
    outputs = [output for cell in notebook["cells"] if cell["cell_type"] == "code"
               for output in cell.get("outputs", [])]
    errors = [output for output in outputs if output["output_type"] == "error"]
    assert not errors, "\n".join(f"{e['ename']}: {e['evalue']}" for e in errors)
    text = "".join(
        "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
        for output in outputs)
    images = sum("image/png" in output.get("data", {}) for output in outputs)
    return text, images


def check_simulation_part(text, images, nab_images):
    for row in SCORE_ROWS:
        assert f"\n{row} " in text, f"score table row '{row}' missing"
    assert "cart-delay" in text  # the incident of the ground truth
    assert images == 2 + nab_images, f"{images} figures"


def test_notebook_runs_with_nab():
    if not has_nab():
        pytest.skip(f"no NAB copy at {NAB}")
    text, images = execute("notebook_nab", NAB)
    check_simulation_part(text, images, nab_images=1)
    assert "labelled windows" in text and "windows caught:" in text
    assert "python:level_shift_" in text and "NAB" in text  # dosim nab run's ranking


def test_notebook_skips_nab_when_absent():
    missing = TMP / "no-nab-here"
    text, images = execute("notebook_no_nab", missing)
    check_simulation_part(text, images, nab_images=0)
    assert f"not found at {missing}: section 4 is skipped" in text
    assert "windows caught:" not in text


def test_the_notebooks_words_are_its_runs_numbers():
    """The prose tells students what the cells above it show: those numbers, read here from
    the executed notebook's traces with h5py, must be what it says (they had drifted with
    a change of the scenario: '5 false alarms to mad's 11', 'the error ratio at 1')."""
    import h5py
    import numpy as np
    execute("notebook_words", TMP / "no-nab-here")
    work = TMP / "notebook_words" / "work"
    prose = "".join("".join(cell["source"]) for cell in json.loads(NOTEBOOK.read_text())["cells"]
                    if cell["cell_type"] == "markdown")
    prose = " ".join(prose.split())
    with h5py.File(work / "boutique-lab.h5") as f:
        t = f["time_ns"][()] / 1e9
        services = [n.decode() for n in f["services/name"][()]]
        front = services.index("frontend")
        p95 = f["metrics/service/latency_p95_s"][:, front].astype(float)
        errors = f["metrics/service/error_ratio"][:, front]
        alert_detector = np.array([d.decode() for d in f["alerts/detector"][()]])
        alert_t = f["alerts/t_ns"][()] / 1e9
        incident = f["alerts/incident_id"][()]
        labels = [l.decode() for l in f["detectors/level-shift/label"][()]]
        metrics = [m.decode() for m in f["detectors/level-shift/metric"][()]]
        column = [i for i, (l, m) in enumerate(zip(labels, metrics))
                  if l == "frontend" and m == "latency_p95_s"][0]
        score = f["detectors/level-shift/score"][:, column].astype(float)

    def false_alarms(name):
        mine = alert_detector == name
        return alert_t[mine & (incident < 0)], alert_t[mine]

    assert "from about 70 ms to about 255 ms" in prose
    assert round(np.median(p95[t < 900]), 2) == 0.07
    assert round(np.median(p95[(t > 900) & (t < 1250)]), 3) in (0.254, 0.255, 0.256)
    assert "(5.4 s)" in prose and round(float(p95[(t > 1250) & (t < 1360)].max()), 1) == 5.4
    assert "below 1 %" in prose and errors.max() < 0.01
    ours, _ = false_alarms("level-shift")
    mad, mad_all = false_alarms("mad")
    assert "with 3 false alarms, as many as `mad`" in prose and len(ours) == len(mad) == 3
    assert "at 1319-1320 s" in prose and (ours.min(), ours.max()) == (1319, 1320)
    assert "(1326-1329 s)" in prose and (mad.min(), mad.max()) == (1326, 1329)
    assert mad_all.min() > 900  # no mad alert at the first two surges
    assert "about 5.5 at 546 s" in prose
    before = score[t < 900]
    assert round(float(before.max()), 1) == 5.5 and t[t < 900][before.argmax()] == 546
