package checker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"jetstorm/history"
)

// Watch checks the watch workload (KV watch under faults, issue 22): what
// each watcher was delivered against what the writers put and what the
// stream leader holds at the end.
//
//   - Phantom: a watcher saw a value no put of that key wrote; a value
//     whose put failed (FailedSeen); a value at another revision than its
//     put's ack said (RevisionMismatch).
//   - Regression: a watcher saw a key's revision at or below one it had
//     already seen of that key.
//   - Gap: a watcher went past an acked put's revision (saw a later one)
//     without seeing it, though fewer than History puts of its key that
//     may have come after it were invoked by then: the bucket still held
//     it. Where History later puts may have been, it may have been rolled
//     off by design (Overwritten: reported, not judged).
//   - Not converged: when a watcher stopped, after the final reads, the
//     last value it saw of some key was not the leader's final one.
//   - Lagging: after a heal that no fault followed within Converge, a
//     watcher had not, by Converge after it, seen every key at the
//     revision of its last put acked before the heal.
//   - Lost: the final value of a key is older than an acked put invoked
//     after it completed (or absent, though a put was acked).
type Watch struct {
	// History is the bucket's depth, Converge how long a watcher may take
	// to catch up; the history's watch-rules op sets them.
	History  int
	Converge time.Duration

	puts     map[string]*watchPut // by value
	byKey    map[string][]*watchPut
	watchers map[int]*watcherLog
	finals   map[string]watchFinal
	reads    int // final reads invoked
	drained  bool
	faults   []history.Op
	unhealed bool
	end      time.Duration
	bad      badOps
}

type watchPut struct {
	key, value   string
	invoke, done time.Duration
	out          outcome
	rev          uint64
	completed    bool
}

type watchSee struct {
	at    time.Duration
	key   string
	value string
	rev   uint64
}

type watcherLog struct {
	node           string
	sees           []watchSee
	starts, failed int
	stopped        bool
	stopAt         time.Duration
}

type watchFinal struct {
	value string // "" none
	rev   uint64
	ok    bool
}

func (c *Watch) Name() string { return "watch" }

func (c *Watch) Observe(op history.Op) {
	if op.Time > c.end {
		c.end = op.Time
	}
	switch op.F {
	case history.FWatchRules:
		var r history.WatchRules
		if err := op.Decode(&r); err != nil {
			c.bad.add(op, "not the watch rules")
		}
		c.History, c.Converge = r.History, time.Duration(r.ConvergeMs)*time.Millisecond
	case history.FWatchPut:
		c.put(op)
	case history.FWatchSee, history.FWatchStart, history.FWatchStop:
		c.watch(op)
	case history.FWatchRead:
		c.read(op)
	case history.FDrain:
		c.drained = op.Type == history.OK
	case history.FFault:
		c.faults = append(c.faults, op)
	case history.FRecover:
		c.unhealed = op.Type == history.Info
	}
}

func (c *Watch) put(op history.Op) {
	e, ok := history.ParseWatchEntry(op.ValueString())
	if !ok || e.Value == "" {
		c.bad.add(op, "not a watch put")
		return
	}
	if op.Type == history.Invoke {
		if _, dup := c.puts[e.Value]; dup {
			c.bad.add(op, "value put twice")
			return
		}
		if c.puts == nil {
			c.puts, c.byKey = map[string]*watchPut{}, map[string][]*watchPut{}
		}
		p := &watchPut{key: e.Key, value: e.Value, invoke: op.Time, done: -1}
		c.puts[e.Value] = p
		c.byKey[e.Key] = append(c.byKey[e.Key], p)
		return
	}
	p := c.puts[e.Value]
	out, ok := outcomeOf(op.Type)
	switch {
	case p == nil || p.key != e.Key || p.completed:
		c.bad.add(op, "completion without its invoke")
		return
	case !ok:
		c.bad.add(op, "unknown op type")
		return
	}
	p.out, p.completed = out, true
	if out == outOK {
		p.done, p.rev = op.Time, op.Seq
	}
}

