#!/usr/bin/env python3
"""Writes the ttl_*.jsonl and schedule_*.jsonl golden histories of
checker/time_test.go (issue 21) beside this file. Run it from anywhere:
python3 checker/testdata/time_golden.py; then
go test ./reports -run ResultsJSONGolden -update."""
import json, os
HERE = os.path.dirname(os.path.abspath(__file__))
MS=1_000_000
def op(p,t,f,time,value=None,node=None,seq=None,err=None):
    o={"process":p,"type":t,"f":f,"time":int(time*MS)}
    if value is not None: o["value"]=value
    if node: o["node"]=node
    if seq: o["seq"]=seq
    if err: o["err"]=err
    return o
def write(name, ops):
    ops=sorted(ops,key=lambda o:o["time"])
    with open(os.path.join(HERE, name + ".jsonl"), "w") as f:
        for i,o in enumerate(ops):
            o=dict(o); o={"index":i,**o}
            f.write(json.dumps(o,separators=(",",":"))+"\n")
NODES=["n1","n2","n3"]
def ttl(marker=3000, probes=None, gets=None, finals=None, faults=(), seqs=None, drain_end="ok", extra=None):
    ops=[op(-1,"ok","meta",0,{"workload":"ttl","scenario":"golden"}),
         op(-1,"ok","time-rules",1,{"slack_ms":2000,"marker_ttl_ms":marker})]
    ops+= [op(0,"invoke","ttl-put",1000,"0-0 5",node="n1"), op(0,"ok","ttl-put",1010,"0-0 5",node="n1",seq=1),
           op(1,"invoke","ttl-put",1100,"1-0 0",node="n2"), op(1,"ok","ttl-put",1110,"1-0 0",node="n2",seq=2),
           op(2,"invoke","ttl-put",1200,"2-0 5",node="n3"), op(2,"fail","ttl-put",1210,"2-0 5",node="n3",err="nats: no response from stream")]
    base={2000:"0-0 1-0",4000:"0-0 1-0",6500:"!0-0 1-0",10000:"1-0"}
    for at,tok in base.items():
        for k,n in enumerate(NODES):
            t=at+k*10
            v=(probes or {}).get((at,n),tok)
            ops+=[op(-3,"invoke","ttl-probe",t,node=n), op(-3,"ok","ttl-probe",t+5,v,node=n,seq=(seqs or {}).get((at,n),10))]
    for (at,n),v in (extra or {}).items():
        ops+=[op(-3,"invoke","ttl-probe",at,node=n), op(-3,"ok","ttl-probe",at+5,v,node=n,seq=10)]
    g={3000:"0-0 present",7000:"0-0 marker"}
    g.update(gets or {})
    for at,v in g.items():
        ops+=[op(0,"invoke","ttl-get",at,v.split()[0],node="n1"), op(0,"ok","ttl-get",at+5,v,node="n1")]
    for f in faults:
        s,e,kind,nodes=f[:4]
        v={"kind":kind,"nodes":nodes}
        if len(f)>4: v["sides"]=f[4]
        ops+=[op(-2,"invoke","fault",s,v), op(-2,"ok","fault",e,v)]
    ops+=[op(-1,"invoke","recover",11000), op(-1,"ok","recover",11500)]
    fin={"":["1-0"],"n1":["1-0"],"n2":["1-0"],"n3":["1-0"]}
    fin.update(finals or {})
    ops+=[op(-1,"invoke","drain",12000)]+[op(-1,"ok","read",12001,v,node="n1",seq=2) for v in fin[""]]+[op(-1,drain_end,"drain",12010,len(fin[""]))]
    for k,n in enumerate(NODES):
        t=12100+k*100
        ops+=[op(-1,"invoke","node-drain",t,node=n)]+[op(-1,"ok","node-read",t+1,v,node=n,seq=1) for v in fin[n]]+[op(-1,"ok","node-drain",t+5,len(fin[n]),node=n)]
    return ops
write("ttl_valid", ttl())
write("ttl_early", ttl(probes={(4000,"n2"):"!0-0 1-0"}))
write("ttl_late", ttl(probes={(6500,"n3"):"0-0 1-0",(10000,"n3"):"0-0 1-0"}))
write("ttl_late_down", ttl(probes={(6500,"n3"):"0-0 1-0",(10000,"n3"):"0-0 1-0"}, faults=[(5000,9000,"kill",["n3"])]))
write("ttl_never_expires", ttl(probes={(6500,"n3"):"0-0 1-0",(10000,"n3"):"0-0 1-0"}, finals={"n3":["0-0","1-0"]}))
write("ttl_marker_missing", ttl(probes={(6500,"n1"):"1-0"}, extra={(8000,"n1"):"1-0"}))
# The marker lands on n1 a moment after the removal: not missing.
write("ttl_marker_late", ttl(probes={(6500,"n1"):"1-0"}, extra={(8000,"n1"):"!0-0 1-0"}))
write("ttl_markers_off", ttl(marker=0))
write("ttl_lost", ttl(finals={"n2":[]}))
write("ttl_api_early", ttl(gets={4500:"0-0 absent"}))
# Absent through the API, then held by the next reads: a stale read.
write("ttl_api_stale", ttl(gets={3000:"0-0 absent"}))
write("ttl_probe_short", ttl(probes={(4000,"n2"):""}, seqs={(4000,"n2"):0}))
write("ttl_late_majority", ttl(probes={(6500,"n3"):"0-0 1-0",(10000,"n3"):"0-0 1-0"}, faults=[(5000,9000,"partition",["n1","n2","n3"],[["n1"],["n2","n3"]])]))

def sched(firings=None, nodes=None, faults=(), every_drop=(), ends=None, start=20000):
    ops=[op(-1,"ok","meta",0,{"workload":"schedule","scenario":"golden"}),
         op(-1,"ok","time-rules",1,{"slack_ms":2000,"tolerance_ms":500})]
    ops+=[op(0,"invoke","schedule-add",1000,"0-0 at 5000000000",node="n1"), op(0,"ok","schedule-add",1010,"0-0 at 5000000000",node="n1",seq=1),
          op(1,"invoke","schedule-add",1100,"1-0 at 6000000000",node="n2"), op(1,"ok","schedule-add",1110,"1-0 at 6000000000",node="n2",seq=2),
          op(2,"invoke","schedule-add",1200,"2-0 every 2s",node="n3"), op(2,"ok","schedule-add",1210,"2-0 every 2s",node="n3",seq=3),
          op(3,"invoke","schedule-add",1300,"3-0 at 5000000000",node="n1"), op(3,"fail","schedule-add",1310,"3-0 at 5000000000",node="n1",err="nats: API error: code=400")]
    for s,e,kind,ns in faults:
        ops+=[op(-2,"invoke","fault",s,{"kind":kind,"nodes":ns}), op(-2,"ok","fault",e,{"kind":kind,"nodes":ns})]
    base=firings if firings is not None else ["0-0@5001000000","1-0@6002000000"]
    every=[f"2-0@{(3210+2000*i)*MS}" for i in range(9) if i not in every_drop]
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
