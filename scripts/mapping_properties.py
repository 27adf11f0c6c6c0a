#!/usr/bin/python3
"""Random (matmul shape, chip change) pairs: does more of a resource ever make an op slower?

usage: scripts/mapping_properties.py PODSIM_BINARY PAIRS SEED [SETTING ...] [--against-heuristic]

Each pair draws a bf16 matmul shape, tpu-v3 or tpu-v4 with 1 or 2 cores, and one change
(clock 1.0 -> 1.5 GHz, HBM 600 -> 900 GB/s, 2 -> 4 MXUs per core, 1 -> 2 cores, or 8 -> 16 MiB
of vector memory per core), simulates both
points and prints every pair where the second is more than 1 % slower (issue 15's
property). Each SETTING (e.g. chip.mapper=search) is added to both points of every pair.
With --against-heuristic (for chip.mapper=search) every point is also run with the
heuristic mapper, and points where the settings are more than 1 % slower are counted
(issue 15: search never more than 1 % slower than the heuristic). Deterministic for a seed. Writes only into its own temporary directory.
"""
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    binary, pairs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    extra = [a for a in sys.argv[4:] if a != "--against-heuristic"]
    against = "--against-heuristic" in sys.argv[4:]
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        workload, report = Path(tmp) / "w.yaml", Path(tmp) / "r.json"

        def seconds(m, k, n, hw, sets):
            workload.write_text("workload:\n  name: p\n  ops:\n"
                                f"    - {{op: matmul, name: x, m: {m}, k: {k}, n: {n}, dtype: bf16}}\n")
            cmd = [binary, "run", "-q", str(workload), "--hw", hw, "--json", str(report)]
            for s in sets:
                cmd += ["--set", s]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return json.loads(report.read_text())["summary"]["time_s"]

        slower = 0
        worse = 0
        for _ in range(pairs):
            m = rng.choice([8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3000, 4096])
            k = rng.choice([128, 256, 512, 768, 1024, 2048, 4096, 11008])
            n = rng.choice([128, 256, 512, 1024, 2048, 4096, 5120])
            hw = rng.choice(["tpu-v3", "tpu-v4"])
            cores = rng.choice(["1", "2"])
            kind = rng.choice(["clock", "bw", "mxus", "cores", "vmem"])
            a, b = {"clock": (["chip.clock=1.0GHz"], ["chip.clock=1.5GHz"]),
                    "bw": (["chip.hbm.bandwidth=600GB/s"], ["chip.hbm.bandwidth=900GB/s"]),
                    "mxus": (["chip.mxus_per_core=2"], ["chip.mxus_per_core=4"]),
                    "cores": (["chip.tensor_cores=1"], ["chip.tensor_cores=2"]),
                    "vmem": (["chip.vmem.capacity=8MiB"], ["chip.vmem.capacity=16MiB"])}[kind]
            if kind == "cores":
                cores = "1 -> 2"
            base = ([] if kind == "cores" else [f"chip.tensor_cores={cores}"]) + extra
            ta, tb = seconds(m, k, n, hw, base + a), seconds(m, k, n, hw, base + b)
            if against:
                for point, t in ((a, ta), (b, tb)):
                    th = seconds(m, k, n, hw, base + point + ["chip.mapper=heuristic"])
                    if t > th * 1.01:
                        worse += 1
                        print(f"worse than the heuristic: {m}x{k}x{n} {hw} cores={cores} {point}: "
                              f"{th * 1e6:.2f} -> {t * 1e6:.2f} us")
            if tb > ta * 1.01:
                slower += 1
                print(f"slower: {m}x{k}x{n} {hw} cores={cores} {kind}: {ta * 1e6:.2f} -> {tb * 1e6:.2f} us "
                      f"({(tb / ta - 1) * 100:+.1f} %)")
        print(f"{slower} of {pairs} pairs more than 1 % slower with more of the resource")
        if against:
            print(f"{worse} of {2 * pairs} points more than 1 % slower than the heuristic")
    return 0


if __name__ == "__main__":
    sys.exit(main())
