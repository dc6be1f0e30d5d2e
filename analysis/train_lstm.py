"""Train the `lstm` detector's model on a dosim trace and export it (docs/detectors.md,
"lstm: model file").

    /usr/bin/python3 analysis/train_lstm.py TRACE.h5 --out MODEL.h5
        [--metrics rps,error_ratio,latency_p95_s,cpu_ratio] [--hidden 32] [--layers 1]
        [--window 60] [--epochs N] [--batch 64] [--lr 0.003] [--seed 1] [--threads 1]

Contract:
- The trace must record every tick (`record_interval_ns == tick_ns`): the detector sees
  every tick, so it must be trained on them; any other trace is refused (exit 2), as are a
  missing file, a file that is not a complete dosim trace, an unknown metric, or too few
  fault-free rows. Problems are one line on stderr, never a traceback.
- Training rows: every row outside every non-silent incident's impact window
  `[impact_start_ns, impact_end_ns]` (a row covers the record interval ending at its
  `time_ns`; one that overlaps a window is left out), or the whole trace when it has no
  incident. The rows left form contiguous segments; no window crosses a gap.
- Each service is one sequence; the input at a tick is its M watched metrics, normalized
  per metric with the mean and standard deviation (floored at 1e-6) of the training rows,
  all services pooled. The model is nn.LSTM(M, hidden, layers) (gate order i, f, g, o) and
  nn.Linear(hidden, M) forecasting the next tick's normalized metrics.
- Training: non-overlapping windows of `window` rows per (segment, service), zero initial
  state, teacher forcing, MSE of the one-step forecast over the window's last `window - 1`
  rows, Adam, gradient norm clipped at 1, windows shuffled every epoch. `--epochs`
  defaults to enough epochs for about 5000 optimizer steps (at least 1, at most 50): 3 for
  a week of 11 services at 1 s, 50 for a two-hour trace.
- errors/std: run the trained model as the detector does (each service from a zero state
  at the start of each segment, one step per row, in float32) and take, per metric, the
  population standard deviation of `x_norm[t] - forecast[t-1]` over every service and row
  but each segment's first, floored at 1e-3.
- Deterministic: the same trace, arguments and seed give the same file, byte for byte,
  on the same machine and PyTorch (torch.manual_seed, deterministic algorithms,
  `threads` intra-op threads; no time stamps in the file). The model's `command`
  attribute is this process's command line, as given.
- Prints a short summary: rows and windows used, the final training loss, the forecast
  error per metric next to the naive "same as last tick" forecast's, the training time.

Needs PyTorch (Debian's python3-torch: tools/install-training-deps.sh), h5py, numpy,
pandas. The `lstm` detector itself (C++) and the tests need no PyTorch.
"""

import argparse
import os
import pathlib
import shlex
import sys
import time

import numpy as np

from dosim.trace import load_trace  # PYTHONPATH=build/python, or the installed package
from lstm_model_file import LstmModel, write_model_file  # noqa: E402

STD_FLOOR = 1e-6
ERROR_STD_FLOOR = 1e-3
DEFAULT_STEPS = 5000
DEFAULT_METRICS = "rps,error_ratio,latency_p95_s,cpu_ratio"


