#!/usr/bin/env bash
# The LSTM on a GPU in one go (docs/detectors.md, "On a GPU"; bench/RESULTS.md, "LSTM
# inference"): builds the CUDA variant (`cmake --preset cuda`: Release, build-cuda/, only the
# kernels, tests/gpu/lstm_cuda_check and bench_lstm), runs the check (the GPU's forecasts and
# states against the CPU kernel's) and bench_lstm's GPU benchmarks, and writes the device's
# name and the figures (series-steps/s at hidden 32 / 64 / 128, target 0.5 G at hidden 64;
# the detector's streaming tick) to stdout and to gpu_results.txt, with the benchmark's JSON
# (gpu_bench.json) and the check's output (gpu_check.txt) beside it: in $OUT when it is set
# (the device tool's output folder), else in build-cuda/. Meant to take a few minutes at most
# on a GPU machine: a build there of about one, the check capped at 1 and the benchmark at 4.
#
# Usage, from anywhere:
#   bash bench/gpu_check.sh           build (or use the packed programs, below), then run
#   bash bench/gpu_check.sh --build   build and pack only: for a machine without a GPU
#
# A GPU machine without dosim's build dependencies (a bare CUDA image with nvcc and CMake but
# not Debian's yaml-cpp, HDF5, Highway, ...) cannot configure dosim. So --build, where the
# project builds (nvcc at /usr/local/cuda/bin or on PATH), packs the two programs into
# build-cuda/gpu/ with the shared libraries such a machine lacks (Highway, Google
# Benchmark; the CUDA runtime is linked in statically, so the driver is all they need),
# stamped with a digest of the sources they were built from. A run finds that pack and uses
# it when its stamp matches the sources in the tree; otherwise it builds. With the device
# tool: --build here, then run `bash bench/gpu_check.sh` there with carry ["build-cuda/gpu"].
#
# Exit status: 0 when the check passed and the benchmark ran; 2 when no GPU is visible (the
# build part still ran); 1 otherwise.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
build="$repo/build-cuda"
pack="$build/gpu"
out="${OUT:-$build}"
mode="${1:-run}"
if [[ "$mode" != run && "$mode" != --build ]]; then
  echo "usage: bash bench/gpu_check.sh [--build]" >&2
  exit 1
fi
mkdir -p "$out"
results="$out/gpu_results.txt"

# What the packed programs are made of: their sources and how they are built.
sources_digest() {
  sha256sum detectors/lstm_cuda.cu detectors/lstm_cuda.h detectors/lstm_kernel.cc \
    detectors/lstm_kernel.h detectors/mad_kernel.cc detectors/mad_kernel.h \
    detectors/CMakeLists.txt tests/gpu/lstm_cuda_check.cc tests/lstm_test_support.h \
    bench/bench_lstm.cc | sha256sum | cut -d' ' -f1
}

find_nvcc() {
  command -v nvcc 2>/dev/null && return
  [[ -x /usr/local/cuda/bin/nvcc ]] && echo /usr/local/cuda/bin/nvcc && return
  return 1
}

# Configures and builds the CUDA variant, then packs it. Returns 1, saying why, when it cannot.
build_and_pack() {
  local nvcc log="$build/gpu_build.log"
  if ! nvcc="$(find_nvcc)"; then
    echo "no nvcc: neither on PATH nor /usr/local/cuda/bin/nvcc"
    return 1
  fi
  if ! command -v cmake >/dev/null; then
    echo "no cmake here"
    return 1
  fi
  mkdir -p "$build"
  echo "building the CUDA variant with $nvcc ($("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'))"
  if ! cmake --preset cuda -DCMAKE_CUDA_COMPILER="$nvcc" >"$log" 2>&1; then
    echo "cmake --preset cuda failed (this machine may lack dosim's dependencies:"
    echo "tools/install-deps.sh); the end of $log:"
    tail -15 "$log"
    return 1
  fi
  if ! cmake --build --preset cuda -j "${DOSIM_JOBS:-2}" >>"$log" 2>&1; then
    echo "the CUDA build failed; the end of $log:"
    tail -30 "$log"
    return 1
  fi
  rm -rf "$pack"
  mkdir -p "$pack/lib"
  cp "$build/tests/lstm_cuda_check" "$build/bench/bench_lstm" "$pack/"
  # The libraries a bare CUDA image lacks; the C and C++ runtimes it has.
  ldd "$pack/lstm_cuda_check" "$pack/bench_lstm" |
    awk '$3 ~ /\/lib(hwy|benchmark)[^/]*$/ { print $3 }' | sort -u |
    while read -r library; do cp -L "$library" "$pack/lib/"; done
  sources_digest >"$pack/sources.sha256"
  {
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n) with nvcc $("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
    echo "CUDA architectures: $(sed -n 's/^CMAKE_CUDA_ARCHITECTURES:STRING=//p' "$build/CMakeCache.txt")"
  } >"$pack/built.txt"
  echo "packed: $pack ($(du -sh "$pack" | cut -f1))"
}

pack_is_current() {
  [[ -f "$pack/lstm_cuda_check" && -f "$pack/bench_lstm" && -f "$pack/sources.sha256" ]] &&
    [[ "$(cat "$pack/sources.sha256")" == "$(sources_digest)" ]]
}

