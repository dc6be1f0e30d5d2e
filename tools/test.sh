#!/usr/bin/env bash
# Builds everything (Release) and runs every test: Catch2 suites and the Python checks
# (h5py, jsonschema) through CTest. Installs missing dependencies first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake --preset release -DDOSIM_BUILD_TESTS=ON -DDOSIM_BUILD_BENCH=ON >/dev/null
cmake --build --preset release
ctest --preset release -j2 --timeout 600
