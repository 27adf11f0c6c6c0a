"""podsim from Python: run the simulator and read its reports.

    import podsim
    r = podsim.run("tpu-v4", "workloads/gemm-example.yaml", set={"chip.hbm.bandwidth": "1200 GB/s"})
    r.summary["time_s"]        # the report's summary, a dict
    r.ops                      # one row per op: a pandas DataFrame (a list of dicts without pandas)
    podsim.load("r.json")      # a report written by `podsim run --json`
    s = podsim.serve("tpu-v4", "workloads/serve/llama3-8b-chat.yaml")   # LLM serving (docs/serving.md)
    s.summary["ttft_s"]["p99"]; s.requests                               # a DataFrame, one row a request
    m = podsim.map("tpu-v4", "workloads/bert-large-layer.yaml", k=4)      # tilings searched (docs/mapping.md)
    m.candidates                                                         # a DataFrame, one row a candidate
    t = podsim.sweep("tpu-v3", "workloads/gemm-example.yaml",               # one row per grid point
                     grid={"chip.hbm.bandwidth": ["450 GB/s", "900 GB/s"], "hardware": ["tpu-v3", "tpu-v4"]})

Hardware and workloads are preset names or file paths, or dicts shaped like their YAML
files. Every run is simulated in a child process (SystemC elaborates once per process),
so a session can run as many as it likes; the report is the one `podsim run --json`
writes, byte for byte. Bad input raises InputError with the file, line, column and key.
"""
import json as _json

from . import _core

__all__ = ["run", "sweep", "load", "serve", "map", "Report", "ServeReport", "MapReport", "InputError", "version"]


class InputError(ValueError):
    """Bad input: what `podsim` reports with exit code 2. Attributes: file, line, column
    (1-based; 0 when unknown) and key_path (e.g. 'workload.ops[0].m')."""

    def __init__(self, message, file="", line=0, column=0, key_path=""):
        super().__init__(message)
        self.file, self.line, self.column, self.key_path = file, line, column, key_path


class Report:
    """One run's report: `.json` is the whole document, `.summary` its summary and
    `.ops` its per-op rows."""

    def __init__(self, document):
        self.json = document
        self.summary = document["summary"]
        rows = document.get("ops", [])
        try:
            import pandas
        except ImportError:  # pandas is optional
            self.ops = rows
        else:
            self.ops = pandas.DataFrame(rows)

    def __repr__(self):
        s = self.summary
        return "<podsim.Report {} on {}: {:.6g} s>".format(
            self.json.get("workload", {}).get("name", "?"), self.json.get("hardware", {}).get("name", "?"),
            s.get("time_s", float("nan")))


def _source(x, what):
    if isinstance(x, dict):
        return _json.dumps(x), True
    if isinstance(x, str):
        return x, False
    raise TypeError("{} must be a preset name, a file path or a dict, not {}".format(what, type(x).__name__))


def _assignments(overrides, what):
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return ["{}={}".format(k, v) for k, v in overrides.items()]
    if isinstance(overrides, (list, tuple)):
        return [str(a) for a in overrides]
    raise TypeError("{} must be a dict of path: value or a list of 'path=value'".format(what))


def run(hardware, workload, set=None, wset=None):
    """Simulates `workload` on `hardware` and returns its Report.

    hardware: a preset ('tpu-v4'), a YAML file, or a dict shaped like one.
    workload: a YAML file or a dict shaped like one ({'workload': {'ops': [...]}}).
    set: hardware overrides, as `--set` takes them ({'chip.clock': '1 GHz'}).
    wset: workload overrides of a workload file, as `--wset` ({'workload.ops[0].m': 512}).
    """
    hw, hw_text = _source(hardware, "hardware")
    wl, wl_text = _source(workload, "workload")
    try:
        text = _core.run(hw, hw_text, wl, wl_text, _assignments(set, "set"), _assignments(wset, "wset"))
    except _core.ConfigError as e:
        raise InputError(*e.args) from None
    return Report(_json.loads(text))


