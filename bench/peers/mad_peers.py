#!/usr/bin/python3
"""Rolling median / MAD / modified z-score in numpy, pandas and bottleneck: benchmark-only
peers of bench/bench_mad.cc (dosim's MadKernel).

The quantity, per series i and tick t (detectors/mad_kernel.h), with w the W values of
series i before x[i, t]:
    m = median(w)              (mean of the two middle values when W is even)
    d = median(|w - m|)        (the MAD, same median rule)
    z = 0.6745 * (x[i, t] - m) / d     (0 if d == 0 and x == m, else +/-1e9 if d == 0)
All of it exact (selection, not approximation). Inputs are float32 normal(100, 15), S
series x (T + W) values: the first W values of a series fill its window, then T ticks are
scored.

What each peer computes (the `computes=` field of its line):
  numpy              median+mad+z  sliding_window_view(x, W) (views, no copy),
                                   np.median along the window axis, then np.median of
                                   |window - median|; float32 throughout. Batched: no
                                   Python loop but the one over blocks of series x ticks
                                   (2^18 window values each, cache-sized).
  bottleneck         median+mad+z  bn.move_median (a double heap, O(log W) a tick) for
                                   the median; the MAD cannot be streamed (its centre
                                   moves every tick), so a second pass takes bn.median of
                                   |window - median| over the same sliding windows as
                                   numpy. float32.
  bottleneck-median  median        bn.move_median alone: half the quantity.
  pandas             median+mad+z  DataFrame (ticks x series).rolling(W).median(), and
                                   for the MAD rolling(W).apply(raw=True) of
                                   np.median(|w - np.median(w)|) (pandas has no rolling
                                   MAD, and a rolling median of |x - rolling median| is
                                   not the MAD: each window must be re-centred on its
                                   own median). One Python call per series-tick; float64
                                   inside pandas.
  pandas-median      median        DataFrame.rolling(W).median() alone (a skiplist,
                                   O(log W) a tick; pandas' fast path): half the quantity.

Timing: the clock is the process's CPU time (time.process_time, as Google Benchmark's
items_per_second uses CPU time, so time spent preempted by other programs is left out) and
covers the computation only (data made beforehand). ns per series-tick
is the steady-state cost of one more tick, the slope between a run of 1 tick and a run of T
ticks: (seconds(T) - seconds(1)) * 1e9 / (S * (T - 1)). That leaves out what does not grow
with the ticks: the streaming peers' filling of each window (W - 1 values a series, which
would dominate short runs) and per-call overheads, as bench_mad leaves out the kernel's
warm-up. Calibration runs pick T so that the difference takes about BUDGET/6 seconds
(capped by memory: 2^26 input values); the median of 3 such pairs is printed, one line a
peer:
    mad-peer peer=numpy series=1000 window=64 ticks=T reps=3 fixed_s=...
             computes=median+mad+z ns_per_series_tick=...    (on one line)
(fixed_s: the median seconds of the 1-tick run, mostly window filling and overheads.)

Usage: /usr/bin/python3 mad_peers.py SERIES WINDOW [PEER ...] [--budget SECONDS]
       /usr/bin/python3 mad_peers.py --check     (peers against a plain-Python reference)
"""
import argparse
import math
import statistics
import sys
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SCALE = np.float32(0.6745)
ZERO_SCORE = np.float32(1e9)
CHUNK_ELEMENTS = 1 << 18  # window values materialised per chunk (1 MiB of float32)
MAX_ELEMENTS = 1 << 26  # input values per run (256 MiB of float32)


def zscore(x, median, mad):
    """Modified z-score with dosim's MAD == 0 rule; x, median, mad of one dtype."""
    diff = x - median
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (SCALE * diff) / mad
    flat = np.where(diff == 0, np.float32(0), np.copysign(ZERO_SCORE, diff))
    return np.where(mad == 0, flat, z)


