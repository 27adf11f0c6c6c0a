"""docs/labs.md and docs/labs-answers.md: what the labs and their answers state, checked
against the simulator, so text and simulator cannot drift apart. Expected values come from
the closed forms the labs teach (SCALE-Sim's fold count, the roofline ridge, the ring
formula, the pipeline bubble); a number the text gives as a measurement ("about 4 ms") is
held to a stated band. Labs 6 and 9 are checked in test_waveform.py and
tests/integration/energy_report_test.cpp."""
import json
import os
import subprocess

import pytest

BINARY = os.environ["PODSIM_BINARY"]
SOURCE = os.environ.get("PODSIM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def podsim(*args):
    return subprocess.run([BINARY, *map(str, args)], check=True, capture_output=True, text=True).stdout


def podsim_json(tmp_path, name, *args):
    out = tmp_path / (name + ".json")
    podsim(*args, "--json", out)
    return json.loads(out.read_text())


def mxu(tmp_path, rows, cols, m, k, n, *extra, dtype="bf16"):
    return podsim_json(tmp_path, "mxu", "mxu", "--rows", rows, "--cols", cols, "--m", m, "--k", k, "--n", n,
                       "--dtype", dtype, *extra)


def source(path):
    return os.path.join(SOURCE, path)


# Lab 1: watch the wavefront.
def test_lab1_the_wavefront_and_its_cycle_count(tmp_path):
    frames = tmp_path / "frames.json"
    r = mxu(tmp_path, 4, 4, 6, 4, 4, "--model", "pe", "--frames", frames, dtype="int8")
    R = C = 4
    T = 6
    assert r["cycles"] == 2 * R + C + T - 2 == 16
    assert r["utilization"] == pytest.approx(6 * 4 * 4 / (16 * 16))  # 37.5 %
    by_cycle = {f["cycle"]: {(p[0], p[1]) for p in f["pes"]} for f in json.loads(frames.read_text())["frames"]}
    assert all(not by_cycle[c] for c in range(4))  # the weights shift in first
    assert by_cycle[4] == {(0, 0)}
    assert by_cycle[5] == {(0, 0), (0, 1), (1, 0)}
    assert by_cycle[6] == {(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0)}  # the next diagonal
    # 600 rows: the same fill and drain over a long stream.
    r = mxu(tmp_path, 4, 4, 600, 4, 4, "--model", "pe", dtype="int8")
    assert r["cycles"] == 2 * R + C + 600 - 2 == 610
    assert r["utilization"] == pytest.approx(600 / 610)
    # Output stationary: the 6 x 4 outputs need two 4 x 4 folds, each K = 4 deep.
    r = mxu(tmp_path, 4, 4, 6, 4, 4, "--model", "pe", "--dataflow", "os", dtype="int8")
    assert r["folds"] == 2 and r["cycles"] == 2 * (2 * R + C + 4 - 2) == 28


# Lab 2: weight double buffering.
def test_lab2_overlap_and_what_bounds_the_folds(tmp_path):
    R, C, F = 8, 8, 64  # 64 / 8 x 64 / 8 folds
    for T in (1, 4, 8, 16, 512):
        off = mxu(tmp_path, R, C, T, 64, 64, "--no-weight-overlap")
        on = mxu(tmp_path, R, C, T, 64, 64)
        assert off["cycles"] == F * (2 * R + C + T - 2)
        # Folds start max(R, T) apart; the last one streams T rows and drains R + C - 2.
        assert on["cycles"] == R + (F - 1) * max(R, T) + T + R + C - 2
    assert mxu(tmp_path, R, C, 8, 64, 64, "--no-weight-overlap")["cycles"] == 1920
    assert mxu(tmp_path, R, C, 8, 64, 64)["cycles"] == 534
    assert mxu(tmp_path, R, C, 512, 64, 64, "--no-weight-overlap")["cycles"] == 34176
    assert mxu(tmp_path, R, C, 512, 64, 64)["cycles"] == 32790
    # Below T = R the weights set the pace: utilization about T / R.
    assert mxu(tmp_path, R, C, 4, 64, 64)["utilization"] == pytest.approx(4 * 8 * 8 * 64 / (530 * 64), rel=1e-9)


LAB3 = ("workload:\n  ops:\n    - {op: matmul, name: big, m: 512, k: 512, n: 512, dtype: bf16}\n"
        "    - {op: matmul, name: fc, m: 8, k: 512, n: 512, dtype: bf16}\n")


# Lab 3: compute-bound or memory-bound?
def test_lab3_the_ridge_point_splits_the_ops_and_the_batch_sweep(tmp_path):
    wl = tmp_path / "lab3.yaml"
    wl.write_text(LAB3)
    r = podsim_json(tmp_path, "lab3", "run", wl, "--hw", "lab-8x8", "-q")
    peak = r["summary"]["peak_tflops"] * 1e12
    hbm = r["summary"]["hbm_peak_gbps"] * 1e9
    assert peak == pytest.approx(8 * 8 * 2 * 200e6)  # 25.6 GFLOPS
    ridge = peak / hbm
    assert ridge == pytest.approx(16)
    ops = {o["name"]: o for o in r["ops"]}
    assert ops["big"]["bound"] == "mxu" and ops["fc"]["bound"] == "memory"

    def intensity(m):  # FLOPs per byte with every operand moved once
        return 2 * m * 512 * 512 / (2 * (m * 512 + 512 * 512 + m * 512))

    assert intensity(512) > ridge > intensity(8)
    sweep = tmp_path / "lab3-sweep.yaml"
    sweep.write_text("sweep:\n  hardware: lab-8x8\n  workload: lab3.yaml\n  grid:\n"
                     "    workload.ops.fc.m: [8, 16, 32, 64, 128, 256, 512]\n"
                     "  metrics: [ops.fc.achieved_tflops, ops.fc.mxu_utilization, ops.fc.bound]\n")
    subprocess.run([BINARY, "sweep", str(sweep), "-j", "2", "--out", str(tmp_path / "out")], check=True,
                   capture_output=True)
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    for row in rows:
        m = int(row["params"]["workload.ops.fc.m"])
        # Memory-bound exactly where the intensity is below the ridge (m = 16: 15.1; 32: 28.4).
        assert row["metrics"]["ops.fc.bound"] == ("memory" if intensity(m) < ridge else "mxu"), m
    utils = [row["metrics"]["ops.fc.mxu_utilization"] for row in rows]
    assert utils == sorted(utils)  # reuse only helps
    assert all(row["metrics"]["ops.fc.mxu_utilization"] > 0.9 for row in rows
               if row["metrics"]["ops.fc.bound"] == "mxu")


# Lab 4: precision.
def test_lab4_error_grows_as_the_precision_shrinks_and_fp32_takes_six_passes(tmp_path):
    err = {t: mxu(tmp_path, 16, 16, 64, 64, 64, "--model", "pe", dtype=t)["quantization_rel_error"]
           for t in ("fp32", "fp16", "bf16", "fp8", "int8")}
    assert err["fp32"] < err["fp16"] < err["bf16"] < err["fp8"]
    # Each within its format's rounding step (mantissa bits: 10, 7, 3).
    assert err["fp16"] < 2 ** -10 and err["bf16"] < 2 ** -7 and err["fp8"] < 2 ** -3
    # A per-tensor scale suits data of one range: int8 beats fp8's 3 mantissa bits here.
    assert err["int8"] < err["fp8"]
    wl = tmp_path / "lab4.yaml"
    wl.write_text("workload:\n  ops:\n    - {op: matmul, name: f32, m: 4096, k: 4096, n: 4096, dtype: fp32}\n"
                  "    - {op: matmul, name: b16, m: 4096, k: 4096, n: 4096, dtype: bf16}\n")
    ops = {o["name"]: o for o in podsim_json(tmp_path, "lab4", "run", wl, "--hw", "tpu-v3", "-q")["ops"]}
    assert ops["f32"]["time_s"] / ops["b16"]["time_s"] == pytest.approx(6, rel=0.05)


# Lab 5: the memory system.
def test_lab5_streams_reach_the_peak_and_the_mapping_decides_bank_groups(tmp_path):
    a = {p["name"]: p for p in podsim_json(tmp_path, "m1", "selftest", "memory", "--hw", "tpu-v3", "--quick")["patterns"]}
    b = {p["name"]: p for p in podsim_json(tmp_path, "m2", "selftest", "memory", "--hw", "tpu-v3", "--quick",
                                           "--set", "chip.hbm.mapping=ro_ba_ch_bg_co")["patterns"]}
    peak = a["seq_read"]["peak_gbps"]
    assert a["seq_read"]["achieved_gbps"] >= 0.95 * peak
    assert 0.25 * peak < a["random_read_64B"]["achieved_gbps"] < 0.45 * peak  # "about a third"
    # Columns fastest keeps a stream in one bank group: bursts tCCD_L = 4 clocks apart
    # instead of tCCD_S = 2 (hbm2): half the peak.
    assert b["seq_read"]["achieved_gbps"] / peak == pytest.approx(0.5, abs=0.02)
    # ... and a 64 B read (two bursts) then opens one row, not one in each of two bank
    # groups: half its bursts are row hits, and random reads get faster.
    assert a["random_read_64B"]["row_hit_rate"] == 0
    assert b["random_read_64B"]["row_hit_rate"] == pytest.approx(0.5, abs=0.01)
    assert a["random_read_64B"]["achieved_gbps"] < b["random_read_64B"]["achieved_gbps"] < 0.5 * peak


# Lab 7: collectives and scaling on a pod.
def test_lab7_ring_formula_torus_links_and_the_pipeline_bubble(tmp_path):
    ring = ["--hw", "tpu-v3-pod", "--set", "pod.topology=ring", "--set", "pod.dims=16", "--set",
            "pod.links_per_chip=2", "--algorithm", "ring", "--bytes", "4 KiB,1 MiB,256 MiB"]
    slow = podsim_json(tmp_path, "ring", "collective", "all_reduce", *ring)
    fast = podsim_json(tmp_path, "ring2", "collective", "all_reduce", *ring, "--set", "pod.link.bandwidth=160 GB/s")
    torus = podsim_json(tmp_path, "torus", "collective", "all_reduce", "--hw", "tpu-v3-pod", "--set", "pod.dims=4x4",
                        "--bytes", "4 KiB,1 MiB,256 MiB")
    P, a, B = 16, 1e-6, 80e9  # a: the tpu-v3-pod preset's latency a hop
    for bw, runs in ((B, slow), (2 * B, fast)):
        for r in runs:
            assert r["time_s"] == pytest.approx(2 * (P - 1) / P * r["bytes"] / bw + 2 * (P - 1) * a, rel=0.02)
    # The torus's rings are 4 chips long: 2 dimensions x 2 phases x 3 hops of latency.
    assert torus[0]["time_s"] == pytest.approx(2 * 2 * 3 * a, rel=0.05)
    # Latency and bandwidth terms are equal at S = P a B = 1.28 MB: 4 KiB is latency-bound
    # (twice the bandwidth changes nothing), 256 MiB bandwidth-bound (it halves).
    assert fast[0]["time_s"] == pytest.approx(slow[0]["time_s"], rel=0.01)
    assert fast[2]["time_s"] == pytest.approx(slow[2]["time_s"] / 2, rel=0.01)
    # 1 MiB, just under the crossover: the bandwidth term (24.6 us) adds to the 30 us of hops
    # and is smaller than they are; doubling the bandwidth halves only that part.
    assert slow[1]["time_s"] > 2 * (P - 1) * a
    assert slow[1]["time_s"] - 2 * (P - 1) * a < 2 * (P - 1) * a
    assert slow[1]["time_s"] - fast[1]["time_s"] == pytest.approx((slow[1]["time_s"] - 2 * (P - 1) * a) / 2, rel=0.05)
    # The torus algorithm drives four links (two dimensions, both ways) against the ring's one.
    assert torus[2]["busbw_gbps"] / slow[2]["busbw_gbps"] == pytest.approx(4, rel=0.02)
    # GPipe: the bubble ("idle") is about (S - 1) / (M + S - 1) of the step.
    S = 4
    for M in (4, 8, 16):
        r = podsim_json(tmp_path, "pp%d" % M, "run", source("workloads/pod/transformer-tp-pp16.yaml"), "-q",
                        "--hw", "tpu-v3-pod", "--set", "pod.dims=4x4", "--wset", "workload.parallelism.schedule=gpipe",
                        "--wset", "workload.parallelism.microbatches=%d" % M)
        assert r["pod"]["idle_s"] / r["pod"]["step_s"] == pytest.approx((S - 1) / (M + S - 1), abs=0.01)


# Lab 8: fusion, convolutions and the vector unit's data movement.
def test_lab8_fusion_convolutions_and_the_transpose(tmp_path):
    wl = source("workloads/resnet50-infer.yaml")
    batch = ["--wset", "workload.ops[0].batch=32"]
    fused = podsim_json(tmp_path, "fused", "run", wl, *batch, "-q")
    unfused = podsim_json(tmp_path, "unfused", "run", wl, *batch, "--set", "chip.vector.fusion=false", "-q")

    def kind(r, k, key):
        return sum(o[key] for o in r["ops"] if o["kind"] == k)

    # Fused elementwise ops write nothing (their result stays in vector memory); what they
    # read is the residual adds' skip inputs. The convolutions are the same either way.
    assert kind(fused, "elementwise", "hbm_write_bytes") == 0
    assert kind(fused, "elementwise", "hbm_read_bytes") > 0
    assert kind(fused, "conv2d", "hbm_read_bytes") == kind(unfused, "conv2d", "hbm_read_bytes")
    # The lab's figures (tpu-v3): about 4.0 ms and 2.3 GiB fused, elementwise 13 % of the
    # time; about 6.1 ms and 4.1 GiB unfused, 43 %.
    gib = 2 ** 30
    for r, t, traffic, share in ((fused, 4.0e-3, 2.3, 0.13), (unfused, 6.1e-3, 4.1, 0.43)):
        s = r["summary"]
        assert s["time_s"] == pytest.approx(t, rel=0.03)
        assert (s["hbm_read_bytes"] + s["hbm_write_bytes"]) / gib == pytest.approx(traffic, rel=0.03)
        assert kind(r, "elementwise", "time_s") / s["time_s"] == pytest.approx(share, abs=0.015)
    # A 3x3 convolution reads its input about 1.1 times (halo rows, implicit GEMM), plus its
    # weights once per block of output rows: r50.s1b0.conv2, 32 x 56 x 56 x 64 in bf16.
    conv = next(o for o in fused["ops"] if o["name"] == "r50.s1b0.conv2")
    assert conv["tiling"]["tm"] == 1024  # about 18 output rows of 56 pixels: 20 input rows
    x, w = 32 * 56 * 56 * 64 * 2, 3 * 3 * 64 * 64 * 2
    assert 1.0 <= (conv["hbm_read_bytes"] - conv["tiling"]["blocks_m"] * w) / x <= 1.2
    # Transpose against reshape: the same bytes; as fast with the default 16 MiB tiles
    # (1,024-row strips), slower once small tiles make its column strips short.
    def shape_ops(*extra):
        r = podsim_json(tmp_path, "shape", "run", source("workloads/shape-ops.yaml"), "-q", *extra)
        ops = {o["name"]: o for o in r["ops"]}
        assert ops["heads_to_front"]["hbm_write_bytes"] == ops["merge_heads"]["hbm_write_bytes"]
        return ops["heads_to_front"]["tiling"]["tile_rows"], ops["heads_to_front"]["time_s"] / ops["merge_heads"]["time_s"]

    rows, ratio = shape_ops()
    assert rows == 1024 and ratio == pytest.approx(1.0, abs=0.02)  # 2 KiB strips
    rows, ratio = shape_ops("--set", "chip.vmem.capacity=256 KiB")
    assert rows == 25 and 1.5 < ratio < 1.9  # 50-byte strips: "about 1.7 times"


# Lab 9's question: the GEMV's energy per FLOP against the GEMM's.
def test_lab9_the_gemv_comes_within_2x_of_the_gemm_per_flop_near_64_rows(tmp_path):
    def per_flop(m, n):
        wl = tmp_path / "e.yaml"
        wl.write_text("workload:\n  ops:\n    - {op: matmul, name: mm, m: %d, k: 4096, n: %d, dtype: bf16}\n" % (m, n))
        op = podsim_json(tmp_path, "e", "run", wl, "--hw", "tpu-v3", "-q")["ops"][0]
        return op["energy_j"] / op["flops"]

    gemm = per_flop(4096, 4096)
    assert per_flop(32, 4096) > 2 * gemm  # the estimate says about 64 rows
    assert per_flop(128, 4096) < 2 * gemm
