package checker

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"jetstorm/history"
)

// TTL checks the ttl workload (per-message TTLs, delete markers, KV key
// TTLs) against every read of every copy: the prober's reads of each
// node's own copy during the run, the API reads of the clients, and the
// final drains. Due is the publish's invoke time plus the TTL: the server
// stamps a message after it was sent, so it may not expire before. The
// deadline is its ack's time plus the TTL: it was stamped before the ack.
//
//   - Early: a message a read saw on a node, then missing from a later
//     read of that node that ended before it was due, with no fault naming
//     the node in between (a node that lost it in a fault did not expire
//     it); or an API read that says absent before it was due, of one
//     acked before the read began, with no fault in between.
//   - Late: a read that began later than the deadline + Slack + the time
//     the node was under a fault since the deadline (all faults for the
//     drain's copy and the API reads) and still saw an acked message.
//   - Lost: an acked message without a TTL missing from a complete final
//     copy, or absent from an API read after its ack with no fault since.
//   - Markers (MarkerTTL > 0): a node that no longer holds an expired
//     message it held must hold its subject's delete marker in a read that
//     began after the one that found the message gone (on a replica the
//     marker may land a moment after the removal) and ended before the
//     marker could have expired (due + MarkerTTL); with markers off, no
//     read may hold one.
//   - Split brain: complete final copies that hold different messages.
type TTL struct {
	// Slack is how long after its deadline a message may still be seen;
	// MarkerTTL the delete markers' TTL (0: markers off). The history's
	// time-rules op sets them.
	Slack, MarkerTTL time.Duration

	byName map[string]int32
	msgs   []ttlMsg
	reads  map[string]*ttlRead // the read in progress, by node ("": the drain)
	// seen[node][msg]: what reads of node saw of msg.
	seen map[string]map[int32]*ttlSeen
	// active[node]: the entries of seen[node] a later read of the node may
	// still change (held by its last read, or gone with its marker not
	// yet due), so a read is judged against them, not every message ever
	// seen.
	active map[string]map[int32]*ttlSeen
	finals copies[ttlCopy, *ttlCopy]
	gets   []ttlGet
	// pendingGets: each process's read in flight, an index into gets.
	pendingGets map[int]int
	faults      []history.Op
	end         time.Duration
	bad         badOps
	// Probes counts the prober's reads (ok, info).
	probesOK, probesFailed int
	// unexpected: tokens of no published message (markers included);
	// foreign the first 3.
	unexpected int
	foreign    []string
	unhealed   bool
}

type ttlMsg struct {
	name     string
	seq      uint64        // the ack's stream sequence (0: not acked)
	ttl      time.Duration // 0: never expires
	invoke   time.Duration
	ack      time.Duration
	out      outcome
	markerOK bool // a marker for it was seen somewhere
}

// due is when m may expire first (never: MaxInt64).
func (m *ttlMsg) due() time.Duration {
	if m.ttl == 0 {
		return math.MaxInt64
	}
	return m.invoke + m.ttl
}

// deadline is when an acked m must be gone by, before the slack and down
// time: its ack plus its TTL. False when it may stay (no TTL, not acked:
// an unknown publish may have been stored any time later).
func (m *ttlMsg) deadline() (time.Duration, bool) {
	return m.ack + m.ttl, m.ttl > 0 && m.out == outOK
}

// ttlRead is one read of a copy in progress: a probe, or a final read
// op by op.
type ttlRead struct {
	start   time.Duration
	present map[int32]bool
	markers map[int32]bool
	// covers is the last stream sequence a probe's consumer delivered: a
	// consumer that stops short (a node catching up, a stale claim of the
	// end) proves nothing about the messages after it. A final read
	// (complete) covers its whole copy.
	covers   uint64
	complete bool
	from     map[int32]string // the drain's read: the node that served each message
}

