#!/usr/bin/env python3
"""Writes the objects_*.jsonl golden histories of checker/objects_test.go
beside this file. Run it from anywhere: python3
checker/testdata/objects_golden.py; then
go test ./reports -run ResultsJSONGolden -update."""
from golden import op, write, MS
A,B,C,D,E_,X="a"*64,"b"*64,"c"*64,"d"*64,"e"*64,"f"*64
MISMATCH="nats: received a corrupt object, digests do not match"
# The writes: o1 put 0-0 (acked); o2 put 1-0 then deleted by 1-1 (acked);
# o3 put 2-0 failed, then 2-1 unknown; o4 put 0-1 and 1-2, overlapping,
# both acked (either may be last).
WRITES=[("obj-put",0,"o1 0-0 1000 "+A,1000,1100,"ok"),
        ("obj-put",1,"o2 1-0 300 "+B,1200,1300,"ok"),
        ("obj-delete",1,"o2 1-1",1400,1500,"ok"),
        ("obj-put",2,"o3 2-0 500 "+C,1600,1610,"fail"),
        ("obj-put",2,"o3 2-1 500 "+D,1700,1800,"info"),
        ("obj-put",0,"o4 0-1 200000 "+E_,2000,2500,"ok"),
        ("obj-put",1,"o4 1-2 100 "+X,2100,2400,"ok")]
FINAL={"o1":"o1 0-0 1000 "+A,"o2":"o2 absent","o3":"o3 2-1 500 "+D,"o4":"o4 1-2 100 "+X}
CHUNKS={"o1":1,"o3":1,"o4":1}
# final: more names' final state in every view (chunks: each node's chunk
# count of them); leader_err: the library's error on the leader's read of
# a name; extra: more ops as they are.
def objects(writes=WRITES, gets=(), leader=None, unread=(), lst=None, nodes=None, node_ends=None, garbage=None, recover="ok", drain_end="ok", final=None, chunks=None, leader_err=None, extra=()):
    ops=[op(-1,"ok","meta",0,{"workload":"objects","scenario":"golden"})]+list(extra)
    base=dict(FINAL); base.update(final or {}); nchunks=dict(CHUNKS); nchunks.update(chunks or {})
    for f,p,v,s,e,t in writes:
        err={"fail":"not sent, the connection is reconnecting","info":"nats: timeout"}.get(t)
        ops+=[op(p,"invoke",f,s,v,node="n1"),op(p,t,f,e,v,node="n1",err=err)]
    for k,(at,name,t,v,err) in enumerate(gets):
        ops+=[op(10+k,"invoke","obj-get",at,name,node="n2"),op(10+k,t,"obj-get",at+50,v,node="n2",err=err)]
    ops+=[op(-1,"invoke","recover",5000),op(-1,recover,"recover",5500)]
    fin=dict(base); fin.update(leader or {})
    ops+=[op(-1,"invoke","drain",6000)]
    for k,name in enumerate(sorted(fin)):
        if name in unread: ops.append(op(-1,"info","read",6001+k,name,err="nats: timeout"))
        else: ops.append(op(-1,"ok","read",6001+k,fin[name],err=(leader_err or {}).get(name)))
    if lst is None: lst=" ".join(n+" "+fin[n].split()[1] for n in sorted(fin) if fin[n].split()[1]!="absent")
    ops+=[op(-1,"invoke","obj-list",6100),op(-1,"ok","obj-list",6101,lst),op(-1,drain_end,"drain",6102,len(fin))]
    for k,n in enumerate(["n1","n2","n3"]):
        t=7000+k*100
        copy={name:v+(" %d"%nchunks[name] if name in nchunks and v.split()[1]!="absent" else "") for name,v in base.items()}
        copy.update((nodes or {}).get(n,{}))
        ops.append(op(-1,"invoke","node-drain",t,node=n))
        for name in sorted(copy): ops.append(op(-1,"ok","node-read",t+1,copy[name],node=n))
        ops.append(op(-1,"ok","node-read",t+2,(garbage or {}).get(n,"garbage - 0 - 0"),node=n))
        ops.append(op(-1,(node_ends or {}).get(n,"ok"),"node-drain",t+3,len(copy)+1,node=n))
    return ops
