package checker

import (
	"context"
	"fmt"
	"slices"
	"time"

	"jetstorm/history"
)

// Schedule checks the schedule workload (message schedules, Nats-Schedule)
// with what the final drains read back: each copy's firings, every one a
// message its schedule produced on the schedule's own target subject,
// stamped by the server when stored.
//
//   - @at: an acked schedule fires exactly once, no earlier than its time
//     less Tolerance and no later than its time plus Tolerance unless a
//     fault (any node, with Slack after its end to recover) overlaps that;
//     one its copy's read began more than Slack past its time (and the
//     faults since) that has not fired is missed. A failed one never
//     fires; an unknown one fires at most once.
//   - @every: between consecutive firings outside any fault (and Slack
//     after it) the gap is the interval ± Tolerance: shorter is a
//     duplicated firing, longer a missed one. After downtime the server
//     skips ahead and fires once by design, so gaps that touch a fault are
//     not judged.
//   - Complete copies hold the same @at firings, and the same @every
//     firings up to the first copy's read (else a split brain).
type Schedule struct {
	// Tolerance is how far from its time a firing may land; Slack how long
	// past its time (and the faults) a schedule may take to fire. The
	// history's time-rules op sets them.
	Tolerance, Slack time.Duration

	byName map[string]int32
	scheds []schedEntry
	copies copies[schedCopy, *schedCopy]
	starts map[string]time.Duration // each copy's read start ("": the drain's)
	faults []history.Op
	end    time.Duration
	bad    badOps
}

type schedEntry struct {
	history.ScheduleEntry
	ack time.Duration
	out outcome
}

// schedCopy is one copy's firings, by schedule.
type schedCopy struct {
	copyHead
	firings map[int32][]time.Duration
	// unexpected: messages that are no firing of a published schedule;
	// foreign the first 3.
	unexpected int
	foreign    []string
}

func (c *Schedule) Name() string { return "schedule" }

// Observe implements Checker.
func (c *Schedule) Observe(op history.Op) {
	if op.Time > c.end {
		c.end = op.Time
	}
	switch op.F {
	case history.FScheduleAdd:
		c.add(op)
	case history.FTimeRules:
		var r history.TimeRules
		if err := op.Decode(&r); err != nil {
			c.bad.add(op, "not the time rules")
		}
		c.Tolerance, c.Slack = time.Duration(r.ToleranceMs)*time.Millisecond, time.Duration(r.SlackMs)*time.Millisecond
	case history.FFault:
		c.faults = append(c.faults, op)
	case history.FDrain, history.FNodeDrain:
		if op.Type == history.Invoke {
			if c.starts == nil {
				c.starts = map[string]time.Duration{}
			}
			node := op.Node
			if op.F == history.FDrain {
				node = ""
			}
			c.starts[node] = op.Time
		}
		c.copies.observe(op, nil)
	default:
		c.copies.observe(op, func(sc *schedCopy, op history.Op) { sc.read(c, op) })
	}
}

func (c *Schedule) add(op history.Op) {
	e, ok := history.ParseScheduleEntry(op.ValueString())
	if !ok {
		c.bad.add(op, "not a schedule")
		return
	}
	if op.Type == history.Invoke {
		if _, dup := c.byName[e.Op]; dup {
			c.bad.add(op, "schedule published twice")
			return
		}
		if c.byName == nil {
			c.byName = map[string]int32{}
		}
		c.byName[e.Op] = int32(len(c.scheds))
		c.scheds = append(c.scheds, schedEntry{ScheduleEntry: e})
		return
	}
	id, ok := c.byName[e.Op]
	if !ok || c.scheds[id].out != outNone || c.scheds[id].ScheduleEntry != e {
		c.bad.add(op, "completion without its invoke")
		return
	}
	s := &c.scheds[id]
	out, ok := outcomeOf(op.Type)
	if !ok {
		c.bad.add(op, "unknown op type")
		return
	}
	s.out, s.ack = out, op.Time
}

func (sc *schedCopy) read(c *Schedule, op history.Op) {
	v := op.ValueString()
	name, at, ok := history.ParseFiring(v)
	if !ok {
		if _, pending := c.byName[v]; !pending {
			sc.unexpect(v) // a schedule not yet fired is its own name
		}
		return
	}
	id, ok := c.byName[name]
	if !ok {
		sc.unexpect(v)
		return
	}
	if sc.firings == nil {
		sc.firings = map[int32][]time.Duration{}
	}
	sc.firings[id] = append(sc.firings[id], at)
}

func (sc *schedCopy) unexpect(v string) {
	if sc.unexpected++; len(sc.foreign) < 3 {
		sc.foreign = append(sc.foreign, v)
	}
}

