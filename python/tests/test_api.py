"""The Python package against the command line and against bad input (run by ctest as
python.api, with PYTHONPATH, PODSIM_BINARY and PODSIM_SOURCE_DIR set)."""
import json
import os
import subprocess

import pytest

import podsim

SOURCE = os.environ["PODSIM_SOURCE_DIR"]
BINARY = os.environ["PODSIM_BINARY"]
GEMM = os.path.join(SOURCE, "workloads", "gemm-example.yaml")


def cli_report(tmp_path, *args):
    out = tmp_path / "r.json"
    subprocess.run([BINARY, "run", "-q", *args, "--json", str(out)], check=True, capture_output=True)
    return json.loads(out.read_text())


def test_a_run_is_the_command_lines_report(tmp_path):
    r = podsim.run("tpu-v3", GEMM, set={"chip.hbm.bandwidth": "1200 GB/s"})
    assert r.json == cli_report(tmp_path, GEMM, "--hw", "tpu-v3", "--set", "chip.hbm.bandwidth=1200 GB/s")
    # 4096^3 bf16 MACs: 2 x 4096^3 FLOPs
    assert r.summary["flops"] == 2 * 4096 ** 3
    assert len(r.ops) == 1 and list(r.ops["name"]) == ["g0"]


def test_a_session_runs_many_simulations_and_more_bandwidth_never_hurts():
    # SystemC elaborates once per process: each run is its own child process.
    times = [podsim.run("tpu-v3", GEMM, set={"chip.hbm.bandwidth": bw}).summary["time_s"]
             for bw in ("300 GB/s", "900 GB/s", "1800 GB/s")]
    assert times[0] > times[1] >= times[2] * 0.99


def test_dicts_describe_hardware_and_workloads():
    workload = {"workload": {"name": "one", "ops": [{"op": "matmul", "name": "mm", "m": 256, "k": 512, "n": 1024,
                                                      "dtype": "bf16"}]}}
    r = podsim.run("tpu-v4", workload)
    assert r.summary["flops"] == 2 * 256 * 512 * 1024
    assert r.ops.loc[0, "name"] == "mm"
    hardware = {"hardware": {"name": "small", "chip": {"clock": "1 GHz", "tensor_cores": 1, "mxus_per_core": 1,
                                                       "mxu": {"rows": 8, "cols": 8}, "hbm": {"bandwidth": "100 GB/s"}}}}
    small = podsim.run(hardware, workload)
    assert small.json["hardware"]["name"] == "small"
    assert small.summary["time_s"] > r.summary["time_s"]  # one 8 x 8 array against tpu-v4
    # the same run from a wset on a file
    r2 = podsim.run("tpu-v4", GEMM, wset={"workload.ops[0].m": 256, "workload.ops[0].k": 512,
                                         "workload.ops[0].n": 1024})
    assert r2.summary["time_s"] == pytest.approx(r.summary["time_s"], rel=1e-12)


def test_samples_give_throughput_and_joules_per_sample_from_python(tmp_path):
    # A workload that declares its samples: the count follows the op's m through a wset.
    wl = tmp_path / "samples.yaml"
    wl.write_text("workload:\n  name: s\n  samples: {count: mm.m, unit: tokens}\n  ops:\n"
                  "    - {op: matmul, name: mm, m: 256, k: 512, n: 1024, dtype: bf16}\n")
    r = podsim.run("tpu-v4", str(wl), wset={"workload.ops.mm.m": 512})
    assert r.summary["samples_per_step"] == 512
    assert r.summary["samples_per_s"] == pytest.approx(512 / r.summary["time_s"], rel=1e-12)
    assert r.summary["joules_per_sample"] == pytest.approx(r.summary["energy_j"] / 512, rel=1e-12)
    assert sum(b["total_j"] for b in r.json["energy"]["by_block"].values()) == pytest.approx(r.summary["energy_j"],
                                                                                            rel=1e-9)


def test_bad_input_raises_with_file_line_column_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("workload:\n  ops:\n    - {op: matmul, name: g, m: -1, k: 8, n: 8, dtype: bf16}\n")
    with pytest.raises(podsim.InputError) as e:
        podsim.run("tpu-v3", str(bad))
    assert e.value.file == str(bad)
    assert e.value.line == 3
    assert e.value.column > 0
    assert e.value.key_path == "workload.ops[0].m"
    with pytest.raises(podsim.InputError) as e:
        podsim.run("tpu-v3", GEMM, set={"chip.clock": "fast"})
    assert e.value.key_path == "chip.clock"
    with pytest.raises(podsim.InputError):
        podsim.run("no-such-preset", GEMM)
    with pytest.raises(TypeError):
        podsim.run(3, GEMM)
    with pytest.raises(podsim.InputError):  # a dict is edited directly, not through wset
        podsim.run("tpu-v3", {"workload": {"ops": []}}, wset={"workload.ops[0].m": 1})


