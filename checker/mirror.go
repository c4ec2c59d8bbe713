package checker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"jetstorm/history"
)

// Mirror checks the mirror workload (mirrors and sources, issue 23): the
// final reads of the two origins, the mirror of the first and the stream
// sourcing both, and the lag samples taken during the run.
//
//   - Origins: an acked publish missing from its origin is lost; a
//     failed one stored, a value in the wrong origin or of no publish,
//     or a value stored twice is an anomaly.
//   - Mirror: it keeps its origin's sequences, so it must hold exactly
//     the origin's messages at the same sequences: one missing is a gap,
//     another value at a sequence a mismatch, a sequence the origin lacks
//     extra, a value twice a duplicate.
//   - Sourced: per origin, the messages of that origin it holds must be
//     exactly the origin's, in the origin's order: missing (a gap), twice
//     (a duplicate), out of order; values of no origin are extra.
//   - Wedge: after the later of the last heal and the last publish, a
//     copy whose lag was not back to 0 within ConvergeAfter, though the
//     samples went on that long.
type Mirror struct {
	Origins         []string
	MirrorStream    string
	Sourced         string
	ConvergeAfter   time.Duration
	pubs            map[string]*mirrorPub
	lags            []mirrorLag
	samplesFailed   int
	copies          map[string]*streamCopy
	reading         string // the stream whose final read is open
	faults          []history.Op
	lastPublish     time.Duration
	end             time.Duration
	unhealed, rules bool
	bad             badOps
}

type mirrorPub struct {
	out    outcome
	origin int
}

type mirrorLag struct {
	at  time.Duration
	lag history.MirrorLag
}

// streamCopy is one stream's final read: its values in sequence order.
type streamCopy struct {
	seqs     []uint64
	values   []string
	complete bool
}

func (c *Mirror) Name() string { return "mirror" }

func (c *Mirror) Observe(op history.Op) {
	if op.Time > c.end {
		c.end = op.Time
	}
	switch op.F {
	case history.FMirrorRules:
		var r history.MirrorRules
		if err := op.Decode(&r); err != nil || len(r.Origins) == 0 {
			c.bad.add(op, "not the mirror rules")
			return
		}
		c.Origins, c.MirrorStream, c.Sourced, c.rules = r.Origins, r.Mirror, r.Sourced, true
		c.ConvergeAfter = time.Duration(r.ConvergeAfterMs) * time.Millisecond
	case history.FPublish:
		c.publish(op)
	case history.FMirrorLag:
		if op.Type != history.OK {
			c.samplesFailed++
			return
		}
		var l history.MirrorLag
		if err := op.Decode(&l); err != nil {
			c.bad.add(op, "not a lag sample")
			return
		}
		c.lags = append(c.lags, mirrorLag{at: op.Time, lag: l})
	case history.FStreamDrain:
		name := op.ValueString()
		if op.Type == history.Invoke {
			if c.copies == nil {
				c.copies = map[string]*streamCopy{}
			}
			c.copies[name], c.reading = &streamCopy{}, name
			return
		}
		if cp := c.copies[name]; cp != nil && c.reading == name {
			cp.complete = op.Type == history.OK
		} else {
			c.bad.add(op, "a stream's read ends without its start")
		}
		c.reading = ""
	case history.FStreamRead:
		e, ok := history.ParseStreamEntry(op.ValueString())
		if !ok || e.Stream != c.reading {
			c.bad.add(op, "not a message of the stream being read")
			return
		}
		cp := c.copies[e.Stream]
		cp.seqs, cp.values = append(cp.seqs, op.Seq), append(cp.values, e.Value)
	case history.FFault:
		c.faults = append(c.faults, op)
	case history.FRecover:
		c.unhealed = op.Type == history.Info
	}
}

func (c *Mirror) publish(op history.Op) {
	v := op.ValueString()
	if op.Type == history.Invoke {
		_, ctr, ok := strings.Cut(v, "-")
		n, err := strconv.Atoi(ctr)
		if !ok || err != nil || n < 0 || len(c.Origins) == 0 {
			c.bad.add(op, "not a publish of the mirror workload")
			return
		}
		if c.pubs == nil {
			c.pubs = map[string]*mirrorPub{}
		}
		c.pubs[v] = &mirrorPub{origin: n % len(c.Origins)}
		return
	}
	p := c.pubs[v]
	out, ok := outcomeOf(op.Type)
	if p == nil || !ok || p.out != outNone {
		c.bad.add(op, "completion without its invoke")
		return
	}
	p.out = out
	c.lastPublish = max(c.lastPublish, op.Time)
}