func (c *Watch) watch(op history.Op) {
	if c.watchers == nil {
		c.watchers = map[int]*watcherLog{}
	}
	w := c.watchers[op.Process]
	if w == nil {
		w = &watcherLog{node: op.Node}
		c.watchers[op.Process] = w
	}
	switch op.F {
	case history.FWatchStart:
		switch op.Type {
		case history.OK:
			w.starts++
		case history.Info:
			w.failed++
		}
	case history.FWatchStop:
		w.stopped, w.stopAt = true, op.Time
	case history.FWatchSee:
		e, ok := history.ParseWatchEntry(op.ValueString())
		if !ok || op.Type != history.OK || w.stopped {
			c.bad.add(op, "not an update seen by a running watcher")
			return
		}
		w.sees = append(w.sees, watchSee{at: op.Time, key: e.Key, value: e.Value, rev: op.Seq})
	}
}

func (c *Watch) read(op history.Op) {
	switch op.Type {
	case history.Invoke:
		c.reads++
		return
	case history.OK:
	default:
		return // a failed read: the key stays unread
	}
	e, ok := history.ParseWatchEntry(op.ValueString())
	if !ok {
		c.bad.add(op, "not a final read")
		return
	}
	if c.finals == nil {
		c.finals = map[string]watchFinal{}
	}
	c.finals[e.Key] = watchFinal{value: e.Value, rev: op.Seq, ok: true}
}

func (c *Watch) Result(ctx context.Context) Result {
	return judge(ctx, "watch", c.stats, watchVerdict)
}

// WatchStats are the watch check's figures (results.json "watch").
type WatchStats struct {
	Puts          int `json:"puts"`
	Acked         int `json:"acked"`
	Failed        int `json:"failed"`
	Indeterminate int `json:"indeterminate"`
	Keys          int `json:"keys"`
	// History is the bucket's depth; MaxPutsPerKey the most puts (not
	// failed) of one key; HistoryCoversRun when that is within the depth
	// (then every acked put is judged for gaps; otherwise a watcher far
	// enough behind may skip older revisions by design: Overwritten).
	History          int   `json:"history"`
	MaxPutsPerKey    int   `json:"max_puts_per_key"`
	HistoryCoversRun bool  `json:"history_covers_run"`
	ConvergeMs       int64 `json:"converge_ms"`
	// FinalComplete: every key was read from the leader at the end.
	FinalComplete bool `json:"final_complete"`
	// Per watcher, by "<process>@<node>".
	Watchers map[string]WatcherStats `json:"watchers"`
	// The anomalies, over all watchers.
	Phantom          int `json:"phantom"`
	FailedSeen       int `json:"failed_seen"`
	RevisionMismatch int `json:"revision_mismatch"`
	Regressions      int `json:"regressions"`
	Gaps             int `json:"gaps"`
	Overwritten      int `json:"overwritten"`
	NotConverged     int `json:"not_converged"`
	Lagging          int `json:"lagging"`
	Lost             int `json:"lost"`
	// Heals: the cluster's heals (every fault over) each watcher was
	// judged after (HealsJudged, per watcher) or not (another fault came
	// within Converge, or the watcher stopped first); CatchUpMaxMs the
	// longest any watcher took after one.
	HealsJudged   int      `json:"heals_judged"`
	HealsUnjudged int      `json:"heals_unjudged"`
	CatchUpMaxMs  int64    `json:"catch_up_max_ms"`
	Unhealed      bool     `json:"unhealed,omitempty"`
	Unjudged      []string `json:"unjudged,omitempty"`
	Anomalies     []string `json:"anomalies,omitempty"`
	Malformed     int      `json:"malformed,omitempty"`
	// MalformedExamples are the first malformed ops.
	MalformedExamples []string `json:"malformed_examples,omitempty"`
}

// WatcherStats are one watcher's figures.
type WatcherStats struct {
	Node          string `json:"node"`
	Starts        int    `json:"starts"`
	StartFailures int    `json:"start_failures"`
	Seen          int    `json:"seen"`
	Gaps          int    `json:"gaps"`
	Overwritten   int    `json:"overwritten"`
	Regressions   int    `json:"regressions"`
	Converged     bool   `json:"converged"`
	CatchUpMaxMs  int64  `json:"catch_up_max_ms"`
}

