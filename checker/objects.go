package checker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"jetstorm/history"
)

// Objects checks the objects workload (an object store bucket) against
// every read of an object: the clients' API reads during the run, the
// final reads from the stream leader and List, and every node's own copy
// rebuilt from its chunks. A read names the put it came from (its meta).
//
//   - Torn: a read that reached the object's end with fewer bytes than
//     the put wrote (chunks missing). An API read during the run that a
//     write of the same name overlapped is excused (its chunks may be
//     purged under it): reported as torn_racing.
//   - Digest mismatch: as many bytes or more, but not the put's SHA-256.
//   - Phantom: a read naming no put of that name; failed visible: one
//     naming a put that failed.
//   - Final state, per name and per complete view (the leader's reads,
//     List, each node's copy): put X is right when no acked write of the
//     name began after X completed (an unknown put never completed);
//     absent is right when no acked put began after every delete that
//     may have happened completed. Else a lost put (an acked put came
//     after) or a resurrected delete.
//   - Disagreement: complete views holding different states of a name.
//
// Chunks no live meta refers to are garbage: reported, never invalid. A
// view that could not be read leaves its names unjudged (unknown).
type Objects struct {
	writes  map[string]*objWrite   // by op
	byName  map[string][]*objWrite // in invoke order
	gets    []objGet
	pending map[int]time.Duration // each process's read in flight: its start
	// The final views, by name: "the leader", "list" and each node.
	views    map[string]*objView
	order    []string // views in the order first seen
	drain    struct{ seen, complete bool }
	unhealed bool
	bad      badOps
}

type objWrite struct {
	history.ObjEntry
	del         bool
	invoke, end time.Duration
	out         outcome
}

type objGet struct {
	e          history.ObjEntry
	whole      bool // it reached the object's end
	libErr     bool // the library found a digest mismatch
	start, end time.Duration
	node       string
}

// objView is one final view: the state it holds of each name (an op, or
// ObjAbsent) and the names it could not read.
type objView struct {
	state     map[string]history.ObjEntry
	unread    map[string]bool
	complete  bool
	node      bool // a node's own copy: a name it lacks is absent there
	garbage   history.ObjEntry
	hasGarb   bool
	listNames bool // list: a name it lacks is absent
}

func (c *Objects) Name() string { return "objects" }

// Observe implements Checker.
func (c *Objects) Observe(op history.Op) {
	switch op.F {
	case history.FObjPut, history.FObjDelete:
		c.write(op)
	case history.FObjGet:
		c.get(op)
	case history.FRead:
		c.finalRead(op)
	case history.FDrain:
		c.drain.seen = true
		c.drain.complete = op.Type == history.OK
		if op.Type != history.Invoke {
			c.view("the leader").complete = op.Type == history.OK
		}
	case history.FObjList:
		v := c.view("list")
		v.listNames = true
		if op.Type == history.OK {
			m, ok := history.ObjList(op.ValueString())
			if !ok {
				c.bad.add(op, "not an object list")
				return
			}
			for name, o := range m {
				v.state[name] = history.ObjEntry{Name: name, Op: o, Chunks: -1}
			}
		}
		v.complete = op.Type == history.OK
	case history.FNodeRead:
		c.nodeRead(op)
	case history.FNodeDrain:
		v := c.view(op.Node)
		v.node = true
		v.complete = op.Type == history.OK
	case history.FRecover:
		c.unhealed = op.Type == history.Info
	}
}

func (c *Objects) view(name string) *objView {
	if c.views == nil {
		c.views = map[string]*objView{}
	}
	v := c.views[name]
	if v == nil {
		v = &objView{state: map[string]history.ObjEntry{}, unread: map[string]bool{}}
		c.views[name] = v
		c.order = append(c.order, name)
	}
	return v
}

func (c *Objects) write(op history.Op) {
	e, ok := history.ParseObjEntry(op.ValueString())
	del := op.F == history.FObjDelete
	if !ok || (!del && (e.SHA == "" || e.Size == 0)) {
		c.bad.add(op, "not an object write")
		return
	}
	if op.Type == history.Invoke {
		if _, dup := c.writes[e.Op]; dup {
			c.bad.add(op, "op written twice")
			return
		}
		if c.writes == nil {
			c.writes, c.byName = map[string]*objWrite{}, map[string][]*objWrite{}
		}
		w := &objWrite{ObjEntry: e, del: del, invoke: op.Time}
		c.writes[e.Op] = w
		c.byName[e.Name] = append(c.byName[e.Name], w)
		return
	}
	w := c.writes[e.Op]
	if w == nil || w.out != outNone || w.del != del || w.ObjEntry != e {
		c.bad.add(op, "completion without its invoke")
		return
	}
	out, ok := outcomeOf(op.Type)
	if !ok {
		c.bad.add(op, "unknown op type")
		return
	}
	w.out, w.end = out, op.Time
}

