"""The shipped lstm model and the golden vectors, checked without PyTorch (CI has none).

- models/lstm-noop.h5 has exactly the layout of docs/detectors.md ("lstm: model file"):
  the root attributes with their types, the datasets with their shapes, float32 and finite
  values, the floors on the standard deviations; it is small (< 1 MB).
- tests/data/lstm_golden.h5 (analysis/lstm_golden.py: nn.LSTM's outputs) is reproduced by
  an independent numpy LSTM (float64, gate order i, f, g, o) within 1e-5 relative
  (|a - b| <= 1e-5 max(|b|, 1)), for every configuration; its `noop` configuration holds
  the shipped model itself, its inputs are the normalized trace values, its scores follow
  from the forecasts (within 1e-5 of max(|x|, |forecast|, 1) / err_std: a score divides a
  difference of forecasts by the error scale, so it cannot be closer than they are).
Reads files with h5py and numpy only; runs nothing.
"""
import sys

import h5py
import numpy as np
import pytest

from dosim_test_util import SOURCE_DIR, Checks

MODEL = SOURCE_DIR / "models" / "lstm-noop.h5"
GOLDEN = SOURCE_DIR / "tests" / "data" / "lstm_golden.h5"
TOLERANCE = 1e-5
ROOT_ATTRIBUTES = {"format": "S", "format_version": np.int32, "input_size": np.int32,
                   "hidden_size": np.int32, "num_layers": np.int32, "trained_on": "S",
                   "seed": np.int64, "command": "S"}
SERVICE_METRICS = {"rps", "error_ratio", "latency_mean_s", "latency_p50_s", "latency_p95_s",
                   "latency_p99_s", "cpu_ratio", "memory_ratio", "ready_replicas", "utilization"}


def text(value):
    return value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else str(value)


def is_fixed_string(dtype):
    info = h5py.check_string_dtype(dtype)
    return info is not None and info.length is not None


def check_model(check, group, where, metric_names=None):
    """Checks one model's layout; returns (layers [(w_ih, w_hh, b_ih, b_hh)], head_w, head_b,
    mean, std, err_std) as float32 arrays."""
    attrs = group.attrs
    check(set(attrs) == set(ROOT_ATTRIBUTES), f"{where}: attributes {sorted(attrs)}")
    for name, kind in ROOT_ATTRIBUTES.items():
        if name not in attrs:
            continue
        dtype = attrs.get_id(name).dtype
        if kind == "S":
            check(is_fixed_string(dtype), f"{where}: attribute {name} is {dtype}, not a string")
        else:
            check(dtype == kind, f"{where}: attribute {name} is {dtype}, not {np.dtype(kind)}")
    check(text(attrs.get("format")) == "dosim-lstm", f"{where}: format {attrs.get('format')!r}")
    check(int(attrs.get("format_version", 0)) == 1, f"{where}: format_version")
    inputs, hidden, count = (int(attrs.get(n, 0)) for n in ("input_size", "hidden_size",
                                                             "num_layers"))
    check(inputs >= 1 and hidden >= 1 and count >= 1, f"{where}: sizes {inputs} {hidden} {count}")

    shapes = {"normalization/mean": (inputs,), "normalization/std": (inputs,),
              "errors/std": (inputs,), "head/weight": (inputs, hidden), "head/bias": (inputs,)}
    for k in range(count):
        shapes.update({f"layers/{k}/weight_ih": (4 * hidden, inputs if k == 0 else hidden),
                       f"layers/{k}/weight_hh": (4 * hidden, hidden),
                       f"layers/{k}/bias_ih": (4 * hidden,), f"layers/{k}/bias_hh": (4 * hidden,)})
    datasets = []
    group.visititems(lambda name, obj: datasets.append(name)
                     if isinstance(obj, h5py.Dataset) else None)
    check(set(datasets) == set(shapes) | {"metrics"}, f"{where}: datasets {sorted(datasets)}")

    metrics = group["metrics"]
    check(is_fixed_string(metrics.dtype) and metrics.shape == (inputs,),
          f"{where}: metrics {metrics.dtype} {metrics.shape}")
    names = [text(m) for m in metrics[()]]
    if metric_names is not None:
        check(set(names) <= metric_names, f"{where}: metrics {names}")
    check(len(set(names)) == len(names), f"{where}: metrics repeat {names}")

    values = {}
    for path, shape in shapes.items():
        if path not in group:
            check(False, f"{where}: {path} missing")
            values[path] = np.zeros(shape, np.float32)
            continue
        data = group[path][()]
        check(data.dtype == np.float32, f"{where}: {path} is {data.dtype}")
        check(data.shape == shape, f"{where}: {path} shape {data.shape}, expected {shape}")
        check(bool(np.all(np.isfinite(data))), f"{where}: {path} not finite")
        values[path] = data
    check(bool(np.all(values["normalization/std"] >= np.float32(1e-6))), f"{where}: std floor")
    check(bool(np.all(values["errors/std"] >= np.float32(1e-3))), f"{where}: errors/std floor")
    layers = [tuple(values[f"layers/{k}/{n}"] for n in ("weight_ih", "weight_hh", "bias_ih",
                                                       "bias_hh")) for k in range(count)]
    return (layers, values["head/weight"], values["head/bias"], values["normalization/mean"],
            values["normalization/std"], values["errors/std"])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_lstm(layers, x):
    """(output [T,B,H], h_n [L,B,H], c_n [L,B,H]) of a stacked LSTM from a zero state, float64."""
    steps, batch, _ = x.shape
    hidden = layers[0][1].shape[1]
    h = np.zeros((len(layers), batch, hidden))
    c = np.zeros((len(layers), batch, hidden))
    output = np.zeros((steps, batch, hidden))
    weights = [tuple(w.astype(np.float64) for w in layer) for layer in layers]
    for t in range(steps):
        inp = x[t].astype(np.float64)
        for k, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
            gates = inp @ w_ih.T + b_ih + h[k] @ w_hh.T + b_hh
            i, f, g, o = np.split(gates, 4, axis=1)
            c[k] = sigmoid(f) * c[k] + sigmoid(i) * np.tanh(g)
            h[k] = sigmoid(o) * np.tanh(c[k])
            inp = h[k]
        output[t] = inp
    return output, h, c