// ScheduleStats are the schedule check's figures (results.json
// "schedules").
type ScheduleStats struct {
	Schedules     int `json:"schedules"` // @at schedules attempted
	Repeating     int `json:"repeating"` // @every schedules attempted
	Acked         int `json:"acked"`
	Failed        int `json:"failed"`
	Indeterminate int `json:"indeterminate"`
	// Fired: @at schedules that fired in the drain's copy; Firings: all
	// firings there, @every ones included.
	Fired   int `json:"fired"`
	Firings int `json:"firings"`
	// Pending: acked @at schedules not yet due (with the slack) when the
	// drain read them: not judged.
	Pending int `json:"pending"`
	// MaxDelayMs: how late the latest @at firing due outside faults came;
	// MaxDelayFaultsMs: the same of those due near a fault.
	MaxDelayMs       int64 `json:"max_delay_ms"`
	MaxDelayFaultsMs int64 `json:"max_delay_faults_ms"`
	ToleranceMs      int64 `json:"tolerance_ms"`
	// GapsJudged and GapsSkipped: @every gaps between firings outside
	// faults (judged) and touching one (not judged: by design the server
	// skips ahead after downtime).
	GapsJudged    int  `json:"gaps_judged"`
	GapsSkipped   int  `json:"gaps_skipped"`
	DrainComplete bool `json:"drain_complete"`
	// The anomalies, summed over the complete copies: schedules that did
	// not fire (Missed), extra firings (Duplicated), firings before their
	// time (Early) or past it outside faults (Late), failed ones that
	// fired (FailedFired), firings of no schedule (Unexpected), copies
	// that disagree with the first (Disagreements).
	Missed        int      `json:"missed"`
	Duplicated    int      `json:"duplicated"`
	Early         int      `json:"early"`
	Late          int      `json:"late"`
	FailedFired   int      `json:"failed_fired"`
	Unexpected    int      `json:"unexpected"`
	Disagreements int      `json:"disagreements"`
	Incomplete    []string `json:"incomplete,omitempty"`
	Anomalies     []string `json:"anomalies,omitempty"`
	Malformed     int      `json:"malformed,omitempty"`
	// MalformedExamples are the first malformed ops.
	MalformedExamples []string `json:"malformed_examples,omitempty"`
}

// AddTo sets the schedules section.
func (s ScheduleStats) AddTo(out *Sections) { out.Schedules = &s }

// Result implements Checker.
func (c *Schedule) Result(ctx context.Context) Result {
	return judge(ctx, "schedule", c.stats, scheduleVerdict)
}

func (c *Schedule) stats() ScheduleStats {
	s := ScheduleStats{ToleranceMs: c.Tolerance.Milliseconds(), Malformed: c.bad.n, MalformedExamples: c.bad.ex}
	note := noteTo(&s.Anomalies)
	all, _ := history.FaultWindows(c.faults, c.end)
	// Disturbed: every fault, and Slack after it for the cluster to recover.
	var disturbed []history.FaultWindow
	for _, f := range all {
		f.End += c.Slack
		f.Nodes = nil
		disturbed = append(disturbed, f)
	}
	touches := func(from, to time.Duration) bool { return downWithin(disturbed, "", from, to) > 0 }
	for _, e := range c.scheds {
		if e.Every > 0 {
			s.Repeating++
		} else {
			s.Schedules++
		}
		switch e.out {
		case outOK:
			s.Acked++
		case outFail:
			s.Failed++
		case outInfo:
			s.Indeterminate++
		}
	}
	drain := c.copies.drain()
	s.DrainComplete = drain.complete
	for id, f := range drain.firings {
		s.Firings += len(f)
		if c.scheds[id].Every == 0 {
			s.Fired++
		}
	}
	for _, name := range c.copies.nodeNames() {
		if !c.copies.node(name).complete {
			s.Incomplete = append(s.Incomplete, name)
		}
	}
	names, complete := c.copies.complete()
	for i, sc := range complete {
		label, key := names[i], names[i]
		if key == "the drain" {
			key = "" // the drain's copy: its start is keyed ""
		}
		start := c.starts[key]
		first := i == 0 // figures from the first complete copy only
		for id := range c.scheds {
			e := &c.scheds[id]
			f := sc.firings[int32(id)]
			if e.Every > 0 {
				c.judgeEvery(&s, e, f, start, touches, first, note, label)
				continue
			}
			if len(f) > 1 {
				s.Duplicated += len(f) - 1
				note("%s: %s (due %s) fired %d times", label, e.Op, e.At.Round(time.Millisecond), len(f))
			}
			if len(f) > 0 && e.out == outFail {
				s.FailedFired++
				note("%s: %s failed to publish but fired at %s", label, e.Op, f[0].Round(time.Millisecond))
			}
			for _, t := range f {
				switch {
				case t < e.At-c.Tolerance:
					s.Early++
					note("%s: %s fired at %s, %s before its time", label, e.Op, t.Round(time.Millisecond), (e.At - t).Round(time.Millisecond))
				case t > e.At+c.Tolerance && !touches(e.At-c.Tolerance, e.At+c.Tolerance):
					s.Late++
					note("%s: %s fired at %s, %s after its time, outside any fault", label, e.Op, t.Round(time.Millisecond), (t - e.At).Round(time.Millisecond))
				}
				if first && t > e.At {
					if touches(e.At-c.Tolerance, e.At+c.Tolerance) {
						s.MaxDelayFaultsMs = max(s.MaxDelayFaultsMs, (t - e.At).Milliseconds())
					} else {
						s.MaxDelayMs = max(s.MaxDelayMs, (t - e.At).Milliseconds())
					}
				}
			}
			if len(f) == 0 && e.out == outOK {
				if start-e.At-downWithin(disturbed, "", e.At, start) > c.Slack {
					s.Missed++
					note("%s: %s (due %s, acked at %s) never fired (read at %s)", label, e.Op, e.At.Round(time.Millisecond), e.ack.Round(time.Millisecond), start.Round(time.Millisecond))
				} else if first {
					s.Pending++
				}
			}
		}
		s.Unexpected += sc.unexpected
		for _, f := range sc.foreign {
			note("%s: %q is no firing of a published schedule", label, f)
		}
	}
	// Split brain: the complete copies' firings up to the earliest read
	// (the rest may have fired between the reads).
	var horizon time.Duration = 1<<63 - 1
	for _, st := range c.starts {
		horizon = min(horizon, st)
	}
	for i := 1; i < len(complete); i++ {
		for id := range c.scheds {
			a, b := before(complete[0].firings[int32(id)], horizon), before(complete[i].firings[int32(id)], horizon)
			if !slices.Equal(a, b) {
				s.Disagreements++
				note("%s and %s differ on the firings of %s (%d vs %d)", names[0], names[i], c.scheds[id].Op, len(a), len(b))
				break
			}
		}
	}
	return s
}

