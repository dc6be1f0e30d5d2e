"""The request level's benchmark model in SimPy (Debian's python3-simpy, SimPy 2.3.1): a
10-service chain s0 -> ... -> s9, 1,000 requests/s entering s0 as a Poisson process, each
service 8 workers (dosim: 2 replicas x 4) of exponential service time with mean 4.8 ms
(60 % utilisation); a request is served at s0, then calls s1 and waits for it, and so on.
Prints the hops (requests served by a service) per second of wall time for SIMULATED
seconds of simulated time. Usage: /usr/bin/python3 simpy_chain.py [SIMULATED_SECONDS]"""
import random
import sys
import time

from SimPy.Simulation import (Process, Resource, activate, hold, initialize, now, release,
                              request, simulate)

SERVICES, RATE, WORKERS, MEAN = 10, 1000.0, 8, 0.0048
hops = 0


class Request(Process):
    def serve(self, servers):
        global hops
        for server in servers:  # s0's own work, then its call to s1, ...: a tandem
            yield request, self, server
            yield hold, self, random.expovariate(1.0 / MEAN)
            yield release, self, server
            hops += 1


class Source(Process):
    def generate(self, servers):
        while True:
            yield hold, self, random.expovariate(RATE)
            r = Request()
            activate(r, r.serve(servers))


def main():
    horizon = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    random.seed(1)
    initialize()
    servers = [Resource(capacity=WORKERS, name=f"s{i}") for i in range(SERVICES)]
    source = Source()
    activate(source, source.generate(servers))
    start = time.perf_counter()
    simulate(until=horizon)
    wall = time.perf_counter() - start
    print(f"simpy hops={hops} wall_s={wall:.3f} hops_per_s={hops / wall:.0f}")


if __name__ == "__main__":
    main()
