#!/usr/bin/env bash
# The sanitizer and fuzzing pass CI runs after scripts/test.sh:
#  1. every test again, built with AddressSanitizer and UBSan (preset `asan`), except the
#     Slurm cluster test, the run of every shipped workload on every preset (minutes under
#     ASan) and the killed-sweep test (it kills after a fixed time, too early under ASan's
#     slowdown); all three run in scripts/test.sh;
#     LSAN_OPTIONS=use_stacks=0: Debian's libsystemc announces its coroutine switches to ASan
#     (__sanitizer_start_switch_fiber), and at exit ASan can still hold a coroutine stack as
#     the main thread's stack. LeakSanitizer then scans that whole range, reaches the
#     PROT_NONE guard page SystemC puts in every coroutine stack, and dies ("Tracer caught
#     signal 11", exit 134; about 1 run in 8 of the resnet50-dp scaling table). Without
#     stack roots the scan stays on the heap, globals and registers. Little is lost: the
#     check runs after main() returned, and the coroutine stacks are mmap'ed, never roots.
#  2. each libFuzzer harness for FUZZ_SECONDS (default 30), failing on a crash, a leak or
#     a timeout (tests/fuzz/README.md).
# Usage: bash scripts/sanitize.sh [--no-fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-test-tools
cmake --preset asan >/dev/null
cmake --build --preset asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=use_stacks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -E 'slurm\.|Cli\.EveryShippedWorkloadLowersOnEveryPreset|Sweep\.KilledSweepResumesWithoutLoss'
if [ "${1:-}" != "--no-fuzz" ]; then
  bash tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"
fi