// AddTo sets the watch section.
func (s WatchStats) AddTo(out *Sections) { out.Watch = &s }

func (c *Watch) stats() WatchStats {
	s := WatchStats{History: c.History, ConvergeMs: c.Converge.Milliseconds(), Unhealed: c.unhealed,
		Malformed: c.bad.n, MalformedExamples: c.bad.ex, Watchers: map[string]WatcherStats{}}
	note := noteTo(&s.Anomalies)
	for _, k := range slices.Sorted(maps.Keys(c.byKey)) {
		n := 0
		for _, p := range c.byKey[k] {
			s.Puts++
			switch p.out {
			case outOK:
				s.Acked++
			case outFail:
				s.Failed++
				continue
			case outInfo:
				s.Indeterminate++
			}
			n++
		}
		s.MaxPutsPerKey = max(s.MaxPutsPerKey, n)
	}
	s.Keys = len(c.byKey)
	s.HistoryCoversRun = s.MaxPutsPerKey <= c.History
	s.FinalComplete = c.drained && c.reads > 0 && len(c.finals) == c.reads
	c.lost(&s, note)
	heals := c.heals()
	for _, proc := range slices.Sorted(maps.Keys(c.watchers)) {
		w := c.watchers[proc]
		label := fmt.Sprintf("watcher %d@%s", proc, w.node)
		ws := WatcherStats{Node: w.node, Starts: w.starts, StartFailures: w.failed, Seen: len(w.sees)}
		c.judgeSees(w, label, &s, &ws, note)
		c.judgeGaps(w, label, &s, &ws, note)
		c.judgeHeals(w, label, heals, &s, &ws, note)
		ws.Converged = c.judgeFinal(w, label, &s, note)
		s.Watchers[fmt.Sprintf("%d@%s", proc, w.node)] = ws
		s.CatchUpMaxMs = max(s.CatchUpMaxMs, ws.CatchUpMaxMs)
	}
	return s
}

// judgeSees finds phantoms and regressions in what w saw.
func (c *Watch) judgeSees(w *watcherLog, label string, s *WatchStats, ws *WatcherStats, note func(string, ...any)) {
	last := map[string]uint64{}
	for _, e := range w.sees {
		p := c.puts[e.value]
		switch {
		case p == nil || p.key != e.key:
			s.Phantom++
			note("%s saw %s=%s at revision %d at %s: no put of that key wrote it (PHANTOM)", label, e.key, e.value, e.rev, e.at.Round(time.Millisecond))
		case p.out == outFail:
			s.FailedSeen++
			note("%s saw %s=%s at revision %d: its put FAILED", label, e.key, e.value, e.rev)
		case p.out == outOK && p.rev != e.rev:
			s.RevisionMismatch++
			note("%s saw %s=%s at revision %d; its put was acked at revision %d", label, e.key, e.value, e.rev, p.rev)
		}
		if prev, ok := last[e.key]; ok && e.rev <= prev {
			s.Regressions++
			ws.Regressions++
			note("%s saw %s at revision %d after revision %d (REGRESSION, at %s)", label, e.key, e.rev, prev, e.at.Round(time.Millisecond))
		}
		last[e.key] = max(last[e.key], e.rev)
	}
}

