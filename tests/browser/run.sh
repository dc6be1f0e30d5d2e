#!/usr/bin/env bash
# tests/browser/run.sh TEST.mjs: one browser test file under Node's test runner, in Debian's
# headless Chromium. Exit 77 (CTest: skipped) when Node, Chromium or playwright-core is
# missing; tools/install-deps.sh installs all three.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
chromium="${DOSIM_CHROMIUM:-/usr/bin/chromium}"
if ! command -v node >/dev/null || [ ! -x "$chromium" ] ||
   [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  echo "skipped: needs node, $chromium and playwright-core (bash tools/install-deps.sh)"
  exit 77
fi
exec node --test --test-reporter=spec "$here/$1"
