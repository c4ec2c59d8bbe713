// Linearizable: the KV compare-and-set checker.
//
// The KV workload does put, get and cas (update with an expected revision)
// on a few keys of a JetStream KV bucket. Every key is a register whose
// revisions are stream sequences. The history is checked in two ways.
//
// 1. Revisions, outside porcupine, in linear time. An OK put or cas says
// "revision r holds value v"; an OK get says "the key's value is v, written
// at revision r". Values are unique per write, so a get whose (rev, value)
// disagrees with the acknowledged write at that revision, or that reads an
// acknowledged value at another revision, or two writes acknowledged with
// one revision, prove an anomaly by themselves (RevMismatches → Invalid).
//
// 2. Linearizability, with porcupine, partitioned by key (a history is
// linearizable iff each key's sub-history is). Revisions are translated to
// values first: a cas's expected revision R becomes "expected value = the
// value written at R", taken from the OK writes and OK gets (R = 0 is the
// absent key, ""). Since values are unique, "the key's revision is R" is
// then exactly "the key's value is value(R)", and the per-key model state
// is just the current value ("" = absent):
//
//	put v            state = v
//	get → v          requires state == v
//	cas e → v (ok)   requires state == e; state = v
//	cas e (failed)   requires state != e; state unchanged
//	cas ? → v (ok)   expected revision unknown (maps to no known value):
//	                 state = v whatever it was, a weaker check (unresolved_cas)
//
// A cas reported as failed is kept as a "failed" op only when the failure is
// the server's "wrong last sequence" answer (err_code 10071/10164, "wrong
// last sequence", "revision mismatch", or no error text at all, as in hand
// written histories): any other definite failure (no responders, another
// API error) says nothing about the revision and is dropped, like a failed
// put. A failed cas whose expected revision is unknown is dropped. Failed,
// info and never-completed gets carry no information and are dropped.
//
// Info (and never-completed) puts and cas may or may not have taken effect,
// at any time after their invoke: in general an op with Return =
// math.MaxInt64 whose step allows both "applied" and "not applied" (a
// porcupine NondeterministicModel, used through ToModel, a power-set
// construction). Left like that, every such op stays concurrent with the
// rest of the run and porcupine's search multiplies by two for each one:
// a long faulty run would only ever time out, and an anomaly in it could
// not be proven. Three rewrites, each exact (the rewritten history is
// linearizable iff the original is), remove almost all of them, in the
// spirit of etcd's robustness tests' patched histories:
//
//   - Read: an indeterminate write whose value some get read (values are
//     unique) was applied, before every op that needed it, so it becomes a
//     definite write whose Return is the earliest Return of an OK get that
//     read it or an OK cas that expected it.
//   - Unread values are interchangeable: every check compares the state
//     with a value that some get read or some cas expected (or ""), so all
//     other written values are one "unread" value for the model, and
//     histories equal up to them meet in porcupine's cache.
//   - Unread indeterminate writes: a state nobody reads can only help a
//     later failed cas (make "state != expected" true); for every other op
//     "applied" is never better than "not applied". So such a write may as
//     well be applied right before the first failed cas that needs it, or
//     never. It becomes a zero-length token op at its invoke, which makes
//     it available (kvState.free), and a failed cas that finds the expected
//     value consumes one available write (the key then holds "unread")
//     instead of failing the check. A token of a cas is usable only while
//     the key holds the value it expected (kvState.cond), when the model
//     can tell (that value's write returned before the token; otherwise it
//     is treated as unconditional, weaker). An unread indeterminate write
//     invoked after the last failed cas of its key is dropped.
//
// The only ops left with Return = math.MaxInt64 are indeterminate writes
// of a value expected by some cas but read by nobody (in practice: none).
//
// porcupine runs with a timeout (60 s by default); a timeout is Unknown,
// never a silent Valid. Faults (f "fault", invoke at start, ok/info at
// end) become "nemesis" annotations in the optional HTML visualization.

package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"jetstorm/history"
)

// DefaultLinearizableTimeout bounds porcupine's search when
// Linearizable.Timeout is zero.
const DefaultLinearizableTimeout = 60 * time.Second

