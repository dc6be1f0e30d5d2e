"""Lab 2: MAD on request logs (your program; labs/lab2/HANDOUT.md).

    python3 mad_logs.py LOGS.jsonl INCIDENTS.csv

LOGS.jsonl: one request per line, as `dosim export logs TRACE.h5` writes them:
{"time_ns": ..., "service": "payments", "endpoint": "/pay", "status": 200,
 "latency_s": 0.031, "trace_id": "..."}  (services without endpoints have no "endpoint").

INCIDENTS.csv: one row per incident you find, with the columns
service,endpoint,start_minute,end_minute,severity
(minutes since the start of the run; end_minute is the first minute after the incident;
severity Warning or Critical)."""

import sys

import numpy as np  # noqa: F401 - Debian's python3-numpy and python3-pandas are there
import pandas as pd


def main(logs_path, out_path):
    logs = pd.read_json(logs_path, lines=True)
    # TODO 1: per minute and (service, endpoint): the p95 latency and the error rate.
    # TODO 2: per (service, endpoint), the modified z-score of each minute's value.
    # TODO 3: severities, then consecutive anomalous minutes grouped into incidents.
    incidents = pd.DataFrame(columns=["service", "endpoint", "start_minute", "end_minute",
                                      "severity"])
    incidents.to_csv(out_path, index=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
