#!/usr/bin/env bash
# CTest's lstm_cuda_syntax: clang checks detectors/lstm_cuda.cu as CUDA (device side for
# sm_70 and sm_80, and host side) against tests/gpu/fake_cuda/cuda_runtime.h, so the CUDA
# code keeps compiling on machines without nvcc. Exit 77 (CTest: skipped) without clang++.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
clang=""
for candidate in clang++ clang++-19 clang++-18 clang++-17 clang++-16 clang++-15 clang++-14; do
  if command -v "$candidate" >/dev/null 2>&1; then clang="$candidate"; break; fi
done
if [[ -z "$clang" ]]; then
  echo "SKIPPED: no clang++ to check the CUDA code's syntax"
  exit 77
fi
status=0
for mode in "--cuda-device-only --cuda-gpu-arch=sm_80" "--cuda-device-only --cuda-gpu-arch=sm_70" \
            "--cuda-host-only --cuda-gpu-arch=sm_80"; do
  # shellcheck disable=SC2086  # $mode is two flags
  if ! "$clang" -x cuda $mode -nocudainc -nocudalib -fsyntax-only -std=c++20 -Wall -Wextra \
      -Wno-unknown-cuda-version -I"$repo/tests/gpu/fake_cuda" -I"$repo" \
      "$repo/detectors/lstm_cuda.cu"; then
    echo "FAIL: $mode"
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "PASS: detectors/lstm_cuda.cu parses and type-checks as CUDA ($clang)"
exit $status
