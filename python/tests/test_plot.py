"""Plots (python/podsim/plot.py and `podsim plot`): the files exist, carry their labelled
elements, and are the same bytes for the same inputs; bad inputs exit 2."""
import json
import os
import subprocess

import pytest

import podsim
from podsim import plot

SOURCE = os.environ["PODSIM_SOURCE_DIR"]
BINARY = os.environ["PODSIM_BINARY"]


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    path = tmp_path_factory.mktemp("reports") / "bert.json"
    subprocess.run([BINARY, "run", "-q", os.path.join(SOURCE, "workloads", "bert-large-layer.yaml"), "--hw", "tpu-v4",
                    "--json", str(path)], check=True, capture_output=True)
    return str(path)


def test_roofline_shows_every_op_under_the_chips_roof(bert, tmp_path):
    out = tmp_path / "roofline.svg"
    plot.roofline(bert, str(out))
    svg = out.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for label in ("operational intensity (FLOP per HBM byte)", "achieved TFLOPS", "roofline", "bert-large-layer",
                  "tpu-v4", "bound: "):
        assert label in svg, label
    doc = json.load(open(bert))
    for o in doc["ops"]:
        if o["flops"] > 0:
            assert ">{}<".format(o["name"]) in svg or o["name"] in svg, o["name"]
    # ridge = 275 TFLOPS / 1.2 TB/s
    assert "ridge 229 FLOP/B" in svg
    # the same inputs, the same bytes
    again = tmp_path / "again.svg"
    plot.roofline(podsim.load(bert), str(again))
    assert again.read_bytes() == out.read_bytes()


