#!/usr/bin/env python3
"""Writes the watch_*.jsonl golden histories of checker/kvwatch_test.go
(issue 22) beside this file: python3 checker/testdata/watch_golden.py."""
from golden import op, write, MS
# The puts: value -> (key, process, invoke, outcome, revision).
PUTS = [("0-0", "k0", 1000, "ok", 1), ("1-0", "k0", 1100, "ok", 2), ("2-0", "k0", 1200, "fail", 0),
        ("3-0", "k0", 1300, "info", 0), ("0-1", "k1", 1400, "ok", 3), ("0-2", "k0", 2000, "ok", 4),
        ("1-1", "k1", 5100, "ok", 5)]
# What every watcher sees, (time, key, value, revision), unless changed.
SEES = [(1020, "k0", "0-0", 1), (1120, "k0", "1-0", 2), (1420, "k1", "0-1", 3), (2020, "k0", "0-2", 4), (5120, "k1", "1-1", 5)]
def watch(history=3, sees=None, finals=None, faults=((3000, 5000, "partition", ["n3"]),), stop=9100, stops=("n1", "n2"),
          drain="ok", recover="ok", extra=(), puts=PUTS, watchers=("n1", "n2"), open_faults=()):
    ops = [op(-1, "ok", "meta", 0, {"workload": "watch", "scenario": "golden"}),
           op(-1, "ok", "watch-rules", 1, {"history": history, "converge_ms": 5000})]
    for v, k, t, out, rev in puts:
        p = int(v.split("-")[0])
        ops += [op(p, "invoke", "watch-put", t, f"{k} {v}", node="n1"),
                op(p, out, "watch-put", t+10, f"{k} {v}", node="n1", seq=rev or None, err=None if out == "ok" else "nats: timeout")]
    for w, n in enumerate(watchers):
        p = 4000000 + w
        # n1's first start fails (its node not ready), the second works.
        if w == 0:
            ops += [op(p, "invoke", "watch-start", 300, node=n, seq=1), op(p, "info", "watch-start", 310, node=n, seq=1, err="nats: timeout")]
        ops += [op(p, "invoke", "watch-start", 500, node=n, seq=1), op(p, "ok", "watch-start", 510, node=n, seq=1)]
        for t, k, v, rev in (sees or {}).get(n, SEES):
            ops.append(op(p, "ok", "watch-see", t, f"{k} {v}", node=n, seq=rev))
        if n in stops:
            ops.append(op(p, "ok", "watch-stop", stop, node=n))
    for s, e, kind, nodes in faults:
        ops += [op(-2, "invoke", "fault", s, {"kind": kind, "nodes": nodes}), op(-2, "ok", "fault", e, {"kind": kind, "nodes": nodes})]
    for s, kind, nodes in open_faults:  # never healed: they last to the history's end
        ops.append(op(-3, "invoke", "fault", s, {"kind": kind, "nodes": nodes}))
    ops += [op(-1, "invoke", "recover", 8000), op(-1, recover, "recover", 8500)]
    ops.append(op(-1, "invoke", "drain", 9000))
    fin = {"k0": ("0-2", 4), "k1": ("1-1", 5)}
    fin.update(finals or {})
    fin = {k: v for k, v in fin.items() if v != "unread"}
    for i, (k, (v, rev)) in enumerate(sorted(fin.items())):
        ops.append(op(-1, "invoke", "watch-read", 9001+i, k))
        if v is None:
            ops.append(op(-1, "info", "watch-read", 9002+i, k, err="nats: timeout"))
        else:
            ops.append(op(-1, "ok", "watch-read", 9002+i, f"{k} {v}" if v else k, seq=rev or None))
    ops.append(op(-1, drain, "drain", 9050, 2))
    return ops + list(extra)
def n2(change):
    """SEES with n2's changed: change is a function of the list."""
    return {"n2": change(list(SEES))}
