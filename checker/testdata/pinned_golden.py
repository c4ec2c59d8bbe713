#!/usr/bin/env python3
"""Writes the pinned_*.jsonl golden histories of checker/pinned_test.go
beside this file: python3 checker/testdata/pinned_golden.py.

One durable c1 with a pinned priority group (pinned_ttl 2 s, pull expiry
1 s, slack 1 s: a takeover may take 4 s); members 1000000@n1, 1000001@n2,
1000002@n3. n1 is pinned (pin P1) and gets stream seqs 1-3 (consumer seqs
1-3, each double-acked and confirmed), its node is killed at 1.5 s, p-4
and p-5 are published, and n2 takes over (pin P2) at 4 s with consumer
seqs 4-5. The last P1 delivery (consumer seq 3) is held by a link proxy
and arrives at 4.5 s, after P2's first: not two pinned at once, and the
takeover is timed from the P1 delivery received before P2's first (1.1 s):
2.9 s."""
import golden
from golden import op, MS
M = {"n1": 1000000, "n2": 1000001, "n3": 1000002}
def write(name, ops):
    golden.write("pinned_" + name, ops)
def deliver(node, t, sseq, cseq, pin, pending=5, nd=1):
    d = {"consumer": "c1", "value": f"p-{sseq}", "stream_seq": sseq, "consumer_seq": cseq, "num_delivered": nd, "num_pending": pending}
    if pin: d["pin_id"] = pin
    return op(M[node], "ok", "deliver", t, d, node=node, seq=sseq)
def ack(node, t, sseq, cseq, after):
    k = {"consumer": "c1", "kind": "ack", "value": f"p-{sseq}", "stream_seq": sseq, "consumer_seq": cseq, "double": True}
    return [op(M[node], "invoke", "ack", t, k, node=node, seq=sseq),
            op(M[node], "ok", "ack", t+5, dict(k, delivered_after=after), node=node, seq=sseq)]
# (node, receive time ms, stream seq, consumer seq, pin, num_pending)
DELS = [("n1", 1000, 1, 1, "P1", 4), ("n1", 1100, 2, 2, "P1", 3), ("n2", 4000, 4, 4, "P2", 1),
        ("n2", 4100, 5, 5, "P2", 0), ("n1", 4500, 3, 3, "P1", 2)]
def pinned(dels=DELS, priority="pinned", pubs=((1, 900), (2, 950), (3, 980), (4, 1600), (5, 1700)), extra=(), acks=True):
    cfg = {"name": "c1", "retention": "limits", "ack_wait_ms": 5000, "max_deliver": -1, "max_ack_pending": 1000,
           "deliver_policy": "all", "replicas": 3, "mode": "pull", "double_ack": True,
           "priority": priority, "group": "g", "pull_expiry_ms": 1000, "takeover_slack_ms": 1000}
    if priority == "pinned": cfg["pinned_ttl_ms"] = 2000
    else: cfg["min_pending"] = 20
    ops = [op(-1, "ok", "meta", 0, {"workload": "pinned", "scenario": "golden"}), op(-1, "ok", "consumer", 1, cfg)]
    for s, t in pubs:
        ops += [op(s % 3, "invoke", "publish", t-50, f"p-{s}"), op(s % 3, "ok", "publish", t, f"p-{s}", node="n1", seq=s)]
    for n, t, s, c, pin, pend in dels:
        ops.append(deliver(n, t, s, c, pin, pend))
        if acks: ops += ack(n, t+10, s, c, c)
    ops += [op(-2, "invoke", "fault", 1500, {"kind": "kill", "nodes": ["n1"]}), op(-2, "ok", "fault", 3500, {"kind": "kill", "nodes": ["n1"]})]
    ops += list(extra)
    return ops
write("valid", pinned())
# n1 gets consumer seq 6 under P1 after n2's P2 took over at 4.
write("two_pinned", pinned(pubs=((1, 900), (2, 950), (3, 980), (4, 1600), (5, 1700), (6, 4150)), dels=DELS + [("n1", 4200, 6, 6, "P1", 0)]))
# n3 gets a delivery under n2's pin P2.
write("shared_pin", pinned(pubs=((1, 900), (2, 950), (3, 980), (4, 1600), (5, 1700), (6, 4150)), dels=DELS + [("n3", 4200, 6, 6, "P2", 0)]))
# n2 takes over at 6 s: 4.9 s after P1's last delivery, with messages pending.
write("late_takeover", pinned(dels=[("n1", 1000, 1, 1, "P1", 4), ("n1", 1100, 2, 2, "P1", 3), ("n2", 6000, 4, 4, "P2", 1),
                                    ("n2", 6100, 5, 5, "P2", 0), ("n1", 6500, 3, 3, "P1", 2)]))
# The same late pin change, but P1's last delivery said nothing was pending
# and the next publish came after P2's first delivery: not timed.
write("untimed_takeover", pinned(pubs=((1, 900), (2, 950), (3, 6040), (4, 6050), (5, 6060)),
                                 dels=[("n1", 1000, 1, 1, "P1", 1), ("n1", 1100, 2, 2, "P1", 0), ("n2", 6000, 3, 4, "P2", 1),
                                       ("n2", 6100, 4, 5, "P2", 0), ("n2", 6200, 5, 6, "P2", 0)]))