def _sweep_point(args):
    hardware, workload, hw_set, wl_set, metrics = args
    try:
        summary = run(hardware, workload, set=hw_set, wset=wl_set).summary
    except InputError as e:
        return {"status": "failed", "error": str(e)}
    row = {"status": "ok", "error": ""}
    for m in metrics or [k for k, v in summary.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]:
        if m not in summary:
            raise KeyError("sweep: no metric '{}' in the report's summary (it has: {})".format(
                m, ", ".join(sorted(summary))))
        row[m] = summary[m]
    return row


def sweep(hardware, workload, grid, set=None, wset=None, metrics=None, jobs=1):
    """Runs `workload` at every point of `grid` (the product of its axes, in the order
    given, the last axis fastest) and returns one row per point: the point's values, then
    `status` ('ok' or 'failed': a point the simulator refuses, e.g. a tile that does not fit,
    is recorded with its `error`, not raised), then the summary's `metrics` (default: every
    number in the summary). A pandas DataFrame (a list of dicts without pandas).

    grid: {path: [values]}. 'hardware' is an axis of presets, files or dicts; a path under
    'workload.' changes the workload (as wset); any other path the hardware (as set).
    set, wset: overrides that hold at every point. jobs: points simulated at once.

    Columns as in `podsim sweep`'s results.csv: a hardware quantity is a number in its SI
    unit with the unit in the column name ('chip.hbm.bandwidth [B/s]': 9e11 for
    '900 GB/s'), so it sorts, plots and compares as a number; other values as given.
    """
    import itertools
    if not isinstance(grid, dict) or not grid:
        raise TypeError("grid must be a non-empty dict of path: [values]")
    axes = list(grid.items())
    for path, values in axes:
        if not isinstance(values, (list, tuple)) or not values:
            raise TypeError("grid['{}'] must be a non-empty list of values".format(path))
    base_set, base_wset = dict(_pairs(set)), dict(_pairs(wset))
    points, tasks = [], []
    for combo in itertools.product(*[values for _, values in axes]):
        hw, hw_set, wl_set = hardware, dict(base_set), dict(base_wset)
        point = {}
        for (path, _), value in zip(axes, combo):
            column, cell = _column(path, value)
            point[column] = cell
            if path == "hardware":
                hw = value
            elif path.startswith("workload."):
                wl_set[path] = value
            else:
                hw_set[path] = value
        points.append(point)
        tasks.append((hw, workload, hw_set, wl_set, metrics))
    if jobs > 1 and len(tasks) > 1:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(min(int(jobs), len(tasks))) as pool:
            results = pool.map(_sweep_point, tasks)
    else:
        results = [_sweep_point(t) for t in tasks]
    return _frame([dict(p, **r) for p, r in zip(points, results)])


def _column(path, value):
    """A swept value's column name and cell, as results.csv has them (sweep_columns.h)."""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return path, value if isinstance(value, bool) else _json.dumps(value)
    header, cell = _core.param_column(path, str(value))
    if header == path:
        return path, value
    try:
        return header, int(cell)
    except ValueError:
        return header, float(cell)


def pareto(rows, objectives):
    """The rows (a DataFrame or a list of dicts, as `sweep` returns) that no other row beats
    on every objective: at least as good on all and better on one (equal rows are all kept),
    in their order. Rows whose status is not 'ok' or that lack a number for an objective
    are not candidates. objectives: metric names, minimized, or 'metric:max' (as
    `podsim sweep --pareto`), e.g. ['time_s', 'energy_j'].
    """
    records = rows.to_dict("records") if hasattr(rows, "to_dict") else list(rows)
    senses = []
    for o in objectives:
        name, _, sense = str(o).partition(":")
        if sense not in ("", "min", "max"):
            raise ValueError("objective '{}': the sense after ':' is min or max".format(o))
        senses.append((name, sense == "max"))
    if len(senses) < 2:
        raise ValueError("a Pareto front needs at least two objectives")

    def values(r):
        out = []
        for name, most in senses:
            v = r.get(name)
            if not isinstance(v, (int, float)) or v != v:
                return None
            out.append(-v if most else v)
        return out

    cands = [(r, values(r)) for r in records if r.get("status", "ok") == "ok"]
    cands = [(r, v) for r, v in cands if v is not None]
    front = [r for r, v in cands
             if not any(all(b <= a for a, b in zip(v, w)) and w != v for _, w in cands)]
    return _frame(front) if hasattr(rows, "to_dict") else front


