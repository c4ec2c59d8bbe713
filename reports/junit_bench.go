package reports

import (
	"fmt"

	"jetstorm/stats"
)

// benchCases are a benchmark's test cases: one per step, passing when the
// step ran, failing when it broke the capacity search's SLO (p99 above
// slo_p99, or fewer than 95 % of offered messages acked).
func (r *run) benchCases(class string) []junitCase {
	steps, held, slo := []stats.BenchStepResult(nil), []bool(nil), 0.0
	switch {
	case r.capacity != nil:
		steps, held, slo = r.capacity.Steps, r.capacity.Held, r.capacity.SLOP99Ms
	case r.bench != nil:
		steps = r.bench.Steps
	case r.res.Bench != nil: // a copied directory without bench.json
		steps = r.res.Bench.Steps
	}
	var cases []junitCase
	for i, st := range steps {
		out := fmt.Sprintf("offered %.0f/s, acks %.0f/s, consumed %.0f/s, %d errors; publish→ack ms p50 %.3f p99 %.3f p99.9 %.3f; e2e p99 %.3f ms",
			st.OfferedRate, st.AckThroughput, st.ConsumedRate, st.Errors, st.PubAck.P50, st.PubAck.P99, st.PubAck.P999, st.E2E.P99)
		c := junitCase{Name: fmt.Sprintf("step %d: %.0f msgs/s for %s", i, st.Rate, st.Duration), Classname: class + ".bench",
			Time: fmtF(st.Duration.Seconds(), 3), SystemOut: out}
		if i < len(held) && !held[i] {
			msg := fmt.Sprintf("capacity SLO not held at %.0f msgs/s: publish p99 %.3f ms (slo_p99 %.3f ms), %.0f of %.0f msgs/s acked",
				st.Rate, st.PubAck.P99, slo, st.AckedRate, st.OfferedRate)
			c.Failure = &junitProblem{Message: msg, Type: "slo", Text: msg + "\n" + out}
		}
		cases = append(cases, c)
	}
	return cases
}
