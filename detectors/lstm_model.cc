#include "detectors/lstm_model.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>

#include "dosim/error.h"
#include "util/data_dir.h"
#include "util/hdf5.h"
#include "util/input_file.h"
#include "util/isolated.h"

namespace dosim {
namespace {

// A problem inside the file; load_lstm_model() turns it into a ModelError naming the path.
struct BadModel : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A float dataset of exactly `expected` shape, finite.
std::vector<float> read_floats(hid_t file, const std::string& name,
                               const std::vector<hsize_t>& expected) {
  const hdf5::Dataset dataset = hdf5::open_dataset(file, name);
  const std::vector<hsize_t> dims = hdf5::shape_of(dataset, name);
  if (dims != expected) {
    std::string want, got;
    for (hsize_t d : expected) want += (want.empty() ? "" : ", ") + std::to_string(d);
    for (hsize_t d : dims) got += (got.empty() ? "" : ", ") + std::to_string(d);
    throw BadModel(name + " has shape [" + got + "], expected [" + want + "]");
  }
  std::vector<float> values = hdf5::read_numbers<float>(dataset, name);
  for (float v : values)
    if (!std::isfinite(v)) throw BadModel(name + " holds a non-finite value");
  return values;
}

std::int64_t int_attribute(hid_t group, const char* name) {
  // The model format's own wording (docs/detectors.md: "root attribute").
  if (!hdf5::has_attribute(group, name)) throw BadModel(std::string("no root attribute ") + name);
  return hdf5::read_attribute<std::int64_t>(group, name);
}

// "" where the attribute is missing.
std::string string_attribute(hid_t group, const char* name) {
  return hdf5::has_attribute(group, name) ? hdf5::read_string_attribute(group, name) : "";
}

}  // namespace

std::shared_ptr<const LstmModel> shared_lstm_model(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const LstmModel>> models;
  const std::lock_guard lock(mutex);
  auto found = models.find(path);
  if (found == models.end())
    found = models.emplace(path, std::make_shared<const LstmModel>(load_lstm_model(path))).first;
  return found->second;
}

std::string default_lstm_model_path() {
  if (const char* env = std::getenv("DOSIM_LSTM_MODEL"); env != nullptr && *env != '\0') return env;
  return data_path("models/lstm-noop.h5");
}

namespace {

LstmModel read_lstm_model(const std::string& path, const std::string& group) {
  hdf5::quiet_errors();
  if (const std::string problem = input_file_problem(path); !problem.empty())
    throw InputError(path, "cannot open the LSTM model: " + problem);
  const hdf5::File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) throw InputError(path, "cannot open the LSTM model: " + hdf5::error_reason());
  LstmModel model;
  model.path = path;
  try {
    const hdf5::Group root = hdf5::open_group(file.get(), group);
    const hid_t f = root.get();
    if (string_attribute(f, "format") != "dosim-lstm")
      throw BadModel("not a dosim LSTM model (root attribute format != \"dosim-lstm\")");
    if (int_attribute(f, "format_version") != 1)
      throw BadModel("format_version " + std::to_string(int_attribute(f, "format_version")) +
                     " is not 1");
    const std::int64_t input = int_attribute(f, "input_size");
    const std::int64_t hidden = int_attribute(f, "hidden_size");
    const std::int64_t layers = int_attribute(f, "num_layers");
    if (input < 1 || input > 4096 || hidden < 1 || hidden > 4096 || layers < 1 || layers > 16)
      throw BadModel("input_size, hidden_size and num_layers out of range");
    model.trained_on = string_attribute(f, "trained_on");
    const auto i = static_cast<hsize_t>(input), h = static_cast<hsize_t>(hidden);
    model.metrics = hdf5::read_strings(f, "metrics");
    if (model.metrics.size() != i) throw BadModel("metrics must list input_size names");
    model.mean = read_floats(f, "normalization/mean", {i});
    model.std = read_floats(f, "normalization/std", {i});
    model.error_std = read_floats(f, "errors/std", {i});
    for (std::size_t m = 0; m < i; ++m)
      if (!(model.std[m] > 0) || !(model.error_std[m] > 0))
        throw BadModel("normalization/std and errors/std must be > 0");
    LstmWeights& w = model.weights;
    w.input = static_cast<int>(input);
    w.hidden = static_cast<int>(hidden);
    w.layers = static_cast<int>(layers);
    for (std::int64_t l = 0; l < layers; ++l) {
      const std::string at = "layers/" + std::to_string(l) + "/";
      const hsize_t in = l == 0 ? i : h;
      w.layer.push_back({read_floats(f, at + "weight_ih", {4 * h, in}),
                         read_floats(f, at + "weight_hh", {4 * h, h}),
                         read_floats(f, at + "bias_ih", {4 * h}),
                         read_floats(f, at + "bias_hh", {4 * h})});
    }
    w.head_w = read_floats(f, "head/weight", {i, h});
    w.head_b = read_floats(f, "head/bias", {i});
  } catch (const BadModel& error) {
    throw ModelError(path, std::string("bad LSTM model: ") + error.what());
  } catch (const hdf5::Failure& error) {
    throw ModelError(path, std::string("bad LSTM model: ") + error.what());
  }
  return model;
}

}  // namespace

LstmModel load_lstm_model(const std::string& path, const std::string& group) {
  // libhdf5 can crash on a corrupt file before anything is checked: try it in a child first.
  if (const std::string crash = crash_in_child([&] { read_lstm_model(path, group); });
      !crash.empty())
    throw ModelError(path,
                     "bad LSTM model: the HDF5 library crashed reading it (a corrupt "
                     "file?): " +
                         crash);
  return read_lstm_model(path, group);
}

}  // namespace dosim
