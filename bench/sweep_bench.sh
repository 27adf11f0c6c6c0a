#!/usr/bin/env bash
# Sweep runner speed: per-point overhead (200 tiny points, -j 1) and a 1,000-point
# transformer-layer sweep on 2 cores (-j 2), and issue 18's 144-point ResNet-50 training sweep
# (batch x HBM bandwidth x MXU shape). Targets: < 50 ms per point, < 3 minutes, < 60 s.
set -euo pipefail
cd "$(dirname "$0")/.."
PODSIM=${PODSIM:-./build/release/podsim}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
t0=$(date +%s.%N)
"$PODSIM" sweep bench/sweep_tiny.yaml -j 1 --out "$out/tiny" > /dev/null 2>&1
t1=$(date +%s.%N)
echo "tiny sweep: 200 points, -j 1: $(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') s, $(echo "($t1 - $t0) * 1000 / 200" | bc -l | xargs printf '%.1f') ms per point"
t0=$(date +%s.%N)
"$PODSIM" sweep bench/sweep_1000.yaml -j 2 --out "$out/big" > /dev/null 2>&1 || true
t1=$(date +%s.%N)
ok=$(grep -c ',ok,' "$out/big/results.csv" || true)
echo "transformer-layer sweep: 1000 points ($ok ok), -j 2: $(echo "$t1 - $t0" | bc -l | xargs printf '%.1f') s"
t0=$(date +%s.%N)
"$PODSIM" sweep bench/sweep_resnet50_train.yaml -j 2 --out "$out/r50" > /dev/null 2>&1 || true
t1=$(date +%s.%N)
ok=$(grep -c ',ok,' "$out/r50/results.csv" || true)
echo "resnet50-train sweep: 144 points ($ok ok), -j 2: $(echo "$t1 - $t0" | bc -l | xargs printf '%.1f') s (target 60 s)"
