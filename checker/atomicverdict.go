package checker

// The atomic check's figures and verdict.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"jetstorm/history"
)

// AtomicStats are the atomic check's figures (results.json "batches").
// Batches of one message are the single publishes mixed in with the
// batches; the counts of outcomes and anomalies include them.
type AtomicStats struct {
	Batches       int `json:"batches"` // batch publishes attempted (2 messages or more)
	Singles       int `json:"singles"` // single publishes attempted
	Acked         int `json:"acked"`
	Failed        int `json:"failed"`
	Indeterminate int `json:"indeterminate"`
	// Stored: batches the final drain holds whole; IndeterminateStored
	// those of them whose outcome was unknown.
	Stored              int  `json:"stored"`
	IndeterminateStored int  `json:"indeterminate_stored"`
	DrainComplete       bool `json:"drain_complete"`
	Unhealed            bool `json:"unhealed,omitempty"` // the cluster was not healthy after the final heal
	// The anomalies, in the final drain's copy: acked batches it does not
	// hold (Lost; LostProven: of those, the ones no replica read
	// completely holds either), batches it holds part of or out of order
	// (Partial), more than once (Duplicated), failed ones it holds
	// (FailedStored), acked ones whose last message is not at the ack's
	// sequence (Misplaced), batches a reader saw during the run that it
	// does not hold whole (SeenThenLost), and messages of no published
	// batch it or a reader read (Unexpected).
	Lost         int `json:"lost"`
	LostProven   int `json:"lost_proven"`
	Partial      int `json:"partial"`
	Duplicated   int `json:"duplicated"`
	FailedStored int `json:"failed_stored"`
	Misplaced    int `json:"misplaced"`
	SeenThenLost int `json:"seen_then_lost"`
	Unexpected   int `json:"unexpected"`
	// Disagreements: batches the complete copies (the drain's and the
	// replicas') do not hold alike (whole at one place, or not at all).
	Disagreements int `json:"disagreements"`
	// Anomalies names the first few of each anomaly.
	Anomalies []string `json:"anomalies,omitempty"`
	// Reads are the reads during the run, by path (get, direct, consumer).
	Reads map[string]ReadPathStats `json:"reads,omitempty"`
	// Nodes are each replica's own copy, judged as the drain's.
	Nodes             map[string]AtomicNodeStats `json:"nodes,omitempty"`
	Malformed         int                        `json:"malformed,omitempty"`
	MalformedExamples []string                   `json:"malformed_examples,omitempty"`
}

// AtomicNodeStats are one replica's copy of the batches.
type AtomicNodeStats struct {
	Complete     bool `json:"complete"` // its read reached the end
	Whole        int  `json:"whole"`    // batches it holds whole
	Lost         int  `json:"lost"`     // acked batches it does not hold (complete copies only)
	Partial      int  `json:"partial"`
	Duplicated   int  `json:"duplicated"`
	FailedStored int  `json:"failed_stored"`
	Misplaced    int  `json:"misplaced"`
	Unexpected   int  `json:"unexpected"`
}

// AddTo sets the batches section.
func (s AtomicStats) AddTo(out *Sections) { out.Batches = &s }

// Result implements Checker.
func (a *Atomic) Result(ctx context.Context) Result {
	return judge(ctx, "atomic", a.stats, atomicVerdict)
}

// holding is what one copy holds of one batch.
type holding uint8

const (
	holdsNone    holding = iota // nothing of it
	holdsWhole                  // all of it, once, in order, contiguous
	holdsPart                   // part of it, or out of order (proven)
	holdsTwice                  // all of it, more than once
	holdsUnknown                // part of what was read, where the read stopped
)

func (c *batchCopy) holds(id int32, n uint16) (holding, copyState) {
	s := c.state(id)
	switch {
	case s.twice:
		return holdsTwice, s
	case s.count == 0:
		return holdsNone, s
	case s.whole(n):
		return holdsWhole, s
	case c.judged(s, n):
		return holdsPart, s
	}
	return holdsUnknown, s
}

// anomaly kinds, in the order the verdict names them.
const (
	anLost = iota
	anPartial
	anTwice
	anFailedStored
	anMisplaced
	anSeenThenLost
	anDisagree
	nAnomalies
)

var anomalyNames = [nAnomalies]string{"lost", "partial", "duplicated", "failed but stored", "misplaced", "seen then lost", "disagreement"}

// anomalyList keeps the first few batches of each anomaly, with where.
type anomalyList struct {
	ids   [nAnomalies][]int32
	where [nAnomalies][]string
}

func (l *anomalyList) add(k int, id int32, where string) {
	if len(l.ids[k]) < 3 {
		l.ids[k] = append(l.ids[k], id)
		l.where[k] = append(l.where[k], where)
	}
}

// copyName is how the messages name a copy.
func copyName(node string) string {
	if node == "" {
		return "the drain"
	}
	return node
}