def chunks(series, ticks, window):
    """Blocks (series slice, tick slice) of at most CHUNK_ELEMENTS window values (or one
    window), cache-sized: 2^18 measured faster than 2^20 to 2^24 here."""
    tick_step = max(1, min(ticks, CHUNK_ELEMENTS // (series * window)))
    series_step = series if tick_step > 1 else max(1, CHUNK_ELEMENTS // window)
    for s in range(0, series, series_step):
        for t in range(0, ticks, tick_step):
            yield slice(s, s + series_step), slice(t, t + tick_step)


def peer_numpy(data, window):
    series, length = data.shape
    ticks = length - window
    windows = sliding_window_view(data[:, :-1], window, axis=1)  # (S, T, W), a view
    median = np.empty((series, ticks), np.float32)
    mad = np.empty((series, ticks), np.float32)
    for rows, cols in chunks(series, ticks, window):
        w = windows[rows, cols]
        m = np.median(w, axis=2)
        median[rows, cols] = m
        mad[rows, cols] = np.median(np.abs(w - m[:, :, None]), axis=2)
    return median, mad, zscore(data[:, window:], median, mad)


def peer_bottleneck(data, window):
    import bottleneck as bn

    series, length = data.shape
    ticks = length - window
    median = bn.move_median(data[:, :-1], window, axis=1)[:, window - 1:]
    windows = sliding_window_view(data[:, :-1], window, axis=1)
    mad = np.empty((series, ticks), np.float32)
    for rows, cols in chunks(series, ticks, window):
        mad[rows, cols] = bn.median(np.abs(windows[rows, cols] - median[rows, cols, None]),
                                    axis=2)
    return median, mad, zscore(data[:, window:], median, mad)


def peer_bottleneck_median(data, window):
    import bottleneck as bn

    return (bn.move_median(data[:, :-1], window, axis=1)[:, window - 1:],)


def _frame(data):
    import pandas as pd

    return pd.DataFrame(np.ascontiguousarray(data.T))  # rows = ticks, columns = series


def _mad_of_window(w):
    return np.median(np.abs(w - np.median(w)))


def peer_pandas(frame, window):
    rolling = frame.iloc[:-1].rolling(window)
    median = rolling.median().to_numpy()[window - 1:]
    mad = rolling.apply(_mad_of_window, raw=True).to_numpy()[window - 1:]
    x = frame.iloc[window:].to_numpy()
    return median.T, mad.T, zscore(x, median, mad).T


def peer_pandas_median(frame, window):
    return (frame.iloc[:-1].rolling(window).median().to_numpy()[window - 1:].T,)


# name -> (function, computes, takes a DataFrame)
PEERS = {
    "numpy": (peer_numpy, "median+mad+z", False),
    "bottleneck": (peer_bottleneck, "median+mad+z", False),
    "bottleneck-median": (peer_bottleneck_median, "median", False),
    "pandas": (peer_pandas, "median+mad+z", True),
    "pandas-median": (peer_pandas_median, "median", True),
}


def make_data(series, length, seed=42):
    rng = np.random.default_rng(seed)
    return rng.normal(100.0, 15.0, size=(series, length)).astype(np.float32)


class Runner:
    """Times one peer on the first T + W values of a pool of data made once."""

    def __init__(self, name, series, window):
        self.function, _, self.wants_frame = PEERS[name]
        self.series, self.window = series, window
        self.pool = make_data(series, 0)

    def __call__(self, ticks):
        length = ticks + self.window
        if self.pool.shape[1] < length:
            self.pool = make_data(self.series, max(length, 2 * self.pool.shape[1]))
        data = self.pool[:, :length]
        argument = _frame(data) if self.wants_frame else data
        start = time.process_time()
        self.function(argument, self.window)
        return time.process_time() - start


def measure(name, series, window, budget):
    run = Runner(name, series, window)
    max_ticks = max(2, min(MAX_ELEMENTS // series - window, 1 << 16))
    run(1)  # first call: imports, allocations
    fixed = run(1)
    ticks = 2
    while True:  # calibration: grow T until the difference is measurable
        extra = run(ticks) - fixed
        if extra >= budget / 24 or ticks >= max_ticks:
            break
        ticks = min(max_ticks, ticks * 4)
    per_tick = max(extra, 1e-9) / (ticks - 1)
    ticks = max(2, min(max_ticks, 1 + int(budget / 6 / per_tick)))
    slopes, fixeds = [], []
    for _ in range(3):
        fixeds.append(run(1))
        slopes.append((run(ticks) - fixeds[-1]) / (ticks - 1))
    ns = statistics.median(slopes) * 1e9 / series
    print(f"mad-peer peer={name} series={series} window={window} ticks={ticks} reps=3 "
          f"fixed_s={statistics.median(fixeds):.4f} computes={PEERS[name][1]} "
          f"ns_per_series_tick={ns:.2f}", flush=True)


def reference(data, window):
    """Plain Python, straight from the contract in detectors/mad_kernel.h (float32)."""
    series, length = data.shape
    out = np.empty((3, series, length - window), np.float32)
    half = np.float32(0.5)

    def med(values):
        s = sorted(values)
        if window % 2:
            return s[window // 2]
        return (s[window // 2 - 1] + s[window // 2]) * half

    for i in range(series):
        for t in range(window, length):
            w = [np.float32(v) for v in data[i, t - window:t]]
            m = med(w)
            d = med([abs(v - m) for v in w])
            x = data[i, t]
            diff = x - m
            if d == 0:
                z = np.float32(0) if diff == 0 else np.float32(math.copysign(1e9, diff))
            else:
                z = (SCALE * diff) / d
            out[:, i, t - window] = (m, d, z)
    return out


def check():
    global CHUNK_ELEMENTS
    failures = 0
    cases = [(w, c) for w in (5, 6, 32, 64) for c in (CHUNK_ELEMENTS, 4 * 7 * w, 3 * w)]
    for window, chunk in cases:  # the smaller chunks split the ticks, then the series
        CHUNK_ELEMENTS = chunk
        data = make_data(7, window + 60, seed=window)
        data[3, window + 10:window + 50] = 100.0  # a flat stretch: MAD == 0 cases
        want = reference(data, window)
        for name, (function, _, wants_frame) in PEERS.items():
            got = function(_frame(data) if wants_frame else data, window)
            for k, label in enumerate(("median", "mad", "z")[:len(got)]):
                exact = np.array_equal(np.asarray(got[k], np.float32), want[k])
                # pandas works in float64: its median of an even window and x - median
                # round differently from float32, by a float32 ulp or so.
                close = np.allclose(got[k], want[k], rtol=2e-6, atol=1e-5)
                failures += not close
                print(f"W={window:3d} {name:18s} {label:6s} "
                      f"{'exact' if exact else 'float32 rounding' if close else 'DIFFERS'}")
    sys.exit(1 if failures else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("series", type=int, nargs="?")
    parser.add_argument("window", type=int, nargs="?")
    parser.add_argument("peers", nargs="*", default=list(PEERS))
    parser.add_argument("--budget", type=float, default=4.0, help="seconds per peer")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        check()
    if args.series is None or args.window is None:
        parser.error("SERIES and WINDOW are required")
    for name in args.peers:
        if name not in PEERS:
            parser.error(f"unknown peer {name}; known: {', '.join(PEERS)}")
        measure(name, args.series, args.window, args.budget)


if __name__ == "__main__":
    main()
