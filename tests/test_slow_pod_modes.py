"""A slow pod in both world modes (docs/world-model.md, Bad pods): a latency fault with a
`mode` acts on the replicas it picks, and a request there holds its worker for the delay
(the request level's semantics), so the pod serves fewer requests a second while round
robin still sends it its share. Below its capacity its queue waits a little longer; above,
its queue fills, its requests wait what the queue holds and the rest are refused (503).
The fluid model gives those replicas a queue of their own; before, it only delayed their
share of the requests (db's p95 0.22 s against 176 s, no errors against 17 %).

front calls db (four replicas of four 10 ms workers, 50 requests a second each); one db
replica is slower by the fault's delay from minute 3 to 11. Read back with h5py: the means
over minutes 5 to 11. And an error pod behind round robin, whose retries meet it less often
than at random."""
import re

import h5py

from dosim_test_util import SOURCE_DIR, TMP, dosim

SCENARIO = """name: slow-pod
duration: 14m
tick: 1s
detectors: []
services:
  - {{name: front, replicas: 4, capacity_rps: 400, base_latency: 10ms}}
  - {{name: db, replicas: 4, capacity_rps: 400, base_latency: 10ms}}
dependencies:
  - {{caller: front, callee: db, timeout: {timeout}, retries: 1}}
traffic:
  - {{name: users, entry: front, base_rps: 200, noise: 0}}
faults:
  - {{name: slow-pod, kind: latency, target: {{service: db}}, mode: one,
     fixedDelay: {delay}, start: 3m, duration: 8m}}
"""

KEYS = ("rps", "error_ratio", "latency_p95_s", "latency_p99_s", "utilization")


