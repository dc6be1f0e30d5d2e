"""Golden scenario regressions, in the manner of SimGrid's tesh files: every bundled
scenario, run with its seed, must print the same story and summary (wall-time line
excepted) and
produce the same per-service statistics (means over the trace, 4 significant digits, read
with h5py) as recorded in tests/golden/<scenario>.txt.

Each scenario is one test, test_golden[<scenario>] (CTest: golden.<scenario>); a mismatch
prints the unified diff from the golden file to this run's output.

A deliberate change of behaviour updates the files:
    DOSIM_BIN=build/cli/dosim /usr/bin/python3 tests/test_golden.py --update
and the diff of tests/golden/ shows what changed, for review."""
import difflib
import sys

import h5py
import numpy as np
import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim

GOLDEN = SOURCE_DIR / "tests" / "golden"
SCENARIOS = sorted(path.stem for path in (SOURCE_DIR / "scenarios").glob("*.yaml"))
STATISTICS = ["rps", "error_ratio", "latency_p95_s", "cpu_ratio"]


def observed(name):
    trace = TMP / f"{name}.h5"
    result = dosim("run", SOURCE_DIR / "scenarios" / f"{name}.yaml", "--out", trace)
    assert result.returncode == 0, result.stderr
    lines = [line.replace(str(trace), "TRACE") for line in result.stdout.splitlines()
             if not line.lstrip().startswith("wall time")]
    with h5py.File(trace) as f:
        names = [n.decode() for n in f["services/name"][:]]
        for metric in STATISTICS:
            means = f[f"metrics/service/{metric}"][:].astype(np.float64).mean(axis=0)
            for service, value in zip(names, means):
                lines.append(f"mean {metric} {service} {value:.4g}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", SCENARIOS)
def test_golden(name):
    golden = GOLDEN / f"{name}.txt"
    expected = golden.read_text()
    actual = observed(name)
    if actual != expected:
        diff = difflib.unified_diff(expected.splitlines(keepends=True),
                                    actual.splitlines(keepends=True),
                                    fromfile=f"tests/golden/{name}.txt", tofile=f"{name} (this run)")
        pytest.fail(f"{name} differs from its golden file (a deliberate change: --update, see"
                    " the docstring):\n" + "".join(diff), pytrace=False)


if __name__ == "__main__":
    if "--update" in sys.argv:
        for name in SCENARIOS:
            (GOLDEN / f"{name}.txt").write_text(observed(name))
            print(f"updated tests/golden/{name}.txt")
        sys.exit(0)
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider", *sys.argv[1:]]))