// Linearizable checks a KV compare-and-set history for linearizability with
// porcupine (see the comment at the top of linearizable.go). Its Details are
// a LinearizableStats.
type Linearizable struct {
	Timeout  time.Duration // porcupine's budget; 0 = DefaultLinearizableTimeout
	HTMLPath string        // if set, write porcupine's visualization there
}

func (Linearizable) Name() string { return "linearizable" }

// maxLinExamples caps LinearizableStats' example lists.
const maxLinExamples = 20

// LinearizableStats is what Linearizable finds. Puts, Gets and Cas count
// invocations; Ops counts the operations given to porcupine.
type LinearizableStats struct {
	Ops           int `json:"ops"`
	Keys          int `json:"keys"`
	Puts          int `json:"puts"`
	Gets          int `json:"gets"`
	Cas           int `json:"cas"`
	CasFailed     int `json:"cas_failed"`     // definite "wrong last sequence" answers, checked as failed cas
	Indeterminate int `json:"indeterminate"`  // info or never-completed puts and cas
	UnresolvedCas int `json:"unresolved_cas"` // cas whose expected revision maps to no known value
	// Dropped counts ops not given to porcupine: failed puts, gets without
	// a value, failed cas that say nothing about the revision, and unread
	// indeterminate writes that no failed cas could observe.
	Dropped int `json:"dropped"`
	// RevMismatches describes gets and writes whose revision and value
	// disagree (first 20); RevMismatchCount counts all of them.
	RevMismatches    []string `json:"rev_mismatches,omitempty"`
	RevMismatchCount int      `json:"rev_mismatch_count,omitempty"`
	// Malformed counts kv ops that break the protocol (a completion without
	// an invoke, an invoke while another is outstanding, no key). Any makes
	// a verdict that is not proven by revisions Unknown.
	Malformed         int      `json:"malformed,omitempty"`
	MalformedExamples []string `json:"malformed_examples,omitempty"`
	// Result is porcupine's answer: "Ok", "Illegal", "Unknown" (timed out),
	// or "" when it was not run.
	Result string `json:"result"`
	// IllegalKeys lists, when Result is "Illegal", the keys for which no
	// linearization was found.
	IllegalKeys []string `json:"illegal_keys,omitempty"`
	Elapsed     string   `json:"elapsed,omitempty"` // porcupine's run time
}

// kvCall is one kv operation: its invoke and, when it came, its completion.
type kvCall struct {
	f         string
	process   int
	index     int64 // invoke's index
	done      int64 // completion's index (-1: never completed)
	node      string
	key       string
	value     string // written value (put, cas)
	expectRev uint64 // cas
	hasExpect bool

	typ      history.OpType // completion type; Info when it never completed
	call     int64
	ret      int64
	err      string
	outValue string // OK get: value read
	rev      uint64 // OK: revision written or read
}

// kvKind is a model operation's kind.
type kvKind uint8

const (
	kvPut kvKind = iota
	kvGet
	kvCas
	kvToken // an unread indeterminate write becoming available (see kvState)
)

// unreadValue is the state of a key holding a value that no get read and no
// cas expected: all such values are interchangeable for the model.
const unreadValue = "\x00unread"

// kvInput is a porcupine operation's input.
type kvInput struct {
	kind      kvKind
	key       string
	value     string // model value written (unreadValue for unread values)
	shown     string // value as written, for descriptions
	expect    string // cas: expected value (when resolved)
	expectRev uint64
	resolved  bool // cas: expect is known
	maybe     bool // indeterminate: applied or not
	read      bool // indeterminate, but its value was read: applied
	cond      bool // token: usable only while the value is expect
	cas       bool // token: of a cas
}

// kvState is the model state of one key: its value, and the unread
// indeterminate writes invoked so far that may still be applied. Such a
// write only matters to a failed cas that finds the expected value (see
// the file comment), so it is applied lazily, right before the first
// failed cas that needs it: free counts unconditional ones (puts, cas
// with an unknown expected revision), cond those of cas expecting the
// current value (reset whenever the value changes: values are unique, so
// a value once replaced never comes back).
type kvState struct {
	value      string
	free, cond int
}

