#!/usr/bin/env bash
# Wall time of one sweep in one process on 1 thread, in one process on 2 threads, and on
# 2 MPI ranks of 1 thread each (bench/RESULTS.md, "Sweeps"); checks that all three wrote the
# same bytes. Usage: bash bench/sweeps/time-sweep.sh [DOSIM] [SWEEP] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/../.."
dosim=${1:-build/cli/dosim}
sweep=${2:-bench/sweeps/retry-storm.yaml}
repeats=${3:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mpi=(mpirun --oversubscribe --allow-run-as-root -np 2)
declare -A times
for ((i = 0; i < repeats; i++)); do
  for config in process-1-thread process-2-threads mpi-2-ranks; do
    start=$(date +%s.%N)
    case $config in
      process-1-thread) "$dosim" sweep "$sweep" --threads 1 --out "$out/$config.h5" --quiet ;;
      process-2-threads) "$dosim" sweep "$sweep" --threads 2 --out "$out/$config.h5" --quiet ;;
      mpi-2-ranks) "${mpi[@]}" "$dosim" sweep "$sweep" --threads 1 --out "$out/$config.h5" --quiet ;;
    esac
    times[$config]+="$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {print a - b}') "
  done
done
cmp "$out/process-1-thread.h5" "$out/process-2-threads.h5"
cmp "$out/process-1-thread.h5" "$out/mpi-2-ranks.h5"
echo "$sweep, $repeats repeats, $(nproc) cores; the same bytes from all three"
for config in process-1-thread process-2-threads mpi-2-ranks; do
  # shellcheck disable=SC2086
  printf '%-18s median %.2f s  min %.2f s\n' "$config" \
    "$(printf '%s\n' ${times[$config]} | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')" \
    "$(printf '%s\n' ${times[$config]} | sort -n | head -1)"
done
