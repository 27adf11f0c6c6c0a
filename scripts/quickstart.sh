#!/usr/bin/env bash
# Quick start: install what is missing, build (release), and run the default workload
# (workloads/gemm-example.yaml) on the default hardware preset (tpu-v3).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
./build/release/podsim run workloads/gemm-example.yaml --json build/release/report.json
echo "JSON report: build/release/report.json"