// kvOutput is a porcupine operation's output.
type kvOutput struct {
	key    string
	value  string // get: value read
	rev    uint64
	failed bool // cas: definite "wrong last sequence"
}

// kvMeta is a porcupine operation's metadata (shown in the visualization).
type kvMeta struct {
	index   int64
	done    int64
	process int
	node    string
	typ     history.OpType
	err     string
}

// Check implements Checker.
func (l Linearizable) Check(ctx context.Context, h []history.Op) (res Result) {
	res.Name = l.Name()
	var st LinearizableStats
	defer func() { res.Details = st }()

	calls, faults := parseKV(h, &st)
	revMismatches(calls, &st)
	ops, keys := buildKVOps(calls, &st)
	st.Ops, st.Keys = len(ops), len(keys)

	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultLinearizableTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	var notes []string
	switch {
	case ctx.Err() != nil:
		notes = append(notes, "porcupine not run: "+context.Cause(ctx).Error())
	case timeout <= 0:
		notes = append(notes, "porcupine not run: no time left before the deadline")
	default:
		model := kvModel()
		start := time.Now()
		pres, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
		elapsed := time.Since(start)
		st.Result, st.Elapsed = string(pres), elapsed.Round(10*time.Microsecond).String()
		if pres == porcupine.Illegal {
			st.IllegalKeys = illegalKeys(info, kvPartition(ops), keys)
		}
		if l.HTMLPath != "" {
			info.AddAnnotations(faults)
			if err := visualize(model, info, l.HTMLPath); err != nil {
				notes = append(notes, "visualization not written: "+err.Error())
			} else {
				notes = append(notes, "visualization: "+l.HTMLPath)
			}
		}
	}

	summary := fmt.Sprintf("%d ops on %d %s (%d puts, %d gets, %d cas of which %d failed, %d indeterminate, %d unresolved cas)",
		st.Ops, st.Keys, plural(st.Keys, "key", "keys"), st.Puts, st.Gets, st.Cas, st.CasFailed, st.Indeterminate, st.UnresolvedCas)
	var msg string
	switch {
	case st.RevMismatchCount > 0:
		res.Verdict = Invalid
		msg = fmt.Sprintf("%d %s: %s", st.RevMismatchCount, plural(st.RevMismatchCount, "revision mismatch", "revision mismatches"), examples(st.RevMismatches, st.RevMismatchCount))
		if st.Result == string(porcupine.Illegal) {
			msg += "; also not linearizable on " + strings.Join(st.IllegalKeys, ", ")
		}
	case st.Malformed > 0:
		res.Verdict = Unknown
		msg = fmt.Sprintf("malformed history: %d bad kv ops (first: %s); porcupine said %q on the rest", st.Malformed, st.MalformedExamples[0], st.Result)
	case st.Result == string(porcupine.Illegal):
		res.Verdict = Invalid
		msg = fmt.Sprintf("NOT linearizable: no linearization for key(s) %s; %s", strings.Join(st.IllegalKeys, ", "), summary)
	case st.Result == string(porcupine.Unknown):
		res.Verdict = Unknown
		msg = fmt.Sprintf("porcupine timed out after %v: verdict unknown, never a silent valid; %s", timeout, summary)
	case st.Result == string(porcupine.Ok) && st.Ops == 0:
		res.Verdict = Unknown
		msg = "no kv operation with a known outcome: nothing to check"
	case st.Result == string(porcupine.Ok):
		res.Verdict = Valid
		msg = fmt.Sprintf("linearizable: %s, checked in %s", summary, st.Elapsed)
	default:
		res.Verdict = Unknown
		msg = "not checked; " + summary
	}
	if len(notes) > 0 {
		msg += "; " + strings.Join(notes, "; ")
	}
	res.Message = msg
	return res
}

