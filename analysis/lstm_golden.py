"""Golden vectors from PyTorch's own nn.LSTM for the `lstm` detector's C++ inference.

    /usr/bin/python3 analysis/lstm_golden.py --model models/lstm-noop.h5 --trace TRACE.h5 \
        --out tests/data/lstm_golden.h5

TRACE.h5 is the shipped model's training trace (models/README.md makes it). Deterministic:
the same model, trace and PyTorch give the same file, byte for byte (no time stamps).

Layout of the golden file (HDF5; T steps, B sequences, I inputs, H hidden, L layers):

    root attributes, in this order:
      format = "dosim-lstm-golden" (string), format_version = 1 (int32),
      torch_version (string), command (string: the command that wrote it)
    /configs                    strings [C]: the configurations below, in order
    /<config>/                  attributes T, B (int32)
    /<config>/model/...         a whole model in the model file's layout (docs/detectors.md,
                                "lstm: model file"): the same attributes and datasets, under
                                this group instead of the file's root
    /<config>/x                 float32 [T, B, I]: the LSTM's inputs, already normalized
    /<config>/output            float32 [T, B, H]: the top layer's h after every step
    /<config>/h_n, /<config>/c_n  float32 [L, B, H]: every layer's h and c after step T
    /<config>/forecast          float32 [T, B, I]: the head's forecast after every step
                                (forecast[t] forecasts x[t + 1])

computed in float32 by nn.LSTM(I, H, L) (batch_first=False, gate order i, f, g, o, both
biases) and nn.Linear(H, I) from a zero initial state. Configurations:

    i4_h8_l1    I=4, H=8, L=1, T=12, B=5: PyTorch's default initialisation (seed 11),
                x ~ N(0, 1.5^2)
    i3_h16_l2   I=3, H=16, L=2, T=12, B=5: the same with seed 12
    noop        the shipped model (its weights, normalization and error scale, copied from
                --model) on T=12 rows of its training trace (rows 43200..43211, noon of the
                first day), every service (B = 11); beside the above:
      /noop/x_raw     float32 [T, B, I]: the trace's values; x = (x_raw - mean) / std,
                      computed in float32
      /noop/score     float32 [T-1, B, I]: the detector's score at steps 1..T-1,
                      |x[t] - forecast[t-1]| / err_std (score[k] is step k + 1's; step 0
                      has no forecast yet)
      /noop/services  strings [B]: the services, in the trace's order
      attribute first_row (int64): the trace row of step 0

The C++ inference should match every value within 1e-5 relative (|a - b| <= 1e-5 max(|b|, 1));
tests/test_lstm_model.py checks the file against an independent numpy LSTM.
Regenerate it whenever models/lstm-noop.h5 changes (the test checks that the noop model
is the shipped one).
"""

import argparse
import pathlib
import shlex
import sys

import h5py
import numpy as np

from dosim.trace import load_trace  # PYTHONPATH=build/python, or the installed package
from lstm_model_file import (LstmModel, new_group, read_model_file, string_attribute,  # noqa: E402
                             string_type, write_model)

STEPS = 12
BATCH = 5
NOOP_FIRST_ROW = 43200
RANDOM_CONFIGS = (("i4_h8_l1", 4, 8, 1, 11), ("i3_h16_l2", 3, 16, 2, 12))


def run_torch(torch, model, x):
    """(output [T,B,H], h_n [L,B,H], c_n [L,B,H], forecast [T,B,I]) by nn.LSTM + nn.Linear."""
    lstm = torch.nn.LSTM(model.input_size, model.hidden_size, model.num_layers)
    head = torch.nn.Linear(model.hidden_size, model.input_size)
    state = {}
    for k, (w_ih, w_hh, b_ih, b_hh) in enumerate(model.layers):
        state.update({f"weight_ih_l{k}": torch.from_numpy(w_ih), f"weight_hh_l{k}":
                      torch.from_numpy(w_hh), f"bias_ih_l{k}": torch.from_numpy(b_ih),
                      f"bias_hh_l{k}": torch.from_numpy(b_hh)})
    lstm.load_state_dict(state)
    head.load_state_dict({"weight": torch.from_numpy(model.head_weight),
                          "bias": torch.from_numpy(model.head_bias)})
    with torch.no_grad():
        output, (h_n, c_n) = lstm(torch.from_numpy(x))
        forecast = head(output)
    return tuple(v.numpy().astype(np.float32) for v in (output, h_n, c_n, forecast))


