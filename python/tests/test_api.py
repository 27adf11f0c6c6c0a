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
