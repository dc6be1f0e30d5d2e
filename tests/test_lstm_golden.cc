// The LSTM against PyTorch's own nn.LSTM + nn.Linear: tests/data/lstm_golden.h5 (written by
// analysis/lstm_golden.py; layout at its top) holds inputs, weights and PyTorch's outputs
// for random models and for the shipped models/lstm-noop.h5 on rows of its training trace.
// Every SIMD path must match the forecasts, the top layer's h after every step and the final
// h and c of every layer within 1e-5 relative; the shipped model's detector scores too.
#include <hdf5.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "util/hdf5.h"
#include "detectors/lstm_kernel.h"
#include "detectors/lstm_model.h"

namespace {

const std::string kGolden = std::string(DOSIM_SOURCE_DIR) + "/tests/data/lstm_golden.h5";

std::vector<float> read(const std::string& name, std::vector<hsize_t>* dims = nullptr) {
  dosim::hdf5::File file(H5Fopen(kGolden.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  REQUIRE(file.valid());
  dosim::hdf5::Dataset dataset(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT));
  REQUIRE(dataset.valid());
  dosim::hdf5::Dataspace space(H5Dget_space(dataset.get()));
  std::vector<hsize_t> shape(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space.get())));
  H5Sget_simple_extent_dims(space.get(), shape.data(), nullptr);
  std::size_t count = 1;
  for (hsize_t d : shape) count *= d;
  std::vector<float> values(count);
  H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  if (dims != nullptr) *dims = shape;
  return values;
}

bool close(float got, float want) {
  // 1e-5 relative; below 0.1 in magnitude, 1e-6 absolute (float rounding of sums of terms
  // near 1 that cancel is about 1e-7 whatever the result).
  const bool ok = std::fabs(got - want) <= 1e-5f * std::max(std::fabs(want), 0.1f);
  if (!ok) UNSCOPED_INFO("got " << got << ", PyTorch " << want);
  return ok;
}

}  // namespace

TEST_CASE("the LSTM kernel matches PyTorch's nn.LSTM on the golden vectors", "[lstm]") {
  for (const std::string config : {"i4_h8_l1", "i3_h16_l2", "noop"}) {
    const dosim::LstmModel model = dosim::load_lstm_model(kGolden, "/" + config + "/model");
    const int input = model.weights.input, hidden = model.weights.hidden;
    const int layers = model.weights.layers;
    std::vector<hsize_t> dims;
    const std::vector<float> x = read(config + "/x", &dims);  // [T][B][I]
    const auto steps = static_cast<int>(dims[0]);
    const auto batch = static_cast<std::size_t>(dims[1]);
    const std::vector<float> output = read(config + "/output");      // [T][B][H]
    const std::vector<float> forecast = read(config + "/forecast");  // [T][B][I]
    const std::vector<float> h_n = read(config + "/h_n"), c_n = read(config + "/c_n");
    for (const dosim::SimdPath path : dosim::MadKernel::available_paths()) {
      INFO(config << " on " << dosim::MadKernel::path_name(path));
      dosim::LstmKernel kernel(model.weights, batch, path);
      std::size_t bad = 0, checked = 0;
      std::vector<float> step_x(static_cast<std::size_t>(input) * batch);
      std::vector<float> step_forecast(step_x.size());
      for (int t = 0; t < steps; ++t) {
        for (std::size_t b = 0; b < batch; ++b)  // [B][I] -> [I][B]
          for (int m = 0; m < input; ++m)
            step_x[m * batch + b] = x[(static_cast<std::size_t>(t) * batch + b) * input + m];
        kernel.step(step_x, step_forecast);
        for (std::size_t b = 0; b < batch; ++b) {
          for (int m = 0; m < input; ++m, ++checked)
            bad += !close(step_forecast[m * batch + b],
                          forecast[(static_cast<std::size_t>(t) * batch + b) * input + m]);
          const std::vector<float> h = kernel.h(layers - 1, b);
          for (int j = 0; j < hidden; ++j, ++checked)
            bad += !close(h[j], output[(static_cast<std::size_t>(t) * batch + b) * hidden + j]);
        }
      }
      for (int l = 0; l < layers; ++l)
        for (std::size_t b = 0; b < batch; ++b) {
          const std::vector<float> h = kernel.h(l, b), c = kernel.c(l, b);
          for (int j = 0; j < hidden; ++j, checked += 2) {
            const std::size_t at = (static_cast<std::size_t>(l) * batch + b) * hidden + j;
            bad += !close(h[j], h_n[at]);
            bad += !close(c[j], c_n[at]);
          }
        }
      CHECK(checked > 0);
      CHECK(bad == 0);
    }
  }
}

TEST_CASE("the shipped model's normalization and scores match the golden file", "[lstm]") {
  const dosim::LstmModel model = dosim::load_lstm_model(kGolden, "/noop/model");
  const dosim::LstmModel shipped =
      dosim::load_lstm_model(std::string(DOSIM_SOURCE_DIR) + "/models/lstm-noop.h5");
  CHECK(shipped.metrics == model.metrics);
  CHECK(shipped.weights.layer[0].w_hh == model.weights.layer[0].w_hh);
  std::vector<hsize_t> dims;
  const std::vector<float> raw = read("noop/x_raw", &dims);  // [T][B][I]
  const std::vector<float> x = read("noop/x");
  const std::vector<float> score = read("noop/score");  // [T-1][B][I]
  const std::vector<float> forecast = read("noop/forecast");
  const auto steps = static_cast<std::size_t>(dims[0]), batch = static_cast<std::size_t>(dims[1]);
  const auto input = static_cast<std::size_t>(dims[2]);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const std::size_t m = i % input;
    CHECK(close((raw[i] - model.mean[m]) / model.std[m], x[i]));
  }
  for (std::size_t t = 1; t < steps; ++t)
    for (std::size_t b = 0; b < batch; ++b)
      for (std::size_t m = 0; m < input; ++m) {
        const std::size_t now = (t * batch + b) * input + m;
        const std::size_t before = ((t - 1) * batch + b) * input + m;
        const float expected = std::fabs(x[now] - forecast[before]) / model.error_std[m];
        CHECK(std::fabs(score[((t - 1) * batch + b) * input + m] - expected) <=
              1e-4f * std::max(expected, 1.0f));
      }
}

TEST_CASE("a broken model file is reported with its name and the problem", "[lstm]") {
  CHECK_THROWS_WITH(dosim::load_lstm_model("/nonexistent/model.h5"),
                    Catch::Contains("/nonexistent/model.h5") && Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(dosim::load_lstm_model(kGolden), Catch::Contains("not a dosim LSTM model"));
  CHECK_THROWS_WITH(dosim::load_lstm_model(kGolden, "/no-such-group"),
                    Catch::Contains("no group /no-such-group"));
}
