"""A root-cause ranker written in Python (docs/rca.md, "Your own ranker"): the changes made
in the lookback on an alerted service or a neighbour of one, newest first; then the alerted
services, the one whose first alert came earliest first (the anomaly started there), ties by
more alerts.

    rca:
      rankers: [change, {name: first-alerted, python: ../scripts/rankers/first_alerted.py}]
"""


def rank(case):
    first, count = {}, {}  # per service: its first alert, its alert count
    for alert in case["alerts"]:  # in time order, within the lookback
        service = alert["service"]
        if service:
            first.setdefault(service, alert["time_ns"])
            count[service] = count.get(service, 0) + 1

    near = set(first)  # the alerted services and their neighbours
    for caller, callee in case["edges"]:
        if caller in first:
            near.add(callee)
        if callee in first:
            near.add(caller)

    since = case["time_ns"] - case["lookback_ns"]
    changes = [(change["times_ns"][-1], "change:" + change["name"])
               for change in case["changes"]  # those made by case["time_ns"] only
               if change["times_ns"][-1] > since and any(s in near for s in change["services"])]
    changes.sort(key=lambda c: (-c[0], c[1]))

    services = sorted(first, key=lambda s: (first[s], -count[s], s))
    return [cid for _, cid in changes] + ["service:" + s for s in services]