if [[ "$mode" == --build ]]; then
  build_and_pack || exit 1
  echo "to run on a GPU with the device tool: command 'bash bench/gpu_check.sh', carry [\"build-cuda/gpu\"]"
  exit 0
fi

started=$SECONDS
if pack_is_current; then
  echo "using the packed programs in $pack ($(head -1 "$pack/built.txt")), built from these sources"
elif ! build_and_pack; then
  if [[ -d "$pack" ]]; then
    echo "the programs in $pack were built from other sources: not using them"
  fi
  echo "FAIL: no CUDA build to run (build one where dosim builds: bash bench/gpu_check.sh --build)" |
    tee "$results"
  exit 1
fi

# Device discovery.
smi="$(command -v nvidia-smi || true)"
[[ -z "$smi" && -x /usr/local/nvidia/bin/nvidia-smi ]] && smi=/usr/local/nvidia/bin/nvidia-smi
device=""
if [[ -n "$smi" ]]; then
  device="$("$smi" --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null |
    head -1 || true)"
fi
if [[ -z "$device" ]]; then
  {
    if [[ -n "$smi" ]]; then echo "NO GPU: $smi lists none."; else echo "NO GPU: no nvidia-smi here."; fi
    echo "Neither lstm_cuda_check nor the GPU benchmark ran. The CUDA build is ready in $pack:"
    echo "run this script on a machine with an NVIDIA GPU (device tool: carry [\"build-cuda/gpu\"])."
  } | tee "$results"
  exit 2
fi

chmod u+x "$pack/lstm_cuda_check" "$pack/bench_lstm" 2>/dev/null || true  # carried copies
export LD_LIBRARY_PATH="$pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "device: $device"
status=0
check_rc=0
timeout 60 "$pack/lstm_cuda_check" >"$out/gpu_check.txt" 2>&1 || check_rc=$?
cat "$out/gpu_check.txt"
case $check_rc in
  0) check="PASS (GPU and CPU agree within 1e-5 relative on every shape)" ;;
  77) check="$(head -1 "$out/gpu_check.txt")"; status=1 ;;
  *) check="FAIL (exit $check_rc; $out/gpu_check.txt)"; status=1 ;;
esac

# The GPU benchmarks: medians of 3 runs of at least 0.3 s each (a minute or so in all).
bench_rc=0
timeout 240 "$pack/bench_lstm" --benchmark_filter='Cuda' --benchmark_min_time=0.3 \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/gpu_bench.json" --benchmark_out_format=json >"$out/gpu_bench.txt" 2>&1 ||
  bench_rc=$?
if [[ $bench_rc -ne 0 ]]; then
  echo "bench_lstm failed (exit $bench_rc); the end of its output:"
  tail -20 "$out/gpu_bench.txt"
  status=1
fi

{
  echo "# bench/gpu_check.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "device: $device"
  echo "programs: $(head -1 "$pack/built.txt"); $(sed -n 2p "$pack/built.txt")"
  echo "sources: $(cat "$pack/sources.sha256")"
  echo "lstm_cuda_check: $check"
  if [[ -s "$out/gpu_bench.json" ]]; then
    python3 - "$out/gpu_bench.json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
median, errors = {}, {}
for b in runs:
    name = b.get("run_name", b["name"])
    if b.get("error_occurred"):
        errors[name] = b.get("error_message", "error")
    elif b.get("aggregate_name") == "median":
        median[name] = b
for name, why in sorted(errors.items()):
    print(f"ERROR {name}: {why}")
def rate(kind, hidden, batch):
    for name, b in median.items():
        if name.startswith(f"BM_LstmCuda{kind}/{hidden}/{batch}/"):
            return b["items_per_second"]
    return None
print()
print("LSTM on the GPU: one layer, input 8, T = 60 steps per launch; medians of 3")
print("(G series-steps/s; 'kernel': CUDA events around the kernel; 'with copies': run()'s wall")
print("time, x to the device and the forecasts back included)")
print()
print("| hidden | batch | kernel | with copies |")
print("| ---: | ---: | ---: | ---: |")
for hidden in (32, 64, 128):
    for batch in (1024, 131072):
        k, w = rate("Kernel", hidden, batch), rate("Sequence", hidden, batch)
        cell = lambda v: f"{v / 1e9:.3f}" if v else "-"
        print(f"| {hidden} | {batch} | {cell(k)} | {cell(w)} |")
best = max((v for v in (rate("Kernel", 64, b) for b in (1024, 131072)) if v), default=None)
print()
if best:
    verdict = "met" if best >= 0.5e9 else "NOT met"
    print(f"hidden 64: {best / 1e9:.3f} G series-steps/s (kernel, best batch); target 0.5 G: {verdict}")
else:
    print("hidden 64: no figure (see the errors above)")
for name, b in median.items():
    if name.startswith("BM_LstmCudaStreaming/10000"):
        print(f"streaming: one tick of 10,000 series at hidden 64 (I = 4), one launch with copies: "
              f"{b['real_time']:.3f} {b['time_unit']}")
PY
  fi
  echo "took $((SECONDS - started)) s"
} | tee "$results"
echo "written: $results"
exit $status
