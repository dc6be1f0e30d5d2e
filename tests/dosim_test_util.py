"""Shared helpers for the Python tests run by CTest: where the binary is, a scratch
directory, running dosim, and a tiny check/report harness whose closing line is
'N passed, M failed'."""
import os
import pathlib
import subprocess
import sys
import traceback

SOURCE_DIR = pathlib.Path(os.environ.get("DOSIM_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[1]))
DOSIM = os.environ.get("DOSIM_BIN", str(SOURCE_DIR / "build" / "cli" / "dosim"))
TMP = pathlib.Path(os.environ.get("DOSIM_TEST_TMP", "/tmp/dosim-tests"))
# The Numenta Anomaly Benchmark: $DOSIM_NAB, else ../shared/nab beside the checkout.
NAB = pathlib.Path(os.environ.get("DOSIM_NAB", os.path.join(SOURCE_DIR, "..", "shared", "nab")))


def env_without_nab():
    """The environment without DOSIM_NAB (for commands that must not find NAB through it)."""
    env = dict(os.environ)
    env.pop("DOSIM_NAB", None)
    return env
TMP.mkdir(parents=True, exist_ok=True)


def dosim(*args, **kwargs):
    """Runs dosim with the given arguments; returns the CompletedProcess (text mode)."""
    return subprocess.run([DOSIM, *map(str, args)], capture_output=True, text=True, **kwargs)


def run_tests(tests):
    """Runs each test function; prints a line per test and 'N passed, M failed'."""
    passed = failed = 0
    for test in tests:
        try:
            test()
            passed += 1
            print(f"PASS {test.__name__}")
        except Exception:  # noqa: BLE001 - report every failure and carry on
            failed += 1
            print(f"FAIL {test.__name__}")
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


class Checks:
    """Counts individual checks, for tests made of many small assertions; report() prints
    'NAME: N passed, M failed' and returns the exit code."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, condition, message):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {message}")

    def report(self, name):
        print(f"{name}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0