// MirrorStats are the mirror check's figures (results.json "mirrors").
type MirrorStats struct {
	Origins       []string `json:"origins"`
	Mirror        string   `json:"mirror"`
	Sourced       string   `json:"sourced"`
	Published     int      `json:"published"`
	Acked         int      `json:"acked"`
	Failed        int      `json:"failed"`
	Indeterminate int      `json:"indeterminate"`
	// Messages each stream holds at the end.
	Messages map[string]int `json:"messages"`
	// Origins' anomalies: acked publishes missing (Lost), failed ones
	// stored, values of no publish or in the wrong origin (Unexpected).
	Lost         int `json:"lost"`
	FailedStored int `json:"failed_stored"`
	Unexpected   int `json:"unexpected"`
	// Copies' anomalies, by stream: missing (a gap), a value twice, other
	// values at a sequence (mirror), out of the origin's order (sourced),
	// messages no origin holds (extra).
	Missing    map[string]int `json:"missing"`
	Duplicates map[string]int `json:"duplicates"`
	Mismatched int            `json:"mismatched"`
	OutOfOrder int            `json:"out_of_order"`
	Extra      map[string]int `json:"extra"`
	// Lag: samples taken (and failed), each copy's largest lag, and how
	// long after the later of the last heal and the last publish it was
	// back to 0 (absent: never, within the samples).
	Samples         int              `json:"samples"`
	SamplesFailed   int              `json:"samples_failed"`
	MaxLag          map[string]int64 `json:"max_lag"`
	CaughtUpAfterMs map[string]int64 `json:"caught_up_after_ms"`
	ConvergeAfterMs int64            `json:"converge_after_ms"`
	// Wedged: copies not back to 0 within converge_after_ms (invalid);
	// Unjudged: copies whose samples stopped before (unknown).
	Wedged            []string `json:"wedged,omitempty"`
	Unjudged          []string `json:"unjudged,omitempty"`
	Incomplete        []string `json:"incomplete,omitempty"`
	Unhealed          bool     `json:"unhealed,omitempty"`
	Anomalies         []string `json:"anomalies,omitempty"`
	Malformed         int      `json:"malformed,omitempty"`
	MalformedExamples []string `json:"malformed_examples,omitempty"`
}

// AddTo sets the mirrors section.
func (s MirrorStats) AddTo(out *Sections) { out.Mirrors = &s }

func (c *Mirror) Result(ctx context.Context) Result {
	return judge(ctx, "mirror", c.stats, mirrorVerdict)
}

func (c *Mirror) stats() MirrorStats {
	s := MirrorStats{Origins: c.Origins, Mirror: c.MirrorStream, Sourced: c.Sourced, ConvergeAfterMs: c.ConvergeAfter.Milliseconds(),
		Messages: map[string]int{}, Missing: map[string]int{}, Duplicates: map[string]int{}, Extra: map[string]int{},
		MaxLag: map[string]int64{}, CaughtUpAfterMs: map[string]int64{}, Samples: len(c.lags), SamplesFailed: c.samplesFailed,
		Unhealed: c.unhealed, Malformed: c.bad.n, MalformedExamples: c.bad.ex}
	if !c.rules {
		return s
	}
	note := noteTo(&s.Anomalies)
	for _, p := range c.pubs {
		s.Published++
		switch p.out {
		case outOK:
			s.Acked++
		case outFail:
			s.Failed++
		default:
			s.Indeterminate++
		}
	}
	for _, name := range c.Streams() {
		cp := c.copies[name]
		if cp == nil || !cp.complete {
			s.Incomplete = append(s.Incomplete, name)
			continue
		}
		s.Messages[name] = len(cp.values)
	}
	// where[i][value]: the index of value in origin i's copy.
	where := make([]map[string]int, len(c.Origins))
	for i, name := range c.Origins {
		where[i] = map[string]int{}
		cp := c.copies[name]
		if cp == nil || !cp.complete {
			continue
		}
		for j, v := range cp.values {
			p := c.pubs[v]
			switch {
			case p == nil || p.origin != i:
				s.Unexpected++
				note("%s holds %s, which no publish to it wrote", name, v)
			case p.out == outFail:
				s.FailedStored++
				note("%s holds %s, whose publish failed", name, v)
			}
			if _, dup := where[i][v]; dup {
				s.Duplicates[name]++
				note("%s holds %s twice", name, v)
				continue
			}
			where[i][v] = j
		}
		if c.unhealed {
			continue
		}
		for _, v := range slices.Sorted(maps.Keys(c.pubs)) {
			if p := c.pubs[v]; p.origin == i && p.out == outOK {
				if _, ok := where[i][v]; !ok {
					s.Lost++
					note("%s lacks %s, whose publish was acked (LOST)", name, v)
				}
			}
		}
	}
	c.judgeMirror(&s, note)
	c.judgeSourced(&s, where, note)
	c.judgeLag(&s, note)
	return s
}

