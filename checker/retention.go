package checker

import (
	"fmt"

	"jetstorm/history"
)

// retention notes a stream whose consumers' acks delete messages (the
// consume workload's workqueue or interest retention, from its consumer
// ops). The final read of such a stream is not the publishers' record, so
// the checks that compare the two (queue, per-node) are skipped: the
// consumer check judges those writes by their deliveries instead.
type retention struct{ kind string }

func (r *retention) observe(op history.Op) {
	if op.F != history.FConsumer || op.Type != history.OK {
		return
	}
	var c history.ConsumerConfig
	if op.Decode(&c) == nil && c.Retention != "" && c.Retention != "limits" {
		r.kind = c.Retention
	}
}

// skip is the Skipped result of check name when the stream deletes.
func (r *retention) skip(name string) (Result, bool) {
	if r.kind == "" {
		return Result{}, false
	}
	return Result{Name: name, Verdict: Skipped, Message: fmt.Sprintf(
		"the stream's retention is %s: consumers' acks delete messages, so what it holds at the end is not what was written (the consumer check judges the writes by their deliveries)", r.kind)}, true
}