func (c *Objects) get(op history.Op) {
	if op.Type == history.Invoke {
		if c.pending == nil {
			c.pending = map[int]time.Duration{}
		}
		c.pending[op.Process] = op.Time
		return
	}
	start, ok := c.pending[op.Process]
	if !ok {
		c.bad.add(op, "read completion without its invoke")
		return
	}
	delete(c.pending, op.Process)
	g := objGet{start: start, end: op.Time, node: op.Node, whole: op.Type == history.OK, libErr: op.Err != ""}
	if e, ok := history.ParseObjEntry(op.ValueString()); ok {
		g.e = e
	} else if op.Type == history.OK {
		c.bad.add(op, "not an object read")
		return
	} else {
		g.e = history.ObjEntry{Name: op.ValueString(), Chunks: -1} // failed before its meta was read
	}
	c.gets = append(c.gets, g)
}

func (c *Objects) finalRead(op history.Op) {
	v := c.view("the leader")
	e, ok := history.ParseObjEntry(op.ValueString())
	switch {
	case op.Type == history.OK && ok:
		v.state[e.Name] = e
		if op.Err != "" {
			e.Chunks = -2 // the library's own digest check failed (see stats)
			v.state[e.Name] = e
		}
	case op.Type == history.Info:
		name := op.ValueString()
		if ok {
			name = e.Name
		}
		v.unread[name] = true
	default:
		c.bad.add(op, "not an object read")
	}
}

func (c *Objects) nodeRead(op history.Op) {
	e, ok := history.ParseObjEntry(op.ValueString())
	if !ok || op.Type != history.OK {
		c.bad.add(op, "not an object of a node's copy")
		return
	}
	v := c.view(op.Node)
	v.node = true
	if e.Name == history.ObjGarbage {
		v.garbage, v.hasGarb = e, true
		return
	}
	v.state[e.Name] = e
}

// ObjectsStats are the objects check's counts (results.json "objects").
type ObjectsStats struct {
	Names          int `json:"names"`
	Puts           int `json:"puts"`
	PutsAcked      int `json:"puts_acked"`
	PutsFailed     int `json:"puts_failed"`
	PutsUnknown    int `json:"puts_unknown"`
	Deletes        int `json:"deletes"`
	DeletesAcked   int `json:"deletes_acked"`
	DeletesFailed  int `json:"deletes_failed"`
	DeletesUnknown int `json:"deletes_unknown"`
	// Gets are the API reads during the run that reached an object's end
	// or found none; GetsFailed the ones that did not (not judged).
	Gets       int `json:"gets"`
	GetsFailed int `json:"gets_failed"`
	// LibraryMismatches: reads the client library itself failed with a
	// digest mismatch (each is also torn or a digest mismatch here).
	LibraryMismatches int `json:"library_mismatches"`
	Torn              int `json:"torn"`
	// TornRacing: torn API reads that a write of the same name overlapped
	// (its purge may take the chunks mid-read): reported, not invalid.
	TornRacing     int `json:"torn_racing"`
	DigestMismatch int `json:"digest_mismatch"`
	Phantom        int `json:"phantom"`
	FailedVisible  int `json:"failed_visible"`
	Lost           int `json:"lost"`
	Resurrected    int `json:"resurrected"`
	Disagreements  int `json:"disagreements"`
	// LeftoverChunks, LeftoverBytes: chunks no live object refers to, on
	// the node holding the most (garbage: reported, never invalid).
	LeftoverChunks int   `json:"leftover_chunks"`
	LeftoverBytes  int64 `json:"leftover_bytes"`
	// Unjudged: names of a final view that could not be read, and
	// incomplete views' names (each makes the verdict unknown).
	Unjudged      int                         `json:"unjudged"`
	DrainComplete bool                        `json:"drain_complete"`
	Unhealed      bool                        `json:"unhealed,omitempty"`
	Views         map[string]ObjectsViewStats `json:"views,omitempty"`
	Anomalies     []string                    `json:"anomalies,omitempty"`
	Malformed     int                         `json:"malformed,omitempty"`
	// MalformedExamples are the first malformed ops.
	MalformedExamples []string `json:"malformed_examples,omitempty"`
}

// ObjectsViewStats are one final view's counts: "the leader" (the API
// reads after the heal), "list", or a node's own copy.
type ObjectsViewStats struct {
	Objects        int   `json:"objects"` // live objects it holds
	Torn           int   `json:"torn"`
	DigestMismatch int   `json:"digest_mismatch"`
	LeftoverChunks int   `json:"leftover_chunks"`
	LeftoverBytes  int64 `json:"leftover_bytes"`
	Incomplete     bool  `json:"incomplete,omitempty"`
}

