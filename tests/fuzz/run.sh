#!/usr/bin/env bash
# Builds the libFuzzer harnesses (preset `fuzz`, clang) and runs each for SECONDS (default
# 30), seeded from the shipped configs, workloads, sweeps, anchors and reports. Fails on a
# crash, a leak, a timeout (> 10 s on one input) or memory above 2 GiB. Everything it
# writes (corpora, crash artifacts) goes to a temporary folder, removed at the end unless
# KEEP=1. Prints the executions each harness reached.
#   bash tests/fuzz/run.sh [SECONDS] [HARNESS...]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(hardware workload sweep units index_file compare memory_trace serve)

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz >/dev/null

work=$(mktemp -d)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
seed() {  # seed NAME FILES...: copies existing files into the harness's corpus
  local dir="$work/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/$(echo "$f" | tr '/' '_')"; done
  return 0
}
seed hardware configs/*.yaml
seed workload workloads/*.yaml workloads/pod/*.yaml validation/workloads/*.yaml
seed sweep sweeps/*.yaml
seed units
printf '940 MHz' > "$work/units/a"; printf '1.5 GiB' > "$work/units/b"; printf '14 ns' > "$work/units/c"
printf '7 ck' > "$work/units/d"; printf 'RoBaChCoBg' > "$work/units/e"; printf '900 GB/s' > "$work/units/f"
seed index_file
printf '# trace\n1, 2 3\n4 # x\n' > "$work/index_file/a"
seed compare
printf '{"summary": {"time_s": 1.5, "cycles": 3}}\n' > "$work/compare/a"
printf '{"point": 0, "metrics": {"time_s": 1.0}}\n{"point": 1, "metrics": {"time_s": 2}}\n' > "$work/compare/b"
seed serve workloads/serve/*.yaml
printf 'arrival_s,prompt_tokens,output_tokens\n0.5,100,20\n1.25,7,1\n' > "$work/serve/csv"
seed memory_trace
printf '0x1f40 READ 12\n0x2000 W 15 128\n' > "$work/memory_trace/a"
printf '0x40 R\n0x80 W\n' > "$work/memory_trace/b"

status=0
for h in "${harnesses[@]}"; do
  mkdir -p "$work/$h" "$work/artifacts-$h"
  log="$work/$h.log"
  if ./build/fuzz/fuzz/fuzz_"$h" "$work/$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/artifacts-$h/" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz_$h: $runs executions in ${seconds} s, 0 crashes"
  else
    echo "fuzz_$h: FAILED (crash, leak, timeout or out of memory):"
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -20
    ls "$work/artifacts-$h" | head
    status=1
  fi
done
exit $status