// judgeGaps finds the acked puts w went past without seeing.
func (c *Watch) judgeGaps(w *watcherLog, label string, s *WatchStats, ws *WatcherStats, note func(string, ...any)) {
	seen := make(map[string]bool, len(w.sees))
	// upTo[i]: the highest revision among w.sees[:i+1], non-decreasing.
	upTo := make([]uint64, len(w.sees))
	var top uint64
	for i, e := range w.sees {
		seen[e.value] = true
		top = max(top, e.rev)
		upTo[i] = top
	}
	for _, k := range slices.Sorted(maps.Keys(c.byKey)) {
		for _, p := range c.byKey[k] {
			if p.out != outOK || seen[p.value] {
				continue
			}
			i := sort.Search(len(upTo), func(i int) bool { return upTo[i] > p.rev })
			if i == len(upTo) {
				continue // never went past it: the final check judges
			}
			pass := w.sees[i].at
			// Puts of the key that may have come after it and been stored
			// by the time w went past it.
			after := 0
			for _, q := range c.byKey[k] {
				if q != p && q.invoke < pass && (q.out == outInfo || (q.out == outOK && q.rev > p.rev)) {
					after++
				}
			}
			if after >= c.History {
				s.Overwritten++
				ws.Overwritten++
				continue
			}
			s.Gaps++
			ws.Gaps++
			note("%s skipped %s=%s (acked at revision %d): it saw revision %d at %s, and only %d later puts of %s may have been stored by then (history %d) (GAP)",
				label, k, p.value, p.rev, w.sees[i].rev, pass.Round(time.Millisecond), after, k, c.History)
		}
	}
}

// heals are the moments the cluster was whole again (the end of a span of
// overlapping faults), each with when the next fault began (-1: none).
func (c *Watch) heals() [][2]time.Duration {
	faults, _ := history.FaultWindows(c.faults, c.end)
	sort.Slice(faults, func(i, j int) bool { return faults[i].Start < faults[j].Start })
	var spans [][2]time.Duration
	for _, f := range faults {
		if n := len(spans); n > 0 && f.Start <= spans[n-1][1] {
			spans[n-1][1] = max(spans[n-1][1], f.End)
			continue
		}
		spans = append(spans, [2]time.Duration{f.Start, f.End})
	}
	var out [][2]time.Duration
	for i, sp := range spans {
		if sp[1] >= c.end {
			continue // never healed within the history
		}
		next := time.Duration(-1)
		if i+1 < len(spans) {
			next = spans[i+1][0]
		}
		out = append(out, [2]time.Duration{sp[1], next})
	}
	return out
}

// judgeHeals: after each heal, w must see every key at the revision of its
// last put acked before the heal within Converge, unless a fault came
// first or w stopped.
func (c *Watch) judgeHeals(w *watcherLog, label string, heals [][2]time.Duration, s *WatchStats, ws *WatcherStats, note func(string, ...any)) {
	for _, h := range heals {
		at, next := h[0], h[1]
		need := map[string]uint64{}
		for k, ps := range c.byKey {
			for _, p := range ps {
				if p.out == outOK && p.done < at && p.rev > need[k] {
					need[k] = p.rev
				}
			}
		}
		// Judged until Converge after the heal, unless the next fault, the
		// watcher's stop or the history's end comes first.
		limit := at + c.Converge
		judgedTo := limit
		if next >= 0 {
			judgedTo = min(judgedTo, next)
		}
		if w.stopped {
			judgedTo = min(judgedTo, w.stopAt)
		}
		judgedTo = min(judgedTo, c.end)
		have := map[string]uint64{}
		missing := len(need)
		caught := time.Duration(-1)
		for _, e := range w.sees {
			if e.at > judgedTo {
				break
			}
			if e.rev > have[e.key] {
				if want, ok := need[e.key]; ok && have[e.key] < want && e.rev >= want {
					missing--
				}
				have[e.key] = e.rev
			}
			if missing == 0 {
				caught = max(e.at, at)
				break
			}
		}
		if missing == 0 && caught < 0 {
			caught = at
		}
		switch {
		case caught >= 0:
			s.HealsJudged++
			ws.CatchUpMaxMs = max(ws.CatchUpMaxMs, (caught - at).Milliseconds())
		case judgedTo < limit || c.unhealed:
			s.HealsUnjudged++
		default:
			s.Lagging++
			note("%s had not caught up %s after the heal at %s (%d keys behind their last acked revision before it) (LAGGING)",
				label, c.Converge, at.Round(time.Millisecond), missing)
		}
	}
}