def test_load_reads_a_written_report(tmp_path):
    document = cli_report(tmp_path, GEMM, "--hw", "tpu-v4")
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(document))
    r = podsim.load(str(path))
    assert r.summary["time_s"] == document["summary"]["time_s"]
    assert "tpu-v4" in repr(r)


TINY_DECODER = """workload:
  name: tiny-decoder
  ops:
    - {op: template, template: transformer_decoder, name: m, batch: 1, seq: 1, decode: true, kv_len: 16,
       d_model: 256, heads: 4, kv_heads: 2, d_ff: 512, layers: 1, dtype: bf16}
"""


def serve_files(tmp_path, requests="{count: 12, rate: 500, seed: 2, prompt_tokens: {min: 8, max: 60}, output_tokens: {min: 1, max: 9}}"):
    (tmp_path / "model.yaml").write_text(TINY_DECODER)
    path = tmp_path / "serve.yaml"
    path.write_text("serve:\n  workload: model.yaml\n  requests: " + requests +
                    "\n  scheduler: {max_batch: 4, max_tokens_per_step: 64}\n")
    return path


def test_serve_is_the_command_lines_report(tmp_path):
    path = serve_files(tmp_path)
    s = podsim.serve("tpu-v4", path)
    out = tmp_path / "s.json"
    subprocess.run([BINARY, "serve", "-q", str(path), "--hw", "tpu-v4", "--json", str(out)], check=True,
                   capture_output=True)
    assert s.json == json.loads(out.read_text())
    assert len(s.requests) == 12
    # Every request's latency is its first token's wait plus its other tokens' times.
    for _, r in s.requests.iterrows():
        assert r["e2e_s"] == pytest.approx(r["ttft_s"] + r["tpot_s"] * (r["output_tokens"] - 1), rel=1e-9, abs=1e-15)
    assert s.summary["output_tokens"] == int(s.requests["output_tokens"].sum())


def test_serve_takes_serve_file_fields_as_the_command_line_does(tmp_path):
    path = serve_files(tmp_path)
    s = podsim.serve("tpu-v4", path, sset={"serve.scheduler.max_batch": 1, "serve.replicas.count": 2})
    out = tmp_path / "s.json"
    subprocess.run([BINARY, "serve", "-q", str(path), "--hw", "tpu-v4", "--json", str(out), "--sset",
                    "serve.scheduler.max_batch=1", "--sset", "serve.replicas.count=2"], check=True, capture_output=True)
    assert s.json == json.loads(out.read_text())
    assert s.json["summary"]["max_batch"] == 1 and len(s.json["replicas"]["chips"]) == 2
    with pytest.raises(podsim.InputError) as e:
        podsim.serve("tpu-v4", path, sset={"serve.scheduler.max_bach": 2})
    assert e.value.key_path == "serve.scheduler.max_bach"


def test_serve_input_errors_name_the_key(tmp_path):
    path = serve_files(tmp_path, "{count: 3, rate: fast, prompt_tokens: 8, output_tokens: 2}")
    with pytest.raises(podsim.InputError) as e:
        podsim.serve("tpu-v4", path)
    assert e.value.key_path == "serve.requests.rate" and e.value.line == 3


def test_map_is_the_command_lines_report(tmp_path):
    wl = {"workload": {"name": "m", "ops": [{"op": "matmul", "name": "g", "m": 16, "k": 1024, "n": 2048,
                                             "dtype": "bf16"}]}}
    m = podsim.map("tpu-v4", wl, k=3)
    path = tmp_path / "w.yaml"
    path.write_text(json.dumps(wl))
    out = tmp_path / "m.json"
    subprocess.run([BINARY, "map", "-q", str(path), "--hw", "tpu-v4", "-k", "3", "--json", str(out)], check=True,
                   capture_output=True)
    assert m.json == json.loads(out.read_text())
    # The heuristic's and k = 3 by estimate, and as many as a one-core chip would simulate, on one of
    # tpu-v4's two cores.
    assert len(m.candidates) <= 8 and m.candidates["heuristic"].sum() == 1
    best = m.candidates[m.candidates["best"]]
    assert float(best["simulated_s"].iloc[0]) == m.candidates["simulated_s"].min()