// judgeCopy counts what copy c (node "" for the drain) holds of batch id
// against its publish, and returns what it holds.
func judgeCopy(c *batchCopy, node string, id int32, f batchFacts, l *anomalyList, count func(k int)) (holding, copyState) {
	h, s := c.holds(id, f.n)
	where := func(what string) string { return fmt.Sprintf("%s %s", copyName(node), what) }
	switch h {
	case holdsTwice:
		count(anTwice)
		l.add(anTwice, id, where(fmt.Sprintf("holds it %d times (from seq %d)", int(s.count)/int(f.n), s.first)))
	case holdsPart:
		count(anPartial)
		l.add(anPartial, id, where(fmt.Sprintf("holds %d of its %d messages, torn, seqs %d..%d", s.count, f.n, s.first, s.last)))
	case holdsWhole:
		switch {
		case f.out == outFail:
			count(anFailedStored)
			l.add(anFailedStored, id, where(fmt.Sprintf("holds it at seqs %d..%d", s.first, s.last)))
		case f.out == outOK && s.last != f.ack:
			count(anMisplaced)
			l.add(anMisplaced, id, where(fmt.Sprintf("holds it at seqs %d..%d, acked at %d", s.first, s.last, f.ack)))
		}
	case holdsNone:
		if f.out == outOK && c.complete {
			count(anLost)
			l.add(anLost, id, where(fmt.Sprintf("does not hold it (acked at seq %d)", f.ack)))
		}
	}
	return h, s
}

func (a *Atomic) stats() AtomicStats {
	s := AtomicStats{Unhealed: a.unhealed, Malformed: a.bad.n, MalformedExamples: a.bad.ex}
	drain := a.copies.drain()
	s.DrainComplete = drain.complete
	names := a.copies.nodeNames()
	nodes := make([]AtomicNodeStats, len(names))
	var l anomalyList
	pathSeenLost := map[string]int{}
	for id := range int32(len(a.batches)) {
		f := a.batches[id]
		if f.n == 1 {
			s.Singles++
		} else {
			s.Batches++
		}
		switch f.out {
		case outOK:
			s.Acked++
		case outFail:
			s.Failed++
		case outInfo:
			s.Indeterminate++
		}
		h, ds := judgeCopy(drain, "", id, f, &l, func(k int) {
			switch k {
			case anLost:
				s.Lost++
			case anPartial:
				s.Partial++
			case anTwice:
				s.Duplicated++
			case anFailedStored:
				s.FailedStored++
			case anMisplaced:
				s.Misplaced++
			}
		})
		if h == holdsWhole {
			s.Stored++
			if f.out == outInfo {
				s.IndeterminateStored++
			}
		}
		if f.seen != 0 && drain.complete && h != holdsWhole {
			s.SeenThenLost++
			var by []string
			for i, p := range readPaths {
				if f.seen&(1<<i) != 0 {
					pathSeenLost[p]++
					by = append(by, strings.TrimPrefix(p, "read-"))
				}
			}
			l.add(anSeenThenLost, id, "read by "+strings.Join(by, ", ")+" during the run; the drain does not hold it whole")
		}
		// Every replica's own copy, and whether the complete copies agree.
		type held struct {
			h     holding
			first uint64
		}
		var agreed *held
		var where []string
		disagree := false
		if drain.complete {
			agreed = &held{h, ds.first}
			if h != holdsWhole {
				agreed.first = 0
			}
			where = append(where, describeHeld(copyName(""), h, ds))
		}
		allHeld, lostEverywhere := len(names) > 0, f.out == outOK && h == holdsNone
		for k, name := range names {
			c := a.copies.node(name)
			ns := &nodes[k]
			nh, nst := judgeCopy(c, name, id, f, &l, func(k int) {
				switch k {
				case anLost:
					ns.Lost++
				case anPartial:
					ns.Partial++
				case anTwice:
					ns.Duplicated++
				case anFailedStored:
					ns.FailedStored++
				case anMisplaced:
					ns.Misplaced++
				}
			})
			if nh == holdsWhole {
				ns.Whole++
				lostEverywhere = false
			}
			if !c.complete {
				allHeld = false
				continue
			}
			hd := held{nh, nst.first}
			if nh != holdsWhole {
				hd.first = 0
			}
			if agreed == nil {
				agreed = &hd
			} else if *agreed != hd {
				disagree = true
			}
			where = append(where, describeHeld(name, nh, nst))
		}
		if disagree {
			s.Disagreements++
			l.add(anDisagree, id, strings.Join(where, ", "))
		}
		if lostEverywhere && drain.complete && allHeld {
			s.LostProven++
		}
	}
	for k, name := range names {
		nodes[k].Complete = a.copies.node(name).complete
		nodes[k].Unexpected = a.copies.node(name).nunexpected
	}
	if len(names) > 0 {
		s.Nodes = map[string]AtomicNodeStats{}
		for k, name := range names {
			s.Nodes[name] = nodes[k]
		}
	}
	if len(a.reads) > 0 {
		s.Reads = map[string]ReadPathStats{}
		for f, ps := range a.reads {
			r := *ps
			r.SeenThenLost = pathSeenLost[f]
			s.Reads[strings.TrimPrefix(f, "read-")] = r
		}
	}
	s.Unexpected = drain.nunexpected + a.nunread
	s.Anomalies = a.anomalyLines(&l, drain)
	return s
}

