"""Plots of podsim reports and sweeps (matplotlib). From the command line:

    podsim plot roofline REPORT.json -o roofline.svg
    podsim plot ops REPORT.json -o ops.png
    podsim plot sweep results/results.csv --x chip.hbm.bandwidth --y time_s [--hue chip.clock] [--heatmap] -o s.svg
    podsim plot timeline TRACE.json -o timeline.svg       (a trace of podsim run --trace)
    podsim plot scaling SCALING.json -o scaling.svg       (podsim run --chips 1,8,64 --json)
    podsim plot serve SERVE.json [--requests requests.csv] -o serve.svg

(`podsim plot` runs `python3 -m podsim.plot`.) The format follows the file's extension:
.svg keeps text as text, so labels stay searchable and editable; .png, .pdf too.
"""
import argparse
import csv
import json
import math
import sys

BOUND_COLOURS = {"mxu": "tab:blue", "weight_shift": "tab:purple", "memory": "tab:red", "vector": "tab:green",
                 "dma_latency": "tab:orange", "waiting": "tab:gray", "epilogue": "tab:olive", "network": "tab:cyan"}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")  # files only, no display
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays <text> in SVG
    matplotlib.rcParams["svg.hashsalt"] = "podsim"  # the same inputs give the same SVG
    import matplotlib.pyplot as plt
    return plt


def _load(report):
    if isinstance(report, dict):
        return report
    if hasattr(report, "json"):
        return report.json
    with open(report) as f:
        return json.load(f)


def _title(doc, what):
    return "{}: {} on {}".format(what, doc.get("workload", {}).get("name", "?"), doc.get("hardware", {}).get("name", "?"))


def _save(fig, path):
    """Writes through a temporary file and a rename: a reader never sees half a plot, and a
    failed write leaves an older file as it was."""
    import os
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    tmp = "{}.tmp-{}".format(path, os.getpid())
    try:
        fig.savefig(tmp, format=fmt, bbox_inches="tight",
                    metadata={"Date": None} if fmt == "svg" else ({"Software": "podsim"} if fmt == "png" else None))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def roofline(report, path):
    """Each op at (FLOPs per HBM byte, achieved TFLOPS), coloured by what bounded it, under
    the chip's roofline (peak TFLOPS; HBM bandwidth x intensity)."""
    doc = _load(report)
    s = doc["summary"]
    peak, bw = s["peak_tflops"], s["hbm_peak_gbps"] / 1000.0  # TFLOPS, TB/s
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    points = [(o["flops"] / max(1, o["hbm_read_bytes"] + o["hbm_write_bytes"]), o["achieved_tflops"], o)
              for o in doc.get("ops", []) if o.get("flops", 0) > 0 and o.get("time_s", 0) > 0]
    lo = min([p[0] for p in points] + [peak / bw / 100])
    hi = max([p[0] for p in points] + [peak / bw * 100])
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.plot(xs, [min(peak, bw * x) for x in xs], color="black", linewidth=1.5, label="roofline")
    ax.axvline(peak / bw, color="black", linestyle=":", linewidth=0.8)
    for bound in sorted({p[2].get("bound", "?") for p in points}):
        mine = [p for p in points if p[2].get("bound", "?") == bound]
        ax.scatter([p[0] for p in mine], [p[1] for p in mine], s=24, color=BOUND_COLOURS.get(bound, "tab:brown"),
                   label="bound: " + bound, zorder=3)
    if len(points) <= 30:  # few enough to name
        for x, y, o in points:
            ax.annotate(o["name"], (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("operational intensity (FLOP per HBM byte)")
    ax.set_ylabel("achieved TFLOPS")
    ax.set_title(_title(doc, "roofline") + " (ridge {:.0f} FLOP/B)".format(peak / bw))
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, which="both", linewidth=0.3)
    _save(fig, path)
    plt.close(fig)


def ops(report, path, top=25):
    """Time per op (the `top` longest), coloured by kind, with the share of the run."""
    doc = _load(report)
    rows = sorted(doc.get("ops", []), key=lambda o: -o.get("time_s", 0))
    total = sum(o.get("time_s", 0) for o in rows) or 1.0
    shown = rows[:top]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(shown) + 1.2))
    kinds = sorted({o.get("kind", "?") for o in shown})
    palette = plt.get_cmap("tab10")
    colour = {k: palette(i % 10) for i, k in enumerate(kinds)}
    names = [o["name"] for o in shown][::-1]
    times = [o.get("time_s", 0) * 1e6 for o in shown][::-1]
    ax.barh(names, times, color=[colour[o.get("kind", "?")] for o in shown][::-1])
    for y, o in enumerate(shown[::-1]):
        ax.text(o.get("time_s", 0) * 1e6, y, " {:.1f} %".format(100 * o.get("time_s", 0) / total), va="center",
                fontsize=7)
    ax.set_xlabel("time (us)")
    ax.set_title(_title(doc, "op times") + ("" if len(rows) <= top else " (longest {} of {})".format(top, len(rows))))
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour[k]) for k in kinds]
    ax.legend(handles, kinds, fontsize=8, loc="lower right")
    _save(fig, path)
    plt.close(fig)


