"""The bundled operations scenarios tell their stories, checked from their traces with h5py
and numpy: a canary's errors grow with its weight and stop at the rollback; a flag's
latency grows with each step; a rotated secret breaks exactly the consumer that did not
reload it; an autoscaler follows a surge up and back down."""
import sys

import h5py
import numpy as np
import pytest

from dosim_test_util import SOURCE_DIR, TMP, dosim


def run(name):
    trace = TMP / f"{name}.h5"
    result = dosim("run", SOURCE_DIR / "scenarios" / f"{name}.yaml", "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    return h5py.File(trace)


def series(f, metric, service):
    names = [n.decode() for n in f["services/name"][:]]
    return f[f"metrics/service/{metric}"][:, names.index(service)].astype(float)


def window(f, start_s, end_s):
    t = f["time_ns"][:] / 1e9
    return (t > start_s) & (t <= end_s)


def changes(f):
    c = f["events/changes"]
    return [(int(c["t_ns"][i] // 10**9), c["kind"][i].decode(), c["from"][i].decode(),
             c["to"][i].decode()) for i in range(len(c["t_ns"]))]


def test_canary_errors_follow_the_weight_and_stop_at_rollback():
    with run("canary-bad-version") as f:
        errors = series(f, "error_ratio", "checkout")
        before = errors[window(f, 0, 3600)].mean()
        at_5 = errors[window(f, 3620, 4500)].mean()
        at_25 = errors[window(f, 4520, 6000)].mean()
        after = errors[window(f, 6020, 10800)].mean()
        assert before < 1e-3 and after < 1e-3
        assert abs(at_5 - 0.05 * 0.12) < 2e-3, at_5
        assert abs(at_25 - 0.25 * 0.12) < 3e-3, at_25
        log = changes(f)
        assert (6000, "rollback", "v2.4.0", "v1") in log
        assert not [e for e in log if e[0] > 6000], log  # no step after the rollback
        truth = f["truth/incidents"]
        assert [c.decode() for c in truth["cause"][:]] == ["deployment"]  # the good cart release is none
        assert truth["impact_start_ns"][0] == 3600 * 10**9 and truth["impact_end_ns"][0] == 6000 * 10**9


def test_flag_latency_grows_with_each_step():
    with run("flag-rollout") as f:
        p95 = series(f, "latency_mean_s", "search")
        steps = [p95[window(f, start + 60, start + 3600)].mean() for start in (0, 3600, 7200, 10800, 14400)]
        assert all(b > a for a, b in zip(steps, steps[1:])), steps
        # At 100 % of a 30 % segment, 30 % of requests take 400 ms more: +0.12 s on the mean.
        assert abs((steps[4] - steps[0]) - 0.3 * 0.4) < 0.02, steps
        off = p95[window(f, 18060, 21600)].mean()
        assert abs(off - steps[0]) < 0.005


def test_secret_rotation_breaks_only_the_consumer_that_did_not_reload():
    with run("secret-rotation") as f:
        broken = window(f, 2 * 3600 + 15 * 60, 2 * 3600 + 50 * 60)
        assert series(f, "error_ratio", "reporting")[broken].min() > 0.999
        assert series(f, "error_ratio", "reporting")[~broken].max() < 0.01
        for service in ["orders", "inventory"]:
            assert series(f, "error_ratio", service).max() < 0.01, service
        assert [e[1] for e in changes(f)] == ["secret-rotation", "secret-revoked", "secret-reload"]
        # The reload restarts the straggler alone (it named every consumer).
        assert f["events/changes/target"][2].decode() == "reporting"


def test_the_autoscaler_follows_the_surge_up_and_down():
    with run("autoscaling") as f:
        ready = series(f, "ready_replicas", "api")
        assert ready[window(f, 0, 1800)].max() == 3
        assert ready[window(f, 2400, 4200)].min() >= 12  # scaled for 1,100 users
        assert ready[window(f, 6000, 7200)].max() <= 5   # and back down after the surge
        scale = [e for e in changes(f) if e[1] == "scale"]
        ups = [e for e in scale if int(e[3]) > int(e[2])]
        downs = [e for e in scale if int(e[3]) < int(e[2])]
        assert ups and downs
        assert min(e[0] for e in downs) >= 4200 + 300  # the 5-minute stabilisation window
        cpu = series(f, "cpu_ratio", "api")
        assert abs(cpu[window(f, 3000, 4200)].mean() - 0.6) < 0.08  # near the target


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


def test_a_deployment_during_another_of_its_service_is_a_warning():
    # d1's canary runs to 25m (a 20m pause); d2 starts at 10m. d3 waits for d1's end; d4 of
    # another service overlaps nothing of its own.
    path = TMP / "overlapping-deployments.yaml"
    path.write_text("""name: overlap
duration: 40m
services:
  - {name: web, replicas: 4, capacity_rps: 200, base_latency: 5ms}
  - {name: api, replicas: 2, capacity_rps: 200, base_latency: 5ms}
traffic:
  - {name: users, entry: web, base_rps: 100}
changes:
  - {name: d1, kind: deployment, service: web, version: v2, at: 5m, strategy: canary,
     steps: [{weight: 10, pause: 20m}]}
  - {name: d2, kind: deployment, service: web, version: v3, at: 10m}
  - {name: d3, kind: deployment, service: web, version: v4, at: 25m}
  - {name: d4, kind: deployment, service: api, version: v2, at: 10m}
""")
    result = dosim("validate", path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in (result.stdout + result.stderr).splitlines()
                if "still rolling out" in line]
    assert warnings == [
        f"{path}:11:5: warning: deployment 'd2' of web starts at 10m while deployment 'd1' is "
        "still rolling out (until 25m): one rollout a service at a time (the first's later "
        "steps would be logged as if they came); start it at 25m or later"], result
