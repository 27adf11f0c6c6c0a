#!/usr/bin/env bash
# The mapper's learned cost model (issue 15, docs/mapping.md): samples from `podsim map
# --csv` over 32 matmul shapes (bench/workloads/mapper-shapes.yaml) on four chips, 12
# candidates each beside the heuristic's; then `podsim map --learn`, which prints the
# held-out error (by shape, and by chip) and the simulations each search needs to reach
# its best tiling in the analytical and in the learned order.
set -euo pipefail
cd "$(dirname "$0")/.."
PODSIM=${PODSIM:-./build/release/podsim}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
files=()
for hw in tpu-v3 tpu-v4 tpu-v5e tpu-v6e; do
  t0=$(date +%s.%N)
  "$PODSIM" map -q bench/workloads/mapper-shapes.yaml --hw "$hw" -k 12 -j 2 --csv "$out/$hw.csv"
  t1=$(date +%s.%N)
  echo "samples on $hw: $(($(wc -l < "$out/$hw.csv") - 1)) in $(echo "$t1 - $t0" | bc -l | xargs printf '%.1f') s"
  files+=("$out/$hw.csv")
done
t0=$(date +%s.%N)
"$PODSIM" map --learn "$(IFS=,; echo "${files[*]}")" --model "$out/model.json"
t1=$(date +%s.%N)
echo "learned in $(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') s"
