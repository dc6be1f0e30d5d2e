#!/usr/bin/env bash
# Fresh machine to first trace: install dependencies, build (Release), install dosim (the
# `dosim` command, the library and its CMake package, and the `dosim` Python package for
# /usr/bin/python3) under /usr/local, run the bundled e-commerce week. The trace lands in
# ./ecommerce.h5. PREFIX=/somewhere installs elsewhere (then the Python package is in
# $PREFIX/lib/python3.X/dist-packages: add it to PYTHONPATH).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
prefix=${PREFIX:-/usr/local}
cmake --preset release -DDOSIM_BUILD_TESTS=OFF -DDOSIM_BUILD_BENCH=OFF \
  -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build --preset release --target dosim _dosim
cmake --install build >/dev/null
python_dir=$(cd "$prefix" && ls -d lib/python3*/dist-packages 2>/dev/null | head -1)
echo "installed: $prefix/bin/dosim, the C++ package (find_package(dosim)), the Python package in $prefix/$python_dir"
./build/cli/dosim run scenarios/ecommerce.yaml