write("watch_valid", watch())
# n2 misses revision 2 (k0=1-0); it saw revision 3 at 1.42 s, when only
# the unknown put 3-0 may have followed it: the bucket (3 deep) held it.
write("watch_gap", watch(sees=n2(lambda s: s[:1] + s[2:])))
# The same with a history of 1: it may have been rolled off by design.
write("watch_overwritten", watch(history=1, sees=n2(lambda s: s[:1] + s[2:])))
write("watch_regression", watch(sees=n2(lambda s: [s[1], (1121, "k0", "0-0", 1)] + s[2:])))
write("watch_phantom", watch(sees=n2(lambda s: s + [(5200, "k0", "9-9", 6)])))
write("watch_phantom_key", watch(sees=n2(lambda s: s + [(5200, "k1", "0-0", 6)])))
write("watch_failed_seen", watch(sees=n2(lambda s: s[:2] + [(1220, "k0", "2-0", 3)] + s[2:])))
write("watch_revision_mismatch", watch(sees=n2(lambda s: s + [(5200, "k0", "1-0", 7)])))
# n2 never gets k1's last update: it stops behind the final values.
write("watch_not_converged", watch(sees=n2(lambda s: s[:4])))
# n2 gets k0's revision 4, acked before the heal at 5 s, only at 10.5 s.
write("watch_lagging", watch(history=4, sees=n2(lambda s: s[:3] + [s[4], (10500, "k0", "0-2", 4)]), stop=11000))
# The same, but a fault at 6..7 s cuts both heals' windows short.
write("watch_heal_unjudged", watch(sees=n2(lambda s: s[:3] + [s[4], (10500, "k0", "0-2", 4)]), stop=11000,
                                    faults=((3000, 5000, "partition", ["n3"]), (6000, 7000, "kill", ["n1"]))))
write("watch_lost", watch(finals={"k0": ("1-0", 2)}))
write("watch_final_phantom", watch(finals={"k0": ("7-7", 9)}))
write("watch_final_absent", watch(finals={"k1": ("", 0)}))
write("watch_incomplete", watch(finals={"k1": (None, 0)}))
write("watch_drain_failed", watch(drain="info"))
write("watch_no_reads", watch(finals={"k0": "unread", "k1": "unread"}))
# n2 is delivered k0's revision 2 twice.
write("watch_duplicate", watch(sees=n2(lambda s: s[:2] + [(1130, "k0", "1-0", 2)] + s[2:])))
# n2 misses revision 1 (k0=0-0); it went past it at 1.12 s with revision
# 2, acked: with a history of 1 that one put may have rolled it off.
write("watch_overwritten_acked", watch(history=1, sees=n2(lambda s: s[1:])))
# Two faults overlapping (3..5 s, 4..6 s): one heal, at 6 s.
write("watch_overlap", watch(faults=((3000, 5000, "partition", ["n3"]), (4000, 6000, "kill", ["n2"]))))
# A fault never healed (from 7 s): no heal after it to judge.
write("watch_fault_open", watch(open_faults=((7000, "pause", ["n3"]),)))
write("watch_none_acked", watch(puts=[p for p in PUTS if p[3] != "ok"], sees={"n1": [], "n2": []}, finals={"k0": ("", 0), "k1": ("", 0)}))
write("watch_no_watchers", watch(watchers=()))
write("watch_no_stop", watch(stops=("n1",)))
write("watch_unhealed", watch(sees=n2(lambda s: s[:4]), recover="info"))
# A see that is no entry, a put without its value, a completion of no
# put, one naming another key than its invoke, and a second completion.
write("watch_malformed", watch(extra=[op(4000000, "ok", "watch-see", 3000, "k0 a b", node="n1", seq=9),
                                      op(8, "invoke", "watch-put", 3100, "k0", node="n1"),
                                      op(9, "ok", "watch-put", 3200, "k9 9-9", node="n1", seq=8),
                                      op(1, "ok", "watch-put", 3300, "k1 1-0", node="n1", seq=2),
                                      op(0, "ok", "watch-put", 3400, "k0 0-0", node="n1", seq=1)]))
