#!/usr/bin/env python3
"""Writes the mirror_*.jsonl golden histories of checker/mirror_test.go
(issue 23) beside this file: python3 checker/testdata/mirror_golden.py."""
import json, os
HERE = os.path.dirname(os.path.abspath(__file__))
MS = 1_000_000
def op(p, t, f, time, value=None, node=None, seq=None, err=None):
    o = {"process": p, "type": t, "f": f, "time": int(time*MS)}
    if value is not None: o["value"] = value
    if node: o["node"] = node
    if seq: o["seq"] = seq
    if err: o["err"] = err
    return o
def write(name, ops):
    ops = sorted(ops, key=lambda o: o["time"])
    with open(os.path.join(HERE, name + ".jsonl"), "w") as f:
        for i, o in enumerate(ops):
            f.write(json.dumps({"index": i, **o}, separators=(",", ":")) + "\n")
# Publishes: value -> outcome; origin = counter mod 2 (jetstorm, jetstorm_b).
PUBS = [("0-0", "ok"), ("0-1", "ok"), ("1-0", "ok"), ("1-1", "ok"), ("2-0", "fail"), ("2-1", "info")]
COPIES = {
    "jetstorm": ["0-0", "1-0"],
    "jetstorm_b": ["0-1", "1-1", "2-1"],
    "jetstorm_mirror": ["0-0", "1-0"],
    "jetstorm_sourced": ["0-0", "0-1", "1-0", "1-1", "2-1"],
}
# Lag samples: time -> (mirror, sourced); the partition heals at 6 s.
LAGS = {1000: (0, 0), 2000: (2, 3), 4000: (1, 2), 6500: (1, 0), 7000: (0, 0), 12000: (0, 0)}
def mirror(copies=None, seqs=None, lags=None, drains=None, recover="ok", extra=()):
    ops = [op(-1, "ok", "meta", 0, {"workload": "mirror", "scenario": "golden"}),
           op(-1, "ok", "mirror-rules", 1, {"origins": ["jetstorm", "jetstorm_b"], "mirror": "jetstorm_mirror",
                                             "sourced": "jetstorm_sourced", "converge_after_ms": 5000})]
    for i, (v, out) in enumerate(PUBS):
        p = int(v.split("-")[0])
        t = 1000 + 100*i
        ops += [op(p, "invoke", "publish", t, v, node="n1"),
                op(p, out, "publish", t+10, v, node="n1", err=None if out == "ok" else "nats: timeout")]
    ops += [op(-2, "invoke", "fault", 3000, {"kind": "partition", "nodes": ["n1", "n2", "n3"]}),
            op(-2, "ok", "fault", 6000, {"kind": "partition", "nodes": ["n1", "n2", "n3"]})]
    for t, (m, s) in (LAGS if lags is None else lags).items():
        if m is None:
            ops.append(op(5000000, "info", "mirror-lag", t, err="jetstorm: context deadline exceeded"))
        else:
            ops.append(op(5000000, "ok", "mirror-lag", t, {"mirror": m, "sourced": s, "mirror_reported": 0, "sourced_reported": 0}))
    ops += [op(-1, "invoke", "recover", 12500), op(-1, recover, "recover", 12600)]
    cps = dict(COPIES)
    cps.update(copies or {})
    t = 13000
    for name in ["jetstorm", "jetstorm_b", "jetstorm_mirror", "jetstorm_sourced"]:
        ops.append(op(-1, "invoke", "stream-drain", t, name))
        for i, v in enumerate(cps[name]):
            seq = (seqs or {}).get(name, list(range(1, len(cps[name])+1)))[i]
            ops.append(op(-1, "ok", "stream-read", t+1+i, f"{name} {v}", seq=seq))
        ops.append(op(-1, (drains or {}).get(name, "ok"), "stream-drain", t+50, name))
        t += 100
    return ops + list(extra)
write("mirror_valid", mirror())
write("mirror_gap", mirror(copies={"jetstorm_mirror": ["0-0"]}))
write("mirror_duplicate", mirror(copies={"jetstorm_mirror": ["0-0", "1-0", "1-0"]}))
write("mirror_mismatch", mirror(copies={"jetstorm_mirror": ["0-0", "0-1"]}))
# The mirror at other sequences than its origin's: seq 2 missing, 3 extra.
write("mirror_shifted", mirror(seqs={"jetstorm_mirror": [1, 3]}))
write("mirror_sourced_gap", mirror(copies={"jetstorm_sourced": ["0-0", "0-1", "1-0", "2-1"]}))
write("mirror_sourced_duplicate", mirror(copies={"jetstorm_sourced": ["0-0", "0-1", "1-0", "0-1", "1-1", "2-1"]}))
write("mirror_sourced_order", mirror(copies={"jetstorm_sourced": ["1-0", "0-1", "0-0", "1-1", "2-1"]}))
write("mirror_sourced_extra", mirror(copies={"jetstorm_sourced": ["0-0", "0-1", "1-0", "1-1", "2-1", "7-7"]}))
# The mirror's lag never back to 0 after the heal at 6 s: samples to 12 s.
write("mirror_wedge", mirror(lags={1000: (0, 0), 2000: (2, 3), 6500: (1, 0), 12000: (1, 0)}))
# Back to 0 only 5.5 s after the heal (converge_after 5 s).
write("mirror_late", mirror(lags={1000: (0, 0), 6500: (1, 0), 11500: (0, 0)}))
# The samples stop 2 s after the heal, the mirror still behind.
write("mirror_lag_unjudged", mirror(lags={1000: (0, 0), 6500: (1, 0), 8000: (1, 0), 9000: (None, None)}))
write("mirror_lost", mirror(copies={"jetstorm": ["0-0"], "jetstorm_mirror": ["0-0"], "jetstorm_sourced": ["0-0", "0-1", "1-1", "2-1"]}))
write("mirror_failed_stored", mirror(copies={"jetstorm": ["0-0", "1-0", "2-0"], "jetstorm_mirror": ["0-0", "1-0", "2-0"],
                                              "jetstorm_sourced": ["0-0", "0-1", "1-0", "1-1", "2-1", "2-0"]}))
write("mirror_wrong_origin", mirror(copies={"jetstorm_b": ["0-1", "1-1", "2-1", "1-0"]}))
write("mirror_incomplete", mirror(drains={"jetstorm_sourced": "info"}))
write("mirror_unhealed", mirror(recover="info", copies={"jetstorm_mirror": ["0-0"]}))
write("mirror_malformed", mirror(extra=[op(-1, "ok", "stream-read", 20000, "jetstorm", seq=9)]))