def random_config(torch, name, inputs, hidden, layers, seed):
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(inputs, hidden, layers)
    head = torch.nn.Linear(hidden, inputs)
    x = (torch.randn(STEPS, BATCH, inputs) * 1.5).numpy().astype(np.float32)

    def weight(name_k):
        return getattr(lstm, name_k).detach().numpy().astype(np.float32)

    model = LstmModel(
        metrics=[f"m{i}" for i in range(inputs)], mean=np.zeros(inputs, np.float32),
        std=np.ones(inputs, np.float32), err_std=np.ones(inputs, np.float32),
        layers=[(weight(f"weight_ih_l{k}"), weight(f"weight_hh_l{k}"), weight(f"bias_ih_l{k}"),
                 weight(f"bias_hh_l{k}")) for k in range(layers)],
        head_weight=head.weight.detach().numpy().astype(np.float32),
        head_bias=head.bias.detach().numpy().astype(np.float32),
        trained_on=f"random weights ({name})", seed=seed, command="analysis/lstm_golden.py")
    return model, x


def noop_config(model, trace_path):
    with load_trace(trace_path) as trace:
        services = list(trace.services)
        x_raw = np.stack([trace.service_metric(m).to_numpy(dtype=np.float32)
                          [NOOP_FIRST_ROW:NOOP_FIRST_ROW + STEPS] for m in model.metrics], axis=-1)
    if x_raw.shape[0] != STEPS:
        sys.exit(f"lstm_golden: {trace_path} has fewer than {NOOP_FIRST_ROW + STEPS} rows")
    x = ((x_raw - model.mean) / model.std).astype(np.float32)
    return x_raw.astype(np.float32), x, services


def float_dataset(group, name, values):
    group.create_dataset(name, data=np.ascontiguousarray(values, dtype=np.float32),
                         track_times=False)


def strings_dataset(group, name, values):
    group.create_dataset(name, data=np.array([v.encode("utf-8") for v in values],
                                             dtype=string_type(values)), track_times=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the shipped model (models/lstm-noop.h5)")
    parser.add_argument("--trace", required=True, help="its training trace")
    parser.add_argument("--out", required=True, help="the golden file to write")
    args = parser.parse_args()
    import torch
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    configs = []
    for name, inputs, hidden, layers, seed in RANDOM_CONFIGS:
        model, x = random_config(torch, name, inputs, hidden, layers, seed)
        configs.append((name, model, x, None))
    noop = read_model_file(args.model)
    x_raw, x, services = noop_config(noop, args.trace)
    configs.append(("noop", noop, x, (x_raw, services)))

    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fid = h5py.h5f.create(args.out.encode("utf-8"), h5py.h5f.ACC_TRUNC, fcpl=fcpl)
    with h5py.File(fid) as file:
        string_attribute(file, "format", "dosim-lstm-golden")
        file.attrs.create("format_version", np.int32(1))
        string_attribute(file, "torch_version", torch.__version__)
        string_attribute(file, "command", shlex.join([sys.executable, *sys.argv]))
        strings_dataset(file, "configs", [c[0] for c in configs])
        for name, model, x, extra in configs:
            group = new_group(file, name)
            group.attrs.create("T", np.int32(x.shape[0]))
            group.attrs.create("B", np.int32(x.shape[1]))
            write_model(new_group(group, "model"), model)
            output, h_n, c_n, forecast = run_torch(torch, model, x)
            float_dataset(group, "x", x)
            float_dataset(group, "output", output)
            float_dataset(group, "h_n", h_n)
            float_dataset(group, "c_n", c_n)
            float_dataset(group, "forecast", forecast)
            if extra is not None:
                x_raw, services = extra
                group.attrs.create("first_row", np.int64(NOOP_FIRST_ROW))
                float_dataset(group, "x_raw", x_raw)
                float_dataset(group, "score", np.abs(x[1:] - forecast[:-1]) / model.err_std)
                strings_dataset(group, "services", services)
            print(f"  {name:10} I={model.input_size} H={model.hidden_size} L={model.num_layers}"
                  f" T={x.shape[0]} B={x.shape[1]}")
    print(f"lstm_golden: wrote {args.out}")


if __name__ == "__main__":
    main()