// ttlSeen is what the reads of one node saw of one message.
type ttlSeen struct {
	lastPresent time.Duration // start of the last read that held it
	// gone: a read after one that held it did not (its end: goneAt; the
	// last holder's start: goneAfter).
	gone      bool
	goneAfter time.Duration
	goneAt    time.Duration
	// marker: a read of the node held its delete marker; markerDue: a
	// read began after it was gone and ended before the marker could have
	// expired (so it had to hold it, had the marker come by then).
	marker, markerDue bool
	back              bool // held again after it was gone
	presentLatest     bool
	from              string // the drain's: the node that served the last read of it
}

type ttlGet struct {
	msg        int32
	start, end time.Duration
	found      string
	node       string
}

// ttlCopy is one complete final copy: the messages it holds.
type ttlCopy struct {
	copyHead
	msgs map[int32]bool
}

func (c *TTL) Name() string { return "ttl" }

// Observe implements Checker.
func (c *TTL) Observe(op history.Op) {
	if op.Time > c.end {
		c.end = op.Time
	}
	switch op.F {
	case history.FTTLPut:
		c.put(op)
	case history.FTTLGet:
		c.get(op)
	case history.FTTLProbe:
		c.probe(op)
	case history.FTimeRules:
		var r history.TimeRules
		if err := op.Decode(&r); err != nil {
			c.bad.add(op, "not the time rules")
		}
		c.Slack, c.MarkerTTL = time.Duration(r.SlackMs)*time.Millisecond, time.Duration(r.MarkerTTLMs)*time.Millisecond
	case history.FFault:
		c.faults = append(c.faults, op)
	case history.FRecover:
		c.unhealed = op.Type == history.Info
	case history.FRead, history.FNodeRead, history.FDrain, history.FNodeDrain:
		c.final(op)
	}
}

func (c *TTL) put(op history.Op) {
	e, ok := history.ParseTTLEntry(op.ValueString())
	if !ok {
		c.bad.add(op, "not a ttl message")
		return
	}
	if op.Type == history.Invoke {
		if _, dup := c.byName[e.Op]; dup {
			c.bad.add(op, "message published twice")
			return
		}
		if c.byName == nil {
			c.byName = map[string]int32{}
		}
		c.byName[e.Op] = int32(len(c.msgs))
		c.msgs = append(c.msgs, ttlMsg{name: e.Op, ttl: time.Duration(e.TTL) * time.Second, invoke: op.Time})
		return
	}
	id, ok := c.byName[e.Op]
	if !ok || c.msgs[id].out != outNone || c.msgs[id].ttl != time.Duration(e.TTL)*time.Second {
		c.bad.add(op, "completion without its invoke")
		return
	}
	m := &c.msgs[id]
	out, ok := outcomeOf(op.Type)
	if !ok {
		c.bad.add(op, "unknown op type")
		return
	}
	m.out = out
	if out == outOK {
		m.ack, m.seq = op.Time, op.Seq
	}
}

func (c *TTL) get(op history.Op) {
	switch op.Type {
	case history.Invoke:
		if c.pendingGets == nil {
			c.pendingGets = map[int]int{}
		}
		c.pendingGets[op.Process] = len(c.gets)
		c.gets = append(c.gets, ttlGet{msg: -1, start: op.Time, node: op.Node})
		return
	case history.OK:
	default: // a read that failed tells nothing
		delete(c.pendingGets, op.Process)
		return
	}
	i, open := c.pendingGets[op.Process]
	delete(c.pendingGets, op.Process)
	name, found, _ := strings.Cut(op.ValueString(), " ")
	id, ok := c.byName[name]
	switch {
	case !ok || (found != "present" && found != "absent" && found != "marker"):
		c.bad.add(op, "not a read of a published message")
	case !open:
		c.bad.add(op, "read without its invoke")
	default:
		g := &c.gets[i]
		g.msg, g.end, g.found = id, op.Time, found
	}
}

