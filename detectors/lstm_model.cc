#include "detectors/lstm_model.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

#include "util/data_dir.h"
#include "util/hdf5.h"
#include "dosim/error.h"

namespace dosim {
namespace {

// A problem inside the file; load_lstm_model() turns it into a ModelError naming the path.
struct BadModel : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::vector<hsize_t> shape_of(hid_t dataset) {
  const hdf5::Dataspace space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

// A float dataset of exactly `expected` shape, finite.
std::vector<float> read_floats(hid_t file, const std::string& name,
                               const std::vector<hsize_t>& expected) {
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) throw BadModel("no dataset " + name);
  const hdf5::Dataset dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
  if (!dataset.valid()) throw BadModel("cannot open " + name);
  const std::vector<hsize_t> dims = shape_of(dataset.get());
  if (dims != expected) {
    std::string want, got;
    for (hsize_t d : expected) want += (want.empty() ? "" : ", ") + std::to_string(d);
    for (hsize_t d : dims) got += (got.empty() ? "" : ", ") + std::to_string(d);
    throw BadModel(name + " has shape [" + got + "], expected [" + want + "]");
  }
  std::size_t count = 1;
  for (hsize_t d : dims) count *= static_cast<std::size_t>(d);
  std::vector<float> values(count);
  if (count > 0 &&
      H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    throw BadModel("cannot read " + name);
  for (float v : values)
    if (!std::isfinite(v)) throw BadModel(name + " holds a non-finite value");
  return values;
}

std::int64_t int_attribute(hid_t file, const char* name) {
  if (H5Aexists(file, name) <= 0) throw BadModel(std::string("no root attribute ") + name);
  const hdf5::Attribute attribute(H5Aopen(file, name, H5P_DEFAULT));
  std::int64_t value = 0;
  if (H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) < 0)
    throw BadModel(std::string("cannot read attribute ") + name);
  return value;
}

std::string string_attribute(hid_t file, const char* name) {
  if (H5Aexists(file, name) <= 0) return "";
  const hdf5::Attribute attribute(H5Aopen(file, name, H5P_DEFAULT));
  const hdf5::Datatype type(H5Aget_type(attribute.get()));
  if (H5Tget_class(type.get()) != H5T_STRING) throw BadModel(std::string(name) + " is not text");
  if (H5Tis_variable_str(type.get()) > 0) {
    char* text = nullptr;
    const hdf5::Datatype memory(H5Tcopy(H5T_C_S1));
    H5Tset_size(memory.get(), H5T_VARIABLE);
    H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
    if (H5Aread(attribute.get(), memory.get(), &text) < 0 || text == nullptr)
      throw BadModel(std::string("cannot read attribute ") + name);
    std::string value(text);
    H5free_memory(text);
    return value;
  }
  const std::size_t size = H5Tget_size(type.get());
  std::string value(size, '\0');
  if (H5Aread(attribute.get(), type.get(), value.data()) < 0)
    throw BadModel(std::string("cannot read attribute ") + name);
  value.resize(strnlen(value.data(), size));
  return value;
}

std::vector<std::string> read_strings(hid_t file, const std::string& name) {
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) throw BadModel("no dataset " + name);
  const hdf5::Dataset dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
  const hdf5::Datatype type(H5Dget_type(dataset.get()));
  if (H5Tget_class(type.get()) != H5T_STRING) throw BadModel(name + " is not text");
  const std::vector<hsize_t> dims = shape_of(dataset.get());
  if (dims.size() != 1) throw BadModel(name + " must be a list of names");
  std::vector<std::string> out;
  if (H5Tis_variable_str(type.get()) > 0) {
    std::vector<char*> cells(dims[0], nullptr);
    const hdf5::Datatype memory(H5Tcopy(H5T_C_S1));
    H5Tset_size(memory.get(), H5T_VARIABLE);
    H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
    if (H5Dread(dataset.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, cells.data()) < 0)
      throw BadModel("cannot read " + name);
    for (char* cell : cells) out.emplace_back(cell != nullptr ? cell : "");
    const hdf5::Dataspace space(H5Dget_space(dataset.get()));
    H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, cells.data());
    return out;
  }
  const std::size_t width = H5Tget_size(type.get());
  std::vector<char> cells(width * dims[0]);
  if (H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, cells.data()) < 0)
    throw BadModel("cannot read " + name);
  for (hsize_t i = 0; i < dims[0]; ++i)
    out.emplace_back(cells.data() + i * width, strnlen(cells.data() + i * width, width));
  return out;
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

LstmModel load_lstm_model(const std::string& path, const std::string& group) {
  hdf5::quiet_errors();
  const hdf5::File file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file.valid()) throw InputError(path, "cannot open the LSTM model: " + hdf5::error_reason());
  LstmModel model;
  model.path = path;
  try {
    if (group != "/" && H5Lexists(file.get(), group.c_str(), H5P_DEFAULT) <= 0)
      throw BadModel("no group " + group);
    const hdf5::Group root(H5Gopen2(file.get(), group.c_str(), H5P_DEFAULT));
    if (!root.valid()) throw BadModel("cannot open " + group);
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
    model.metrics = read_strings(f, "metrics");
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
  }
  return model;
}

}  // namespace dosim
