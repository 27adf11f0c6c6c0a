"""`podsim mxu --model pe --vcd`: the PE array's states as a VCD waveform written through
SystemC's sc_trace. The waveform must carry, cycle by cycle, exactly the states the same
run's --frames JSON lists (an independent writer of the same model), every PE declared
once per field, and refuse what it cannot do with exit 2."""
import json
import os
import re
import subprocess

BINARY = os.environ["PODSIM_BINARY"]
ARGS = ["mxu", "--model", "pe", "--rows", "4", "--cols", "3", "--m", "5", "--k", "6", "--n", "5", "--dtype", "int8"]


def parse_vcd(text):
    """{time: {(row, col): {field: value}}} of the values in force at each time step."""
    ids, scope = {}, None
    head, _, body = text.partition("$enddefinitions")
    for line in head.splitlines():
        m = re.match(r"\s*\$scope module (pe_(\d+)_(\d+)) \$end", line)
        if m:
            scope = (int(m.group(2)), int(m.group(3)))
            continue
        m = re.match(r"\s*\$var (wire|real)\s+\d+\s+(\S+)\s+(\w+)", line)
        if m and scope is not None:
            ids[m.group(2)] = (scope, m.group(3))
    state, steps, now = {}, {}, None
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("#"):
            if now is not None:
                steps[now] = {k: dict(v) for k, v in state.items()}
            now = int(line[1:])
        elif line.startswith("r"):
            value, ident = line[1:].split()
            pe, field = ids[ident]
            state.setdefault(pe, {})[field] = float(value)
        elif line[:1] in "01" and line[1:] in ids:
            pe, field = ids[line[1:]]
            state.setdefault(pe, {})[field] = float(line[0])
    if now is not None:
        steps[now] = {k: dict(v) for k, v in state.items()}
    return ids, steps


def test_the_waveform_carries_the_frames_cycle_by_cycle(tmp_path):
    vcd, frames = tmp_path / "pe.vcd", tmp_path / "frames.json"
    r = subprocess.run([BINARY] + ARGS + ["--vcd", str(vcd)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Info" not in r.stdout + r.stderr  # no SystemC banner
    subprocess.run([BINARY] + ARGS + ["--frames", str(frames)], check=True, capture_output=True)
    text = vcd.read_text()
    assert "$timescale\n     1 ns\n$end" in text
    ids, steps = parse_vcd(text)
    assert len(ids) == 4 * 3 * 4  # 4 x 3 PEs, 4 fields each
    doc = json.loads(frames.read_text())
    checked = 0
    for f in doc["frames"]:
        valid = {(row, col): (x, w, p) for row, col, x, w, p in f["pes"]}
        if f["cycle"] not in steps:
            assert not valid, f["cycle"]  # nothing changed, nothing passed
            continue
        at = steps[f["cycle"]]
        for pe, fields in at.items():
            assert (fields.get("valid", 0.0) == 1.0) == (pe in valid), (f["cycle"], pe)
            if pe in valid:
                assert (fields["input"], fields["stationary"], fields["partial"]) == valid[pe], (f["cycle"], pe)
                checked += 1
    assert checked == sum(len(f["pes"]) for f in doc["frames"]) > 0  # every state the frames list
    assert not list(tmp_path.glob("*.tmp-*"))  # the temporary name is gone


def test_the_waveform_refuses_what_it_cannot_do(tmp_path):
    tile = subprocess.run([BINARY, "mxu", "--m", "8", "--k", "8", "--n", "8", "--vcd", str(tmp_path / "t.vcd")],
                          capture_output=True, text=True)
    assert tile.returncode == 2 and "only the PE model" in tile.stderr
    nowhere = subprocess.run([BINARY] + ARGS + ["--vcd", str(tmp_path / "missing" / "x.vcd")], capture_output=True,
                             text=True)
    assert nowhere.returncode == 2 and "does not exist" in nowhere.stderr
    big = subprocess.run([BINARY, "mxu", "--model", "pe", "--rows", "512", "--cols", "512", "--m", "512", "--k", "512",
                          "--n", "512", "--vcd", str(tmp_path / "big.vcd")], capture_output=True, text=True)
    assert big.returncode == 2 and "--max-frames" in big.stderr
    assert not (tmp_path / "big.vcd").exists()


def test_lab_6_the_next_tile_loads_while_the_array_streams(tmp_path):
    """docs/labs.md, Lab 6: in the trace of lab3.yaml on lab-8x8, the read DMA of the next
    tile runs while the MXU streams the current one (double buffering): read-DMA time
    overlaps MXU time, and reads go on after the MXU has started."""
    workload = tmp_path / "lab3.yaml"
    workload.write_text("workload:\n  ops:\n    - {op: matmul, name: big, m: 512, k: 512, n: 512, dtype: bf16}\n"
                        "    - {op: matmul, name: fc, m: 8, k: 512, n: 512, dtype: bf16}\n")
    trace = tmp_path / "lab3.json"
    subprocess.run([BINARY, "run", str(workload), "--hw", "lab-8x8", "--trace", str(trace), "-q"], check=True)
    events = json.loads(trace.read_text())["traceEvents"]
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    spans = {}
    for e in events:
        if e.get("ph") == "X":
            spans.setdefault(names.get((e["pid"], e["tid"])), []).append((e["ts"], e["ts"] + e["dur"]))
    mxu, reads = spans["core0.mxu0"], spans["core0.read_dma"]
    overlap = sum(max(0.0, min(a1, b1) - max(a0, b0)) for a0, a1 in reads for b0, b1 in mxu)
    assert overlap > 0.5 * sum(a1 - a0 for a0, a1 in reads)  # most of the reading hides under compute
    assert max(a0 for a0, _ in reads) > min(b0 for b0, _ in mxu)