func (c *TTL) probe(op history.Op) {
	switch op.Type {
	case history.Invoke:
		c.begin(op.Node, op.Time)
	case history.OK:
		r := c.reads[op.Node]
		if r == nil {
			c.bad.add(op, "probe without its invoke")
			return
		}
		for _, t := range history.TTLTokens(op.ValueString()) {
			c.token(r, t)
		}
		r.covers = op.Seq
		c.probesOK++
		c.finish(op.Node, op.Time)
	default:
		c.probesFailed++
		delete(c.reads, op.Node)
	}
}

// final takes the final drains' reads: each copy is one more read of its
// node ("": the drain's, read from the leader), and a final copy.
func (c *TTL) final(op history.Op) {
	node := op.Node
	if op.F == history.FRead || op.F == history.FDrain {
		node = ""
	}
	switch {
	case op.Type == history.Invoke:
		c.begin(node, op.Time)
	case op.F == history.FRead || op.F == history.FNodeRead:
		if r := c.reads[node]; r != nil && op.Type == history.OK {
			c.token(r, op.ValueString())
			if id, ok := c.byName[op.ValueString()]; ok {
				r.from[id] = op.Node // the node that served it (the drain's reads may come from several)
			}
		}
	default: // the drain's end
		r := c.reads[node]
		if r == nil {
			return
		}
		fc := c.finals.of(node)
		fc.complete = op.Type == history.OK
		fc.msgs = maps.Clone(r.present)
		if fc.msgs == nil {
			fc.msgs = map[int32]bool{}
		}
		if op.Type == history.OK {
			r.complete = true
			c.finish(node, op.Time)
		} else {
			delete(c.reads, node)
		}
	}
}

func (c *TTL) begin(node string, at time.Duration) {
	if c.reads == nil {
		c.reads = map[string]*ttlRead{}
	}
	c.reads[node] = &ttlRead{start: at, present: map[int32]bool{}, markers: map[int32]bool{}, from: map[int32]string{}}
}

func (c *TTL) token(r *ttlRead, t string) {
	if name, ok := strings.CutPrefix(t, history.MarkerPrefix); ok {
		if id, ok := c.byName[name]; ok {
			r.markers[id] = true
			c.msgs[id].markerOK = true
			return
		}
	} else if id, ok := c.byName[t]; ok {
		r.present[id] = true
		return
	}
	if c.unexpected++; len(c.foreign) < 3 {
		c.foreign = append(c.foreign, t)
	}
}

// finish judges a read of node that ended at end against the earlier ones.
func (c *TTL) finish(node string, end time.Duration) {
	r := c.reads[node]
	delete(c.reads, node)
	if c.seen == nil {
		c.seen = map[string]map[int32]*ttlSeen{}
	}
	seen, active := c.seen[node], c.active[node]
	if seen == nil {
		seen, active = map[int32]*ttlSeen{}, map[int32]*ttlSeen{}
		c.seen[node] = seen
		if c.active == nil {
			c.active = map[string]map[int32]*ttlSeen{}
		}
		c.active[node] = active
	}
	for id := range r.present {
		s := seen[id]
		if s == nil {
			s = &ttlSeen{}
			seen[id] = s
		}
		if s.gone {
			s.back = true
		}
		s.lastPresent, s.presentLatest, s.from = r.start, true, r.from[id]
		active[id] = s
	}
	for id := range r.markers {
		if s := seen[id]; s != nil {
			s.marker = true
		}
	}
	for id, s := range active {
		m := &c.msgs[id]
		markerEnd := m.invoke + m.ttl + c.MarkerTTL // the earliest its marker may expire
		if s.gone && r.start > s.goneAt && end < markerEnd {
			s.markerDue = true
		}
		if s.presentLatest && !r.present[id] && (r.complete || (m.seq != 0 && m.seq <= r.covers)) {
			// Gone (a read that did not reach it proves nothing).
			s.presentLatest = false
			if !s.gone {
				s.gone, s.goneAfter, s.goneAt = true, s.lastPresent, end
			}
		}
		if !s.presentLatest && (s.marker || s.markerDue || end >= markerEnd) {
			delete(active, id) // no later read can change it (unless it is held again)
		}
	}
}

