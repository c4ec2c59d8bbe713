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
	"fmt"
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
//
// Linearizable is a Checker: use a new one per history.
type Linearizable struct {
	Timeout  time.Duration // porcupine's budget; 0 = DefaultLinearizableTimeout
	HTMLPath string        // if set, write porcupine's visualization there

	p kvParser
}

func (*Linearizable) Name() string { return "linearizable" }

// Observe implements Checker: it keeps the kv operations (an invoke paired
// with its completion) and the fault windows.
func (l *Linearizable) Observe(op history.Op) { l.p.observe(op) }

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

// Result implements Checker: it judges the kv operations observed.
func (l *Linearizable) Result(ctx context.Context) (res Result) {
	res.Name = l.Name()
	st := l.p.st
	defer func() { res.Details = st }()

	calls, faults := l.p.finish()
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