// Streams are the origins, the mirror and the sourced stream.
func (c *Mirror) Streams() []string {
	return append(append([]string{}, c.Origins...), c.MirrorStream, c.Sourced)
}

// judgeMirror: the mirror holds exactly its origin's messages at the same
// sequences.
func (c *Mirror) judgeMirror(s *MirrorStats, note func(string, ...any)) {
	o, m := c.copies[c.Origins[0]], c.copies[c.MirrorStream]
	if o == nil || m == nil || !o.complete || !m.complete {
		return
	}
	at := map[uint64]string{}
	seen := map[string]bool{}
	for i, seq := range m.seqs {
		v := m.values[i]
		at[seq] = v
		if seen[v] {
			s.Duplicates[c.MirrorStream]++
			note("%s holds %s twice", c.MirrorStream, v)
		}
		seen[v] = true
	}
	inOrigin := map[uint64]bool{}
	for i, seq := range o.seqs {
		inOrigin[seq] = true
		v, ok := at[seq]
		switch {
		case !ok:
			s.Missing[c.MirrorStream]++
			note("%s lacks %s (sequence %d of %s): a GAP", c.MirrorStream, o.values[i], seq, c.Origins[0])
		case v != o.values[i]:
			s.Mismatched++
			note("%s holds %s at sequence %d, where %s holds %s", c.MirrorStream, v, seq, c.Origins[0], o.values[i])
		}
	}
	for i, seq := range m.seqs {
		if !inOrigin[seq] {
			s.Extra[c.MirrorStream]++
			note("%s holds %s at sequence %d, which %s lacks", c.MirrorStream, m.values[i], seq, c.Origins[0])
		}
	}
}

// judgeSourced: per origin, the sourced stream holds the origin's messages
// once each, in the origin's order.
func (c *Mirror) judgeSourced(s *MirrorStats, where []map[string]int, note func(string, ...any)) {
	for _, name := range append([]string{c.Sourced}, c.Origins...) {
		if cp := c.copies[name]; cp == nil || !cp.complete {
			return // a message of an origin not read whole cannot be placed
		}
	}
	sc := c.copies[c.Sourced]
	last := make([]int, len(c.Origins))
	for i := range last {
		last[i] = -1
	}
	got := make([]map[string]bool, len(c.Origins))
	for i := range got {
		got[i] = map[string]bool{}
	}
	for _, v := range sc.values {
		origin := -1
		for i := range c.Origins {
			if _, ok := where[i][v]; ok {
				origin = i
			}
		}
		if origin < 0 {
			s.Extra[c.Sourced]++
			note("%s holds %s, which no origin holds", c.Sourced, v)
			continue
		}
		if got[origin][v] {
			s.Duplicates[c.Sourced]++
			note("%s holds %s of %s twice", c.Sourced, v, c.Origins[origin])
			continue
		}
		got[origin][v] = true
		if j := where[origin][v]; j < last[origin] {
			s.OutOfOrder++
			note("%s holds %s of %s after a message %s stored later", c.Sourced, v, c.Origins[origin], c.Origins[origin])
		} else {
			last[origin] = j
		}
	}
	for i, name := range c.Origins {
		for _, v := range c.copies[name].values {
			if !got[i][v] {
				s.Missing[c.Sourced]++
				note("%s lacks %s of %s: a GAP", c.Sourced, v, name)
			}
		}
	}
}