// TTLStats are the ttl check's figures (results.json "ttl").
type TTLStats struct {
	Messages      int `json:"messages"` // attempted
	Acked         int `json:"acked"`
	Failed        int `json:"failed"`
	Indeterminate int `json:"indeterminate"`
	// NoTTL: of the acked, those without a TTL (they must stay).
	NoTTL int `json:"no_ttl"`
	// Expired: acked messages with a TTL some read saw and then no longer.
	Expired int `json:"expired"`
	// Probes: the prober's reads of the nodes' copies, done and failed.
	Probes       int `json:"probes"`
	ProbesFailed int `json:"probes_failed"`
	Gets         int `json:"gets"` // the clients' API reads that answered
	// MaxLateness is the longest a read saw a message after its due,
	// less the time its node was under a fault; a message is late past
	// SlackMs.
	MaxLatenessMs int64 `json:"max_lateness_ms"`
	SlackMs       int64 `json:"slack_ms"`
	MarkerTTLMs   int64 `json:"marker_ttl_ms,omitempty"`
	// Markers: expired messages whose delete marker some read held.
	Markers       int  `json:"markers"`
	DrainComplete bool `json:"drain_complete"`
	Unhealed      bool `json:"unhealed,omitempty"`
	// The anomalies: messages gone from a node (or absent from an API
	// read) before due (Early), seen past due + slack (Late), acked ones
	// without a TTL gone (Lost), failed ones stored (FailedStored),
	// expired ones without their marker (MarkersMissing), markers with
	// markers off and messages no client published (Unexpected), and
	// messages the complete final copies disagree on (Disagreements).
	Early          int `json:"early"`
	Late           int `json:"late"`
	Lost           int `json:"lost"`
	FailedStored   int `json:"failed_stored"`
	MarkersMissing int `json:"markers_missing"`
	Unexpected     int `json:"unexpected"`
	Disagreements  int `json:"disagreements"`
	// Unjudged: early absences that fell in a fault on their node (a
	// lost message, not an expiry) and could not be judged.
	Unjudged int `json:"unjudged"`
	// StaleReads: API reads that said absent (or found the marker) before
	// the message was due, of one acked before the read, which a later
	// read held: the API answered from a copy behind the ack. Reported,
	// not a verdict (as the queue check's stale reads).
	StaleReads    int                     `json:"stale_reads,omitempty"`
	StaleExamples []string                `json:"stale_examples,omitempty"`
	Nodes         map[string]TTLNodeStats `json:"nodes,omitempty"`
	Anomalies     []string                `json:"anomalies,omitempty"`
	Malformed     int                     `json:"malformed,omitempty"`
	// MalformedExamples are the first malformed ops.
	MalformedExamples []string `json:"malformed_examples,omitempty"`
}

// TTLNodeStats are one node's anomalies ("the drain": the leader's copy
// read by the final drain, and the API reads).
type TTLNodeStats struct {
	Early          int   `json:"early"`
	Late           int   `json:"late"`
	Lost           int   `json:"lost"`
	MarkersMissing int   `json:"markers_missing"`
	MaxLatenessMs  int64 `json:"max_lateness_ms"`
	// DownMs: how long faults named the node (not counted as late).
	DownMs int64 `json:"down_ms"`
	// Incomplete: the node's final read did not finish.
	Incomplete bool `json:"incomplete,omitempty"`
}

// AddTo sets the ttl section.
func (s TTLStats) AddTo(out *Sections) { out.TTL = &s }

// Result implements Checker.
func (c *TTL) Result(ctx context.Context) Result {
	return judge(ctx, "ttl", c.stats, ttlVerdict)
}