def _number(text):
    """A CSV cell as a number when it is one ("1200" or "1.5e9"), else None."""
    try:
        x = float(text)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _sort_key(value):
    """Numbers in numeric order, before any text (in text order)."""
    return (_number(value) is None, _number(value) or 0, value)


def sweep(results_csv, x, y, path, hue=None, heatmap=False):
    """`y` against `x` from a sweep's results.csv, one line per value of `hue`; with
    `heatmap`, a grid of `y` over (`x`, `hue`), each cell labelled with its value."""
    with open(results_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError("{}: no rows".format(results_csv))
    def column_of(name):
        """A column by its name, or by its parameter path without the unit podsim puts in the
        header of a hardware quantity ("chip.hbm.bandwidth" finds "chip.hbm.bandwidth [B/s]")."""
        if name in rows[0]:
            return name
        matches = [c for c in rows[0] if c.startswith(name + " [") and c.endswith("]")]
        if len(matches) == 1:
            return matches[0]
        raise ValueError("{}: no column '{}'; columns: {}".format(results_csv, name, ", ".join(rows[0])))
    x, y = column_of(x), column_of(y)
    hue = column_of(hue) if hue else None
    if heatmap:
        if not hue:
            raise ValueError("a heatmap needs --hue: the second axis")
        return _sweep_heatmap(rows, x, y, hue, path)
    groups = {}
    for r in rows:
        groups.setdefault(r[hue] if hue else "", []).append(r)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    numeric_x = all(_number(r[x]) is not None for r in rows)
    for key in sorted(groups, key=lambda k: (_number(k) is None, _number(k) or 0, k)):
        g = groups[key]
        pts = [((_number(r[x]) if numeric_x else r[x]), _number(r[y])) for r in g if _number(r[y]) is not None]
        if numeric_x:
            pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label="{} = {}".format(hue, key) if hue else y)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title("{} against {}".format(y, x) + (" by {}".format(hue) if hue else ""))
    if hue:
        ax.legend(fontsize=8)
    ax.grid(True, linewidth=0.3)
    _save(fig, path)
    plt.close(fig)