// judgeLag: each copy's lag must be back to 0 within ConvergeAfter after
// the later of the last heal and the last publish.
func (c *Mirror) judgeLag(s *MirrorStats, note func(string, ...any)) {
	from := c.lastPublish
	faults, _ := history.FaultWindows(c.faults, c.end)
	for _, f := range faults {
		from = max(from, f.End)
	}
	var lastSample time.Duration
	for _, l := range c.lags {
		s.MaxLag[c.MirrorStream] = max(s.MaxLag[c.MirrorStream], l.lag.Mirror)
		s.MaxLag[c.Sourced] = max(s.MaxLag[c.Sourced], l.lag.Sourced)
		lastSample = l.at
	}
	for _, name := range []string{c.MirrorStream, c.Sourced} {
		caught := time.Duration(-1)
		for _, l := range c.lags {
			lag := l.lag.Mirror
			if name == c.Sourced {
				lag = l.lag.Sourced
			}
			if l.at >= from && lag <= 0 {
				caught = l.at
				break
			}
		}
		switch {
		case caught >= 0:
			s.CaughtUpAfterMs[name] = (caught - from).Milliseconds()
			if caught-from > c.ConvergeAfter {
				s.Wedged = append(s.Wedged, name)
				note("%s was back to lag 0 only %s after the last heal or publish (WEDGED past %s)", name, (caught - from).Round(time.Millisecond), c.ConvergeAfter)
			}
		case lastSample-from >= c.ConvergeAfter && !c.unhealed:
			s.Wedged = append(s.Wedged, name)
			note("%s still lagging %s after the last heal or publish (WEDGED)", name, (lastSample - from).Round(time.Millisecond))
		default:
			s.Unjudged = append(s.Unjudged, name)
		}
	}
}

func mirrorVerdict(s MirrorStats) (Verdict, string) {
	sum := func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	}
	summary := fmt.Sprintf("%d publishes (%d acked, %d failed, %d indeterminate) to %s; %s holds %d, %s holds %d; %d lag samples, largest lag %d (mirror) and %d (sourced)",
		s.Published, s.Acked, s.Failed, s.Indeterminate, strings.Join(s.Origins, " and "), s.Mirror, s.Messages[s.Mirror], s.Sourced, s.Messages[s.Sourced],
		s.Samples, s.MaxLag[s.Mirror], s.MaxLag[s.Sourced])
	var p problems
	p.add(s.Lost, "acked publishes LOST from their origin")
	p.add(s.FailedStored, "failed publishes stored")
	p.add(s.Unexpected, "values stored in an origin no publish wrote to it")
	if !s.Unhealed { // a copy of a cluster that did not recover may yet catch up
		p.add(sum(s.Missing), "messages of an origin MISSING from a copy (gap)")
	}
	p.add(sum(s.Duplicates), "messages stored twice (DUPLICATE)")
	p.add(s.Mismatched, "mirror sequences holding another message than the origin's")
	p.add(s.OutOfOrder, "sourced messages OUT OF ORDER")
	p.add(sum(s.Extra), "copied messages no origin holds")
	p.add(len(s.Wedged), "copies WEDGED (lag not back to 0 within converge_after)")
	if v, msg, ok := anomalyVerdict(s.Malformed, firstOf(s.MalformedExamples), p.withFirst(s.Anomalies), summary); ok {
		return v, msg
	}
	switch {
	case len(s.Origins) == 0:
		return Unknown, "no mirror-rules op: the streams are not known"
	case len(s.Incomplete) > 0:
		return Unknown, fmt.Sprintf("streams not read whole at the end (%s), so their copies are not judged; %s", strings.Join(s.Incomplete, ", "), summary)
	case s.Unhealed:
		return Unknown, "the cluster did not recover: lost messages and wedges are not judged; " + summary
	case len(s.Unjudged) > 0:
		return Unknown, fmt.Sprintf("lag samples stopped before converge_after for %s; %s", strings.Join(s.Unjudged, ", "), summary)
	case s.Acked == 0:
		return Unknown, "no publish was acked; " + summary
	}
	return Valid, summary
}
