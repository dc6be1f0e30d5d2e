"""Lab 2 (instructor's solution): MAD on request logs, as the MAD hackathon does it.

    python3 mad_logs.py LOGS.jsonl INCIDENTS.csv

Reads request logs (JSON lines with time_ns, service, endpoint, status, latency_s, as
`dosim export logs` writes them), aggregates them per minute and (service, endpoint) into
p95 latency and error rate, scores each series with the modified z-score
0.6745 (x - median) / MAD (the mean absolute deviation where MAD is 0), and writes the incidents: runs of consecutive anomalous minutes
of one (service, endpoint), with the worst severity reached (Warning: |z| > 3.5 on p95 or
error rate; Critical: a Warning whose error rate is at least 5 %)."""

import sys

import numpy as np
import pandas as pd

THRESHOLD = 3.5


def modified_z(values):
    """0.6745 (x - median) / MAD; where MAD is 0 (a series that is nearly always the same,
    as an error rate that is nearly always 0), (x - median) / (1.253314 MeanAD), the mean
    absolute deviation's fallback; 0 where both are 0."""
    median = np.median(values)
    mad = np.median(np.abs(values - median))
    if mad > 0:
        return 0.6745 * (values - median) / mad
    mean_ad = np.mean(np.abs(values - median))
    if mean_ad > 0:
        return (values - median) / (1.253314 * mean_ad)
    return np.zeros_like(values)


def main(logs_path, out_path):
    logs = pd.read_json(logs_path, lines=True)
    logs = logs[logs["endpoint"].notna()]  # per endpoint: services that declare them
    logs["minute"] = logs["time_ns"] // 60_000_000_000
    logs["error"] = logs["status"] >= 500
    features = (logs.groupby(["service", "endpoint", "minute"])
                .agg(p95=("latency_s", lambda x: np.percentile(x, 95)),
                     error_rate=("error", "mean"))
                .reset_index())
    rows = []
    for (service, endpoint), series in features.groupby(["service", "endpoint"]):
        series = series.sort_values("minute")
        z_latency = modified_z(series["p95"].to_numpy())
        z_errors = modified_z(series["error_rate"].to_numpy())
        warning = (np.abs(z_latency) > THRESHOLD) | (np.abs(z_errors) > THRESHOLD)
        critical = warning & (series["error_rate"].to_numpy() >= 0.05)
        minutes = series["minute"].to_numpy()
        start = None
        for i, minute in enumerate(minutes):
            if warning[i] and start is not None and minute == last + 1:
                last, worst = minute, max(worst, 2 if critical[i] else 1)
                continue
            if start is not None:
                rows.append((service, endpoint, start, last + 1, worst))
                start = None
            if warning[i]:
                start, last, worst = minute, minute, 2 if critical[i] else 1
        if start is not None:
            rows.append((service, endpoint, start, last + 1, worst))
    incidents = pd.DataFrame(rows, columns=["service", "endpoint", "start_minute",
                                            "end_minute", "severity"])
    incidents["severity"] = incidents["severity"].map({1: "Warning", 2: "Critical"})
    incidents.to_csv(out_path, index=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
