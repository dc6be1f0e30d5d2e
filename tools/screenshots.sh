#!/usr/bin/env bash
# Remakes the pictures in docs/img/ that the README and docs/report.md show: the run report
# of scenarios/ecommerce.yaml, the live page of dosim serve during a fault injected through
# its control, and a bench report. Needs a release build (build/) and what
# tools/install-deps.sh installs (Chromium, playwright-core).
# Usage: bash tools/screenshots.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
dosim="$build/cli/dosim"
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
shot="node tests/browser/screenshot.mjs"

"$dosim" run scenarios/ecommerce.yaml -q -o "$work/ecommerce.h5" --report "$work/ecommerce.html" >/dev/null
$shot "file://$work/ecommerce.html" docs/img/report-ecommerce.png 1400 1250
# The first incident's charts, further down the same page.
$shot "file://$work/ecommerce.html#incident-0" docs/img/report-incident.png 1400 900

"$dosim" bench --detectors mad,threshold,ewma --scenarios scenarios/payments-mad.yaml,scenarios/crash-loop.yaml \
  --seeds 5 --quiet --report "$work/bench.html" >/dev/null
$shot "file://$work/bench.html" docs/img/bench-report.png 1400 1250

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$dosim" serve scenarios/online-boutique.yaml --listen "127.0.0.1:$port" --speed 20 >/dev/null &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.2; done
sleep 4
curl -sf -X POST -d '{"kind": "error", "target": {"service": "cartservice"}, "percent": 60, "duration": "10m"}' \
  "http://127.0.0.1:$port/api/inject" >/dev/null
sleep 3
$shot "http://127.0.0.1:$port/" docs/img/live.png 1400 900 --click '.service-map .node[data-service="cartservice"]' --wait 1500
echo "docs/img: $(ls docs/img | tr '\n' ' ')"
