#!/usr/bin/env bash
# Install what is missing, build (release, with tests and benchmarks), run every test.
# Each test runs in its own process (SystemC elaborates once per process).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-test-tools
cmake --preset release -DPODSIM_BUILD_TESTS=ON -DPODSIM_BUILD_BENCH=ON >/dev/null
cmake --build --preset release
ctest --preset release