func (c *TTL) stats() TTLStats {
	s := TTLStats{Probes: c.probesOK, ProbesFailed: c.probesFailed, SlackMs: c.Slack.Milliseconds(),
		MarkerTTLMs: c.MarkerTTL.Milliseconds(), Unhealed: c.unhealed, Malformed: c.bad.n, MalformedExamples: c.bad.ex,
		DrainComplete: c.finals.drain().complete, Nodes: map[string]TTLNodeStats{}}
	faults := cutOff(c.faults, c.end)
	note := noteTo(&s.Anomalies)
	expired := map[int32]bool{}
	for i := range c.msgs {
		m := &c.msgs[i]
		s.Messages++
		switch m.out {
		case outOK:
			s.Acked++
			if m.ttl == 0 {
				s.NoTTL++
			}
		case outFail:
			s.Failed++
		case outInfo:
			s.Indeterminate++
		}
	}
	for _, node := range slices.Sorted(maps.Keys(c.seen)) {
		label := node
		if node == "" {
			label = "the drain"
		}
		n := TTLNodeStats{DownMs: downWithin(faults, node, 0, c.end).Milliseconds()}
		ids := slices.Sorted(maps.Keys(c.seen[node]))
		for _, id := range ids {
			m, x := &c.msgs[id], c.seen[node][id]
			if m.out == outFail {
				s.FailedStored++
				note("%s: message %s failed to publish but is stored", label, m.name)
				continue
			}
			// Late: held by a read that began past the deadline + slack +
			// down time.
			if dl, ok := m.deadline(); ok && x.lastPresent > dl {
				late := x.lastPresent - dl - downWithin(faults, node, dl, x.lastPresent)
				n.MaxLatenessMs = max(n.MaxLatenessMs, late.Milliseconds())
				if late > c.Slack {
					n.Late++
					where := label
					if x.from != "" && node == "" {
						where += " (read from " + x.from + ")"
					}
					note("%s: message %s (TTL %s, acked at %s) still there %s past its TTL (read at %s)", where, m.name, m.ttl, m.ack.Round(time.Millisecond), (x.lastPresent - dl).Round(time.Millisecond), x.lastPresent.Round(time.Millisecond))
				}
			}
			if !x.gone || m.ttl == 0 {
				continue // one without a TTL is judged by the final copies
			}
			expired[id] = true
			switch {
			case x.goneAt >= m.due():
			case downWithin(faults, node, x.goneAfter, x.goneAt) > 0:
				s.Unjudged++
			default:
				n.Early++
				note("%s: message %s (TTL %s, due %s) gone by %s", label, m.name, m.ttl, m.due().Round(time.Millisecond), x.goneAt.Round(time.Millisecond))
			}
			if c.MarkerTTL > 0 && !x.marker && x.markerDue && !x.back {
				n.MarkersMissing++
				note("%s: message %s gone by %s, and no read of the node held its delete marker before it could expire (due %s, marker TTL %s)", label, m.name, x.goneAt.Round(time.Millisecond), m.due().Round(time.Millisecond), c.MarkerTTL)
			}
		}
		s.Nodes[label] = n
	}
	// The API reads, judged as reads of the cluster (all faults).
	lastSeen := map[int32]time.Duration{} // the latest read start that held each message
	for _, seen := range c.seen {
		for id, x := range seen {
			lastSeen[id] = max(lastSeen[id], x.lastPresent)
		}
	}
	var api TTLNodeStats
	for _, g := range c.gets {
		if g.msg < 0 {
			continue
		}
		s.Gets++
		m := &c.msgs[g.msg]
		due := m.due()
		dl, ok := m.deadline()
		switch {
		case g.found == "present" && ok && g.start > dl:
			late := g.start - dl - downWithin(faults, "", dl, g.start)
			api.MaxLatenessMs = max(api.MaxLatenessMs, late.Milliseconds())
			if late > c.Slack {
				api.Late++
				note("read on %s: message %s (TTL %s, acked at %s) still there %s past its TTL", g.node, m.name, m.ttl, m.ack.Round(time.Millisecond), (g.start - dl).Round(time.Millisecond))
			}
		case g.found != "present" && m.out == outOK && m.ack <= g.start && g.end < due:
			if downWithin(faults, "", m.ack, g.end) > 0 {
				s.Unjudged++
				continue
			}
			if lastSeen[g.msg] > g.end {
				// A later read held it: the API answered from a copy
				// behind the ack (a deposed leader), not an expiry.
				s.StaleReads++
				if len(s.StaleExamples) < 5 {
					s.StaleExamples = append(s.StaleExamples, fmt.Sprintf("read on %s: message %s (acked at %s) %s at %s, held by a read at %s",
						g.node, m.name, m.ack.Round(time.Millisecond), g.found, g.end.Round(time.Millisecond), lastSeen[g.msg].Round(time.Millisecond)))
				}
				continue
			}
			if m.ttl == 0 {
				api.Lost++
			} else {
				api.Early++
			}
			note("read on %s: message %s (TTL %s, acked at %s) %s at %s, before it was due", g.node, m.name, m.ttl, m.ack.Round(time.Millisecond), g.found, g.end.Round(time.Millisecond))
		}
		if g.found == "marker" && c.MarkerTTL == 0 {
			s.Unexpected++
			note("read on %s: a delete marker for %s, with markers off", g.node, m.name)
		}
	}
	if s.Gets > 0 {
		api.DownMs = downWithin(faults, "", 0, c.end).Milliseconds()
		s.Nodes["api reads"] = api
	}
	// Final copies: every acked message without a TTL is there; the
	// complete copies hold the same messages.
	for _, name := range append([]string{""}, c.finals.nodeNames()...) {
		fc := c.finals.by[name]
		if fc == nil {
			continue
		}
		label := name
		if name == "" {
			label = "the drain"
		}
		n := s.Nodes[label]
		if !fc.complete {
			if name != "" {
				n.Incomplete = true
				s.Nodes[label] = n
			}
			continue
		}
		for id := range c.msgs {
			m := &c.msgs[id]
			if m.out == outOK && m.ttl == 0 && !fc.msgs[int32(id)] && !c.unhealed {
				n.Lost++
				note("%s: acked message %s (no TTL) is missing at the end", label, m.name)
			}
		}
		s.Nodes[label] = n
	}
	names, complete := c.finals.complete()
	for i := 1; i < len(complete); i++ {
		if !maps.Equal(complete[0].msgs, complete[i].msgs) {
			s.Disagreements++
			only0, onlyI := setDiff(complete[0].msgs, complete[i].msgs), setDiff(complete[i].msgs, complete[0].msgs)
			note("%s and %s hold different messages at the end (%d only on %s, e.g. %s; %d only on %s, e.g. %s)",
				names[0], names[i], len(only0), names[0], c.firstName(only0), len(onlyI), names[i], c.firstName(onlyI))
		}
	}
	for _, n := range s.Nodes {
		s.Early += n.Early
		s.Late += n.Late
		s.Lost += n.Lost
		s.MarkersMissing += n.MarkersMissing
		s.MaxLatenessMs = max(s.MaxLatenessMs, n.MaxLatenessMs)
	}
	s.Expired = len(expired)
	for id := range expired {
		if c.msgs[id].markerOK {
			s.Markers++
		}
	}
	s.Unexpected += c.unexpected
	for _, f := range c.foreign {
		note("%q is no message a client published", f)
	}
	if c.MarkerTTL == 0 {
		for id := range c.msgs {
			if c.msgs[id].markerOK {
				s.Unexpected++
				note("a delete marker for %s, with markers off", c.msgs[id].name)
			}
		}
	}
	return s
}

