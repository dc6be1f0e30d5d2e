#!/usr/bin/python3
"""How much one service's latency moves from tick to tick in each world mode (issue 16).

    /usr/bin/python3 bench/tick_spread_modes.py DOSIM [BEFORE_DOSIM] [--folder DIR]

Runs one service on its own at steady load (no traffic noise), 15 minutes at 1 s ticks,
seeds 1 and 2, at the request level and in the fluid mode (and with BEFORE_DOSIM, a
previous build's fluid mode), and prints a Markdown table of the per-tick mean latency,
its coefficient of variation and skew, and the coefficient of variation of p50 and of p95
and p95's skew, each averaged over the seeds (the first minute left out).
tests/test_tick_spread_modes.py checks the agreement on the same systems."""
import argparse
import pathlib
import subprocess

import h5py
import numpy as np

# replicas, capacity per replica (req/s), service time (ms), arrivals (req/s), balancer.
SYSTEMS = [
    (1, 100, 10, 50, "round-robin"),
    (1, 100, 10, 80, "round-robin"),
    (1, 400, 10, 200, "round-robin"),
    (1, 400, 10, 320, "round-robin"),
    (2, 400, 5, 300, "round-robin"),
    (2, 400, 5, 300, "random"),
    (2, 400, 5, 300, "least-request"),
    (4, 150, 25, 380, "round-robin"),
    (4, 150, 25, 500, "round-robin"),
]
SEEDS = (1, 2)


def skew(x):
    d = x - x.mean()
    return (d**3).mean() / (d**2).mean() ** 1.5


def measure(dosim, mode, system, folder, tag):
    """[mean latency ms, its cv, its skew, p50's cv, p95's cv, p95's skew], per tick after
    the first minute, averaged over SEEDS."""
    replicas, capacity, service_ms, arrivals, balancer = system
    name = f"{replicas}-{capacity}-{service_ms}-{arrivals}-{balancer}"
    path = folder / f"{name}.yaml"
    path.write_text(f"""name: spread
duration: 15m
tick: 1s
detectors: []
services:
  - {{name: s, replicas: {replicas}, capacity_rps: {capacity}, base_latency: {service_ms}ms,
     load_balancer: {balancer}}}
traffic:
  - {{name: users, entry: s, base_rps: {arrivals}, noise: 0}}
""")
    rows = []
    for seed in SEEDS:
        trace = folder / f"{name}-{mode}-{tag}-{seed}.h5"
        subprocess.run([dosim, "run", path, "--mode", mode, "--seed", str(seed), "--out", trace,
                        "--quiet"], check=True, stdout=subprocess.DEVNULL)
        with h5py.File(trace) as f:
            m = f["metrics/service"]
            mean, p50, p95 = (m[k][60:, 0].astype(np.float64)
                              for k in ("latency_mean_s", "latency_p50_s", "latency_p95_s"))
        cv = lambda x: x.std() / x.mean()
        rows.append([mean.mean() * 1000, cv(mean), skew(mean), cv(p50), cv(p95), skew(p95)])
    return np.mean(rows, axis=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dosim")
    parser.add_argument("before", nargs="?")
    parser.add_argument("--folder", default="/tmp/dosim-tick-spread")
    args = parser.parse_args()
    folder = pathlib.Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    runs = [("request level", args.dosim, "requests"), ("fluid", args.dosim, "fluid")]
    if args.before:
        runs.append(("fluid before", args.before, "fluid"))
    print("| replicas x workers, utilisation, balancer | mode | mean ms | mean cv | mean skew "
          "| p50 cv | p95 cv | p95 skew |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for system in SYSTEMS:
        replicas, capacity, service_ms, arrivals, balancer = system
        workers = round(capacity * service_ms / 1000)
        label = f"{replicas} x {workers}, {arrivals / (replicas * capacity):.3g}, {balancer}"
        for i, (name, dosim, mode) in enumerate(runs):
            r = measure(dosim, mode, system, folder, "before" if i == 2 else "now")
            print(f"| {label if i == 0 else ''} | {name} | {r[0]:.2f} | {r[1]:.3f} | {r[2]:.2f} "
                  f"| {r[3]:.3f} | {r[4]:.3f} | {r[5]:.2f} |")


if __name__ == "__main__":
    main()