// describeHeld says what a copy holds of a batch, for a disagreement.
func describeHeld(name string, h holding, s copyState) string {
	switch h {
	case holdsWhole:
		return fmt.Sprintf("%s whole at %d..%d", name, s.first, s.last)
	case holdsNone:
		return name + " none"
	case holdsTwice:
		return fmt.Sprintf("%s twice from %d", name, s.first)
	}
	return fmt.Sprintf("%s part (%d messages from seq %d)", name, s.count, s.first)
}

// anomalyLines names the examples: "<kind> <batch>/<n>: <where>".
func (a *Atomic) anomalyLines(l *anomalyList, drain *batchCopy) []string {
	var ids []int32
	for k := range l.ids {
		ids = append(ids, l.ids[k]...)
	}
	for _, r := range a.partial {
		ids = append(ids, r.id)
	}
	names := a.ids.Names(ids)
	var out []string
	for k := range l.ids {
		for j, id := range l.ids[k] {
			out = append(out, fmt.Sprintf("%s %s: %s", anomalyNames[k], history.BatchName(names[id], int(a.batches[id].n)), l.where[k][j]))
		}
	}
	for _, r := range a.partial {
		out = append(out, fmt.Sprintf("partial read: %s on %s read %s at seq %d, not its batch's last message", strings.TrimPrefix(r.f, "read-"), r.node, r.msg, r.seq))
	}
	unexpected := slices.Concat(drain.unexpected, a.unread)
	for _, name := range a.copies.nodeNames() {
		unexpected = append(unexpected, a.copies.node(name).unexpected...)
	}
	for _, r := range unexpected[:min(len(unexpected), 3)] {
		out = append(out, fmt.Sprintf("unexpected: %s (%s on %s, seq %d) belongs to no published batch", r.msg, r.f, copyName(r.node), r.seq))
	}
	return out
}

func atomicVerdict(s AtomicStats) (Verdict, string) {
	summary := fmt.Sprintf("%d batches and %d singles attempted, %d acked, %d failed, %d indeterminate; the drain holds %d whole (%d of them indeterminate)",
		s.Batches, s.Singles, s.Acked, s.Failed, s.Indeterminate, s.Stored, s.IndeterminateStored)
	var reads []string
	for _, p := range []string{"get", "direct", "consumer"} {
		if r, ok := s.Reads[p]; ok {
			reads = append(reads, fmt.Sprintf("%s %d (%d errors)", p, r.Reads, r.Errors))
		}
	}
	if len(reads) > 0 {
		summary += "; reads during the run: " + strings.Join(reads, ", ")
	}
	var p problems
	lost := s.Lost
	if s.Unhealed {
		lost = s.LostProven // the rest may be on a replica that never came back
	}
	if s.DrainComplete {
		p.add(lost, "acked batches LOST")
	}
	p.add(s.Partial, "batches stored PARTIALLY or out of order (torn)")
	p.add(s.Duplicated, "batches stored more than once (DUPLICATED)")
	p.add(s.FailedStored, "batches whose publish FAILED are stored")
	p.add(s.Misplaced, "acked batches stored away from their ack's sequence (MISPLACED)")
	p.add(s.SeenThenLost, "batches seen by readers during the run are not stored whole (SEEN THEN LOST)")
	p.add(s.Unexpected, "messages read belong to no published batch (UNEXPECTED)")
	for _, path := range []string{"get", "direct"} {
		p.add(s.Reads[path].Partial, "%s reads showed PART OF A BATCH (isolated reads must not)", path)
	}
	var incomplete []string
	for _, name := range slices.Sorted(maps.Keys(s.Nodes)) {
		n := s.Nodes[name]
		if !n.Complete {
			incomplete = append(incomplete, name)
		}
		p.add(n.Lost, "acked batches missing from %s's copy", name)
		p.add(n.Partial, "batches stored partially on %s", name)
		p.add(n.Duplicated, "batches stored more than once on %s", name)
		p.add(n.FailedStored, "failed batches stored on %s", name)
		p.add(n.Misplaced, "batches misplaced on %s", name)
		p.add(n.Unexpected, "messages on %s belong to no published batch", name)
	}
	p.add(s.Disagreements, "batches the copies DISAGREE on (split brain)")
	if v, msg, ok := anomalyVerdict(s.Malformed, firstOf(s.MalformedExamples), p.withFirst(s.Anomalies), summary); ok {
		return v, msg
	}
	if why := copiesUnknown(s.DrainComplete, s.Unhealed, s.Lost, incomplete, "batches"); why != "" {
		return Unknown, why + "; " + summary
	}
	if len(s.Nodes) == 0 {
		summary += "; no replica's own copy read (final.per_node off)"
	}
	return Valid, summary
}
