#!/usr/bin/env bash
# Installs what dosim needs to build, test and run, from Debian bookworm packages only.
# Idempotent: installs nothing when every package is already present. Needs root.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libyaml-cpp-dev libboost-graph-dev liblua5.4-dev libhdf5-dev
  libre2-dev  # Alertmanager matchers' Go regular expressions (util/alertmanager_syntax.h)
  catch2 libbenchmark-dev libcli11-dev nlohmann-json3-dev libhwy-dev
  python3-h5py python3-numpy python3-pandas python3-jsonschema python3-yaml python3-pytest
  pybind11-dev python3-dev  # the dosim Python module and kind python (python/)
  python3-sklearn python3-matplotlib  # the example detectors and the notebook (docs/)
  jupyter-nbconvert python3-ipykernel  # CI executes the notebook
  python3-bottleneck  # bench/peers/mad_peers.py (move_median), beside numpy and pandas
  clang libclang-rt-14-dev  # the sanitize preset: ASan, UBSan, libFuzzer (docs/reliability.md)
  prometheus prometheus-alertmanager  # promtool, amtool and the real servers the tests start
  openmpi-bin libopenmpi-dev  # dosim sweep over MPI ranks; the tests run mpirun on loopback
  chromium  # the browser tests open the report and the live page in it (tests/browser/)
)
packages+=("$@")  # callers may ask for more (bench peers)
# Node.js and npm drive Chromium (playwright-core, tests/browser/); a machine that has them
# from elsewhere keeps its own.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# playwright-core from the npm registry, at the version tests/browser/package-lock.json pins
# (it never downloads a browser: the tests use Debian's /usr/bin/chromium).
browser="$(dirname "$0")/../tests/browser"
installed=$(cd "$browser" && node -p "require('./node_modules/playwright-core/package.json').version" 2>/dev/null || true)
wanted=$(cd "$browser" && node -p "require('./package.json').dependencies['playwright-core']")
if [ "$installed" != "$wanted" ]; then
  (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
fi
