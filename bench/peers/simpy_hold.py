#!/usr/bin/python3
"""The hold model in SimPy, benchmark-only peer of bench/bench_event_queue.cc.

Debian bookworm's python3-simpy is SimPy 2.3.1, whose API predates SimPy 3's
`yield env.timeout(dt)`: a process holds with `yield hold, self, dt`, which is the same
thing (one event pushed on SimPy's heapq, the process resumed when it pops).

N processes each hold Exp(1) in a loop, so N events are pending at any time. The clock
starts once N holds have completed (every process is in its loop) and stops after
MEASURED more; the script prints one line and exits without tearing down.

Usage: /usr/bin/python3 simpy_hold.py PENDING MEASURED
"""
import math
import os
import sys
import time

from SimPy.Simulation import Process, Simulation, hold


class Counter:
    def __init__(self, pending, measured):
        self.pending = pending
        self.measured = measured
        self.holds = 0
        self.start = 0.0


def exponential_table(size=4096):
    """Exp(1) variates from a fixed LCG, like the C++ programs' tables."""
    values, lcg = [], 42
    for _ in range(size):
        lcg = (lcg * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        values.append(-math.log(1.0 - (lcg >> 11) * 2.0**-53))
    return values


class Holder(Process):
    def run(self, counter, table, offset):
        index = offset
        while True:
            index = (index + 1) & 4095
            yield hold, self, table[index]
            counter.holds += 1
            if counter.holds == counter.pending:
                counter.start = time.perf_counter()
            elif counter.holds == counter.pending + counter.measured:
                seconds = time.perf_counter() - counter.start
                print("simpy pending=%d holds=%d seconds=%.6f holds_per_s=%.1f"
                      % (counter.pending, counter.measured, seconds,
                         counter.measured / seconds), flush=True)
                os._exit(0)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: simpy_hold.py PENDING MEASURED")
    pending, measured = int(sys.argv[1]), int(sys.argv[2])
    counter = Counter(pending, measured)
    table = exponential_table()
    sim = Simulation()
    sim.initialize()
    for number in range(pending):
        holder = Holder(sim=sim)
        sim.activate(holder, holder.run(counter, table, (number * 2654435761) & 4095))
    sim.simulate(until=1e300)
    sys.exit("simulation ended before %d holds" % measured)


if __name__ == "__main__":
    main()
