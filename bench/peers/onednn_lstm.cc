// oneDNN's LSTM forward inference at the shapes of bench_lstm's BM_LstmSequence, for
// bench/run_lstm_comparison.sh: one layer, unidirectional, input 8, T = 60, batch 1024,
// hidden given on the command line. Prints one line: "hidden H series_steps_per_s X".
// Benchmark-only (Debian's libdnnl-dev); never part of dosim's build.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dnnl.hpp>
#include <random>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using dt = memory::data_type;
using tag = memory::format_tag;

namespace {

void fill(memory& m, std::mt19937& rng, float scale) {
  std::uniform_real_distribution<float> u(-scale, scale);
  auto* data = static_cast<float*>(m.get_data_handle());
  const std::size_t n = m.get_desc().get_size() / sizeof(float);
  for (std::size_t i = 0; i < n; ++i) data[i] = u(rng);
}

}  // namespace

int main(int argc, char** argv) {
  const memory::dim hidden = argc > 1 ? std::atoi(argv[1]) : 64;
  const memory::dim steps = 60, batch = 1024, input = 8;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 2.0;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  std::mt19937 rng(1);

  const memory::dims src_dims = {steps, batch, input};
  const memory::dims weights_layer_dims = {1, 1, input, 4, hidden};
  const memory::dims weights_iter_dims = {1, 1, hidden, 4, hidden};
  const memory::dims bias_dims = {1, 1, 4, hidden};
  const memory::dims dst_dims = {steps, batch, hidden};

  memory src({src_dims, dt::f32, tag::tnc}, eng);
  memory weights_layer_user({weights_layer_dims, dt::f32, tag::ldigo}, eng);
  memory weights_iter_user({weights_iter_dims, dt::f32, tag::ldigo}, eng);
  memory bias({bias_dims, dt::f32, tag::ldgo}, eng);
  memory dst({dst_dims, dt::f32, tag::tnc}, eng);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hidden));
  fill(src, rng, 1.0f);
  fill(weights_layer_user, rng, scale);
  fill(weights_iter_user, rng, scale);
  fill(bias, rng, scale);

  const auto desc = lstm_forward::desc(
      prop_kind::forward_inference, rnn_direction::unidirectional_left2right, src.get_desc(),
      memory::desc(), memory::desc(), memory::desc(weights_layer_dims, dt::f32, tag::any),
      memory::desc(weights_iter_dims, dt::f32, tag::any), bias.get_desc(), dst.get_desc(),
      memory::desc(), memory::desc());
  const auto pd = lstm_forward::primitive_desc(desc, eng);
  memory weights_layer(pd.weights_layer_desc(), eng);
  memory weights_iter(pd.weights_iter_desc(), eng);
  reorder(weights_layer_user, weights_layer).execute(s, weights_layer_user, weights_layer);
  reorder(weights_iter_user, weights_iter).execute(s, weights_iter_user, weights_iter);
  const lstm_forward lstm(pd);
  const std::unordered_map<int, memory> args = {{DNNL_ARG_SRC_LAYER, src},
                                                {DNNL_ARG_WEIGHTS_LAYER, weights_layer},
                                                {DNNL_ARG_WEIGHTS_ITER, weights_iter},
                                                {DNNL_ARG_BIAS, bias},
                                                {DNNL_ARG_DST_LAYER, dst}};
  for (int i = 0; i < 3; ++i) lstm.execute(s, args);  // warm-up
  s.wait();
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  long runs = 0;
  double elapsed = 0;
  do {
    lstm.execute(s, args);
    s.wait();
    ++runs;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < seconds);
  std::printf("hidden %lld series_steps_per_s %.0f\n", static_cast<long long>(hidden),
              static_cast<double>(runs * steps * batch) / elapsed);
  return 0;
}
