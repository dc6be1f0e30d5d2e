"""Lab 4 (instructor's solution): a rolling z-score that only counts rises.

How many standard deviations a value lies above the mean of the last `window` values;
0 for the first `warmup` ticks. `min_sd` keeps a flat series (no errors) from dividing by
zero. The value is scored before it joins the window, so a level shift scores high until
the window has absorbed it."""

import numpy as np


class Detector:
    def __init__(self, series, window=300, warmup=60, min_sd=0.005):
        self.window = int(window)
        self.warmup = int(warmup)
        self.min_sd = float(min_sd)
        self.history = np.zeros((self.window, len(series)))
        self.seen = 0

    def step(self, t_ns, values):
        x = np.array(values, dtype=np.float64)  # a copy: `values` is only valid now
        filled = min(self.seen, self.window)
        if filled < self.warmup:
            score = np.zeros_like(x)
        else:
            past = self.history[:filled]
            z = (x - past.mean(axis=0)) / np.maximum(past.std(axis=0), self.min_sd)
            score = np.maximum(z, 0.0)
        self.history[self.seen % self.window] = x
        self.seen += 1
        return score
