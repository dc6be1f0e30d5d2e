"""The request level's benchmark model in SimPy (Debian's python3-simpy, SimPy 2.3.1): a
10-service chain s0 -> ... -> s9, 1,000 requests/s entering s0 as a Poisson process; every
service has 2 replicas of 4 workers behind a round-robin balancer (dosim's `replicas: 2,
workers: 4`), exponential service time with mean 4.8 ms (60 % utilisation). A request is
served at its service (a worker of the replica the balancer picked, FIFO), then calls the
next service and waits for its answer, then answers its caller: what dosim simulates.
Prints the hops (requests served by a service) per second of wall time for SIMULATED
seconds of simulated time. `--tandem` runs each request as one process walking the chain
(no process per hop, no answers carried back): the same timing while no call times out,
the cheapest SimPy formulation of this chain, but one that cannot express timeouts or
retries.
Usage: /usr/bin/python3 simpy_chain.py [SIMULATED_SECONDS] [--tandem]"""
import random
import sys
import time

from SimPy.Simulation import (Process, Resource, SimEvent, activate, hold, initialize,
                              release, request, simulate, waitevent)

SERVICES, RATE, REPLICAS, WORKERS, MEAN = 10, 1000.0, 2, 4, 0.0048
hops = 0


class Service:
    def __init__(self, index):
        self.replicas = [Resource(capacity=WORKERS, name=f"s{index}-{r}")
                         for r in range(REPLICAS)]
        self.cursor = 0

    def pick(self):  # round robin
        replica = self.replicas[self.cursor]
        self.cursor = (self.cursor + 1) % REPLICAS
        return replica


class Hop(Process):
    """One request at one service; `answered` fires when it answers its caller."""

    def serve(self, services, position, answered):
        global hops
        replica = services[position].pick()
        yield request, self, replica
        yield hold, self, random.expovariate(1.0 / MEAN)
        yield release, self, replica
        hops += 1
        if position + 1 < len(services):  # the call, and the wait for its answer
            answer = SimEvent()
            callee = Hop()
            activate(callee, callee.serve(services, position + 1, answer))
            yield waitevent, self, answer
        if answered is not None:
            answered.signal()


class Tandem(Process):
    """A request walking the chain in one process: the same timing as Hop's while no call
    times out (nothing waits on an answer), without answers to carry back."""

    def serve(self, services):
        global hops
        for service in services:
            replica = service.pick()
            yield request, self, replica
            yield hold, self, random.expovariate(1.0 / MEAN)
            yield release, self, replica
            hops += 1


class Source(Process):
    def generate(self, start):
        while True:
            yield hold, self, random.expovariate(RATE)
            start()


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tandem = "--tandem" in sys.argv
    horizon = float(args[0]) if args else 60.0
    random.seed(1)
    initialize()
    services = [Service(i) for i in range(SERVICES)]
    if tandem:
        def start():
            r = Tandem()
            activate(r, r.serve(services))
    else:
        def start():
            h = Hop()
            activate(h, h.serve(services, 0, None))
    source = Source()
    activate(source, source.generate(start))
    began = time.perf_counter()
    simulate(until=horizon)
    wall = time.perf_counter() - began
    model = "tandem" if tandem else "chain"
    print(f"simpy model={model} hops={hops} wall_s={wall:.3f} hops_per_s={hops / wall:.0f}")


if __name__ == "__main__":
    main()
