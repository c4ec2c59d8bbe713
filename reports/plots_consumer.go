package reports

import (
	"image/color"
	"maps"
	"slices"

	"gonum.org/v1/plot/plotter"

	"jetstorm/history"
)

// consumerColors tell the durable consumers apart; each consumer's lag is
// solid and its ack-pending dashed.
var consumerColors = []color.Color{colBlue, colBrown, colPurple, colFailed, colOK}

// consumerLagFigure plots each durable consumer's lag (num_pending: stored
// messages not yet delivered) and ack-pending (delivered, not yet acked)
// over time, from the consume workload's state samples, faults shaded: a
// consumer that stops catching up after a fault shows as a line that does
// not come down. ok is false when the history has no samples.
func (r *run) consumerLagFigure() (figure, bool) {
	pending := map[string]plotter.XYs{}
	ackPending := map[string]plotter.XYs{}
	if r.d == nil {
		return figure{}, false
	}
	for _, op := range r.d.samples {
		var st history.ConsumerState
		if op.Decode(&st) != nil || st.Final {
			continue
		}
		x := op.Time.Seconds()
		pending[st.Consumer] = append(pending[st.Consumer], plotter.XY{X: x, Y: float64(st.NumPending)})
		ackPending[st.Consumer] = append(ackPending[st.Consumer], plotter.XY{X: x, Y: float64(st.NumAckPending)})
	}
	if len(pending) == 0 {
		return figure{}, false
	}
	p := r.timePlot("consumer lag (num_pending, solid) and ack-pending (dashed) per durable consumer", "messages")
	for i, name := range slices.Sorted(maps.Keys(pending)) {
		c := consumerColors[i%len(consumerColors)]
		if addSeries(p, name+" pending", pending[name], c, false) != nil ||
			addSeries(p, name+" ack-pending", ackPending[name], c, true) != nil {
			return figure{}, false
		}
	}
	r.finishTime(p)
	headroom(p)
	return single("consumer-lag", "Consumer lag and ack-pending over time", p), true
}
