#!/usr/bin/env python3
"""Writes the ttl_*.jsonl and schedule_*.jsonl golden histories of
checker/time_test.go (issue 21) beside this file. Run it from anywhere:
python3 checker/testdata/time_golden.py; then
go test ./reports -run ResultsJSONGolden -update."""
from golden import op, write, MS
NODES=["n1","n2","n3"]
def ttl(marker=3000, probes=None, gets=None, finals=None, faults=(), seqs=None, drain_end="ok", extra=None, bad=(), nogets=False, node_ends=None, drain_from=None):
    ops=[op(-1,"ok","meta",0,{"workload":"ttl","scenario":"golden"}),
         op(-1,"ok","time-rules",1,{"slack_ms":2000,"marker_ttl_ms":marker})]
    ops+= [op(0,"invoke","ttl-put",1000,"0-0 5",node="n1"), op(0,"ok","ttl-put",1010,"0-0 5",node="n1",seq=1),
           op(1,"invoke","ttl-put",1100,"1-0 0",node="n2"), op(1,"ok","ttl-put",1110,"1-0 0",node="n2",seq=2),
           op(2,"invoke","ttl-put",1200,"2-0 5",node="n3"), op(2,"fail","ttl-put",1210,"2-0 5",node="n3",err="nats: no response from stream"),
           op(3,"invoke","ttl-put",1300,"3-0 5",node="n1"), op(3,"info","ttl-put",1310,"3-0 5",node="n1",err="nats: timeout")]
    ops+=list(bad)
    base={2000:"0-0 1-0",4000:"0-0 1-0",6500:"!0-0 1-0",10000:"1-0"}
    for at,tok in base.items():
        for k,n in enumerate(NODES):
            t=at+k*10
            v=(probes or {}).get((at,n),tok)
            ops+=[op(3000000+k,"invoke","ttl-probe",t,node=n), op(3000000+k,"ok","ttl-probe",t+5,v,node=n,seq=(seqs or {}).get((at,n),10))]
    for (at,n),v in (extra or {}).items():
        ops+=[op(3000000+NODES.index(n),"invoke","ttl-probe",at,node=n), op(3000000+NODES.index(n),"ok","ttl-probe",at+5,v,node=n,seq=10)]
    g={} if nogets else {3000:"0-0 present",7000:"0-0 marker"}
    g.update(gets or {})
    for at,v in g.items():
        ops+=[op(0,"invoke","ttl-get",at,v.split()[0],node="n1"), op(0,"ok","ttl-get",at+5,v,node="n1")]
    for f in faults:
        s,e,kind,nodes=f[:4]
        v={"kind":kind,"nodes":nodes}
        if len(f)>4 and f[4]: v["sides"]=f[4]
        proc=f[5] if len(f)>5 else -2
        ops+=[op(proc,"invoke","fault",s,v), op(proc,"ok","fault",e,v)]
    ops+=[op(-1,"invoke","recover",11000), op(-1,"ok","recover",11500)]
    fin={"":["1-0"],"n1":["1-0"],"n2":["1-0"],"n3":["1-0"]}
    fin.update(finals or {})
    ops+=[op(-1,"invoke","drain",12000)]+[op(-1,"ok","read",12001,v,node=(drain_from or {}).get(v,"n1"),seq=2) for v in fin[""]]+[op(-1,drain_end,"drain",12010,len(fin[""]))]
    for k,n in enumerate(NODES):
        t=12100+k*100
        ops+=[op(-1,"invoke","node-drain",t,node=n)]+[op(-1,"ok","node-read",t+1,v,node=n,seq=1) for v in fin[n]]+[op(-1,(node_ends or {}).get(n,"ok"),"node-drain",t+5,len(fin[n]),node=n)]
    return ops