def _sweep_heatmap(rows, x, y, hue, path):
    xs = sorted({r[x] for r in rows}, key=_sort_key)
    hs = sorted({r[hue] for r in rows}, key=_sort_key)
    cells = {}
    for r in rows:
        v = _number(r[y])
        if v is None:
            continue  # a failed point: its cell stays empty
        if (r[x], r[hue]) in cells and cells[(r[x], r[hue])] != v:
            raise ValueError("several points at {} = {}, {} = {} differ in {}: a third parameter varies; "
                             "plot a subset".format(x, r[x], hue, r[hue], y))
        cells[(r[x], r[hue])] = v
    nan = float("nan")
    grid = [[cells.get((xv, hv), nan) for xv in xs] for hv in hs]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(xs) + 2.5), max(3.0, 0.5 * len(hs) + 1.8)))
    image = ax.imshow(grid, aspect="auto", origin="lower", cmap="viridis")
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels(xs, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(hs)))
    ax.set_yticklabels(hs, fontsize=8)
    finite = [v for v in cells.values()]
    middle = (min(finite) + max(finite)) / 2 if finite else 0
    for i, hv in enumerate(hs):
        for j, xv in enumerate(xs):
            if (xv, hv) in cells:
                v = cells[(xv, hv)]
                ax.text(j, i, "{:.4g}".format(v), ha="center", va="center", fontsize=7,
                        color="white" if v < middle else "black")
    ax.set_xlabel(x)
    ax.set_ylabel(hue)
    fig.colorbar(image, ax=ax, label=y)
    ax.set_title("{} over {} and {}".format(y, x, hue))
    _save(fig, path)
    plt.close(fig)


# Trace tracks of a chip (podsim run --trace), by what their names end with.
TIMELINE_LANES = (("mxu", "tab:blue"), ("vector_unit", "tab:green"), ("read_dma", "tab:orange"),
                  ("write_dma", "tab:red"), ("replayed", "tab:gray"))


def timeline(trace, path):
    """A `podsim run --trace` file over time: the ops, then each MXU, vector unit and DMA
    engine as bars where it was busy; below, HBM bandwidth (and power when the trace has it)."""
    doc = _load(trace)
    events = doc.get("traceEvents") if isinstance(doc, dict) else None
    if not isinstance(events, list):
        raise ValueError("{}: not a trace (podsim run --trace FILE); a JSON report has no timeline".format(trace))
    process, thread = {}, {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "process_name":
            process[e["pid"]] = e["args"]["name"]
        elif e.get("ph") == "M" and e.get("name") == "thread_name":
            thread[(e["pid"], e["tid"])] = e["args"]["name"]
    chip = [pid for pid, name in process.items() if name.startswith("chip")]
    if not chip:
        raise ValueError("{}: no chip process in the trace".format(trace))
    pid = min(chip)
    lanes = []  # (label, colour, [(start_us, duration_us)])
    by_tid = {}
    for e in events:
        if e.get("ph") == "X" and e.get("pid") == pid:
            by_tid.setdefault(e["tid"], []).append((float(e["ts"]), float(e.get("dur", 0))))
    for tid in sorted(by_tid):
        name = thread.get((pid, tid), "track {}".format(tid))
        if name == "ops":
            colour = "tab:purple"
        else:
            colour = next((c for suffix, c in TIMELINE_LANES if name.split(".")[-1].startswith(suffix)), "tab:brown")
        lanes.append((name, colour, by_tid[tid]))
    counters = {}
    for e in events:
        if e.get("ph") == "C" and e.get("name") == "total" or (e.get("ph") == "C" and process.get(e.get("pid"), "").startswith("power")):
            value = next(iter(e.get("args", {}).values()), None)
            if isinstance(value, (int, float)):
                counters.setdefault(process.get(e["pid"], "?"), []).append((float(e["ts"]), float(value)))
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 0.32 * len(lanes) + 3.6),
                                      gridspec_kw={"height_ratios": [max(1.0, 0.32 * len(lanes)), 1.6]})
    for i, (name, colour, spans) in enumerate(lanes):
        top.broken_barh(spans, (len(lanes) - 1 - i - 0.4, 0.8), facecolors=colour, linewidth=0)
    top.set_yticks(range(len(lanes)))
    top.set_yticklabels([lane[0] for lane in lanes][::-1], fontsize=7)
    top.set_title("timeline: {} ({})".format(doc.get("otherData", {}).get("workload", "?"), process[pid]))
    hbm = next((v for k, v in counters.items() if k.startswith("HBM")), [])
    if hbm:
        hbm.sort()
        bottom.step([t for t, _ in hbm], [v for _, v in hbm], where="post", color="tab:red", linewidth=0.8,
                    label="HBM GB/s")
    bottom.set_ylabel("HBM GB/s")
    power = next((v for k, v in counters.items() if k.startswith("power")), [])
    if power:
        power.sort()
        twin = bottom.twinx()
        twin.step([t for t, _ in power], [v for _, v in power], where="post", color="tab:olive", linewidth=0.8,
                  label="power W")
        twin.set_ylabel("power (W)")
    bottom.set_xlabel("time (us)")
    bottom.grid(True, linewidth=0.3)
    _save(fig, path)
    plt.close(fig)


