#!/usr/bin/env bash
# Pod planner speed (issue 15): GPT-3 175B planned on 256 and on 1,024 TPU v4 chips
# (global batch 1,536 sequences, as GPT-3 trained), -j 2. Target: < 60 s for 1,024 chips.
set -euo pipefail
cd "$(dirname "$0")/.."
PODSIM=${PODSIM:-./build/release/podsim}
for chips in 256 1024; do
  t0=$(date +%s.%N)
  line=$("$PODSIM" plan bench/workloads/gpt3-175b-train.yaml --hw tpu-v4-pod --chips "$chips" --global-batch 1536 -j 2 | sed -n 2p)
  t1=$(date +%s.%N)
  echo "gpt3-175b on $chips chips: $(echo "$t1 - $t0" | bc -l | xargs printf '%.1f') s;$line"
done
# PaLM 540B on a 3,072-chip pod (where its published layout ranks; about 14 minutes and
# 11 GB): only with PLAN_BENCH_PALM=1.
if [ "${PLAN_BENCH_PALM:-0}" = 1 ]; then
  t0=$(date +%s.%N)
  line=$("$PODSIM" plan bench/workloads/palm-540b-train.yaml --hw tpu-v4-pod --chips 3072 -j 2 | sed -n 5p)
  t1=$(date +%s.%N)
  echo "palm-540b on 3072 chips: $(echo "$t1 - $t0" | bc -l | xargs printf '%.1f') s;$line"
fi