def over_the_fault(name, mode, delay, timeout, edit=lambda text: text):
    path = TMP / f"{name}.yaml"
    path.write_text(edit(SCENARIO.format(delay=delay, timeout=timeout)))
    trace = TMP / f"{name}-{mode}.h5"
    result = dosim("run", path, "--mode", mode, "--seed", "5", "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        names = [n.decode() for n in f["services/name"][:]]
        t = f["time_ns"][:] / 1e9
        during = (t > 5 * 60) & (t <= 11 * 60)
        return {(s, k): float(f["metrics/service"][k][during, i].mean())
                for i, s in enumerate(names) for k in KEYS}


def both(name, delay, timeout, edit=lambda text: text):
    return (over_the_fault(name, "fluid", delay, timeout, edit),
            over_the_fault(name, "requests", delay, timeout, edit))


def close(fluid, requests, series, key, tolerance):
    f, r = fluid[(series, key)], requests[(series, key)]
    assert abs(f / r - 1) < tolerance, (series, key, f, r)


def test_a_slow_pod_under_its_capacity_waits_longer_in_both_modes():
    # 50 ms slower: the pod's workers are busy 75 % of the time (60 ms each for 50 a
    # second), so its requests queue: db's p95 70 ms at the request level, the fluid model
    # 73 (66 when it only delayed the share), p99 90 against 88; utilisation 0.28 in both
    # (0.125 before: a worker held for the delay is busy). Now within 3.3 %, 2.4 % and 0.2 %.
    fluid, requests = both("slow-pod-50", "50ms", "10s")
    assert 0.06 < requests[("db", "latency_p95_s")] < 0.08, requests
    for key, tolerance in (("latency_p95_s", 0.05), ("latency_p99_s", 0.05),
                           ("utilization", 0.02)):
        close(fluid, requests, "db", key, tolerance)
    close(fluid, requests, "front", "latency_p95_s", 0.05)


def test_a_slow_pod_over_its_capacity_fills_its_queue_in_both_modes():
    # 200 ms slower: the pod serves 19 requests a second of the 50 (and the retries) sent to
    # it; its queue fills to its limit (10 s of the replica's capacity, 4,000 requests), the
    # rest is refused at once, and front retries. db's errors 17.45 % against 17.39 %, its
    # rate with the retries 250 against 252 a second, utilisation 0.367 against 0.368 (the
    # pod always busy). Its p95 is the full queue's wait: 203 s against 176 (the request
    # level shows a request's wait when it completes, and over these minutes some of those
    # completing entered while the queue filled). front, with a 10 s timeout, waits it out
    # on the pod's answers: p95 10.7 s against 10.0; its errors are the calls whose both
    # attempts met the pod (6.3 % against 5.5 %: at the request level a retry meets it a
    # little less often, docs/world-model.md).
    fluid, requests = both("slow-pod-200", "200ms", "10s")
    assert 0.15 < requests[("db", "error_ratio")] < 0.2, requests
    assert requests[("db", "latency_p95_s")] > 100, requests
    for key, tolerance in (("error_ratio", 0.05), ("rps", 0.03), ("utilization", 0.03),
                           ("latency_p95_s", 0.25)):
        close(fluid, requests, "db", key, tolerance)
    close(fluid, requests, "front", "latency_p95_s", 0.1)
    close(fluid, requests, "front", "error_ratio", 0.2)


def test_slow_pods_on_every_replica_slow_the_whole_service_in_both_modes():
    # Every replica picked (`fixed-percent` 100), 50 ms slower: each worker busy 75 % of the
    # time, a less variable service (60 ms, mostly the delay) that waits less than an
    # exponential's. db's p95 87 ms against 86 at the request level, p99 105 against 102,
    # utilisation 0.75 in both (the fluid model delayed every request by 50 ms before,
    # without holding a worker: utilisation 0.125).
    every = lambda text: text.replace("mode: one", "mode: fixed-percent, value: 100")
    fluid, requests = both("slow-pods-all-50", "50ms", "10s", every)
    for key, tolerance in (("latency_p95_s", 0.05), ("latency_p99_s", 0.05),
                           ("utilization", 0.02)):
        close(fluid, requests, "db", key, tolerance)
    # db as one replica of 16 workers, its one pod 100 ms slower: 160 requests a second
    # at most of the 200 and the retries; 63.6 % of its requests refused against 63.4 %.
    alone = lambda text: text.replace("{name: db, replicas: 4, capacity_rps: 400,",
                                      "{name: db, replicas: 1, workers: 16, capacity_rps: 1600,")
    fluid, requests = both("slow-pod-alone-100", "100ms", "10s", alone)
    for key, tolerance in (("error_ratio", 0.05), ("rps", 0.03), ("utilization", 0.01)):
        close(fluid, requests, "db", key, tolerance)


def test_a_retry_after_an_error_pod_meets_it_less_often_in_both_modes():
    # bad-pod.yaml without its outlier detection, with one retry: one cart replica of four
    # fails every request; round robin sends a retry to the replica as many places on as
    # cart's other requests were picked during the back-off, plus one, so less often back to
    # the bad one than at random. front's errors 5.6 % at the request level, 5.2 % fluid
    # (6.25 % when the fluid model took the retries as landing anywhere).
    text = (SOURCE_DIR / "scenarios" / "bad-pod.yaml").read_text()
    text = re.sub(r",\n     outlier_detection: \{[^}]*\}\}", ", retries: 1}", text)
    assert "retries: 1" in text
    path = TMP / "bad-pod-retry.yaml"
    path.write_text(text)
    errors = {}
    for mode in ("fluid", "requests"):
        trace = TMP / f"bad-pod-retry-{mode}.h5"
        result = dosim("run", path, "--mode", mode, "--out", trace, "--quiet")
        assert result.returncode == 0, result.stderr
        with h5py.File(trace) as f:
            t = f["time_ns"][:] / 1e9
            during = (t > 12 * 60) & (t <= 30 * 60)
            errors[mode] = float(f["metrics/service/error_ratio"][during, 0].mean())
    assert errors["requests"] < 0.058 and errors["fluid"] < 0.058, errors  # not 0.25 squared
    assert abs(errors["fluid"] / errors["requests"] - 1) < 0.1, errors
