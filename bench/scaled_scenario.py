#!/usr/bin/python3
"""Writes a scenario that grows in one dimension, for bench/run_input_scaling.sh (issue 13:
validation and simulation stay near-linear in the size of a scenario).

  scaled_scenario.py KIND N > scenario.yaml

KIND: dependencies (N services in a binary tree, N - 1 dependencies, 1 minute at 1 s),
faults (N latency faults on one service, each 30 s, starting a second apart, a day at 1 s),
replicas (one service of N replicas at 50 % load, 10 minutes at 1 s),
week (N services in a binary tree over 2 regions of 3 zones, a week at 5 s recorded every
minute, a diurnal and weekly pattern, 14 faults of four kinds, the default detectors: the
large run whose report size bench/RESULTS.md records for issue 18).
"""
import sys

HEAD = "name: scaled-{kind}-{n}\nduration: {duration}\ntick: 1s\nregions:\n  - {{name: r, zones: [z]}}\n"


def dependencies(n):
    lines = [HEAD.format(kind="dependencies", n=n, duration="1m"), "services:"]
    lines += [f"  - {{name: s{i}, replicas: 2, capacity_rps: 1000, base_latency: 1ms, zone: z}}"
              for i in range(n)]
    lines += ["traffic:", "  - {name: users, entry: s0, base_rps: 10}", "dependencies:"]
    lines += [f"  - {{caller: s{(i - 1) // 2}, callee: s{i}, calls_per_request: 0.5}}"
              for i in range(1, n)]
    return lines


def faults(n):
    lines = [HEAD.format(kind="faults", n=n, duration="1d"),
             "services:", "  - {name: a, replicas: 4, capacity_rps: 100, base_latency: 1ms, zone: z}",
             "traffic:", "  - {name: users, entry: a, base_rps: 100}", "faults:"]
    lines += [f"  - {{name: f{i}, kind: latency, target: {{service: a}}, start: {i}s, "
              "duration: 30s, fixedDelay: 5ms}" for i in range(n)]
    return lines


def replicas(n):
    return [HEAD.format(kind="replicas", n=n, duration="10m"), "services:",
            f"  - {{name: a, replicas: {n}, capacity_rps: 10, base_latency: 1ms, zone: z}}",
            "traffic:", f"  - {{name: users, entry: a, base_rps: {n * 5}}}"]


def week(n):
    zones = [f"z{r}{z}" for r in "ab" for z in "123"]
    lines = [f"name: scaled-week-{n}", "duration: 7d", "tick: 5s", "record: 1m",
             "regions:", "  - {name: ra, zones: [za1, za2, za3]}", "  - {name: rb, zones: [zb1, zb2, zb3]}",
             "services:"]
    lines += [f"  - {{name: s{i}, replicas: 3, capacity_rps: 2000, base_latency: 2ms, "
              f"zone: {zones[i % len(zones)]}}}" for i in range(n)]
    lines += ["traffic:", "  - {name: users, entry: s0, base_rps: 800, daily: {amplitude: 0.5}, "
              "weekly: {weekend_factor: 0.6}}", "dependencies:"]
    lines += [f"  - {{caller: s{(i - 1) // 2}, callee: s{i}, calls_per_request: 0.5, timeout: 2s}}"
              for i in range(1, n)]
    kinds = [("latency", "fixedDelay: 300ms"), ("error", "percent: 30"),
             ("cpu-stress", "load: 90"), ("pod-kill", "mode: one")]
    lines.append("faults:")
    for f in range(14):
        kind, extra = kinds[f % len(kinds)]
        lines.append(f"  - {{name: f{f}, kind: {kind}, target: {{service: s{(f * 37) % n}}}, "
                     f"start: {12 * f + 5}h, duration: 40m, {extra}}}")
    return lines


KINDS = {"dependencies": dependencies, "faults": faults, "replicas": replicas, "week": week}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in KINDS:
        sys.exit(__doc__)
    print("\n".join(KINDS[sys.argv[1]](int(sys.argv[2]))))
