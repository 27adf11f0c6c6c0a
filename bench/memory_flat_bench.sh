#!/usr/bin/env bash
# Peak memory against simulated time (issue 13: DRAM-model memory flat in simulated time;
# it once grew by ~200 MB per simulated second). ResNet-50 training steps of batch 64..512
# (34..258 ms simulated on tpu-v3), on the fast path and on the command model, and square
# matmuls whose DRAM idles while the MXUs work (1..71 ms), also with every tile simulated. Prints peak RSS per run and
# fails when the longest run of a series needs more than 1.25x the shortest one's memory.
set -euo pipefail
cd "$(dirname "$0")/.."
PODSIM=${PODSIM:-./build/release/podsim}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
series() {  # name, then one "label file extra-args" per run
  local name=$1; shift
  local first="" last=""
  for run in "$@"; do
    read -r label file extra <<< "$run"
    # shellcheck disable=SC2086
    /usr/bin/time -f "%M" -o "$out/rss" "$PODSIM" run "$file" --hw tpu-v3 $extra --json "$out/r.json" -q > /dev/null
    local kb sim
    kb=$(cat "$out/rss")
    sim=$(/usr/bin/python3 -c "import json,sys; print('%.1f' % (json.load(open(sys.argv[1]))['summary']['time_s'] * 1e3))" "$out/r.json")
    echo "$name $label: ${sim} ms simulated, peak RSS $((kb / 1024)) MiB"
    [ -z "$first" ] && first=$kb
    last=$kb
  done
  if [ "$last" -gt $((first * 5 / 4)) ]; then
    echo "  FAIL: memory grows with simulated time ($first -> $last KB)"; status=1
  fi
}
for b in 64 128 256 512; do
  sed "s/batch: 256/batch: $b/" workloads/resnet50-train.yaml > "$out/r50_$b.yaml"
done
for n in 2048 4096 8192 16384; do
  printf 'workload:\n  ops:\n    - {op: matmul, name: g, m: %d, k: %d, n: %d, dtype: bf16}\n' $n $n $n > "$out/g$n.yaml"
done
series "resnet50-train (fast path)" "b64 $out/r50_64.yaml" "b128 $out/r50_128.yaml" "b256 $out/r50_256.yaml" "b512 $out/r50_512.yaml"
series "resnet50-train (command model)" "b64 $out/r50_64.yaml --set chip.hbm.stream_fast_path=false" \
  "b512 $out/r50_512.yaml --set chip.hbm.stream_fast_path=false"
series "square matmul" "n2048 $out/g2048.yaml" "n4096 $out/g4096.yaml" "n8192 $out/g8192.yaml" "n16384 $out/g16384.yaml"
# --no-reuse: no op or steady-state replay, every tile's DRAM traffic simulated.
series "square matmul, no replay" "n4096 $out/g4096.yaml --no-reuse" "n16384 $out/g16384.yaml --no-reuse"
exit $status