# Stream seq 2, acked by n1 and confirmed (delivered consumer seq then 2),
# is delivered again to n2 under P2 at consumer seq 6.
write("redelivered_after_ack", pinned(dels=DELS + [("n2", 4200, 2, 6, "P2", 0)]))
# The same redelivery at consumer seq 6 is allowed when the ack read a
# delivered sequence of 6 (the redelivery was sent before the ack).
write("redelivered_before_ack", pinned(dels=DELS[:1] + [("n1", 1100, 2, 2, "P1", 3)] + DELS[2:] + [("n2", 4200, 2, 6, "P2", 0)], acks=False,
                                       extra=ack("n1", 1110, 2, 2, 6)))
write("unpinned", pinned(pubs=((1, 900), (2, 950), (3, 980), (4, 1600), (5, 1700), (6, 4150)), dels=DELS + [("n2", 4200, 6, 6, "", 0)]))
write("malformed", pinned(extra=[op(M["n2"], "ok", "deliver", 4300, "p-7", node="n2", seq=7)]))
write("no_deliveries", pinned(dels=[]))
write("overflow", pinned(priority="overflow", dels=[(n, t, s, c, "", p) for n, t, s, c, _, p in DELS]))
# A consumer without a priority group (c0) comes before c1: c1 is judged.
write("other_consumer", pinned(extra=[op(-1, "ok", "consumer", 0.5, {"name": "c0", "retention": "limits", "ack_wait_ms": 5000, "max_deliver": -1,
                                                                      "max_ack_pending": 1000, "deliver_policy": "all", "replicas": 3, "mode": "pull"})]))
# A failed deliver op is malformed, not a delivery under P1.
write("failed_deliver", pinned(extra=[dict(deliver("n1", 4200, 6, 6, "P1", 0), type="fail")]))
# Stream seq 2's double ack failed, so its redelivery at consumer seq 6 is
# no anomaly and no ack is confirmed.
def failed_ack(node, t, sseq, cseq, after):
    inv, done = ack(node, t, sseq, cseq, after)
    return [inv, dict(done, type="fail")]
write("failed_ack", pinned(dels=DELS + [("n2", 4200, 2, 6, "P2", 0)], acks=False, extra=failed_ack("n1", 1110, 2, 2, 2)))
# Stream seq 2's ack read a delivered sequence (1) below its own consumer
# seq (2), from a stale leader: it bounds nothing.
write("stale_ack", pinned(dels=DELS + [("n2", 4200, 2, 6, "P2", 0)], acks=False, extra=ack("n1", 1110, 2, 2, 1)))
# All of P1's deliveries are held by a link proxy and arrive after P2's
# first: nothing of P1 came before, so the takeover is not timed.
write("held_takeover", pinned(dels=[("n2", 4000, 3, 3, "P2", 1), ("n2", 4100, 4, 4, "P2", 0),
                                    ("n1", 4500, 1, 1, "P1", 2), ("n1", 4600, 2, 2, "P1", 1)]))
# P1's last delivery before P2's said nothing was pending; p-4 is acked in
# the same millisecond (not after it), p-5 in the millisecond of P2's first
# delivery: the takeover is timed from p-5 and took 0 ms.
write("publish_at_takeover", pinned(pubs=((1, 900), (2, 950), (3, 980), (4, 1100), (5, 4000)),
                                    dels=[("n1", 1000, 1, 1, "P1", 1), ("n1", 1100, 2, 2, "P1", 0), ("n2", 4000, 4, 4, "P2", 1),
                                          ("n2", 4100, 5, 5, "P2", 0), ("n1", 4500, 3, 3, "P1", 2)]))
# n2 takes over exactly 4 s after P1's last delivery: not late.
write("takeover_at_bound", pinned(dels=[("n1", 1000, 1, 1, "P1", 4), ("n1", 1100, 2, 2, "P1", 3), ("n2", 5100, 4, 4, "P2", 1),
                                        ("n2", 5200, 5, 5, "P2", 0), ("n1", 5500, 3, 3, "P1", 2)]))
# n1 receives consumer seq 4 again, under P1, after n2 received it under
# P2: equal consumer seqs keep the history's order, so it is two pinned.
write("same_consumer_seq", pinned(dels=DELS + [("n1", 4600, 6, 4, "P1", 0)]))
# A second priority group (c2, overflow) comes after c1: the first, c1, is judged.
write("second_group", pinned(extra=[op(-1, "ok", "consumer", 2, {"name": "c2", "retention": "limits", "ack_wait_ms": 5000, "max_deliver": -1,
                                                                  "max_ack_pending": 1000, "deliver_policy": "all", "replicas": 3, "mode": "pull",
                                                                  "priority": "overflow", "group": "g2", "min_pending": 20})]))