func setDiff(a, b map[int32]bool) []int32 {
	var d []int32
	for id := range a {
		if !b[id] {
			d = append(d, id)
		}
	}
	slices.Sort(d)
	return d
}

func (c *TTL) firstName(ids []int32) string {
	if len(ids) == 0 {
		return "none"
	}
	m := c.msgs[ids[0]]
	return fmt.Sprintf("%s (TTL %s)", m.name, m.ttl)
}

// cutOff are the history's fault windows, each naming the nodes it took
// away from the cluster: a partition names the nodes off its largest side
// (the majority went on; every side when none is largest), other faults
// the nodes they name.
func cutOff(ops []history.Op, end time.Duration) []history.FaultWindow {
	faults, _ := history.FaultWindows(ops, end)
	i := 0
	for _, op := range ops {
		if op.F != history.FFault || op.Type != history.Invoke {
			continue
		}
		w := &faults[i]
		i++
		var v struct {
			Sides [][]string `json:"sides"`
		}
		if w.Kind != "partition" || op.Decode(&v) != nil || len(v.Sides) < 2 {
			continue
		}
		largest, tie := 0, false
		for j, side := range v.Sides {
			switch {
			case len(side) > len(v.Sides[largest]):
				largest, tie = j, false
			case j != largest && len(side) == len(v.Sides[largest]):
				tie = true
			}
		}
		if tie {
			continue
		}
		w.Nodes = nil
		for j, side := range v.Sides {
			if j != largest {
				w.Nodes = append(w.Nodes, side...)
			}
		}
	}
	return faults
}