// parseKV pairs kv invokes with their completions and collects fault
// windows as annotations.
func parseKV(h []history.Op, st *LinearizableStats) ([]*kvCall, []porcupine.Annotation) {
	malformed := func(op history.Op, why string) {
		st.Malformed++
		if len(st.MalformedExamples) < maxLinExamples {
			st.MalformedExamples = append(st.MalformedExamples, fmt.Sprintf("op %d (process %d, %s %s): %s", op.Index, op.Process, op.Type, op.F, why))
		}
	}
	var calls []*kvCall
	pending := map[int]*kvCall{}
	var faults []porcupine.Annotation
	var openFaults []int // indexes into faults, in start order
	var faultProc []int  // the process of each entry of faults
	var maxTime int64
	for _, op := range h {
		maxTime = max(maxTime, int64(op.Time))
		switch op.F {
		case history.FKVPut, history.FKVGet, history.FKVCas:
		case history.FFault:
			desc, details := describeFault(op.Value)
			switch op.Type {
			case history.Invoke:
				openFaults = append(openFaults, len(faults))
				faultProc = append(faultProc, op.Process)
				faults = append(faults, porcupine.Annotation{Tag: "nemesis", Start: int64(op.Time), End: -1, Description: desc, Details: details})
			case history.OK, history.Info:
				// The same process (each fault has its own), else the same
				// description, else the oldest.
				j := slices.IndexFunc(openFaults, func(i int) bool { return faultProc[i] == op.Process })
				if j < 0 {
					j = slices.IndexFunc(openFaults, func(i int) bool { return faults[i].Description == desc })
				}
				if j < 0 && len(openFaults) > 0 {
					j = 0
				}
				if op.Type == history.Info {
					details += "; heal failed: " + op.Err
				}
				if j < 0 { // an end without a start: mark the moment
					faults = append(faults, porcupine.Annotation{Tag: "nemesis", Start: int64(op.Time), End: int64(op.Time), Description: desc + " (end)", Details: details})
					faultProc = append(faultProc, op.Process)
					continue
				}
				a := &faults[openFaults[j]]
				a.End = int64(op.Time)
				if op.Type == history.Info {
					a.Details = details
				}
				openFaults = slices.Delete(openFaults, j, j+1)
			}
			continue
		default:
			continue
		}
		m := kvFields(op.Value)
		if op.Type == history.Invoke {
			if prev := pending[op.Process]; prev != nil {
				malformed(op, fmt.Sprintf("invoke while op %d is outstanding", prev.index))
				delete(pending, op.Process)
			}
			key, ok := kvString(m["key"])
			if !ok {
				malformed(op, "no key")
				continue
			}
			c := &kvCall{f: op.F, process: op.Process, index: op.Index, node: op.Node, key: key, call: int64(op.Time), typ: history.Info, ret: math.MaxInt64, done: -1}
			if op.F != history.FKVGet {
				c.value, _ = kvString(m["value"])
			}
			if op.F == history.FKVCas {
				c.expectRev, c.hasExpect = kvUint(m["expect_rev"])
			}
			calls = append(calls, c)
			pending[op.Process] = c
			continue
		}
		c := pending[op.Process]
		if c == nil || c.f != op.F {
			malformed(op, "completion without a matching invoke")
			continue
		}
		delete(pending, op.Process)
		c.typ, c.ret, c.err, c.done = op.Type, max(int64(op.Time), c.call), op.Err, op.Index
		if op.Node != "" {
			c.node = op.Node
		}
		if op.Type == history.OK {
			if op.F == history.FKVGet {
				c.outValue, _ = kvString(m["value"])
			}
			c.rev, _ = kvUint(m["rev"])
		}
	}
	// Invokes never completed stay Info with Return = MaxInt64.
	for i := range faults {
		if faults[i].End < 0 {
			faults[i].End = max(maxTime, faults[i].Start)
			faults[i].Details += "; not ended in the history"
		}
	}
	return calls, faults
}

