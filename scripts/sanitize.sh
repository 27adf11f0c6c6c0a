#!/usr/bin/env bash
# The sanitizer and fuzzing pass CI runs after scripts/test.sh:
#  1. every test again, built with AddressSanitizer and UBSan (preset `asan`), except the
#     Slurm cluster test, the run of every shipped workload on every preset (minutes under
#     ASan), the killed-sweep test (it kills after a fixed time, too early under ASan's
#     slowdown) and a minute-long steady-state regression (one GPT-3 layer on 32 chips); all
#     four run in scripts/test.sh. After each simulation podsim tells ASan
#     the main thread's stack again (give_asan_the_main_stack_back() in src/sim/simulate.cpp:
#     libsystemc's coroutine switches leave a coroutine's stack in its place);
#  2. each libFuzzer harness for FUZZ_SECONDS (default 30), failing on a crash, a leak or
#     a timeout (tests/fuzz/README.md).
# Usage: bash scripts/sanitize.sh [--no-fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-test-tools
cmake --preset asan >/dev/null
cmake --build --preset asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -E 'slurm\.|Cli\.EveryShippedWorkloadLowersOnEveryPreset|Sweep\.KilledSweepResumesWithoutLoss|SteadyStateReplay\.SkipsCreditReadsAndWritesApart'
if [ "${1:-}" != "--no-fuzz" ]; then
  bash tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"
fi
