#!/usr/bin/env python3
"""Writes the mirror_*.jsonl golden histories of checker/mirror_test.go
(issue 23) beside this file: python3 checker/testdata/mirror_golden.py."""
from golden import op, write, MS
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
def mirror(copies=None, seqs=None, lags=None, drains=None, recover="ok", extra=(), pubs=PUBS, unread=(), origins=["jetstorm", "jetstorm_b"]):
    ops = [op(-1, "ok", "meta", 0, {"workload": "mirror", "scenario": "golden"}),
           op(-1, "ok", "mirror-rules", 1, {"origins": origins, "mirror": "jetstorm_mirror",
                                             "sourced": "jetstorm_sourced", "converge_after_ms": 5000})]
    for i, (v, out) in enumerate(pubs):
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
        if name in unread:
            continue
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
# A read of no stream being read, a stream's end read twice, publishes
# that are not "P-C" (no dash, no number, a negative one), one before the
# rules, a completion of no publish, a second completion.
write("mirror_malformed", mirror(extra=[op(-1, "ok", "stream-read", 20000, "jetstorm", seq=9),
                                        op(-1, "ok", "stream-drain", 20001, "jetstorm"),
                                        op(7, "invoke", "publish", 20002, "x", node="n1"),
                                        op(8, "invoke", "publish", 20003, "8-a", node="n1"),
                                        op(9, "invoke", "publish", 20004, "9--1", node="n1"),
                                        op(10, "invoke", "publish", 0, "10-0", node="n1"),
                                        op(11, "ok", "publish", 20005, "11-0", node="n1"),
                                        op(0, "ok", "publish", 20006, "0-0", node="n1")]))
# Rules that name no origin.
write("mirror_bad_rules", mirror(origins=[]))
write("mirror_no_rules", [op(-1, "ok", "meta", 0, {"workload": "mirror", "scenario": "golden"}),
                          op(-1, "invoke", "recover", 100), op(-1, "ok", "recover", 200)])
write("mirror_none_acked", mirror(pubs=[(v, "fail" if out != "info" else out) for v, out in PUBS],
                                  copies={"jetstorm": [], "jetstorm_mirror": [], "jetstorm_b": ["2-1"], "jetstorm_sourced": ["2-1"]}))
write("mirror_origin_duplicate", mirror(copies={"jetstorm": ["0-0", "1-0", "0-0"], "jetstorm_mirror": ["0-0", "1-0", "0-0"],
                                                "jetstorm_sourced": ["0-0", "0-1", "1-0", "1-1", "2-1"]}))
# Streams not read whole, each hiding what would otherwise be an anomaly.
write("mirror_origin_incomplete", mirror(drains={"jetstorm": "info"}, copies={"jetstorm": ["0-0"], "jetstorm_mirror": ["0-0"],
                                                                              "jetstorm_sourced": ["0-0", "0-1", "1-1", "2-1"]}))
write("mirror_mirror_incomplete", mirror(drains={"jetstorm_mirror": "info"}, copies={"jetstorm_mirror": ["0-0"]}))
write("mirror_sourced_incomplete", mirror(drains={"jetstorm_sourced": "info"}, copies={"jetstorm_sourced": ["0-0", "0-1", "1-0", "2-1"]}))
write("mirror_unread", mirror(unread=("jetstorm_mirror",)))