// revMismatches checks OK gets and writes against each other by revision.
func revMismatches(calls []*kvCall, st *LinearizableStats) {
	report := func(format string, args ...any) {
		st.RevMismatchCount++
		if len(st.RevMismatches) < maxLinExamples {
			st.RevMismatches = append(st.RevMismatches, fmt.Sprintf(format, args...))
		}
	}
	writeAt := map[uint64]*kvCall{}
	writtenRev := map[string]uint64{}
	for _, c := range calls {
		if c.f == history.FKVGet || c.typ != history.OK || c.rev == 0 {
			continue
		}
		if w := writeAt[c.rev]; w != nil {
			report("rev %d acked for two writes: %q (op %d) and %q (op %d)", c.rev, w.value, w.done, c.value, c.done)
			continue
		}
		writeAt[c.rev] = c
		writtenRev[c.value] = c.rev
	}
	readAt := map[uint64]*kvCall{}
	for _, c := range calls {
		if c.f != history.FKVGet || c.typ != history.OK || c.rev == 0 {
			continue
		}
		if w := writeAt[c.rev]; w != nil {
			if w.value != c.outValue || w.key != c.key {
				report("read value %q of key %s at rev %d (op %d), but rev %d wrote %q to key %s (op %d)", c.outValue, c.key, c.rev, c.done, c.rev, w.value, w.key, w.done)
			}
			continue
		}
		if r, ok := writtenRev[c.outValue]; ok {
			report("read value %q at rev %d (op %d), but %q was written at rev %d", c.outValue, c.rev, c.done, c.outValue, r)
			continue
		}
		if g := readAt[c.rev]; g != nil {
			if g.outValue != c.outValue || g.key != c.key {
				report("read value %q of key %s at rev %d (op %d), but op %d read %q of key %s at rev %d", c.outValue, c.key, c.rev, c.done, g.done, g.outValue, g.key, c.rev)
			}
			continue
		}
		readAt[c.rev] = c
	}
}

// casFailIsPrecondition reports whether a failed cas's error is the
// server's answer that the key's revision was not the expected one:
// err_code 10071, "wrong last sequence: N" (or no error at all).
//
// err_code 10164, "wrong last sequence" without a number, is NOT one: the
// server returns it when another write to the same subject is still in
// flight, without looking at the stored revision (nats-server
// jetstream_batching.go, expectedPerSubjectInProcess / inflight). The cas
// was not applied, but it says nothing about the key's state, so it is
// dropped like any other definite failure. Counting it as a precondition
// failure made correct histories look non-linearizable.
func casFailIsPrecondition(err string) bool {
	if err == "" {
		return true
	}
	e := strings.ToLower(err)
	if strings.Contains(e, "err_code=10164") {
		return false
	}
	return strings.Contains(e, "err_code=10071") || strings.Contains(e, "wrong last sequence:") || strings.Contains(e, "revision mismatch")
}