def test_ops_plot_names_the_longest_ops_and_writes_png(bert, tmp_path):
    out = tmp_path / "ops.svg"
    plot.ops(bert, str(out), top=5)
    svg = out.read_text()
    doc = json.load(open(bert))
    longest = sorted(doc["ops"], key=lambda o: -o["time_s"])
    for o in longest[:5]:
        assert o["name"] in svg
    assert longest[-1]["name"] not in svg or len(longest) <= 5
    assert "time (us)" in svg and "longest 5 of" in svg
    png = tmp_path / "ops.png"
    plot.ops(bert, str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_plot_draws_a_line_per_hue(tmp_path):
    csv_path = tmp_path / "results.csv"
    csv_path.write_text("id,chip.hbm.bandwidth,chip.clock,time_s\n"
                        "a,600,940,3.0\nb,900,940,2.0\nc,1200,940,1.5\n"
                        "d,600,1050,2.9\ne,900,1050,1.9\nf,1200,1050,1.4\n")
    out = tmp_path / "sweep.svg"
    plot.sweep(str(csv_path), "chip.hbm.bandwidth", "time_s", str(out), hue="chip.clock")
    svg = out.read_text()
    for label in ("chip.hbm.bandwidth", "time_s", "chip.clock = 940", "chip.clock = 1050"):
        assert label in svg, label
    with pytest.raises(ValueError):
        plot.sweep(str(csv_path), "chip.nope", "time_s", str(out))


def test_the_command_line_plots_and_refuses_bad_input(bert, tmp_path):
    out = tmp_path / "r.svg"
    r = subprocess.run([BINARY, "plot", "roofline", bert, "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "<svg" in out.read_text()
    r = subprocess.run([BINARY, "plot", "roofline", str(tmp_path / "missing.json"), "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "missing.json" in r.stderr
    r = subprocess.run([BINARY, "plot", "ops", bert], capture_output=True, text=True)  # no -o
    assert r.returncode == 2
    assert sorted(os.listdir(tmp_path)) == ["r.svg"]  # nothing else written, no temporary left


def test_serve_plot_draws_the_cache_over_time_and_latency_distributions(tmp_path):
    (tmp_path / "model.yaml").write_text(
        "workload:\n  name: tiny\n  ops:\n    - {op: template, template: transformer_decoder, name: m, batch: 1, seq: 1,\n"
        "       decode: true, kv_len: 16, d_model: 256, heads: 4, kv_heads: 2, d_ff: 512, layers: 1, dtype: bf16}\n")
    (tmp_path / "serve.yaml").write_text(
        "serve:\n  workload: model.yaml\n  requests: {count: 30, rate: 2000, seed: 3, prompt_tokens: {min: 8, max: 90},"
        " output_tokens: {min: 2, max: 30}}\n  scheduler: {max_batch: 8, max_tokens_per_step: 128}\n"
        "  slo: {ttft: 1 ms, tpot: 100 us}\n")
    j, c = tmp_path / "s.json", tmp_path / "r.csv"
    subprocess.run([BINARY, "serve", "-q", str(tmp_path / "serve.yaml"), "--hw", "tpu-v4", "--json", str(j), "--csv",
                    str(c)], check=True, capture_output=True)
    doc = json.loads(j.read_text())
    samples = doc["timeline"]["samples"]
    assert 0 < len(samples) <= 2048 and samples[-1]["t_s"] <= doc["summary"]["makespan_s"] + samples[0]["t_s"] + 1e-9
    assert max(x["kv_blocks"] for x in samples) == doc["summary"]["kv_peak_blocks"] or doc["timeline"]["every_steps"] > 1
    out1, out2 = tmp_path / "a.svg", tmp_path / "b.svg"
    r = subprocess.run([BINARY, "plot", "serve", str(j), "--requests", str(c), "-o", str(out1)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    text = out1.read_text()
    for label in ("KV cache in use (%)", "sequences running", "TTFT", "TPOT", "TTFT SLO", "30 requests"):
        assert label in text, label
    plot.serve(str(j), str(out2), str(c))
    assert out2.read_bytes() == out1.read_bytes()  # the same inputs, the same bytes
    r = subprocess.run([BINARY, "plot", "serve", str(j), "--requests", str(j), "-o", str(out1)], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "request CSV" in r.stderr


def test_sweep_heatmap_labels_every_cell_with_its_value(tmp_path):
    csv_path = tmp_path / "results.csv"
    csv_path.write_text("id,chip.hbm.bandwidth,chip.clock,time_s\n"
                        "a,600,940,3.0\nb,900,940,2.0\nc,1200,940,1.5\n"
                        "d,600,1050,2.9\ne,900,1050,1.9\nf,1200,1050,failed\n")
    out = tmp_path / "heat.svg"
    plot.sweep(str(csv_path), "chip.hbm.bandwidth", "time_s", str(out), hue="chip.clock", heatmap=True)
    svg = out.read_text()
    for label in ("chip.hbm.bandwidth", "chip.clock", "time_s over chip.hbm.bandwidth and chip.clock"):
        assert label in svg, label
    for value in (">3<", ">2<", ">1.5<", ">2.9<", ">1.9<"):  # each point's cell, as text
        assert value in svg, value
    assert ">failed<" not in svg  # a failed point leaves its cell empty
    with pytest.raises(ValueError, match="needs --hue"):
        plot.sweep(str(csv_path), "chip.hbm.bandwidth", "time_s", str(out), heatmap=True)
    clash = tmp_path / "clash.csv"
    clash.write_text("id,x,h,y\na,1,1,5\nb,1,1,6\n")  # two points in one cell: a third axis varies
    with pytest.raises(ValueError, match="third parameter"):
        plot.sweep(str(clash), "x", "y", str(out), hue="h", heatmap=True)


@pytest.fixture(scope="module")
def mlp_trace(tmp_path_factory):
    path = tmp_path_factory.mktemp("traces") / "mlp.trace.json"
    subprocess.run([BINARY, "run", "-q", os.path.join(SOURCE, "workloads", "mlp-block.yaml"), "--hw", "tpu-v3",
                    "--trace", str(path)], check=True, capture_output=True)
    return str(path)


def test_timeline_draws_each_engine_and_hbm_from_a_trace(mlp_trace, tmp_path):
    out = tmp_path / "timeline.svg"
    plot.timeline(mlp_trace, str(out))
    svg = out.read_text()
    # tpu-v3: 2 cores x 2 MXUs, a vector unit and two DMA engines per core
    for lane in ("ops", "core0.mxu0", "core0.mxu1", "core1.mxu0", "core1.mxu1", "core0.vector_unit",
                 "core1.vector_unit", "core0.read_dma", "core0.write_dma", "HBM GB/s", "power (W)", "time (us)",
                 "mlp-block"):
        assert lane in svg, lane
    again = tmp_path / "again.svg"
    plot.timeline(mlp_trace, str(again))
    assert again.read_bytes() == out.read_bytes()
    # A report is not a trace: the command says what it needs and exits 2.
    report = tmp_path / "report.json"
    subprocess.run([BINARY, "run", "-q", os.path.join(SOURCE, "workloads", "mlp-block.yaml"), "--json", str(report)],
                   check=True, capture_output=True)
    r = subprocess.run([BINARY, "plot", "timeline", str(report), "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 2 and "not a trace" in r.stderr, r.stderr


def test_scaling_plot_shows_throughput_step_time_and_efficiency(tmp_path):
    table = tmp_path / "scaling.json"
    subprocess.run([BINARY, "run", "-q", os.path.join(SOURCE, "workloads", "pod", "resnet50-dp.yaml"), "--hw",
                    "tpu-v3-pod", "--chips", "1,8", "--json", str(table)], check=True, capture_output=True)
    out = tmp_path / "scaling.svg"
    r = subprocess.run([BINARY, "plot", "scaling", str(table), "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    svg = out.read_text()
    for label in ("PFLOPS", "peak", "achieved", "step time (ms)", "scaling efficiency (%)", "compute",
                  "exposed communication", "resnet50-dp on tpu-v3-pod", ">1<", ">8<"):
        assert label in svg, label
    with pytest.raises(ValueError, match="not a scaling table"):
        plot.scaling({"schema": "podsim.report/1"}, str(out))


def test_sweep_plot_finds_a_quantity_column_by_its_parameter_path(tmp_path):
    # results.csv writes hardware quantities as numbers with the unit in the header.
    csv_path = tmp_path / "results.csv"
    csv_path.write_text("point,chip.hbm.bandwidth [B/s],time_s,status,error\n"
                        "0,600000000000,3.0,ok,\n1,900000000000,2.0,ok,\n")
    out = tmp_path / "units.svg"
    plot.sweep(str(csv_path), "chip.hbm.bandwidth", "time_s", str(out))
    assert "chip.hbm.bandwidth [B/s]" in out.read_text()