write("objects_valid", objects(gets=[(1200,"o1","ok","o1 0-0 1000 "+A,None),(1300,"o3","info","o3","nats: timeout")]))
# The other order of the overlapping puts is as right.
write("objects_race_valid", objects(leader={"o4":"o4 0-1 200000 "+E_}, nodes={n:{"o4":"o4 0-1 200000 "+E_+" 2"} for n in ["n1","n2","n3"]}))
write("objects_torn_node", objects(nodes={"n2":{"o1":"o1 0-0 500 "+B+" 1"}}))
write("objects_digest_node", objects(nodes={"n3":{"o1":"o1 0-0 1000 "+X+" 1"}}))
write("objects_digest_api", objects(gets=[(1200,"o1","ok","o1 0-0 1000 "+X,MISMATCH)]))
write("objects_torn_api", objects(gets=[(1200,"o1","ok","o1 0-0 400 "+B,MISMATCH)]))
# A torn read of o4 while 1-2 overwrote it (its purge took 0-1's chunks).
write("objects_torn_racing", objects(gets=[(2200,"o4","ok","o4 0-1 100 "+B,MISMATCH)]))
write("objects_phantom", objects(leader={"o1":"o1 9-9 1000 "+A}))
write("objects_failed_visible", objects(nodes={"n1":{"o3":"o3 2-0 500 "+C+" 1"}}))
write("objects_lost", objects(leader={"o1":"o1 absent"}, nodes={n:{"o1":"o1 absent"} for n in ["n1","n2","n3"]}))
write("objects_resurrected", objects(leader={"o2":"o2 1-0 300 "+B}, nodes={n:{"o2":"o2 1-0 300 "+B+" 1"} for n in ["n1","n2","n3"]}))
write("objects_disagree", objects(nodes={"n3":{"o4":"o4 0-1 200000 "+E_+" 2"}}))
write("objects_garbage", objects(garbage={n:"garbage - 393216 - 3" for n in ["n1","n2","n3"]}))
write("objects_unjudged_node", objects(node_ends={"n2":"info"}))
write("objects_unread", objects(unread=("o3",)))
write("objects_unhealed_lost", objects(recover="info", leader={"o1":"o1 absent"}, nodes={n:{"o1":"o1 absent"} for n in ["n1","n2","n3"]}))
# Torn where it is unhealed: still invalid (no node's absence explains it).
write("objects_unhealed_torn", objects(recover="info", nodes={"n2":{"o1":"o1 0-0 500 "+B+" 1"}}))
write("objects_incomplete", objects(drain_end="info"))

# Malformed ops, 10 of them: a put of no size or SHA-256 (its invoke and
# completion), one of size 0 (both), a completion of no put, a second
# completion of o1's put, a completion whose value differs from its
# invoke, a delete's completion of a put, a final read of type fail and a
# node's read of type info.
write("objects_malformed", objects(writes=WRITES+[("obj-put",3,"o5 3-0",3000,3100,"ok"),("obj-put",3,"o5 3-1 0 "+A,3200,3300,"ok")], extra=[
    op(0,"ok","obj-put",1150,"o1 0-0 1000 "+A,node="n1"),
    op(4,"ok","obj-put",3400,"o6 4-0 100 "+A,node="n1"),
    op(4,"invoke","obj-put",3500,"o6 4-1 100 "+A,node="n1"),op(4,"ok","obj-put",3600,"o6 4-1 100 "+B,node="n1"),
    op(4,"invoke","obj-put",3700,"o7 4-2 100 "+A,node="n1"),op(4,"ok","obj-delete",3800,"o7 4-2",node="n1"),
    op(-1,"fail","read",6000.5,"o1 0-0 1000 "+A,err="nats: no responders available for request"),
    op(-1,"info","node-read",7000.5,"o1 0-0 1000 "+A+" 1",node="n1",err="nats: timeout")]))
