#!/usr/bin/env bash
# CTest's install.consumer: what a user of the installed dosim does, end to end.
#   check.sh BUILD_DIR TMP_DIR [CONFIG]
# 1. `cmake --install BUILD_DIR --prefix TMP_DIR/prefix`;
# 2. the installed `dosim`, its whole prefix copied outside the checkout, still finds its lstm
#    models (share/dosim beside bin/), and no path of the checkout is compiled into it;
# 3. the installed labs (share/dosim/labs) graded by that dosim with the installed package;
# 4. tests/consumer (find_package(dosim), dosim::dosim) configured against the prefix alone,
#    built (Release) and run on the installed retry-storm scenario: an "all detectors" and a
#    "mad" row, each with its F1;
# 5. a project without cmake_minimum_required configures with find_package(dosim).
# $CMAKE is the cmake to use (CTest passes its own), $CXX the compiler dosim was built with.
# Exit 77 (CTest: skipped) only when there is no cmake.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build_dir="$(cd "$1" && pwd)"
tmp="$2"
config="${3:-}"
cmake="${CMAKE:-cmake}"
if ! command -v "$cmake" >/dev/null 2>&1; then
  echo "SKIPPED: no cmake to install dosim and build the consumer"
  exit 77
fi

# One run at a time per TMP_DIR, even from two ctest processes.
mkdir -p "$(dirname "$tmp")"
exec 9>"$tmp.lock"
command -v flock >/dev/null 2>&1 && flock 9

fail() { echo "FAILED: $*" >&2; exit 1; }

rm -rf "$tmp"
mkdir -p "$tmp"
prefix="$tmp/prefix"
echo "== cmake --install $build_dir --prefix $prefix"
"$cmake" --install "$build_dir" --prefix "$prefix" ${config:+--config "$config"} >"$tmp/install.log" \
  || { cat "$tmp/install.log"; fail "cmake --install"; }
for path in bin/dosim include/dosim/run.h include/dosim/version.h \
            lib/cmake/dosim/dosimConfig.cmake lib/cmake/dosim/dosimConfigVersion.cmake \
            lib/cmake/dosim/dosimTargets.cmake lib/cmake/dosim/dosimDependencies.cmake \
            share/dosim/models/lstm-noop.h5 share/dosim/scenarios/schema.json \
            share/dosim/scenarios/retry-storm.yaml share/dosim/scripts/retry-storm.lua; do
  [[ -e "$prefix/$path" ]] || fail "the install lacks $path"
done

echo "== the installed dosim, moved outside the checkout, finds its data"
moved="$(mktemp -d "${TMPDIR:-/tmp}/dosim-moved.XXXXXX")"
trap 'rm -rf "$moved"' EXIT
cp -a "$prefix/." "$moved"
bench() {
  (cd / && env -u DOSIM_DATA_DIR "$moved/bin/dosim" bench --detectors lstm \
     --scenarios "$moved/share/dosim/scenarios/retry-storm.yaml") >"$tmp/bench.txt" 2>&1
}
bench || { cat "$tmp/bench.txt"; fail "the moved dosim bench --detectors lstm"; }
grep -Eq '^ +lstm +[0-9]' "$tmp/bench.txt" || { cat "$tmp/bench.txt"; fail "no lstm row"; }
mv "$moved/share/dosim/models" "$moved/models.away"  # it read these, not another copy
if bench; then cat "$tmp/bench.txt"; fail "the moved dosim ran without its models"; fi
if command -v objcopy >/dev/null 2>&1 && command -v strings >/dev/null 2>&1; then
  # Debug info may name the checkout (Debug builds); what the program itself holds may not.
  objcopy --strip-debug "$prefix/bin/dosim" "$tmp/dosim.stripped"
  if strings "$tmp/dosim.stripped" | grep -F -e "$repo/" -e "$build_dir/"; then
    fail "the installed dosim holds paths of the checkout (above)"
  fi
fi

echo "== the installed labs, graded by the moved dosim"
mv "$moved/models.away" "$moved/share/dosim/models"  # a whole data folder again
[[ -e "$prefix/share/dosim/labs/lab3/grader.py" ]] || fail "the install lacks the labs"
labs_py="$(find "$moved" -path '*/dosim/labs.py' | head -1)"
if [[ -n "$labs_py" ]]; then  # the Python package is installed (DOSIM_PYTHON_MODULE)
  (cd / && env -u DOSIM_DATA_DIR PYTHONPATH="$(dirname "$(dirname "$labs_py")")" \
     "$moved/bin/dosim" lab grade lab3 "$moved/share/dosim/labs/solutions/lab3") \
    >"$tmp/lab.txt" 2>&1 || { cat "$tmp/lab.txt"; fail "the moved dosim lab grade lab3"; }
  grep -q "5/5 tasks passed" "$tmp/lab.txt" || { cat "$tmp/lab.txt"; fail "lab3 not graded"; }
fi

echo "== the consumer: find_package(dosim) from $prefix"
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
"$cmake" -S "$here" -B "$tmp/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/configure.log" 2>&1 \
  || { cat "$tmp/configure.log"; fail "configuring the consumer"; }
"$cmake" --build "$tmp/build" >"$tmp/build.log" 2>&1 \
  || { cat "$tmp/build.log"; fail "building the consumer"; }
(cd / && "$tmp/build/dosim_consumer" "$prefix/share/dosim/scenarios/retry-storm.yaml") \
  >"$tmp/scores.txt" || { cat "$tmp/scores.txt"; fail "running the consumer"; }
cat "$tmp/scores.txt"
number='[0-9]+(\.[0-9]+)?'
tab=$'\t'
grep -Eq "^all detectors${tab}$number\$" "$tmp/scores.txt" || fail "no 'all detectors' row with an F1"
grep -Eq "^mad${tab}$number\$" "$tmp/scores.txt" || fail "no 'mad' row with an F1"

# 5. A project that sets no policies (no cmake_minimum_required: CMake 2.x's) finds dosim
#    too: dosimDependencies.cmake's IN_LIST failed there ("Unknown arguments specified").
echo "== a project without cmake_minimum_required finds dosim"
mkdir -p "$tmp/bare"
printf 'project(bare LANGUAGES CXX)\nfind_package(dosim REQUIRED)\n' >"$tmp/bare/CMakeLists.txt"
"$cmake" -S "$tmp/bare" -B "$tmp/bare/build" -DCMAKE_PREFIX_PATH="$prefix" \
  >"$tmp/bare.log" 2>&1 || { cat "$tmp/bare.log"; fail "find_package(dosim) without policies"; }
echo "OK"
