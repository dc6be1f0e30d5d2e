"""scenarios/regional-failover.yaml and scripts/evacuate-region.lua: regional traffic behind
a global load balancer (docs/world-model.md, "Regional traffic"), read back with h5py.

- The eu-west outage (30m..50m) is detected by three failed health checks (at 30m, 30m10s,
  30m20s) and the EU users move to us-east over one minute; three passed checks after 50m
  bring them back over one minute. The route shares, the gateways' arrivals, the change log
  and the ground truth (the us-east stack that took the traffic is affected) say so.
- The planned drain of us-east (1h10m, over 5 minutes, restored at 1h40m) moves the US
  users to eu-west and back, and is no cause in the ground truth.
- With the evacuation script, the EU users are steered away before the power cut: the
  outage is silent, nothing alerts, and the experiment passes.
- sim.drain from Lua acts like a declared drain; a steering call with a mistake fails the
  run with the loader's message.
"""
import h5py
import numpy as np

from dosim_test_util import SOURCE_DIR, TMP, dosim

SCENARIO = SOURCE_DIR / "scenarios" / "regional-failover.yaml"
SCRIPT = SOURCE_DIR / "scripts" / "evacuate-region.lua"
RECORD_S = 10
MINUTE = 60


def run(trace, *args):
    result = dosim("run", SCENARIO, "--out", trace, "--quiet", *args)
    assert result.returncode == 0, result.stderr
    return h5py.File(trace)


def routes(f):
    """{(source, region): column} of /metrics/route."""
    group = f["traffic/routes"]
    pairs = zip(group["traffic"].asstr()[()], group["region"].asstr()[()])
    return {pair: column for column, pair in enumerate(pairs)}


def row_ending(t, seconds):
    """The row of the record interval that ends at `seconds`."""
    return int(np.argmin(np.abs(t - seconds)))


def moving_share(row_end, start, shift, before, after):
    """The mean share over the ticks of the row ending at `row_end` (1 s ticks, each valued at
    its start) of a linear move from `before` to `after` over [start, start + shift)."""
    ticks = np.arange(row_end - RECORD_S, row_end)
    progress = np.clip((ticks - start) / shift, 0.0, 1.0)
    return float(np.mean(before + (after - before) * progress))


