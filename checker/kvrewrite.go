// Turning KV calls into porcupine operations for Linearizable: revisions
// translated to values, and the rewrites of indeterminate writes described
// at the top of linearizable.go.

package checker

import (
	"math"
	"sort"
	"strings"

	"github.com/anishathalye/porcupine"

	"jetstorm/history"
)

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

// buildKVOps turns calls into porcupine operations (see the comment at the
// top of linearizable.go) and returns them with the sorted keys.
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
