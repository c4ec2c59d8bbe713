"""The golden-history writers' shared parts (imported by *_golden.py here):
an op of history.jsonl, and writing a history file beside this one."""
import json, os
HERE = os.path.dirname(os.path.abspath(__file__))
MS = 1_000_000


def op(p, t, f, time, value=None, node=None, seq=None, err=None):
    """One op: process p, type t, function f at time ms since the start."""
    o = {"process": p, "type": t, "f": f, "time": int(time*MS)}
    if value is not None: o["value"] = value
    if node: o["node"] = node
    if seq: o["seq"] = seq
    if err: o["err"] = err
    return o


def write(name, ops):
    """Writes name.jsonl here: the ops sorted by time, indexed in order."""
    ops = sorted(ops, key=lambda o: o["time"])
    with open(os.path.join(HERE, name + ".jsonl"), "w") as f:
        for i, o in enumerate(ops):
            f.write(json.dumps({"index": i, **o}, separators=(",", ":")) + "\n")