def change_log(f):
    group = f["events/changes"]
    return list(zip((group["t_ns"][:] // 10**9).tolist(), group["kind"].asstr()[()],
                    group["target"].asstr()[()], group["from"].asstr()[()],
                    group["to"].asstr()[()]))


def service_column(f, name):
    return f["services/name"].asstr()[()].tolist().index(name)


def test_a_region_outage_fails_over_after_the_checks_and_back():
    f = run(TMP / "regional-failover.h5")
    t = f["time_ns"][:] / 1e9
    route = routes(f)
    assert set(route) == {("us-users", "us-east"), ("us-users", "eu-west"),
                          ("eu-users", "eu-west"), ("eu-users", "us-east")}
    home = dict(zip(zip(f["traffic/routes/traffic"].asstr()[()],
                        f["traffic/routes/region"].asstr()[()]), f["traffic/routes/home"][:]))
    assert home[("eu-users", "eu-west")] == 1 and home[("eu-users", "us-east")] == 0
    weight = f["metrics/route/weight"][:]
    eu_home = weight[:, route[("eu-users", "eu-west")]]
    eu_away = weight[:, route[("eu-users", "us-east")]]
    # Down at 30m20s (the third failed check), moving until 31m20s; a 10 s row averages the
    # linear move.
    assert eu_home[row_ending(t, 30 * MINUTE + 20)] == 1.0
    expected = moving_share(30 * MINUTE + 50, 30 * MINUTE + 20, 60, 1.0, 0.0)
    assert abs(expected - (1 - 24.5 / 60)) < 1e-9
    assert abs(eu_home[row_ending(t, 30 * MINUTE + 50)] - expected) < 1e-5
    assert eu_home[row_ending(t, 31 * MINUTE + 30)] == 0.0
    assert eu_away[row_ending(t, 40 * MINUTE)] == 1.0
    # Up again at 50m20s, home by 51m20s.
    assert eu_home[row_ending(t, 50 * MINUTE + 20)] == 0.0
    assert eu_home[row_ending(t, 51 * MINUTE + 30)] == 1.0
    assert np.allclose(eu_home + eu_away, 1.0)

    # us-east's gateway carries both regions' users during the failover.
    rps = f["metrics/service/rps"][:]
    us_gateway = rps[:, service_column(f, "us-gateway")]
    before = us_gateway[row_ending(t, 20 * MINUTE):row_ending(t, 29 * MINUTE)].mean()
    during = us_gateway[row_ending(t, 35 * MINUTE):row_ending(t, 49 * MINUTE)].mean()
    assert abs(before - 450) < 15 and abs(during - 750) < 25, (before, during)
    route_rps = f["metrics/route/rps"][:]
    assert abs(route_rps[row_ending(t, 40 * MINUTE), route[("eu-users", "us-east")]] - 300) < 30

    log = change_log(f)
    assert (30 * MINUTE + 20, "failover", "eu-users", "eu-west", "us-east") in log
    assert (50 * MINUTE + 20, "failback", "eu-users", "us-east", "eu-west") in log
    # us-users' eu-west share is 0: eu-west going down moves none of it, and is not logged.
    assert not [e for e in log if e[1] in ("failover", "failback") and e[2] == "us-users"]

    # Ground truth: the outage affects both stacks (the one that took the traffic too).
    names = f["services/name"].asstr()[()].tolist()
    affected = {names[s] for s in f["truth/affected/service"][:]}
    assert affected == set(names)
    assert f["truth/incidents/name"].asstr()[()].tolist() == ["eu-west-down"]


def test_a_planned_drain_moves_the_users_and_is_no_cause():
    f = h5py.File(TMP / "regional-failover.h5") if (TMP / "regional-failover.h5").exists() \
        else run(TMP / "regional-failover.h5")
    t = f["time_ns"][:] / 1e9
    route = routes(f)
    us_home = f["metrics/route/weight"][:, route[("us-users", "us-east")]]
    assert us_home[row_ending(t, 70 * MINUTE)] == 1.0
    halfway = 72 * MINUTE + 30
    assert abs(us_home[row_ending(t, halfway)] -
               moving_share(halfway, 70 * MINUTE, 300, 1.0, 0.0)) < 1e-5
    assert us_home[row_ending(t, 80 * MINUTE)] == 0.0
    assert us_home[row_ending(t, 106 * MINUTE)] == 1.0
    log = change_log(f)
    assert (70 * MINUTE, "drain", "us-east", "serving", "drained") in log
    assert (100 * MINUTE, "drain-restore", "us-east", "drained", "serving") in log
    assert "us-east-maintenance" not in f["truth/incidents/name"].asstr()[()].tolist()


def test_an_evacuated_region_loses_power_silently():
    f = run(TMP / "regional-evacuation.h5", "--script", SCRIPT)
    assert f["truth/incidents/silent"][:].tolist() == [1]
    # Nothing alerts on the outage. The services that measured no request while evacuated
    # report a p95 of 0; when traffic returns, mad flags the step back up (both world modes
    # raise these same false alarms): none inside the outage.
    alerts = f["alerts"]
    assert (alerts["incident_id"][:] == -1).all()
    assert {m.decode() for m in alerts["metric"][:]} <= {"latency_p95_s"}
    start, end = f["truth/incidents/impact_start_ns"][0], f["truth/incidents/impact_end_ns"][0]
    assert not ((alerts["t_ns"][:] >= start) & (alerts["t_ns"][:] < end)).any()
    assert f["experiments/verdict"].asstr()[()].tolist() == ["pass"]
    log = change_log(f)
    assert (25 * MINUTE, "traffic-shift", "eu-users", "eu-west 100%, us-east 0%",
            "eu-west 0%, us-east 100%") in log
    assert not [e for e in log if e[1] == "failover"]
    t = f["time_ns"][:] / 1e9
    route = routes(f)
    eu_home = f["metrics/route/weight"][:, route[("eu-users", "eu-west")]]
    assert eu_home[row_ending(t, 28 * MINUTE)] == 0.0
    assert abs(eu_home[row_ending(t, 60 * MINUTE)] -  # back over 10 minutes from 55m
               moving_share(60 * MINUTE, 55 * MINUTE, 600, 0.0, 1.0)) < 1e-5


def test_lua_drain_and_its_mistakes(tmp_path):
    script = tmp_path / "drain.lua"
    script.write_text('sim.at(300, function()\n'
                      '  sim.drain{region = "eu-west", traffic = "eu-users", restore = "8m"}\n'
                      'end)\n')
    f = run(tmp_path / "drain.h5", "--script", script)
    t = f["time_ns"][:] / 1e9
    route = routes(f)
    eu_home = f["metrics/route/weight"][:, route[("eu-users", "eu-west")]]
    assert eu_home[row_ending(t, 5 * MINUTE)] == 1.0
    assert eu_home[row_ending(t, 6 * MINUTE)] == 0.0  # shift 0: at once
    assert eu_home[row_ending(t, 9 * MINUTE)] == 1.0
    us_home = f["metrics/route/weight"][:, route[("us-users", "us-east")]]
    # us-users' eu-west share is 0 and stays so (until the scenario's own drain at 1h10m).
    assert (us_home[t <= 70 * MINUTE] == 1.0).all()
    assert (5 * MINUTE, "drain", "eu-west (eu-users)", "serving", "drained") in change_log(f)

    bad = tmp_path / "bad.lua"
    bad.write_text('sim.steer{traffic = "eu-user", weights = {["us-east"] = 100}}\n')
    result = dosim("run", SCENARIO, "--out", tmp_path / "bad.h5", "--quiet", "--script", bad)
    assert result.returncode != 0
    assert "sim.steer" in result.stderr and "did you mean 'eu-users'" in result.stderr, \
        result.stderr


DRAIN = """\
name: route-rows
duration: 2m
tick: 1s
record: 10s
measurement_noise: false
regions:
  - {name: eu}
  - {name: us}
services:
  - {name: eu-gw, replicas: 4, capacity_rps: 100, base_latency: 10ms, region: eu}
  - {name: us-gw, replicas: 4, capacity_rps: 100, base_latency: 10ms, region: us}
traffic:
  - {name: users, base_rps: 100, noise: 0, regions: {eu: eu-gw, us: us-gw}}
changes:
  - {name: dr, kind: drain, region: eu, at: 65s, restore: 95s}
"""


def test_a_routes_rps_row_is_the_mean_over_its_ticks():
    # docs/trace-format.md: rps is the arithmetic mean over a row's ticks (it was weighted by
    # the route's weight, so half-moved rows read 100 where 50 requests a second went).
    scenario = TMP / "route-rows.yaml"
    scenario.write_text(DRAIN)
    trace = TMP / "route-rows.h5"
    result = dosim("run", scenario, "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        t = f["time_ns"][:] // 10**9
        weight, rps = f["metrics/route/weight"][:], f["metrics/route/rps"][:]
        services = f["metrics/service/rps"][:]
    for seconds in (70, 100):  # the drain starts (65 s) and is restored (95 s) mid-row
        row = row_ending(t, seconds)
        assert list(weight[row]) == [0.5, 0.5] and list(rps[row]) == [50.0, 50.0], (weight, rps)
    # Every row: the route's rps is what its gateway received, and the two add up to 100.
    assert np.allclose(rps, services, atol=1e-3) and np.allclose(rps.sum(axis=1), 100.0)


FAILING_REGION = """\
name: failing-region
duration: {duration}
tick: 1s
record: 1s
regions:
  - {{name: eu}}
  - {{name: us}}
services:
  - {{name: eu-gw, replicas: 4, capacity_rps: 100, base_latency: 10ms, region: eu}}
  - {{name: us-gw, replicas: 4, capacity_rps: 100, base_latency: 10ms, region: us}}
traffic:
  - name: users
    base_rps: 100
    regions: {{eu: eu-gw, us: us-gw}}
    failover: {failover}
faults:
  - {fault}
"""


def failovers(trace):
    with h5py.File(trace) as f:
        g = f["events/changes"]
        return [(int(t) // 10**9, k) for t, k in zip(g["t_ns"][:], g["kind"].asstr()[()])
                if k in ("failover", "failback")]


def test_a_failed_over_region_stays_down_while_its_fault_lasts_in_both_modes():
    # Once drained, the region gets no requests to measure; its checks are answered as the
    # fault makes them (docs/world-model.md), so the traffic does not go back into a 60 %
    # error fault (it flapped back three times) or a 2 s delay (every 20 s at the request
    # level), and returns once the fault is over.
    cases = {
        "errors": (FAILING_REGION.format(
            duration="10m", failover="true",
            fault="{name: err, kind: error, target: {service: eu-gw}, percent: 60, "
                  "start: 60s, duration: 5m}"), [(90, "failover"), (380, "failback")]),
        "latency": (FAILING_REGION.format(
            duration="12m",
            failover="{interval: 10s, failures: 2, recoveries: 2, timeout: 1s, shift: 0s}",
            fault="{name: slow, kind: latency, target: {service: eu-gw}, start: 2m, "
                  "duration: 5m, fixedDelay: 2s}"), [(140, "failover"), (430, "failback")]),
    }
    for name, (text, expected) in cases.items():
        scenario = TMP / f"failing-region-{name}.yaml"
        scenario.write_text(text)
        for mode in ("fluid", "requests"):
            trace = TMP / f"failing-region-{name}-{mode}.h5"
            result = dosim("run", scenario, "--mode", mode, "--out", trace, "--quiet")
            assert result.returncode == 0, result.stderr
            assert failovers(trace) == expected, (name, mode, failovers(trace))


def test_a_failback_held_back_by_a_drain_is_not_logged(tmp_path):
    # A playbook drains the region the health checks failed over from; when the region is
    # healthy again the checks would fail back, but the drain holds its users away: no
    # failback in the change log, and the users stay on us-east to the end.
    text = SCENARIO.read_text().split("\nchanges:")[0].replace("duration: 2h", "duration: 1h")
    text = text.replace("start: 30m, duration: 20m", "start: 10m, duration: 40m")
    scenario = tmp_path / "held.yaml"
    scenario.write_text(text + """
detectors:
  - {name: errors-high, kind: threshold, metrics: [error_ratio], params: {above: 0.05}, for: 10s}
remediation:
  playbooks:
    - name: fo
      match: {detector: errors-high, services: [eu-gateway]}
      after: 30s
      steps: [{action: failover, region: eu-west}]
""")
    trace = tmp_path / "held.h5"
    result = dosim("run", scenario, "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        log = change_log(f)
        assert [(kind, target) for _, kind, target, _, _ in log] == [
            ("failover", "eu-users"), ("drain", "eu-west")], log
        weight = f["metrics/route/weight"][:, routes(f)[("eu-users", "us-east")]]
        t = f["time_ns"][:] / 1e9
        assert np.all(weight[t > 15 * MINUTE] == 1.0)


def test_overlapping_drains_of_a_region_are_one_drain_in_the_log():
    """Two drains of r1, 2m-10m and 5m-20m: the region is drained from 2m to 20m, and the log
    said `serving -> drained` of it again at 5m and `drained -> serving` at 10m, where it
    stayed drained (found by a new-user audit)."""
    path = TMP / "overlapping-drains.yaml"
    path.write_text("""name: dr
duration: 30m
measurement_noise: false
detectors: []
regions: [{name: r1}, {name: r2}]
services:
  - {name: a, replicas: 4, capacity_rps: 200, region: r1}
  - {name: b, replicas: 4, capacity_rps: 200, region: r2}
traffic:
  - {name: u, base_rps: 100, noise: 0, regions: {r1: a, r2: b}}
changes:
  - {name: d2, kind: drain, region: r1, at: 2m, restore: 10m}
  - {name: d3, kind: drain, region: r1, at: 5m, restore: 20m}
""")
    trace = TMP / "overlapping-drains.h5"
    result = dosim("run", path, "--out", trace, "--quiet")
    assert result.returncode == 0, result.stderr
    with h5py.File(trace) as f:
        log = change_log(f)
        a_rps = f["metrics/service/rps"][:, 0]
        t = f["time_ns"][:] / 1e9
    assert log == [(2 * MINUTE, "drain", "r1", "serving", "drained"),
                   (20 * MINUTE, "drain-restore", "r1", "drained", "serving")], log
    assert a_rps[row_ending(t, 15 * MINUTE)] == 0  # drained between the two restores