def test_a_sweep_is_one_run_per_point_in_grid_order():
    grid = {"hardware": ["tpu-v3", "tpu-v4"], "chip.hbm.bandwidth": ["450 GB/s", "1800 GB/s"]}
    t = podsim.sweep("tpu-v3", GEMM, grid, metrics=["time_s", "flops"], jobs=2)
    # A hardware quantity is a number in its SI unit, the unit in the column name (as in
    # results.csv), so pandas sorts and plots it as a number.
    assert list(t.columns) == ["hardware", "chip.hbm.bandwidth [B/s]", "status", "error", "time_s", "flops"]
    assert list(t["hardware"]) == ["tpu-v3", "tpu-v3", "tpu-v4", "tpu-v4"]  # the last axis fastest
    assert list(t["chip.hbm.bandwidth [B/s]"]) == [450 * 10 ** 9, 1800 * 10 ** 9] * 2
    assert str(t["chip.hbm.bandwidth [B/s]"].dtype) == "int64"
    assert (t["status"] == "ok").all() and (t["flops"] == 2 * 4096 ** 3).all()
    # each point is the run podsim.run gives for it
    one = podsim.run("tpu-v4", GEMM, set={"chip.hbm.bandwidth": "450 GB/s"})
    assert t.loc[2, "time_s"] == one.summary["time_s"]
    # more bandwidth never hurts; v4 (275 TFLOPS) beats v3 (123) at equal bandwidth
    for hw in ("tpu-v3", "tpu-v4"):
        slow, fast = t[t["hardware"] == hw]["time_s"]
        assert fast <= slow
    assert t.loc[3, "time_s"] < t.loc[1, "time_s"]


def test_a_sweep_records_refused_points_and_takes_workload_axes():
    t = podsim.sweep("tpu-v3", GEMM, {"chip.vmem.capacity": ["16 MiB", "4 KiB"], "workload.ops[0].m": [1024]},
                     metrics=["time_s"])
    assert list(t["status"]) == ["ok", "failed"]
    assert "chip.vmem.capacity" in t.loc[1, "error"]
    with pytest.raises(podsim.InputError) as e:  # the same refusal from podsim.run
        podsim.run("tpu-v3", GEMM, set={"chip.vmem.capacity": "4 KiB"})
    assert e.value.key_path == "chip.vmem.capacity"
    # m = 1024 instead of 4096: a quarter of the FLOPs
    r = podsim.run("tpu-v3", GEMM, wset={"workload.ops[0].m": 1024})
    assert t.loc[0, "time_s"] == r.summary["time_s"]
    with pytest.raises(KeyError):
        podsim.sweep("tpu-v3", GEMM, {"chip.clock": ["1 GHz"]}, metrics=["time_z"])
    with pytest.raises(TypeError):
        podsim.sweep("tpu-v3", GEMM, {"chip.clock": []})


def test_energy_is_in_the_summary_and_pareto_keeps_the_unbeaten_points():
    t = podsim.sweep("tpu-v3", GEMM, {"chip.clock": ["500 MHz", "1500 MHz"], "chip.energy.static_power": ["20 W", "200 W"]},
                     metrics=["time_s", "energy_j", "average_power_w"])
    rows = t.to_dict("records") if hasattr(t, "to_dict") else t
    assert all(r["energy_j"] > 0 for r in rows)
    # Static power only adds energy: at each clock, 20 W beats 200 W on energy at equal time.
    # The faster clock takes less time; which clock uses less energy depends on the static
    # share, so check the front by brute force.
    pts = [(r["time_s"], r["energy_j"]) for r in rows]
    expected = [p for p in pts if not any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in pts)]
    front = podsim.pareto(t, ["time_s", "energy_j"])
    got = front.to_dict("records") if hasattr(front, "to_dict") else front
    assert [(r["time_s"], r["energy_j"]) for r in got] == expected
    assert all(r["chip.energy.static_power [W]"] == 20 for r in got)
    # A list of dicts works too, and 'metric:max' flips the sense.
    most = podsim.pareto(rows, ["time_s", "energy_j:max"])
    assert all(r["chip.energy.static_power [W]"] == 200 for r in most)
    with pytest.raises(ValueError):
        podsim.pareto(rows, ["time_s"])