def scaling(report, path):
    """A `podsim run --chips ... --json` table: achieved against peak PFLOPS by pod size, and
    each size's step time split into compute and exposed communication, with the scaling
    efficiency."""
    doc = _load(report)
    if doc.get("schema", "").split("/")[0] != "podsim.scaling":
        raise ValueError("{}: not a scaling table (podsim run --chips 1,8,64 --json FILE)".format(
            report if isinstance(report, str) else "the report"))
    runs = sorted(doc["runs"], key=lambda r: r["chips"])
    chips = [r["chips"] for r in runs]
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    fig.subplots_adjust(wspace=0.45)
    left.plot(chips, [r["peak_tflops"] / 1e3 for r in runs], color="black", linestyle="--", label="peak")
    left.plot(chips, [r["achieved_tflops"] / 1e3 for r in runs], color="tab:blue", marker="o", label="achieved")
    left.set_xscale("log", base=2)
    left.set_yscale("log")
    left.set_xlabel("chips")
    left.set_ylabel("PFLOPS")
    left.legend(fontsize=8)
    left.grid(True, which="both", linewidth=0.3)
    left.set_title("{} on {}".format(doc.get("workload", "?"), doc.get("hardware", "?")))
    positions = range(len(runs))
    compute = [1e3 * r["compute_s"] for r in runs]
    exposed = [1e3 * r["exposed_comm_s"] for r in runs]
    other = [max(0.0, 1e3 * r["time_s"] - c - x) for r, c, x in zip(runs, compute, exposed)]
    right.bar(positions, compute, color="tab:blue", label="compute")
    right.bar(positions, exposed, bottom=compute, color="tab:red", label="exposed communication")
    right.bar(positions, other, bottom=[c + x for c, x in zip(compute, exposed)], color="tab:gray",
              label="other (bubble)")
    right.set_xticks(list(positions))
    right.set_xticklabels([str(c) for c in chips])
    right.set_xlabel("chips")
    right.set_ylabel("step time (ms)")
    twin = right.twinx()
    twin.plot(list(positions), [100 * r["scaling_efficiency"] for r in runs], color="black", marker="s",
              label="scaling efficiency")
    twin.set_ylabel("scaling efficiency (%)")
    twin.set_ylim(0, 105)
    handles = right.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    right.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14),
                 ncol=2)
    right.set_title("step time and weak-scaling efficiency")
    _save(fig, path)
    plt.close(fig)


def _cdf(ax, values, label):
    values = sorted(values)
    n = len(values)
    ax.step(values, [(i + 1) / n for i in range(n)], where="post", label=label)


