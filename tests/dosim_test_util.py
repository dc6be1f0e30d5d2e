"""Shared helpers for the Python tests (run by pytest, one CTest test per file): where the
binary is, a scratch directory, running dosim, and Checks for tests made of many small
checks that should all be reported at once."""
import os
import pathlib
import subprocess

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


def has_nab():
    """Whether the NAB copy is there (its published scoreboard, results/final_results.json)."""
    return (NAB / "results" / "final_results.json").is_file()


class Checks:
    """Collects the failures of many small checks so that a test reports all of them, not
    just the first: call it with (condition, message) for each check, then assert_passed()
    once at the end of the test."""

    def __init__(self):
        self.passed = 0
        self.failures = []

    def __call__(self, condition, message):
        if condition:
            self.passed += 1
        else:
            self.failures.append(message)

    def assert_passed(self):
        total = self.passed + len(self.failures)
        assert not self.failures, (f"{len(self.failures)} of {total} checks failed:\n  "
                                   + "\n  ".join(self.failures))
