"""Write and read the `lstm` detector's model file (layout: docs/detectors.md, "lstm: model
file"), with h5py and numpy only (no torch), deterministically: no object time stamps, the
same objects and attributes in the same order on every write, so the same weights give the
same bytes.

    from lstm_model_file import LstmModel, write_model, read_model
    write_model(h5py_group, model)     # a file's root group, or any group (the golden file)
    model = read_model(h5py_group)     # checks the layout; raises ValueError if it is off

A model: `metrics` (names, input order), `mean`, `std`, `err_std` (float32 [I]), `layers`
(per layer (weight_ih [4H, I or H], weight_hh [4H, H], bias_ih [4H], bias_hh [4H]),
PyTorch's nn.LSTM weight_ih_l{k} ..., gate order i, f, g, o), `head_weight` [I, H],
`head_bias` [I] (nn.Linear's), and the provenance `trained_on`, `seed`, `command`.

Strings are fixed-length, null-padded UTF-8, as wide as the longest value (at least 1
byte), like the trace's (docs/trace-format.md).
"""

from dataclasses import dataclass

import h5py
import numpy as np

FORMAT = "dosim-lstm"
FORMAT_VERSION = 1
ROOT_ATTRIBUTES = ("format", "format_version", "input_size", "hidden_size", "num_layers",
                   "trained_on", "seed", "command")


@dataclass
class LstmModel:
    metrics: list
    mean: np.ndarray
    std: np.ndarray
    err_std: np.ndarray
    layers: list  # [(weight_ih, weight_hh, bias_ih, bias_hh)] per layer, bottom first
    head_weight: np.ndarray
    head_bias: np.ndarray
    trained_on: str = ""
    seed: int = 0
    command: str = ""

    @property
    def input_size(self):
        return len(self.metrics)

    @property
    def hidden_size(self):
        return self.layers[0][1].shape[1]

    @property
    def num_layers(self):
        return len(self.layers)


def string_type(values):
    width = max([1] + [len(v.encode("utf-8")) for v in values])
    return h5py.string_dtype("utf-8", width)


def string_attribute(target, name, value):
    target.attrs.create(name, np.array(value.encode("utf-8"), dtype=string_type([value])))


def _float_dataset(group, name, values, shape):
    values = np.ascontiguousarray(values, dtype=np.float32)
    if values.shape != shape:
        raise ValueError(f"{name}: shape {values.shape}, expected {shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name}: not finite")
    group.create_dataset(name, data=values, track_times=False)


def new_group(parent, name):
    """A subgroup without time stamps (h5py's create_group would track them)."""
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    h5py.h5g.create(parent.id, name.encode("utf-8"), gcpl=gcpl)
    return parent[name]


def write_model(group, model):
    """Writes `model` into `group` (an open h5py Group: a file's root, or a subgroup)."""
    inputs, hidden, layers = model.input_size, model.hidden_size, model.num_layers
    attributes = {
        "format": FORMAT, "format_version": np.int32(FORMAT_VERSION),
        "input_size": np.int32(inputs), "hidden_size": np.int32(hidden),
        "num_layers": np.int32(layers), "trained_on": model.trained_on,
        "seed": np.int64(model.seed), "command": model.command,
    }
    for name in ROOT_ATTRIBUTES:
        value = attributes[name]
        if isinstance(value, str):
            string_attribute(group, name, value)
        else:
            group.attrs.create(name, value)
    names = [str(m) for m in model.metrics]
    group.create_dataset("metrics", data=np.array([n.encode("utf-8") for n in names],
                                                  dtype=string_type(names)),
                         track_times=False)
    normalization = new_group(group, "normalization")
    _float_dataset(normalization, "mean", model.mean, (inputs,))
    _float_dataset(normalization, "std", model.std, (inputs,))
    _float_dataset(new_group(group, "errors"), "std", model.err_std, (inputs,))
    layers_group = new_group(group, "layers")
    for k, (weight_ih, weight_hh, bias_ih, bias_hh) in enumerate(model.layers):
        layer = new_group(layers_group, str(k))
        _float_dataset(layer, "weight_ih", weight_ih, (4 * hidden, inputs if k == 0 else hidden))
        _float_dataset(layer, "weight_hh", weight_hh, (4 * hidden, hidden))
        _float_dataset(layer, "bias_ih", bias_ih, (4 * hidden,))
        _float_dataset(layer, "bias_hh", bias_hh, (4 * hidden,))
    head = new_group(group, "head")
    _float_dataset(head, "weight", model.head_weight, (inputs, hidden))
    _float_dataset(head, "bias", model.head_bias, (inputs,))


def write_model_file(path, model):
    """Writes `model` as a whole file at `path` (truncated first)."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)  # the root group's time stamps
    fid = h5py.h5f.create(str(path).encode("utf-8"), h5py.h5f.ACC_TRUNC, fcpl=fcpl)
    with h5py.File(fid) as file:
        write_model(file, model)


def _text(value):
    return value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else str(value)


def read_model(group):
    """Reads and checks a model from an open h5py Group; ValueError when the layout is off."""
    attrs = group.attrs
    missing = [name for name in ROOT_ATTRIBUTES if name not in attrs]
    if missing:
        raise ValueError(f"not a dosim-lstm model: missing attributes {missing}")
    if _text(attrs["format"]) != FORMAT or int(attrs["format_version"]) != FORMAT_VERSION:
        raise ValueError(f"not a {FORMAT} v{FORMAT_VERSION} model: format "
                         f"{_text(attrs['format'])!r} v{attrs['format_version']}")
    inputs, hidden, count = (int(attrs[n]) for n in ("input_size", "hidden_size", "num_layers"))

    def floats(path, shape):
        if path not in group:
            raise ValueError(f"missing dataset {path}")
        values = group[path][()]
        if values.dtype != np.float32 or values.shape != shape:
            raise ValueError(f"{path}: {values.dtype} {values.shape}, expected float32 {shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{path}: not finite")
        return values

    metrics = [_text(m) for m in group["metrics"][()]]
    if len(metrics) != inputs:
        raise ValueError(f"metrics: {len(metrics)} names, input_size {inputs}")
    layers = []
    for k in range(count):
        prefix = f"layers/{k}/"
        layers.append((floats(prefix + "weight_ih", (4 * hidden, inputs if k == 0 else hidden)),
                       floats(prefix + "weight_hh", (4 * hidden, hidden)),
                       floats(prefix + "bias_ih", (4 * hidden,)),
                       floats(prefix + "bias_hh", (4 * hidden,))))
    return LstmModel(metrics=metrics,
                     mean=floats("normalization/mean", (inputs,)),
                     std=floats("normalization/std", (inputs,)),
                     err_std=floats("errors/std", (inputs,)),
                     layers=layers,
                     head_weight=floats("head/weight", (inputs, hidden)),
                     head_bias=floats("head/bias", (inputs,)),
                     trained_on=_text(attrs["trained_on"]), seed=int(attrs["seed"]),
                     command=_text(attrs["command"]))


def read_model_file(path):
    with h5py.File(path, "r") as file:
        return read_model(file)
