#!/usr/bin/env bash
# Installs the Debian packages podsim needs, if any are missing. Idempotent: a machine
# that has them all runs no apt-get at all. Needs root (or sudo) only when installing.
# --with-test-tools adds what the test suite needs beyond the build (Slurm and munge).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libsystemc-dev       # SystemC 2.3.4: the simulation kernel (pkg-config: systemc)
  libeigen3-dev        # Eigen 3.4: reference numerics of the PE-level array
  libyaml-cpp-dev      # yaml-cpp 0.7: hardware / workload / sweep files
  libspdlog-dev libfmt-dev   # spdlog 1.10 + fmt 9: logging and formatting
  libgtest-dev libgmock-dev  # GoogleTest 1.12
  libcli11-dev         # CLI11: the command line
  nlohmann-json3-dev   # nlohmann-json: JSON reports
  libbenchmark-dev     # Google Benchmark: bench/
  python3-dev python3-pybind11   # the Python package (python/): podsim._core
  python3-pandas       # podsim.Report.ops as a DataFrame
  python3-matplotlib   # podsim plot
)

# Tools only the tests need: a real Slurm cluster for the sweep job-array test; clang and
# its runtime libraries (libFuzzer, ASan) for tests/fuzz/; pytest for the Python package.
if [ "${1:-}" = "--with-test-tools" ]; then
  packages+=(slurm-wlm munge clang libclang-rt-14-dev python3-pytest)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