// judgeEvery judges the gaps between one @every schedule's firings in
// one copy read from start: from its ack to the first firing, between
// firings, and from the last to the read. The first and the last may
// take up to the interval plus Slack (the first firing rounds to the
// second; the read may catch a firing in flight); the others are the
// interval ± Tolerance.
func (c *Schedule) judgeEvery(s *ScheduleStats, e *schedEntry, f []time.Duration, start time.Duration, touches func(a, b time.Duration) bool, first bool, note func(string, ...any), label string) {
	if e.out != outOK {
		return
	}
	ends := append(append([]time.Duration{e.ack}, slices.Sorted(slices.Values(f))...), start)
	a := ends[0] // the last firing kept: an extra one does not move it
	for i := 1; i < len(ends); i++ {
		b := ends[i]
		edge := i == 1 || i == len(ends)-1 // from the ack, or to the read
		if touches(a-c.Tolerance, b+c.Tolerance) {
			if first && !edge {
				s.GapsSkipped++
			}
			a = b
			continue
		}
		gap := b - a
		if first && !edge {
			s.GapsJudged++
		}
		switch {
		case !edge && gap < e.Every-c.Tolerance:
			s.Duplicated++
			note("%s: %s (every %s) fired at %s and again at %s", label, e.Op, e.Every, a.Round(time.Millisecond), b.Round(time.Millisecond))
			continue
		case gap > e.Every+c.Tolerance && (!edge || gap > e.Every+c.Slack):
			n := max(1, int((gap+c.Tolerance)/e.Every)-1)
			s.Missed += n
			from := "after " + a.Round(time.Millisecond).String()
			if i == 1 {
				from = "after its ack at " + a.Round(time.Millisecond).String()
			}
			note("%s: %s (every %s) did not fire for %s %s (%d firings missed)", label, e.Op, e.Every, gap.Round(time.Millisecond), from, n)
		}
		a = b
	}
}

// before are the times in ts before t.
func before(ts []time.Duration, t time.Duration) []time.Duration {
	var out []time.Duration
	for _, x := range ts {
		if x < t {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

func scheduleVerdict(s ScheduleStats) (Verdict, string) {
	summary := fmt.Sprintf("%d @at schedules and %d @every, %d acked, %d failed, %d indeterminate; %d @at fired (%d pending), %d firings in all; @at firings due outside faults at most %d ms late (%d ms for those due near one; tolerance %d ms); %d @every gaps judged, %d touching a fault not judged (the server skips ahead after downtime by design)",
		s.Schedules, s.Repeating, s.Acked, s.Failed, s.Indeterminate, s.Fired, s.Pending, s.Firings, s.MaxDelayMs, s.MaxDelayFaultsMs, s.ToleranceMs, s.GapsJudged, s.GapsSkipped)
	var p problems
	p.add(s.Missed, "firings MISSED")
	p.add(s.Duplicated, "firings DUPLICATED")
	p.add(s.Early, "firings before their time (EARLY)")
	p.add(s.Late, "firings past their time outside any fault (LATE)")
	p.add(s.FailedFired, "schedules whose publish FAILED fired")
	p.add(s.Unexpected, "stored messages that are no firing of a published schedule (UNEXPECTED)")
	p.add(s.Disagreements, "copies that DISAGREE with the first on the firings (split brain)")
	if v, msg, ok := anomalyVerdict(s.Malformed, firstOf(s.MalformedExamples), p.withFirst(s.Anomalies), summary); ok {
		return v, msg
	}
	if why := copiesUnknown(s.DrainComplete, false, 0, s.Incomplete, "schedules"); why != "" {
		return Unknown, why + "; " + summary
	}
	return Valid, summary
}