// judgeFinal: when w stopped, the last value it saw of each key must be the
// leader's final one. False when it was not, or not judged.
func (c *Watch) judgeFinal(w *watcherLog, label string, s *WatchStats, note func(string, ...any)) bool {
	if !s.FinalComplete || !w.stopped {
		why := "the final reads are incomplete"
		if s.FinalComplete {
			why = "it never stopped (no final view)"
		}
		s.Unjudged = append(s.Unjudged, label+": "+why)
		return false
	}
	last := map[string]string{}
	for _, e := range w.sees {
		last[e.key] = e.value
	}
	keys := slices.Sorted(maps.Keys(c.finals))
	for k := range last {
		if _, ok := c.finals[k]; !ok {
			keys = append(keys, k)
		}
	}
	behind := 0
	first := ""
	for _, k := range keys {
		if last[k] != c.finals[k].value {
			if behind++; behind == 1 {
				first = fmt.Sprintf("%s: saw %q, the leader holds %q", k, last[k], c.finals[k].value)
			}
		}
	}
	if behind == 0 {
		return true
	}
	if c.unhealed {
		s.Unjudged = append(s.Unjudged, label+": behind, but the cluster did not recover")
		return false
	}
	s.NotConverged++
	note("%s stopped %d keys behind the final values (first %s) (NOT CONVERGED)", label, behind, first)
	return false
}

// lost: each key's final value must not be older than an acked put invoked
// after it completed.
func (c *Watch) lost(s *WatchStats, note func(string, ...any)) {
	if !s.FinalComplete || c.unhealed {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(c.byKey)) {
		f := c.finals[k]
		var final *watchPut
		if f.value != "" {
			final = c.puts[f.value]
			if final == nil || final.key != k || final.out == outFail {
				s.Phantom++
				note("the final value of %s, %q, was never put (PHANTOM)", k, f.value)
				continue
			}
		}
		for _, p := range c.byKey[k] {
			if p.out != outOK || p == final {
				continue
			}
			if final == nil || (final.out == outOK && p.invoke > final.done) {
				s.Lost++
				was := "no value"
				if final != nil {
					was = final.value
				}
				note("%s=%s was acked at revision %d, but the final value is %s (LOST)", k, p.value, p.rev, was)
				break
			}
		}
	}
}

func watchVerdict(s WatchStats) (Verdict, string) {
	summary := fmt.Sprintf("%d puts to %d keys, %d acked, %d failed, %d indeterminate; %d watchers; at most %d puts a key, history %d; %d heals caught up after (slowest %d ms), %d not judged",
		s.Puts, s.Keys, s.Acked, s.Failed, s.Indeterminate, len(s.Watchers), s.MaxPutsPerKey, s.History, s.HealsJudged, s.CatchUpMaxMs, s.HealsUnjudged)
	if s.Overwritten > 0 {
		summary += fmt.Sprintf("; %d updates skipped where the history depth may have rolled them off (by design)", s.Overwritten)
	}
	var p problems
	p.add(s.Phantom, "updates never written seen (PHANTOM)")
	p.add(s.FailedSeen, "updates whose put FAILED seen")
	p.add(s.RevisionMismatch, "updates seen at another revision than acked")
	p.add(s.Regressions, "revisions seen out of order (REGRESSION)")
	p.add(s.Gaps, "acked updates skipped (GAP)")
	p.add(s.NotConverged, "watchers NOT CONVERGED to the final values")
	p.add(s.Lagging, "watchers LAGGING after a heal")
	p.add(s.Lost, "keys whose acked update was LOST")
	if v, msg, ok := anomalyVerdict(s.Malformed, firstOf(s.MalformedExamples), p.withFirst(s.Anomalies), summary); ok {
		return v, msg
	}
	switch {
	case s.Acked == 0:
		return Unknown, "no put was acked: nothing to judge; " + summary
	case len(s.Watchers) == 0:
		return Unknown, "no watcher ran; " + summary
	case len(s.Unjudged) > 0:
		return Unknown, fmt.Sprintf("%d watchers not judged at the end (first: %s); %s", len(s.Unjudged), s.Unjudged[0], summary)
	}
	return Valid, summary
}