// AddTo sets the objects section.
func (s ObjectsStats) AddTo(out *Sections) { out.Objects = &s }

// Result implements Checker.
func (c *Objects) Result(ctx context.Context) Result {
	return judge(ctx, "objects", c.stats, objectsVerdict)
}

// objJudge is what judging one read found.
type objJudge int

const (
	objFine objJudge = iota
	objTorn
	objMismatch
	objPhantom
	objFailed
)

// judgeRead judges a read of e against the put it names; whole: the read
// reached the object's end, so its bytes are judged too.
func (c *Objects) judgeRead(e history.ObjEntry, whole bool) (objJudge, *objWrite) {
	if e.Op == history.ObjAbsent || e.Op == "" { // "": a read that failed before its meta
		return objFine, nil
	}
	w := c.writes[e.Op]
	switch {
	case w == nil || w.del || w.Name != e.Name:
		return objPhantom, nil
	case w.out == outFail:
		return objFailed, w
	case !whole:
	case e.Size < w.Size:
		return objTorn, w
	case e.Size != w.Size || e.SHA != w.SHA:
		return objMismatch, w
	}
	return objFine, w
}

func (c *Objects) stats() ObjectsStats {
	s := ObjectsStats{Malformed: c.bad.n, MalformedExamples: c.bad.ex, DrainComplete: c.drain.complete,
		Unhealed: c.unhealed, Names: len(c.byName), Views: map[string]ObjectsViewStats{}}
	note := noteTo(&s.Anomalies)
	for _, w := range c.writes {
		n, ok, failed, unknown := &s.Puts, &s.PutsAcked, &s.PutsFailed, &s.PutsUnknown
		if w.del {
			n, ok, failed, unknown = &s.Deletes, &s.DeletesAcked, &s.DeletesFailed, &s.DeletesUnknown
		}
		*n++
		switch w.out {
		case outOK:
			*ok++
		case outFail:
			*failed++
		default:
			*unknown++
		}
	}
	// count adds one judged read's anomaly; it says whether it was one.
	count := func(where string, e history.ObjEntry, j objJudge, w *objWrite) {
		switch j {
		case objTorn:
			s.Torn++
			note("%s: object %s of put %s is torn: %d of its %d bytes", where, e.Name, e.Op, e.Size, w.Size)
		case objMismatch:
			s.DigestMismatch++
			note("%s: object %s of put %s: %d bytes with SHA-256 %.12s…, the put wrote %d bytes with %.12s…", where, e.Name, e.Op, e.Size, e.SHA, w.Size, w.SHA)
		case objPhantom:
			s.Phantom++
			note("%s: object %s names put %s, which no client put on that name", where, e.Name, e.Op)
		case objFailed:
			s.FailedVisible++
			note("%s: object %s of put %s, which failed, is visible", where, e.Name, e.Op)
		}
	}
	for _, g := range c.gets {
		if !g.whole {
			s.GetsFailed++
		} else {
			s.Gets++
		}
		if g.libErr && g.whole {
			s.LibraryMismatches++
		}
		j, w := c.judgeRead(g.e, g.whole)
		if j == objTorn && c.racing(g) {
			s.TornRacing++
			continue
		}
		count(fmt.Sprintf("read on %s at %s", g.node, g.end.Round(time.Millisecond)), g.e, j, w)
	}
	// The final views.
	names := map[string]bool{}
	for n := range c.byName {
		names[n] = true
	}
	for _, v := range c.views {
		for n := range v.state {
			names[n] = true
		}
		for n := range v.unread {
			names[n] = true
		}
	}
	sorted := slices.Sorted(maps.Keys(names))
	lost, resurrected := map[string]bool{}, map[string]bool{}
	for _, label := range c.order {
		v := c.views[label]
		vs := ObjectsViewStats{Incomplete: !v.complete, LeftoverChunks: v.garbage.Chunks, LeftoverBytes: v.garbage.Size}
		if v.complete && vs.LeftoverChunks > s.LeftoverChunks {
			s.LeftoverChunks, s.LeftoverBytes = vs.LeftoverChunks, vs.LeftoverBytes
		}
		for _, name := range sorted {
			if !v.complete || v.unread[name] {
				s.Unjudged++
				continue
			}
			e, ok := v.state[name]
			if !ok {
				e = history.ObjEntry{Name: name, Op: history.ObjAbsent, Chunks: -1}
			}
			if e.Op != history.ObjAbsent {
				vs.Objects++
			}
			if e.Chunks == -2 {
				s.LibraryMismatches++
			}
			j, w := c.judgeRead(e, label != "list")
			count(label, e, j, w)
			switch j {
			case objTorn:
				vs.Torn++
			case objMismatch:
				vs.DigestMismatch++
			case objFine:
				if kind, by := c.finalState(e); kind != "" && !lost[name] && !resurrected[name] {
					if kind == "lost" {
						lost[name] = true
					} else {
						resurrected[name] = true
					}
					note("%s: object %s is %s at the end, but %s %s of it was acked later (invoked at %s)", label, name, stateText(e), map[bool]string{true: "delete", false: "put"}[by.del], by.Op, by.invoke.Round(time.Millisecond))
				}
			}
		}
		s.Views[label] = vs
	}
	s.Lost, s.Resurrected = len(lost), len(resurrected)
	// Disagreements: complete views holding different states of a name.
	for _, name := range sorted {
		first, firstLabel := "", ""
		for _, label := range c.order {
			v := c.views[label]
			if !v.complete || v.unread[name] {
				continue
			}
			st := history.ObjAbsent
			if e, ok := v.state[name]; ok {
				st = e.Op
			}
			if firstLabel == "" {
				first, firstLabel = st, label
			} else if st != first {
				s.Disagreements++
				note("object %s: %s holds %s, %s holds %s at the end", name, firstLabel, first, label, st)
				break
			}
		}
	}
	return s
}

