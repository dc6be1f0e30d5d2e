"""Lab 4: your detector (labs/lab4/HANDOUT.md; the interface is docs/python.md's kind python).

dosim calls Detector(series, **params) once, with the names of the series it watches
("payments:latency_p95_s", ...) and detector.yaml's params (threshold excepted: dosim
keeps it), then step(t_ns, values) once per tick with that tick's value of every series
(a float32 NumPy array, valid only during the call). step returns one score per series;
a series is anomalous while its score exceeds the threshold."""

import numpy as np


class Detector:
    def __init__(self, series):
        self.n = len(series)
        # TODO: your parameters and state.

    def step(self, t_ns, values):
        # TODO: score each value (high: anomalous).
        return np.zeros(self.n)