// buildKVOps turns calls into porcupine operations (see the file comment)
// and returns them with the sorted keys.
func buildKVOps(calls []*kvCall, st *LinearizableStats) ([]porcupine.Operation, []string) {
	// Revision → value, from OK writes and OK gets (mismatches were
	// reported; the first claim wins).
	revValue := map[uint64]string{0: ""}
	for _, c := range calls {
		if c.typ == history.OK && c.f != history.FKVGet && c.rev != 0 {
			if _, ok := revValue[c.rev]; !ok {
				revValue[c.rev] = c.value
			}
		}
	}
	for _, c := range calls {
		if c.typ == history.OK && c.f == history.FKVGet && c.rev != 0 {
			if _, ok := revValue[c.rev]; !ok {
				revValue[c.rev] = c.outValue
			}
		}
	}
	// Observed values (read or expected) and the earliest Return of a
	// definite op that needs each one applied before it.
	observed := map[string]bool{"": true}
	firstNeed := map[string]int64{}
	need := func(v string, ret int64) {
		if t, ok := firstNeed[v]; !ok || ret < t {
			firstNeed[v] = ret
		}
	}
	// The last Return of a failed cas per key (what an unread
	// indeterminate write can matter to).
	lastCasFail := map[string]int64{}
	for _, c := range calls {
		switch {
		case c.f == history.FKVGet && c.typ == history.OK:
			observed[c.outValue] = true
			need(c.outValue, c.ret)
		case c.f == history.FKVCas && c.hasExpect:
			e, ok := revValue[c.expectRev]
			if !ok {
				continue
			}
			switch c.typ {
			case history.Fail:
				if !casFailIsPrecondition(c.err) {
					continue
				}
				lastCasFail[c.key] = max(lastCasFail[c.key], c.ret)
			case history.OK:
				need(e, c.ret)
			}
			observed[e] = true
		}
	}
	// When each read or expected value was surely written: the Return of
	// its definite write.
	writtenBy := map[string]int64{}
	for _, c := range calls {
		if c.f == history.FKVGet || !observed[c.value] {
			continue
		}
		if c.typ == history.OK {
			writtenBy[c.value] = c.ret
		} else if t, ok := firstNeed[c.value]; ok && c.typ == history.Info && c.value != "" {
			writtenBy[c.value] = max(c.call, t)
		}
	}
	canon := func(v string) string {
		if observed[v] {
			return v
		}
		return unreadValue
	}

	var ops []porcupine.Operation
	keySet := map[string]bool{}
	for _, c := range calls {
		in := &kvInput{key: c.key, value: canon(c.value), shown: c.value}
		out := &kvOutput{key: c.key, rev: c.rev}
		ret := c.ret
		switch c.f {
		case history.FKVGet:
			st.Gets++
			if c.typ != history.OK {
				st.Dropped++
				continue
			}
			in.kind, in.value, in.shown = kvGet, "", ""
			out.value = c.outValue
		case history.FKVPut, history.FKVCas:
			if c.f == history.FKVPut {
				st.Puts++
				in.kind = kvPut
			} else {
				st.Cas++
				in.kind = kvCas
				in.expectRev = c.expectRev
				if c.hasExpect {
					in.expect, in.resolved = revValue[c.expectRev]
				}
				if !in.resolved {
					st.UnresolvedCas++
				}
			}
			switch c.typ {
			case history.OK:
			case history.Fail:
				if in.kind != kvCas || !in.resolved || !casFailIsPrecondition(c.err) {
					st.Dropped++
					continue
				}
				st.CasFailed++
				out.failed = true
			default: // Info, or never completed
				st.Indeterminate++
				switch t, ok := firstNeed[c.value]; {
				case c.value != "" && observed[c.value] && ok:
					// It was applied, before the first op that needed it.
					in.read, ret = true, max(c.call, t)
				case observed[c.value]:
					in.maybe, ret = true, math.MaxInt64
				default:
					if t, ok := lastCasFail[c.key]; !ok || t < c.call {
						st.Dropped++ // no failed cas can come after it
						continue
					}
					// A token at its invoke: it may be applied from then on.
					in.kind, in.cas, ret = kvToken, c.f == history.FKVCas, c.call
					if c.f == history.FKVCas && in.resolved {
						// Usable only when the key holds the expected value,
						// which the model can tell only if that value cannot be
						// written after the token (else: unconditional, weaker).
						if t, ok := writtenBy[in.expect]; in.expect == "" || ok && t < c.call {
							in.cond = true
						}
					}
				}
			}
		}
		keySet[c.key] = true
		ops = append(ops, porcupine.Operation{
			Input: in, Output: out, Call: c.call, Return: ret,
			Metadata: kvMeta{index: c.index, done: c.done, process: c.process, node: c.node, typ: c.typ, err: c.err},
		})
	}
	assignClients(ops)
	keys := make([]string, 0, len(keySet))
	for k := range keySet {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return ops, keys
}

// assignClients gives each operation the lowest ClientId free at its call
// (interval colouring), so the visualization has one row per concurrent
// client rather than one per (retired) process.
func assignClients(ops []porcupine.Operation) {
	order := make([]int, len(ops))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ops[order[a]].Call < ops[order[b]].Call })
	var busyUntil []int64
	for _, i := range order {
		id := slices.IndexFunc(busyUntil, func(t int64) bool { return t < ops[i].Call })
		if id < 0 {
			id = len(busyUntil)
			busyUntil = append(busyUntil, 0)
		}
		busyUntil[id] = ops[i].Return
		ops[i].ClientId = id
	}
}