def _pairs(overrides):
    """path=value assignments (a dict or a list of 'path=value') as (path, value) pairs."""
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return list(overrides.items())
    return [tuple(str(a).split("=", 1)) for a in overrides]


def _frame(rows):
    try:
        import pandas
    except ImportError:  # pandas is optional
        return rows
    return pandas.DataFrame(rows)


class ServeReport:
    """A `podsim serve` run: `.json` the whole report (as --json writes it), `.summary` its
    summary (latency percentiles, throughput, goodput, KV occupancy) and `.requests` one row
    per request (as --csv writes it)."""

    def __init__(self, document, csv_text):
        import csv
        import io
        self.json = document
        self.summary = document["summary"]
        rows = []
        for r in csv.DictReader(io.StringIO(csv_text)):
            rows.append({k: (float(v) if k.endswith("_s") else int(v)) for k, v in r.items()})
        self.requests = _frame(rows)

    def __repr__(self):
        s = self.summary
        return "<podsim.ServeReport {} on {}: {} requests, {:.1f} output tokens/s>".format(
            self.json.get("serve", "?"), self.json.get("hardware", "?"), s.get("requests", 0),
            s.get("output_tokens_per_s", float("nan")))


class MapReport:
    """A `podsim map` run: `.json` the whole report and `.candidates` one row per simulated
    tiling (op, tile, predicted_s, simulated_s, heuristic, best)."""

    def __init__(self, document):
        self.json = document
        rows = []
        for op in document["ops"]:
            for i, c in enumerate(op["candidates"]):
                row = {"op": op["name"], "kind": op["kind"], "shape": op["shape"], "occurrences": op["occurrences"]}
                row.update({k: v for k, v in c.items() if k != "tile"})
                row["tm"], row["tk"], row["tn"] = c["tile"]
                row["best"] = i == op["best"]
                rows.append(row)
        self.candidates = _frame(rows)

    def __repr__(self):
        return "<podsim.MapReport {} on {}: {} ops, {} simulations>".format(
            self.json.get("workload", "?"), self.json.get("hardware", "?"), len(self.json.get("ops", [])),
            self.json.get("simulations", 0))


def serve(hardware, serve_file, set=None, sset=None, jobs=2):
    """Runs `podsim serve serve_file --hw hardware` and returns its ServeReport.

    hardware: a preset, a YAML file or a dict; serve_file: a serve YAML file (its model
    workload and trace are read relative to it). set: hardware overrides (as --set);
    sset: fields of the serve file, {"serve.requests.rate": 8} (as --sset). The grid
    simulations run `jobs` at a time.
    """
    hw, hw_text = _source(hardware, "hardware")
    try:
        text = _core.serve(str(serve_file), hw, hw_text, _assignments(set, "set"), _assignments(sset, "sset"),
                           int(jobs))
    except _core.ConfigError as e:
        raise InputError(*e.args) from None
    report, _, csv_text = text.partition("\x1e")
    return ServeReport(_json.loads(report), csv_text)


def map(hardware, workload, k=8, set=None, wset=None, jobs=2):
    """Runs `podsim map` (each distinct MXU op's heuristic tiling and the cost model's next
    `k` best, each simulated alone) and returns its MapReport."""
    hw, hw_text = _source(hardware, "hardware")
    wl, wl_text = _source(workload, "workload")
    try:
        text = _core.map(hw, hw_text, wl, wl_text, _assignments(set, "set"), _assignments(wset, "wset"), int(k),
                         int(jobs))
    except _core.ConfigError as e:
        raise InputError(*e.args) from None
    return MapReport(_json.loads(text))


def load(path):
    """Reads a JSON report written by `podsim run --json` (or Report.json saved)."""
    with open(path) as f:
        return Report(_json.load(f))


def version():
    return _core.version()
