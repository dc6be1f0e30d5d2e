"""Python detectors (kind python) for tests/test_python_detectors.py and
tests/test_python_package.py. The tests find the line of RaisesAt's raise by its comment."""
import json
import math
import os

import numpy as np


class Above:
    """The built-in threshold written in Python: score = value / above, anomalous above 1."""

    def __init__(self, series, above=1.0):
        self.above = above

    def step(self, t_ns, values):
        return np.asarray(values, dtype=np.float64) / self.above


class Recorder:
    """Writes what it was given (series names, parameters with their types) to the JSON file
    named by $DOSIM_TEST_RECORD when constructed; scores 0."""

    def __init__(self, series, **params):
        self.count = len(series)
        record = {"series": list(series),
                  "params": {key: [type(value).__name__, value] for key, value in params.items()}}
        with open(os.environ["DOSIM_TEST_RECORD"], "w") as out:
            json.dump(record, out)

    def step(self, t_ns, values):
        return np.zeros(self.count)


class Fitted:
    """With fit_ticks: records the fit() calls and the first step()'s time in
    $DOSIM_TEST_RECORD; scores `level` on every tick it steps."""

    def __init__(self, series, level=5):
        self.level = float(level)
        self.fits = []
        self.steps = []

    def fit(self, history):
        self.fits.append({"shape": list(history.shape), "dtype": str(history.dtype),
                          "history": history.tolist()})
        self._save()

    def step(self, t_ns, values):
        self.steps.append(t_ns)
        if len(self.steps) == 1:
            self._save()
        return np.full(len(values), self.level)

    def _save(self):
        with open(os.environ["DOSIM_TEST_RECORD"], "w") as out:
            json.dump({"fits": self.fits, "steps": self.steps}, out)


class RaisesAt:
    """Raises RuntimeError at the first tick at or after `at_s` seconds."""

    def __init__(self, series, at_s=30):
        self.at_ns = at_s * 1_000_000_000

    def step(self, t_ns, values):
        if t_ns >= self.at_ns:
            raise RuntimeError("detector gave up")  # RAISE HERE
        return np.zeros(len(values))


class WrongShape:
    """Returns one score too many."""

    def __init__(self, series):
        pass

    def step(self, t_ns, values):
        return np.zeros(len(values) + 1)


class NanScore:
    """Returns NaN for its second series from `at_s` seconds on."""

    def __init__(self, series, at_s=20):
        self.at_ns = at_s * 1_000_000_000

    def step(self, t_ns, values):
        scores = np.zeros(len(values))
        if t_ns >= self.at_ns:
            scores[1] = math.nan
        return scores


class HugeScore:
    """Returns 1e39 (finite as a double, beyond a 32-bit float) for its first series."""

    def __init__(self, series):
        pass

    def step(self, t_ns, values):
        scores = np.zeros(len(values))
        scores[0] = 1e39
        return scores


class ReturnsNone:
    """Forgets to return its scores."""

    def __init__(self, series):
        pass

    def step(self, t_ns, values):
        np.zeros(len(values))


class ReturnsNumber:
    """Returns one score for all its series."""

    def __init__(self, series):
        pass

    def step(self, t_ns, values):
        return 0.5


class ReturnsText:
    """Returns its scores as text ("1.5"), which numpy would cast."""

    def __init__(self, series):
        self.series = series

    def step(self, t, values):
        return ["1.5"] * len(values)


class ReturnsComplex:
    """Returns complex scores, whose imaginary part numpy would drop."""

    def __init__(self, series):
        self.series = series

    def step(self, t, values):
        return [1 + 2j] * len(values)