write("ttl_valid", ttl())
write("ttl_early", ttl(probes={(4000,"n2"):"!0-0 1-0"}))
write("ttl_late", ttl(probes={(6500,"n3"):"0-0 1-0",(10000,"n3"):"0-0 1-0"}))
write("ttl_late_down", ttl(probes={(6500,"n3"):"0-0 1-0",(10000,"n3"):"0-0 1-0"}, faults=[(5000,9000,"kill",["n3"])]))
write("ttl_never_expires", ttl(probes={(6500,"n3"):"0-0 1-0",(10000,"n3"):"0-0 1-0"}, finals={"n3":["0-0","1-0"]}))
write("ttl_marker_missing", ttl(probes={(6500,"n1"):"1-0"}, extra={(8000,"n1"):"1-0"}))
# The marker lands on n1 a moment after the removal: not missing.
write("ttl_marker_late", ttl(probes={(6500,"n1"):"1-0"}, extra={(8000,"n1"):"!0-0 1-0"}))
write("ttl_markers_off", ttl(marker=0, gets={3500:"0-0 present"}))
write("ttl_lost", ttl(finals={"n2":[]}))
write("ttl_api_early", ttl(gets={4500:"0-0 absent"}))
# Absent through the API, then held by the next reads: a stale read.
write("ttl_api_stale", ttl(gets={3000:"0-0 absent"}))
write("ttl_probe_short", ttl(probes={(4000,"n2"):""}, seqs={(4000,"n2"):0}))
write("ttl_late_majority", ttl(probes={(6500,"n3"):"0-0 1-0",(10000,"n3"):"0-0 1-0"}, faults=[(5000,9000,"partition",["n1","n2","n3"],[["n1"],["n2","n3"]])]))

def sched(firings=None, nodes=None, faults=(), every_drop=(), ends=None, start=20000, every=None, bad=()):
    ops=[op(-1,"ok","meta",0,{"workload":"schedule","scenario":"golden"}),
         op(-1,"ok","time-rules",1,{"slack_ms":2000,"tolerance_ms":500})]
    ops+=[op(0,"invoke","schedule-add",1000,"0-0 at 5000000000",node="n1"), op(0,"ok","schedule-add",1010,"0-0 at 5000000000",node="n1",seq=1),
          op(1,"invoke","schedule-add",1100,"1-0 at 6000000000",node="n2"), op(1,"ok","schedule-add",1110,"1-0 at 6000000000",node="n2",seq=2),
          op(2,"invoke","schedule-add",1200,"2-0 every 2s",node="n3"), op(2,"ok","schedule-add",1210,"2-0 every 2s",node="n3",seq=3),
          op(3,"invoke","schedule-add",1300,"3-0 at 5000000000",node="n1"), op(3,"fail","schedule-add",1310,"3-0 at 5000000000",node="n1",err="nats: API error: code=400"),
          op(4,"invoke","schedule-add",1400,"4-0 at 5000000000",node="n2"), op(4,"info","schedule-add",1410,"4-0 at 5000000000",node="n2",err="nats: timeout")]
    ops+=list(bad)
    for s,e,kind,ns in faults:
        ops+=[op(-2,"invoke","fault",s,{"kind":kind,"nodes":ns}), op(-2,"ok","fault",e,{"kind":kind,"nodes":ns})]
    base=firings if firings is not None else ["0-0@5001000000","1-0@6002000000"]
    if every is None:
        every=[f"2-0@{(3210+2000*i)*MS}" for i in range(9) if i not in every_drop]
    every=every+["2-0"]  # the @every schedule's own message stays
    copies={"":base+every,"n1":base+every,"n2":base+every}
    copies.update(nodes or {})
    for k,n in enumerate(["","n1","n2"]):
        t=start+k*100
        f,rf=("drain","read") if n=="" else ("node-drain","node-read")
        ops+=[op(-1,"invoke",f,t,node=n or None)]+[op(-1,"ok",rf,t+1,v,node=n or "n1",seq=5+j) for j,v in enumerate(copies[n])]+[op(-1,(ends or {}).get(n,"ok"),f,t+5,len(copies[n]),node=n or None)]
    return ops
write("schedule_valid", sched())
write("schedule_missed", sched(firings=["0-0@5001000000"]))
write("schedule_duplicated", sched(firings=["0-0@5001000000","0-0@5300000000","1-0@6002000000"]))
write("schedule_early", sched(firings=["0-0@4000000000","1-0@6002000000"]))
write("schedule_late", sched(firings=["0-0@6500000000","1-0@6002000000"]))
write("schedule_late_fault", sched(firings=["0-0@6500000000","1-0@6002000000"], faults=[(4800,5200,"kill",["n1"])]))
write("schedule_every_missed", sched(every_drop=(4,)))
write("schedule_every_never", sched(every_drop=range(9)))
write("schedule_every_fault", sched(every_drop=(4,), faults=[(10000,11000,"kill",["n2"])]))
every=[f"2-0@{(3210+2000*i)*MS}" for i in range(9)]
write("schedule_split", sched(nodes={"n2":["0-0@5001000000"]+every}))
write("schedule_failed_fired", sched(firings=["0-0@5001000000","1-0@6002000000","3-0@5001000000"]))