def close(check, actual, expected, what):
    expected = np.asarray(expected, dtype=np.float64)
    ok = actual.shape == expected.shape
    if ok:
        error = np.abs(actual - expected) / np.maximum(np.abs(expected), 1.0)
        worst = float(error.max()) if error.size else 0.0
        ok = worst <= TOLERANCE
    check(ok, f"{what}: shape {actual.shape} vs {expected.shape}"
          + (f", worst relative error {worst:.3g}" if actual.shape == expected.shape else ""))
    return worst if actual.shape == expected.shape else float("inf")


def test_model():
    check = Checks()
    assert MODEL.is_file(), f"{MODEL} missing"
    check(MODEL.stat().st_size < 1 << 20, f"{MODEL}: {MODEL.stat().st_size} bytes")
    with h5py.File(MODEL, "r") as f:
        check_model(check, f, "models/lstm-noop.h5", SERVICE_METRICS)
        check(text(f.attrs.get("trained_on")) == "noop", "trained_on")
        check("train_lstm.py" in text(f.attrs.get("command")), "command")
        check([text(m) for m in f["metrics"][()]] ==
              ["rps", "error_ratio", "latency_p95_s", "cpu_ratio"], "metrics")
    check.assert_passed()


def test_golden():
    check = Checks()
    assert GOLDEN.is_file(), f"{GOLDEN} missing"
    check(GOLDEN.stat().st_size < 300 << 10, f"{GOLDEN}: {GOLDEN.stat().st_size} bytes")
    with h5py.File(GOLDEN, "r") as f:
        check(text(f.attrs.get("format")) == "dosim-lstm-golden", "golden format")
        configs = [text(c) for c in f["configs"][()]]
        check({"i4_h8_l1", "i3_h16_l2", "noop"} <= set(configs), f"configs {configs}")
        for name in configs:
            group = f[name]
            layers, head_w, head_b, mean, std, err_std = check_model(check, group["model"], name)
            x = group["x"][()]
            steps, batch = int(group.attrs["T"]), int(group.attrs["B"])
            hidden, count = layers[0][1].shape[1], len(layers)
            check(x.shape == (steps, batch, head_w.shape[0]), f"{name}: x {x.shape}")
            output, h_n, c_n = numpy_lstm(layers, x)
            forecast = output @ head_w.T.astype(np.float64) + head_b
            check(group["output"].shape == (steps, batch, hidden), f"{name}: output shape")
            check(group["h_n"].shape == (count, batch, hidden), f"{name}: h_n shape")
            worst = max(close(check, output, group["output"][()], f"{name}: output"),
                        close(check, h_n, group["h_n"][()], f"{name}: h_n"),
                        close(check, c_n, group["c_n"][()], f"{name}: c_n"),
                        close(check, forecast, group["forecast"][()], f"{name}: forecast"))
            print(f"  {name}: I={x.shape[2]} H={hidden} L={count} T={steps} B={batch},"
                  f" worst relative error {worst:.2g}")
            if name != "noop":
                continue
            x_raw = group["x_raw"][()]
            close(check, ((x_raw - mean) / std).astype(np.float64), x, "noop: x from x_raw")
            # The score divides a difference of O(1) values by err_std (down to 1e-3): it
            # inherits the forecast's tolerance scaled by max(|x|, |forecast|, 1) / err_std.
            score = np.abs(x[1:] - forecast[:-1]) / err_std
            scale = np.maximum(np.maximum(np.abs(x[1:]), np.abs(forecast[:-1])), 1) / err_std
            error = np.abs(score - group["score"][()]) / scale
            check(error.shape == score.shape and float(error.max()) <= TOLERANCE,
                  f"noop: score, worst error {float(error.max()):.3g} of its scale")
            check(float(np.median(score)) < 3, f"noop: median score {np.median(score):.3g}")
            if MODEL.is_file():
                with h5py.File(MODEL, "r") as shipped:
                    same = []
                    shipped.visititems(lambda path, obj: same.append(
                        (path, np.array_equal(obj[()], group["model"][path][()])))
                        if isinstance(obj, h5py.Dataset) else None)
                    differ = [path for path, equal in same if not equal]
                    check(same and not differ,
                          f"noop: the golden model differs from {MODEL.name} in {differ}:"
                          " regenerate the golden file (models/README.md)")
                    for key in shipped.attrs:
                        check(text(shipped.attrs[key]) == text(group["model"].attrs.get(key)),
                              f"noop: model attribute {key} differs from {MODEL.name}")
    check.assert_passed()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
