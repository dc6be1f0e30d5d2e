#!/usr/bin/env bash
# Regenerates models/lstm-rps-5m.h5 (models/README.md): an lstm model of one metric, rps, at
# a 5-minute step, for single series such as NAB's (`dosim nab run --detectors
# lstm:model=models/lstm-rps-5m.h5`). Trained on a simulated system only, never on NAB.
# Deterministic: the same dosim, PyTorch and machine give the same file, byte for byte.
#
#   bash models/make_lstm_rps_5m.sh          # DOSIM=path/to/dosim to pick the binary
#
# Needs a built dosim and PyTorch (tools/install-training-deps.sh). The training trace
# (~4 MB) is written to $WORK (default /tmp/dosim-lstm-rps-5m); its path is part of the
# command recorded in the model.
set -euo pipefail
cd "$(dirname "$0")/.."
DOSIM=${DOSIM:-build/cli/dosim}
WORK=${WORK:-/tmp/dosim-lstm-rps-5m}
PYTHON=/usr/bin/python3
mkdir -p "$WORK"

# 1. The training scenario: scenarios/ecommerce.yaml (11 services, daily and weekly cycles,
#    two database incidents) over four weeks at a 5-minute tick, recorded at every tick.
sed -e 's/^duration: 7d$/duration: 28d/' -e 's/^tick: 1s$/tick: 5m/' scenarios/ecommerce.yaml \
    > "$WORK/ecommerce-5m.yaml"
grep -q '^tick: 5m$' "$WORK/ecommerce-5m.yaml" && grep -q '^record: 5m$' "$WORK/ecommerce-5m.yaml" &&
  grep -q '^duration: 28d$' "$WORK/ecommerce-5m.yaml" ||
  { echo "make_lstm_rps_5m.sh: scenarios/ecommerce.yaml changed; update the sed above" >&2; exit 2; }

# 2. The trace, with seed 1: 8064 rows x 11 services (well under a second).
"$DOSIM" run "$WORK/ecommerce-5m.yaml" --seed 1 --out "$WORK/ecommerce-5m-seed1.h5" --quiet \
    > /dev/null

# 3. Training on the fault-free rows (about 15 s on one core).
"$PYTHON" analysis/train_lstm.py "$WORK/ecommerce-5m-seed1.h5" --out models/lstm-rps-5m.h5 \
    --metrics rps --hidden 16 --layers 1 --window 60 --epochs 50 --batch 64 --lr 0.003 \
    --seed 1 --threads 1
