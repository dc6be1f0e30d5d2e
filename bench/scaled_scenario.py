#!/usr/bin/python3
"""Writes a scenario that grows in one dimension, for bench/run_input_scaling.sh (issue 13:
validation and simulation stay near-linear in the size of a scenario).

  scaled_scenario.py KIND N > scenario.yaml

KIND: dependencies (N services in a binary tree, N - 1 dependencies, 1 minute at 1 s),
faults (N latency faults on one service, each 30 s, starting a second apart, a day at 1 s),
replicas (one service of N replicas at 50 % load, 10 minutes at 1 s).
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


KINDS = {"dependencies": dependencies, "faults": faults, "replicas": replicas}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in KINDS:
        sys.exit(__doc__)
    print("\n".join(KINDS[sys.argv[1]](int(sys.argv[2]))))