func stateText(e history.ObjEntry) string {
	if e.Op == history.ObjAbsent {
		return "absent"
	}
	return "put " + e.Op
}

// finalState says why e cannot be a name's final state ("" when it can):
// "lost" (an acked put of the name, which must be there or overwritten,
// is not) or "resurrected" (an acked delete is undone), and the write.
func (c *Objects) finalState(e history.ObjEntry) (string, *objWrite) {
	ws := c.byName[e.Name]
	if e.Op == history.ObjAbsent {
		// Absent: every acked put must have a delete that may have come
		// after it (not completed before it began).
	puts:
		for _, p := range ws {
			if p.del || p.out != outOK {
				continue
			}
			for _, d := range ws {
				if d.del && d.out != outFail && (d.out != outOK || d.end >= p.invoke) {
					continue puts
				}
			}
			return "lost", p
		}
		return "", nil
	}
	x := c.writes[e.Op]
	if x.out != outOK {
		return "", nil // an unknown put never completed: nothing came after it for sure
	}
	var del *objWrite
	for _, w := range ws {
		if w != x && w.out == outOK && w.invoke > x.end {
			if !w.del {
				return "lost", w
			}
			del = w
		}
	}
	if del != nil {
		return "resurrected", del
	}
	return "", nil
}

// racing: a write of g's name other than the put it read overlapped it.
func (c *Objects) racing(g objGet) bool {
	for _, w := range c.byName[g.e.Name] {
		if w.Op != g.e.Op && w.invoke < g.end && (w.out == outInfo || w.out == outNone || w.end > g.start) {
			return true
		}
	}
	return false
}

func objectsVerdict(s ObjectsStats) (Verdict, string) {
	summary := fmt.Sprintf("%d puts (%d acked, %d failed, %d unknown), %d deletes (%d acked) on %d names; %d API reads (%d failed); %d leftover chunks (%d bytes)",
		s.Puts, s.PutsAcked, s.PutsFailed, s.PutsUnknown, s.Deletes, s.DeletesAcked, s.Names, s.Gets, s.GetsFailed, s.LeftoverChunks, s.LeftoverBytes)
	if s.TornRacing > 0 {
		summary += fmt.Sprintf("; %d torn reads raced a write of their name (not judged)", s.TornRacing)
	}
	var p problems
	p.add(s.Torn, "TORN objects read (bytes missing)")
	p.add(s.DigestMismatch, "objects read with a DIGEST MISMATCH")
	p.add(s.Phantom, "PHANTOM objects (naming no put of their name)")
	p.add(s.FailedVisible, "objects of FAILED puts visible")
	final := len(p)
	p.add(s.Lost, "names whose acked put was LOST")
	p.add(s.Resurrected, "names whose acked delete was undone (RESURRECTED)")
	p.add(s.Disagreements, "names the final views DISAGREE on")
	var unproven []string
	if s.Unhealed && len(p) > final {
		// A node that never came back may hold what the others lack.
		p, unproven = p[:final], slices.Clone(p[final:])
	}
	if v, msg, ok := anomalyVerdict(s.Malformed, firstOf(s.MalformedExamples), p.withFirst(s.Anomalies), summary); ok {
		return v, msg
	}
	switch {
	case len(unproven) > 0:
		return Unknown, fmt.Sprintf("the cluster never healed, so %s are not proven; %s", strings.Join(unproven, ", "), summary)
	case !s.DrainComplete:
		return Unknown, "final read missing or incomplete, so the final state cannot be judged; " + summary
	case s.Unjudged > 0:
		return Unknown, fmt.Sprintf("%d names of the final views could not be read, so they are not judged; %s", s.Unjudged, summary)
	}
	return Valid, summary
}
