#!/usr/bin/env bash
# Installs what training the lstm detector's model needs (analysis/train_lstm.py,
# analysis/lstm_golden.py, models/make_lstm_noop.sh), from Debian bookworm packages only:
# PyTorch (python3-torch, 1.13), h5py, numpy, pandas. Building, running and testing dosim
# never need it (tools/install-deps.sh); the tests read the committed model and golden file.
# Idempotent: installs nothing when every package is already present. Needs root or sudo.
set -euo pipefail

packages=(python3-torch python3-h5py python3-numpy python3-pandas)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
