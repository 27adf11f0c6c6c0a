"""podsim from Python: run the simulator and read its reports.

    import podsim
    r = podsim.run("tpu-v4", "workloads/gemm-example.yaml", set={"chip.hbm.bandwidth": "1200 GB/s"})
    r.summary["time_s"]        # the report's summary, a dict
    r.ops                      # one row per op: a pandas DataFrame (a list of dicts without pandas)
    podsim.load("r.json")      # a report written by `podsim run --json`

Hardware and workloads are preset names or file paths, or dicts shaped like their YAML
files. Every run is simulated in a child process (SystemC elaborates once per process),
so a session can run as many as it likes; the report is the one `podsim run --json`
writes, byte for byte. Bad input raises InputError with the file, line, column and key.
"""
import json as _json

from . import _core

__all__ = ["run", "load", "Report", "InputError", "version"]


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


def load(path):
    """Reads a JSON report written by `podsim run --json` (or Report.json saved)."""
    with open(path) as f:
        return Report(_json.load(f))


def version():
    return _core.version()
