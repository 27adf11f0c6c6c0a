#!/usr/bin/python3
"""Replay against the full simulation: runs each workload with podsim's replays (the
default) and with --no-reuse, and prints the difference in simulated time (whole run and
worst op among those replayed inside), HBM bytes and wall time.

  /usr/bin/python3 scripts/replay_error.py [--podsim build/release/podsim] [--hw tpu-v3] W.yaml ...

Exit 1 if a run's time differs by more than 0.5 %, an op with steady-state-replayed tiles
by more than 2 %, or any byte count differs (the bounds docs/timing.md states).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def run(podsim, workload, hw, extra, out):
    start = time.monotonic()
    subprocess.run([podsim, "run", workload, "--hw", hw, "-q", "--json", out] + extra, check=True)
    wall = time.monotonic() - start
    with open(out) as f:
        return json.load(f), wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--podsim", default="build/release/podsim")
    ap.add_argument("--hw", default="tpu-v3")
    ap.add_argument("workloads", nargs="+")
    args = ap.parse_args()
    failed = False
    print("| workload | time_s full | replayed | error | worst replayed op | tiles replayed | wall full | wall replayed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for w in args.workloads:
            name = os.path.splitext(os.path.basename(w))[0]
            fast, wall_fast = run(args.podsim, w, args.hw, [], os.path.join(tmp, name + "-fast.json"))
            full, wall_full = run(args.podsim, w, args.hw, ["--no-reuse"], os.path.join(tmp, name + "-full.json"))
            tf, tr = full["summary"]["time_s"], fast["summary"]["time_s"]
            err = (tr - tf) / tf
            worst, worst_name = 0.0, "-"
            for a, b in zip(fast["ops"], full["ops"]):
                if a.get("replayed_tiles", 0) and b["time_s"] > 0:
                    e = (a["time_s"] - b["time_s"]) / b["time_s"]
                    if abs(e) > abs(worst):
                        worst, worst_name = e, a["name"]
            bytes_same = all(fast["summary"][k] == full["summary"][k] for k in ("hbm_read_bytes", "hbm_write_bytes", "flops"))
            tiles = fast["stats"]["sim"].get("tiles_replayed", {}).get("value", 0)
            print(f"| {name} | {tf:.6g} | {tr:.6g} | {100 * err:+.3f} % | "
                  f"{100 * worst:+.2f} % ({worst_name}) | {tiles} | {wall_full:.2f} s | {wall_fast:.2f} s |"
                  + ("" if bytes_same else " BYTES DIFFER"))
            failed |= abs(err) > 0.005 or abs(worst) > 0.02 or not bytes_same
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