class UsageError(Exception):
    """Bad input: reported as one line on stderr, exit 2."""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trace", help="a dosim trace recorded every tick")
    parser.add_argument("--out", required=True, help="the model file to write")
    parser.add_argument("--metrics", default=DEFAULT_METRICS,
                        help=f"comma-separated service metrics, in input order ({DEFAULT_METRICS})")
    parser.add_argument("--hidden", type=int, default=32, help="hidden size H (32)")
    parser.add_argument("--layers", type=int, default=1, help="stacked LSTM layers L (1)")
    parser.add_argument("--window", type=int, default=60, help="training window in rows (60)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="passes over the windows (default: ~5000 steps' worth, 1..50)")
    parser.add_argument("--batch", type=int, default=64, help="windows per step (64)")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate (0.003)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (1)")
    args = parser.parse_args(argv)
    for name, low in (("hidden", 1), ("layers", 1), ("window", 2), ("epochs", 1), ("batch", 1),
                      ("threads", 1)):
        if getattr(args, name) is not None and getattr(args, name) < low:
            parser.error(f"--{name} must be >= {low}")
    if not args.lr > 0:
        parser.error("--lr must be > 0")
    args.metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if not args.metrics or len(set(args.metrics)) != len(args.metrics):
        parser.error("--metrics must name distinct metrics")
    return args


def read_training_data(path, metrics):
    """(values [R, S, M] float32, segments [(first, end)], trace summary dict)."""
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")
    try:
        trace = load_trace(path)
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: not a dosim trace ({error})") from None
    with trace:
        meta = trace.meta
        if not trace.complete:
            raise UsageError(f"{path}: the trace is incomplete (complete != 1)")
        tick, record = int(meta["tick_ns"]), int(meta["record_interval_ns"])
        if record != tick:
            raise UsageError(
                f"{path}: recorded every {record / 1e9:g} s but the tick is {tick / 1e9:g} s; the"
                " lstm detector sees every tick, so train it on a trace recorded at the tick"
                " (set the scenario's record: to its tick)")
        known = trace.metric_names("service")
        unknown = [m for m in metrics if m not in known]
        if unknown:
            raise UsageError(f"{path}: unknown service metric(s) {', '.join(unknown)};"
                             f" the trace has {', '.join(known)}")
        values = np.stack([trace.service_metric(m).to_numpy(dtype=np.float32) for m in metrics],
                          axis=-1)
        time_ns = np.rint(trace.time_s * 1e9).astype(np.int64)
        keep = np.ones(len(time_ns), dtype=bool)
        incidents = trace.incidents
        excluded = 0
        for _, incident in incidents.iterrows():
            start, end = int(incident["impact_start_ns"]), int(incident["impact_end_ns"])
            if incident["silent"] or start < 0:
                continue
            excluded += 1
            keep &= ~((time_ns > start) & (time_ns - record < end))
        info = {"scenario": str(meta.get("scenario_name", "")), "rows": len(time_ns),
                "services": len(trace.services), "incidents": excluded}
    if not np.all(np.isfinite(values[keep])):
        raise UsageError(f"{path}: non-finite metric values in the training rows")
    segments, row = [], 0
    while row < len(keep):
        if keep[row]:
            first = row
            while row < len(keep) and keep[row]:
                row += 1
            segments.append((first, row))
        else:
            row += 1
    return values, segments, info


def make_windows(segments, services, window):
    """(first row, service) of every non-overlapping window inside a segment."""
    return [(first + k * window, s)
            for first, end in segments
            for k in range((end - first) // window)
            for s in range(services)]


def stream_forecasts(torch, lstm, head, x, chunk=4096):
    """Forecasts [T, S, M] for normalized x [T, S, M], from a zero state, as the detector runs."""
    outputs, state = [], None
    with torch.no_grad():
        for first in range(0, x.shape[0], chunk):
            part = torch.from_numpy(np.ascontiguousarray(x[first:first + chunk]))
            hidden, state = lstm(part, state)
            outputs.append(head(hidden).numpy())
    return np.concatenate(outputs)


def train(args):
    try:
        import torch
    except ImportError:
        raise UsageError("PyTorch is missing: run tools/install-training-deps.sh"
                         " (Debian's python3-torch) and use /usr/bin/python3") from None
    started = time.monotonic()
    directory = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK):
        raise UsageError(f"{args.out}: cannot write (no writable directory {directory})")
    values, segments, info = read_training_data(args.trace, args.metrics)
    rows = sum(end - first for first, end in segments)
    if rows < 2 * args.window:
        raise UsageError(f"{args.trace}: {rows} fault-free rows; need at least"
                         f" {2 * args.window} (twice --window)")
    training_rows = np.concatenate([values[first:end] for first, end in segments])
    pooled = training_rows.reshape(-1, len(args.metrics)).astype(np.float64)
    mean = pooled.mean(axis=0).astype(np.float32)
    std = np.maximum(pooled.std(axis=0), STD_FLOOR).astype(np.float32)
    normalized = ((values - mean) / std).astype(np.float32)

    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(args.threads)
    inputs = len(args.metrics)
    lstm = torch.nn.LSTM(inputs, args.hidden, args.layers)
    head = torch.nn.Linear(args.hidden, inputs)
    parameters = list(lstm.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(parameters, lr=args.lr)
    windows = make_windows(segments, values.shape[1], args.window)
    if not windows:
        raise UsageError(f"{args.trace}: no fault-free span is --window ({args.window}) rows long")
    if args.epochs is None:
        steps_per_epoch = -(-len(windows) // args.batch)
        args.epochs = min(50, max(1, -(-DEFAULT_STEPS // steps_per_epoch)))
    starts = np.array([w[0] for w in windows])
    services = np.array([w[1] for w in windows])
    offsets = np.arange(args.window)
    generator = torch.Generator().manual_seed(args.seed)
    loss_history = []
    for _ in range(args.epochs):
        order = torch.randperm(len(windows), generator=generator).numpy()
        total, count = 0.0, 0
        for first in range(0, len(order), args.batch):
            picked = order[first:first + args.batch]
            batch = normalized[starts[picked][None, :] + offsets[:, None], services[picked][None, :]]
            batch = torch.from_numpy(np.ascontiguousarray(batch))       # [window, B, M]
            hidden, _ = lstm(batch[:-1])
            loss = torch.nn.functional.mse_loss(head(hidden), batch[1:])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 1.0)
            optimizer.step()
            total += loss.item() * len(picked)
            count += len(picked)
        loss_history.append(total / count)

    errors, naive = [], []
    for first, end in segments:
        x = normalized[first:end]
        forecast = stream_forecasts(torch, lstm, head, x)
        errors.append((x[1:] - forecast[:-1]).reshape(-1, inputs))
        naive.append((x[1:] - x[:-1]).reshape(-1, inputs))
    errors = np.concatenate(errors).astype(np.float64)
    naive = np.concatenate(naive).astype(np.float64)
    err_std = np.maximum(errors.std(axis=0), ERROR_STD_FLOOR).astype(np.float32)

    def weights(name):
        return getattr(lstm, name).detach().numpy().astype(np.float32)

    model = LstmModel(
        metrics=args.metrics, mean=mean, std=std, err_std=err_std,
        layers=[(weights(f"weight_ih_l{k}"), weights(f"weight_hh_l{k}"),
                 weights(f"bias_ih_l{k}"), weights(f"bias_hh_l{k}")) for k in range(args.layers)],
        head_weight=head.weight.detach().numpy(), head_bias=head.bias.detach().numpy(),
        trained_on=info["scenario"], seed=args.seed,
        command=shlex.join([sys.executable, *sys.argv]))
    try:
        write_model_file(args.out, model)
    except OSError as error:
        raise UsageError(f"{args.out}: cannot write ({error})") from None
    elapsed = time.monotonic() - started

    print(f"train_lstm: {args.trace} (scenario {info['scenario']!r}) -> {args.out}"
          f" ({os.path.getsize(args.out)} bytes)")
    print(f"  data      {rows} of {info['rows']} rows fault-free ({info['incidents']} incident"
          f" windows left out, {len(segments)} segments) x {info['services']} services;"
          f" {len(windows)} windows of {args.window}")
    print(f"  model     LSTM {inputs} -> {args.hidden} x {args.layers} layer(s) -> linear {inputs};"
          f" seed {args.seed}, {args.epochs} epochs, batch {args.batch}, lr {args.lr:g}")
    shown = sorted({round(k * (len(loss_history) - 1) / 9) for k in range(10)})
    print(f"  loss      training MSE by epoch: "
          f"{', '.join(f'{e + 1}: {loss_history[e]:.4g}' for e in shown)}")
    print("  one-step forecast error, normalized (std): lstm / last value")
    for m, metric in enumerate(args.metrics):
        print(f"    {metric:16} {errors[:, m].std():10.4g} / {naive[:, m].std():10.4g}"
              f"   (err_std {err_std[m]:.4g}, std {std[m]:.4g})")
    print(f"  time      {elapsed:.1f} s ({args.threads} thread(s))")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        train(args)
    except UsageError as error:
        print(f"train_lstm: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