// downWithin is how much of from..to faults naming node (any fault, for
// node "") cover.
func downWithin(faults []history.FaultWindow, node string, from, to time.Duration) time.Duration {
	type span struct{ a, b time.Duration }
	var spans []span
	for _, f := range faults {
		if node != "" && !slices.Contains(f.Nodes, node) {
			continue
		}
		a, b := max(f.Start, from), min(f.End, to)
		if a < b {
			spans = append(spans, span{a, b})
		}
	}
	// The windows come in the order of their starts (history.FaultWindows),
	// and clipping keeps that order.
	var total, reach time.Duration
	reach = from
	for _, sp := range spans {
		if sp.b <= reach {
			continue
		}
		total += sp.b - max(sp.a, reach)
		reach = sp.b
	}
	return total
}

func ttlVerdict(s TTLStats) (Verdict, string) {
	summary := fmt.Sprintf("%d messages, %d acked (%d without a TTL), %d failed, %d indeterminate; %d expired (%d with a delete marker seen); %d probes of the nodes' copies (%d failed), %d API reads; latest expiry %d ms past due (slack %d ms)",
		s.Messages, s.Acked, s.NoTTL, s.Failed, s.Indeterminate, s.Expired, s.Markers, s.Probes, s.ProbesFailed, s.Gets, s.MaxLatenessMs, s.SlackMs)
	var p problems
	p.add(s.Early, "messages gone before their TTL (EARLY)")
	p.add(s.Late, "messages still there past their TTL and the slack (LATE)")
	if !s.Unhealed {
		p.add(s.Lost, "acked messages without a TTL LOST")
	}
	p.add(s.FailedStored, "messages whose publish FAILED are stored")
	p.add(s.MarkersMissing, "expired messages without their delete marker (MARKER MISSING)")
	p.add(s.Unexpected, "stored messages or markers never expected (UNEXPECTED)")
	p.add(s.Disagreements, "final copies that DISAGREE with the first (split brain)")
	if v, msg, ok := anomalyVerdict(s.Malformed, firstOf(s.MalformedExamples), p.withFirst(s.Anomalies), summary); ok {
		return v, msg
	}
	var incomplete []string
	for _, name := range slices.Sorted(maps.Keys(s.Nodes)) {
		if s.Nodes[name].Incomplete {
			incomplete = append(incomplete, name)
		}
	}
	if why := copiesUnknown(s.DrainComplete, s.Unhealed, s.Lost, incomplete, "messages"); why != "" {
		return Unknown, why + "; " + summary
	}
	if s.Unjudged > 0 {
		summary += fmt.Sprintf("; %d absences fell in a fault on their node and were not judged", s.Unjudged)
	}
	if s.StaleReads > 0 {
		summary += fmt.Sprintf("; %d stale API reads (allowed: absent, then held by a later read; first: %s)", s.StaleReads, s.StaleExamples[0])
	}
	return Valid, summary
}