// kvModel is the per-key register model.
func kvModel() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition:      kvPartition,
		PartitionEvent: kvPartitionEvent,
		Init:           func() []any { return []any{kvState{}} },
		Step:           kvStep,
		Equal:          func(a, b any) bool { return a.(kvState) == b.(kvState) },
		Hash: func(a any) uint64 { // FNV-1a
			s := a.(kvState)
			h := uint64(14695981039346656037)
			for _, b := range []byte(s.value) {
				h = (h ^ uint64(b)) * 1099511628211
			}
			h = (h ^ uint64(s.free)) * 1099511628211
			return (h ^ uint64(s.cond)) * 1099511628211
		},
		DescribeOperation: describeKVOp,
		DescribeState: func(a any) string {
			s := a.(kvState)
			d := describeKVValue(s.value)
			if n := s.free + s.cond; n > 0 {
				d += fmt.Sprintf(" [%d unread indeterminate %s pending]", n, plural(n, "write", "writes"))
			}
			return d
		},
		DescribeOperationMetadata: func(m any) string {
			meta, ok := m.(kvMeta)
			if !ok {
				return ""
			}
			s := fmt.Sprintf("ops %d→%d, process %d, %s", meta.index, meta.done, meta.process, meta.typ)
			if meta.done < 0 {
				s = fmt.Sprintf("op %d, process %d, never completed", meta.index, meta.process)
			}
			if meta.node != "" {
				s += ", node " + meta.node
			}
			if meta.err != "" {
				s += ", err: " + meta.err
			}
			return s
		},
	}
	return nm.ToModel()
}

func kvStep(state, input, output any) []any {
	s := state.(kvState)
	in := input.(*kvInput)
	out := output.(*kvOutput)
	wrote := kvState{value: in.value, free: s.free}
	switch in.kind {
	case kvGet:
		if s.value == out.value {
			return []any{s}
		}
		return nil
	case kvToken:
		switch {
		case !in.cond:
			s.free++
		case s.value == in.expect:
			s.cond++
		} // else the expected value is gone for good: the cas can never apply
		return []any{s}
	case kvPut:
		if in.maybe {
			return []any{s, wrote}
		}
		return []any{wrote}
	}
	// cas
	switch {
	case out.failed:
		switch {
		case s.value != in.expect:
			return []any{s}
		case s.cond > 0: // apply a pending unread write (a cas expecting this value) first
			return []any{kvState{value: unreadValue, free: s.free}}
		case s.free > 0: // apply a pending unread write first
			return []any{kvState{value: unreadValue, free: s.free - 1}}
		}
		return nil
	case !in.resolved && in.maybe:
		return []any{s, wrote}
	case !in.resolved:
		return []any{wrote}
	case in.maybe:
		if s.value == in.expect {
			return []any{s, wrote}
		}
		return []any{s}
	case s.value == in.expect:
		return []any{wrote}
	}
	return nil
}

func kvPartition(ops []porcupine.Operation) [][]porcupine.Operation {
	return groupByKey(ops, func(op porcupine.Operation) string { return op.Input.(*kvInput).key })
}

func kvPartitionEvent(events []porcupine.Event) [][]porcupine.Event {
	return groupByKey(events, func(e porcupine.Event) string {
		switch v := e.Value.(type) {
		case *kvInput:
			return v.key
		case *kvOutput:
			return v.key
		}
		return ""
	})
}

