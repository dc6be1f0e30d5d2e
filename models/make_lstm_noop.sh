#!/usr/bin/env bash
# Regenerates the shipped lstm model, models/lstm-noop.h5, and the golden vectors that check
# the C++ inference against it, tests/data/lstm_golden.h5 (models/README.md). Deterministic:
# the same dosim, PyTorch and machine give the same two files, byte for byte.
#
#   bash models/make_lstm_noop.sh            # DOSIM=path/to/dosim to pick the binary
#
# Needs a built dosim and PyTorch (tools/install-training-deps.sh). The training trace
# (~280 MB) is written to $WORK (default /tmp/dosim-lstm-noop); its path is part of the
# command recorded in the model, so another WORK gives another 'command' attribute.
set -euo pipefail
cd "$(dirname "$0")/.."
DOSIM=${DOSIM:-build/cli/dosim}
WORK=${WORK:-/tmp/dosim-lstm-noop}
PYTHON=/usr/bin/python3
mkdir -p "$WORK"

# 1. The training scenario: scenarios/noop.yaml recorded at every tick (1 s).
sed -e 's/^record: 5m$/record: 1s/' scenarios/noop.yaml > "$WORK/noop-1s.yaml"
grep -q '^record: 1s$' "$WORK/noop-1s.yaml" ||
  { echo "make_lstm_noop.sh: scenarios/noop.yaml changed; update the sed above" >&2; exit 2; }

# 2. The trace, with seed 1 (the scenario's own seed, 7, and the seeds dosim bench takes
#    after it, stay unseen): 604800 rows x 11 services, no incident (about 10 s).
"$DOSIM" run "$WORK/noop-1s.yaml" --seed 1 --out "$WORK/noop-1s-seed1.h5" --quiet > /dev/null

# 3. Training (about 3 minutes on one core).
"$PYTHON" analysis/train_lstm.py "$WORK/noop-1s-seed1.h5" --out models/lstm-noop.h5 \
    --metrics rps,error_ratio,latency_p95_s,cpu_ratio --hidden 32 --layers 1 --window 60 \
    --epochs 3 --batch 64 --lr 0.003 --seed 1 --threads 1

# 4. The golden vectors from nn.LSTM, the shipped model's included.
"$PYTHON" analysis/lstm_golden.py --model models/lstm-noop.h5 --trace "$WORK/noop-1s-seed1.h5" \
    --out tests/data/lstm_golden.h5