# Edge cases (mostly for make mutate).
write("ttl_unjudged", ttl(probes={(4000,"n2"):"!0-0 1-0"}, faults=[(3000,4500,"pause",["n2"])]))
write("ttl_failed_stored", ttl(probes={(2000,"n1"):"0-0 1-0 2-0"}))
write("ttl_foreign", ttl(probes={(2000,"n1"):"0-0 1-0 ?jetstorm.other"}))
write("ttl_incomplete", ttl(drain_end="info"))
write("ttl_late_halves", ttl(probes={(6500,"n3"):"0-0 1-0",(10000,"n3"):"0-0 1-0"}, faults=[(5000,9000,"partition",["n1","n2","n3","n4"],[["n1","n2"],["n3","n4"]])]))
write("schedule_pending", sched(firings=["0-0@5001000000"], start=7000))
write("schedule_incomplete", sched(ends={"n2":"info"}))
write("schedule_foreign", sched(firings=["0-0@5001000000","1-0@6002000000","9-9@6002000000"]))

# Boundaries: @at firings exactly at their time less and plus the
# tolerance; @every gaps of exactly the interval less and plus it.
write("schedule_edges", sched(firings=["0-0@4500000000","1-0@6500000000"],
    every=["2-0@3210000000","2-0@4710000000","2-0@7210000000"]+[f"2-0@{(7210+2000*i)*MS}" for i in range(1,7)]))
# Read exactly the slack after 1-0's time, which never fired: pending on
# the drain, missed on the later node reads.
write("schedule_slack_edge", sched(firings=["0-0@5001000000"], start=8000))
# 1-0 never fired, but a fault covered most of the time since it was due:
# pending, not missed.
write("schedule_missed_fault", sched(firings=["0-0@5001000000"], faults=[(6000,19000,"kill",["n1"])]))
# An @every gap of 4 s ending 90 ms before a fault: touching it, not judged.
write("schedule_every_fault_edge", sched(every_drop=(4,), faults=[(13300,14300,"kill",["n2"])]))
# Completions that break the protocol: without an invoke, twice, changed.
write("schedule_malformed", sched(bad=[op(7,"ok","schedule-add",1500,"7-0 at 5000000000",node="n1"),
    op(0,"ok","schedule-add",1600,"0-0 at 5000000000",node="n1",seq=1),
    op(5,"invoke","schedule-add",1700,"5-0 at 9000000000",node="n2"),
    op(5,"ok","schedule-add",1710,"5-0 at 9500000000",node="n2",seq=4)]))
# Many schedules missed: the anomalies list stops at 20.
write("schedule_many_missed", sched(bad=[o for k in range(10) for o in (
    op(10+k,"invoke","schedule-add",1500+k*10,f"{10+k}-0 at 5000000000",node="n1"),
    op(10+k,"ok","schedule-add",1505+k*10,f"{10+k}-0 at 5000000000",node="n1",seq=10+k))]))
# n2's copy holds 0-0's firing 0.4 s later than the others: a split
# brain; the delay figures come from the first copy only.
write("schedule_split_late", sched(nodes={"n2":["0-0@5400000000","1-0@6002000000"]+[f"2-0@{(3210+2000*i)*MS}" for i in range(9)]+["2-0"]}))