def serve(report, path, requests_csv=None):
    """A `podsim serve` run: the KV cache's occupancy and the batch over time and, with the
    per-request CSV (podsim serve --csv), the distributions of TTFT and TPOT."""
    doc = _load(report)
    samples = doc["timeline"]["samples"]
    blocks = doc["summary"]["kv_blocks"]
    plt = _pyplot()
    panels = 2 if requests_csv else 1
    fig, axes = plt.subplots(1, panels, figsize=(6.5 * panels, 4.2), squeeze=False)
    fig.subplots_adjust(wspace=0.4)  # room for the twin axis' label between the panels
    ax = axes[0][0]
    t = [x["t_s"] for x in samples]
    ax.plot(t, [100.0 * x["kv_blocks"] / blocks if blocks else 0.0 for x in samples], label="KV cache in use (%)",
            color="tab:red")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("KV cache in use (%)")
    ax.set_ylim(0, 105)
    twin = ax.twinx()
    twin.plot(t, [x["running"] for x in samples], label="sequences running", color="tab:blue", linewidth=0.8)
    twin.plot(t, [x["waiting"] for x in samples], label="requests waiting", color="tab:gray", linewidth=0.8)
    twin.set_ylabel("sequences")
    lines = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(lines, [h.get_label() for h in lines], fontsize=8, loc="upper left")
    ax.set_title("serve {} on {}: cache and batch".format(doc.get("serve", "?"), doc.get("hardware", "?")))
    if requests_csv:
        with open(requests_csv) as f:
            rows = list(csv.DictReader(f))
        if not rows or "ttft_s" not in rows[0]:
            raise ValueError("{}: not a request CSV of podsim serve --csv".format(requests_csv))
        ax = axes[0][1]
        _cdf(ax, [1e3 * float(r["ttft_s"]) for r in rows], "TTFT")
        _cdf(ax, [1e3 * float(r["tpot_s"]) for r in rows if int(r["output_tokens"]) > 1], "TPOT")
        ax.set_xscale("log")
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("fraction of requests")
        for name, key in (("TTFT", "slo_ttft_s"), ("TPOT", "slo_tpot_s")):
            if doc["summary"].get(key):
                ax.axvline(1e3 * doc["summary"][key], linestyle="--", linewidth=0.8, color="black")
                ax.text(1e3 * doc["summary"][key], 0.35, " {} SLO".format(name), fontsize=7, rotation=90)
        ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.45, 0.02))  # clear of curves and SLO labels
        ax.grid(True, linewidth=0.3)
        ax.set_title("latency distributions ({} requests)".format(len(rows)))
    _save(fig, path)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(prog="podsim plot", description="plots of podsim reports and sweeps")
    sub = p.add_subparsers(dest="what", required=True)
    for name, helptext in (("roofline", "each op on the chip's roofline, coloured by its bound"),
                           ("ops", "time per op, coloured by kind")):
        q = sub.add_parser(name, help=helptext)
        q.add_argument("report", help="a JSON report (podsim run --json)")
        q.add_argument("-o", "--output", required=True, help="the file to write (.svg, .png, .pdf)")
    q = sub.add_parser("serve", help="a podsim serve run: the cache and batch over time, latency distributions")
    q.add_argument("report", help="a JSON report (podsim serve --json)")
    q.add_argument("--requests", help="its per-request CSV (podsim serve --csv): adds TTFT and TPOT distributions")
    q.add_argument("-o", "--output", required=True, help="the file to write (.svg, .png, .pdf)")
    q = sub.add_parser("sweep", help="a metric against a swept parameter")
    q.add_argument("results", help="a sweep's results.csv")
    q.add_argument("--x", required=True)
    q.add_argument("--y", required=True)
    q.add_argument("--hue")
    q.add_argument("--heatmap", action="store_true", help="a grid of y over x and hue instead of lines")
    q.add_argument("-o", "--output", required=True)
    q = sub.add_parser("timeline", help="MXUs, vector units, DMA and HBM over time, from a trace")
    q.add_argument("trace", help="a trace (podsim run --trace FILE)")
    q.add_argument("-o", "--output", required=True, help="the file to write (.svg, .png, .pdf)")
    q = sub.add_parser("scaling", help="throughput, step time and efficiency by pod size")
    q.add_argument("report", help="a scaling table (podsim run --chips 1,8,64 --json FILE)")
    q.add_argument("-o", "--output", required=True, help="the file to write (.svg, .png, .pdf)")
    a = p.parse_args(argv)
    try:
        if a.what == "sweep":
            sweep(a.results, a.x, a.y, a.output, a.hue, a.heatmap)
        elif a.what == "timeline":
            timeline(a.trace, a.output)
        elif a.what == "scaling":
            scaling(a.report, a.output)
        elif a.what == "serve":
            serve(a.report, a.output, a.requests)
        else:
            (roofline if a.what == "roofline" else ops)(a.report, a.output)
    except (OSError, ValueError, KeyError) as e:
        print("error: {}".format(e if not isinstance(e, KeyError) else "the report has no field {}".format(e)),
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