// groupByKey splits xs by key, in key order, keeping the order within a key.
func groupByKey[T any](xs []T, key func(T) string) [][]T {
	by := map[string][]T{}
	for _, x := range xs {
		k := key(x)
		by[k] = append(by[k], x)
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([][]T, len(keys))
	for i, k := range keys {
		parts[i] = by[k]
	}
	return parts
}

// illegalKeys lists the keys whose partition has no complete linearization.
func illegalKeys(info porcupine.LinearizationInfo, parts [][]porcupine.Operation, keys []string) []string {
	partials := info.PartialLinearizations()
	var bad []string
	for i, part := range parts {
		full := false
		if i < len(partials) {
			for _, p := range partials[i] {
				if len(p) == len(part) {
					full = true
					break
				}
			}
		}
		if !full && i < len(keys) {
			longest := 0
			if i < len(partials) {
				for _, p := range partials[i] {
					longest = max(longest, len(p))
				}
			}
			bad = append(bad, fmt.Sprintf("%s (longest linearizable prefix: %d of %d ops)", keys[i], longest, len(part)))
		}
	}
	return bad
}

func describeKVValue(v string) string {
	switch v {
	case "":
		return "(absent)"
	case unreadValue:
		return "(a value never read)"
	}
	return v
}

func describeKVOp(input, output any) string {
	in := input.(*kvInput)
	out := output.(*kvOutput)
	var s string
	switch in.kind {
	case kvGet:
		s = fmt.Sprintf("get %s → %s", in.key, describeKVValue(out.value))
		if out.rev != 0 {
			s += fmt.Sprintf(" @%d", out.rev)
		}
		return s
	case kvPut:
		s = fmt.Sprintf("put %s=%s", in.key, in.shown)
	case kvToken:
		switch {
		case in.cond:
			s = fmt.Sprintf("cas %s: %s → %s", in.key, describeKVValue(in.expect), in.shown)
		case in.cas && in.resolved:
			s = fmt.Sprintf("cas %s: %s (or any) → %s", in.key, describeKVValue(in.expect), in.shown)
		case in.cas:
			s = fmt.Sprintf("cas %s: rev %d (unknown value) → %s", in.key, in.expectRev, in.shown)
		default:
			s = fmt.Sprintf("put %s=%s", in.key, in.shown)
		}
	default:
		from := describeKVValue(in.expect)
		if !in.resolved {
			from = fmt.Sprintf("rev %d (unknown value)", in.expectRev)
		}
		s = fmt.Sprintf("cas %s: %s → %s", in.key, from, in.shown)
	}
	switch {
	case out.failed:
		s += " (failed)"
	case in.kind == kvToken:
		s += " (indeterminate, never read)"
	case in.maybe:
		s += " (unknown outcome)"
	case in.read:
		s += " (indeterminate, value read)"
	case out.rev != 0:
		s += fmt.Sprintf(" @%d", out.rev)
	}
	return s
}

// describeFault renders a fault op's value as "kind node,node" plus the
// whole value as details.
func describeFault(v any) (desc, details string) {
	m := kvFields(v)
	kind, _ := kvString(m["kind"])
	if kind == "" {
		kind = "fault"
	}
	var nodes []string
	switch ns := m["nodes"].(type) {
	case []string:
		nodes = ns
	case []any:
		for _, n := range ns {
			s, _ := kvString(n)
			nodes = append(nodes, s)
		}
	case nil:
	default:
		s, _ := kvString(ns)
		nodes = append(nodes, s)
	}
	desc = kind
	if len(nodes) > 0 {
		desc += " " + strings.Join(nodes, ",")
	}
	if b, err := json.Marshal(m); err == nil {
		details = string(b)
	}
	return desc, details
}

// visualize writes porcupine's HTML, turning a panic inside porcupine into
// an error.
func visualize(model porcupine.Model, info porcupine.LinearizationInfo, path string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("porcupine visualization panicked: %v", p)
		}
	}()
	return porcupine.VisualizePath(model, info, path)
}

// kvFields returns an op value as a map, whatever Go type it had in memory
// (a history read from JSON has map[string]any).
func kvFields(v any) map[string]any {
	switch m := v.(type) {
	case nil:
		return nil
	case map[string]any:
		return m
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

func kvString(v any) (string, bool) {
	switch s := v.(type) {
	case nil:
		return "", false
	case string:
		return s, true
	case fmt.Stringer:
		return s.String(), true
	}
	return fmt.Sprint(v), true
}

func kvUint(v any) (uint64, bool) {
	switch n := v.(type) {
	case float64:
		if n >= 0 && n == math.Trunc(n) {
			return uint64(n), true
		}
	case json.Number:
		var u uint64
		if _, err := fmt.Sscan(n.String(), &u); err == nil {
			return u, true
		}
	case uint64:
		return n, true
	case uint:
		return uint64(n), true
	case uint32:
		return uint64(n), true
	case int:
		if n >= 0 {
			return uint64(n), true
		}
	case int64:
		if n >= 0 {
			return uint64(n), true
		}
	case int32:
		if n >= 0 {
			return uint64(n), true
		}
	}
	return 0, false
}