# More edge cases for make mutate (issue 21's ttl check).
write("ttl_api_late", ttl(gets={17000:"0-0 present"}))
write("ttl_api_late_edge", ttl(gets={8010:"0-0 present"}))
write("ttl_api_due_edge", ttl(probes={(a,n):"1-0" for a in (2000,4000) for n in NODES}, gets={5995:"0-0 absent"}))
write("ttl_api_ack_edge", ttl(probes={(a,n):"1-0" for a in (2000,4000) for n in NODES}, gets={1010:"0-0 absent"}))
write("ttl_api_unjudged", ttl(gets={4500:"0-0 absent"}, faults=[(4000,5000,"kill",["n2"])]))
write("ttl_api_stales", ttl(gets={t:"0-0 absent" for t in (2500,2600,2700,2800,2900,3000)}))
write("ttl_api_lost", ttl(probes={(a,n):"!0-0" if a==6500 else "" for a in (6500,10000) for n in NODES}, gets={4500:"1-0 absent"}, finals={"":[],"n1":[],"n2":[],"n3":[]}))
write("ttl_no_gets", ttl(nogets=True))
write("ttl_node_incomplete", ttl(node_ends={"n2":"info"}))
write("ttl_malformed", ttl(bad=[op(7,"ok","ttl-put",1500,"7-0 5",node="n1"),
    op(0,"ok","ttl-put",1600,"0-0 5",node="n1",seq=1),
    op(8,"invoke","ttl-put",1700,"8-0 5",node="n1"), op(8,"ok","ttl-put",1710,"8-0 10",node="n1",seq=3),
    op(98,"invoke","ttl-get",1800,"7-7",node="n1"), op(98,"ok","ttl-get",1810,"7-7 present",node="n1")]))
write("ttl_probe_failed", ttl(bad=[op(3000001,"invoke","ttl-probe",4500,node="n2"), op(3000001,"info","ttl-probe",4600,node="n2",err="no consumer could be placed")]))
write("ttl_drain_late", ttl(finals={"":["0-0","1-0"]}, drain_from={"0-0":"n3","1-0":"n1"}))
write("ttl_marker_edge", ttl(probes={(6500,"n1"):"1-0"}, extra={(6505,"n1"):"1-0"}))
write("ttl_marker_edge2", ttl(probes={(6500,"n1"):"1-0"}, extra={(8995,"n1"):"1-0"}))
write("ttl_probe_covers", ttl(probes={(4000,"n2"):""}, seqs={(4000,"n2"):1}))
write("ttl_late_edge", ttl(extra={(8010,"n3"):"0-0 1-0"}))
write("ttl_nottl_gone", ttl(probes={(10000,"n2"):""}, finals={"n2":[]}))
write("ttl_gone_due_edge", ttl(extra={(5995,"n2"):"!0-0 1-0"}))
write("ttl_early_markers_off", ttl(marker=0, probes={(4000,"n2"):"1-0", (6500,"n1"):"1-0", (6500,"n2"):"1-0", (6500,"n3"):"1-0"}, extra={(5000,"n2"):"1-0"}))

# More edge cases for make mutate (issue 21's schedule check).
write("schedule_foreign4", sched(firings=["0-0@5001000000","1-0@6002000000","9-1@6002000000","9-2@6002000000","9-3@6002000000","9-4@6002000000"]))
write("schedule_every_dup", sched(every=["2-0@3210000000","2-0@4210000000"]+[f"2-0@{(5210+2000*i)*MS}" for i in range(8)]))
write("schedule_every_edge_slack", sched(every=[f"2-0@{(3210+2000*i)*MS}" for i in range(7)], start=19210))
write("schedule_every_missed2", sched(every_drop=(4,5)))
write("ttl_foreign4", ttl(probes={(2000,"n1"):"0-0 1-0 ?a ?b ?c ?d"}))
write("ttl_two_ttls", ttl(bad=[op(5,"invoke","ttl-put",1500,"5-0 5",node="n2"), op(5,"ok","ttl-put",1510,"5-0 5",node="n2",seq=3)]))
write("ttl_api_late_fault", ttl(gets={17000:"0-0 present"}, faults=[(7000,16000,"kill",["n1"])]))
write("ttl_late_majority2", ttl(probes={(6500,"n3"):"0-0 1-0",(10000,"n3"):"0-0 1-0"}, faults=[(2500,3000,"kill",["n1"]),(5000,9000,"partition",["n1","n2","n3"],[["n2","n3"],["n1"]])]))
# Overlapping faults (each its own process): a kill of n2 from 2 s to
# 9.5 s, and within it a partition cutting n1 off; n3 stays on the
# majority side and is late.
write("ttl_late_overlap", ttl(probes={(6500,"n3"):"0-0 1-0",(10000,"n3"):"0-0 1-0"}, faults=[(2000,9500,"kill",["n2"],None,-2),(5000,9000,"partition",["n1","n2","n3"],[["n1"],["n2","n3"]],-3)]))
# Every node still holds 0-0 after its marker could have expired, and
# only the final reads find it gone: late everywhere, and expired.
write("ttl_late_all", ttl(probes={(a,n):"0-0 1-0" for a in (6500,10000) for n in NODES}))
