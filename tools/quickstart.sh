#!/usr/bin/env bash
# Fresh machine to first trace: install dependencies, build (Release), run the bundled
# e-commerce week. The trace lands in ./ecommerce.h5.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake --preset release -DDOSIM_BUILD_TESTS=OFF -DDOSIM_BUILD_BENCH=OFF >/dev/null
cmake --build --preset release --target dosim
./build/cli/dosim run scenarios/ecommerce.yaml