# API reads: two reach the object's end, one (info) does not: counted as
# failed, its bytes (fewer than the put wrote) not judged.
write("objects_gets", objects(gets=[(1200,"o1","ok","o1 0-0 1000 "+A,None),(1600,"o2","ok","o2 absent",None),(2600,"o4","info","o4 0-1 131072 "+E_,"nats: timeout")]))
# The leader's copy of o1 is corrupt: the library's own check fails the
# final read (one library mismatch) and n1's copy has the same bytes.
write("objects_library_final", objects(leader={"o1":"o1 0-0 1000 "+X}, leader_err={"o1":MISMATCH}, nodes={"n1":{"o1":"o1 0-0 1000 "+X+" 1"}}))
# Leftover chunks: n1 and n3 hold 2 each (n1's the first, so its bytes are
# reported); n2, whose read did not finish, holds 5 but is not counted.
write("objects_leftover", objects(garbage={"n1":"garbage - 262144 - 2","n2":"garbage - 655360 - 5","n3":"garbage - 200000 - 2"}, node_ends={"n2":"info"}))
# Final states that are right: o3 absent (its puts failed or never
# completed); o5 absent after its acked put 3-0, as 3-1's delete may have
# come after it (unknown); o6 3-2 though 3-3 was invoked after it was
# acked (3-3 failed) and 3-4 too (unknown).
FINAL_WRITES=WRITES+[("obj-put",3,"o5 3-0 1000 "+A,3000,3100,"ok"),("obj-delete",3,"o5 3-1",3200,3300,"info"),
    ("obj-put",4,"o6 4-0 1000 "+B,3000,3100,"ok"),("obj-put",4,"o6 4-1 1000 "+C,3200,3210,"fail"),("obj-put",4,"o6 4-2 1000 "+D,3300,3400,"info")]
write("objects_final_valid", objects(writes=FINAL_WRITES, final={"o3":"o3 absent","o5":"o5 absent","o6":"o6 4-0 1000 "+B}, chunks={"o6":1}))
# Final states that lose an acked put: o5 absent, but its delete 3-0 was
# acked before put 3-1 began; o6 absent, but its only delete 4-1 failed;
# o7 holds 5-0, but 5-1 was invoked after 5-0 was acked, and acked.
LOST_WRITES=WRITES+[("obj-delete",3,"o5 3-0",3000,3100,"ok"),("obj-put",3,"o5 3-1 1000 "+A,3200,3300,"ok"),
    ("obj-put",4,"o6 4-0 1000 "+B,3000,3100,"ok"),("obj-delete",4,"o6 4-1",3200,3210,"fail"),
    ("obj-put",5,"o7 5-0 1000 "+C,3000,3100,"ok"),("obj-put",5,"o7 5-1 1000 "+D,3200,3300,"ok")]
write("objects_final_lost", objects(writes=LOST_WRITES, final={"o5":"o5 absent","o6":"o6 absent","o7":"o7 5-0 1000 "+C}, chunks={"o7":1}))
# Torn API reads and the writes around them: o5's (of 3-0) while 3-1 was
# unknown (it may have overwritten o5 under the read, though its timeout
# came first): racing, not judged. The others are torn: o6's (of 4-1)
# after 4-0 was acked, o7's (of 5-0) during 5-0 itself, o8's (of 6-0)
# before 6-1 was invoked.
TORN_WRITES=WRITES+[("obj-put",3,"o5 3-0 1000 "+A,3000,3100,"ok"),("obj-put",3,"o5 3-1 1000 "+B,3200,3300,"info"),
    ("obj-put",4,"o6 4-0 1000 "+A,3000,3100,"ok"),("obj-put",4,"o6 4-1 1000 "+B,3200,3300,"ok"),
    ("obj-put",5,"o7 5-0 1000 "+C,3000,3500,"ok"),
    ("obj-put",6,"o8 6-0 1000 "+D,3000,3100,"ok"),("obj-put",6,"o8 6-1 1000 "+E_,3600,3700,"ok")]
write("objects_torn_writes", objects(writes=TORN_WRITES, gets=[(3400,"o5","ok","o5 3-0 400 "+C,MISMATCH),(3400,"o6","ok","o6 4-1 400 "+C,MISMATCH),
    (3400,"o7","ok","o7 5-0 400 "+E_,MISMATCH),(3400,"o8","ok","o8 6-0 400 "+X,MISMATCH)],
    final={"o5":"o5 3-0 1000 "+A,"o6":"o6 4-1 1000 "+B,"o7":"o7 5-0 1000 "+C,"o8":"o8 6-1 1000 "+E_}, chunks={"o5":1,"o6":1,"o7":1,"o8":1}))
