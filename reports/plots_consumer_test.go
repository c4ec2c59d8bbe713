package reports

import (
	"path/filepath"
	"testing"
	"time"

	"jetstorm/history"
)

// A consume run's state samples give the consumer lag plot: each durable's
// pending (solid) and ack-pending (dashed) in its own colour; a history
// without samples has no such plot.
func TestConsumerLagPlot(t *testing.T) {
	t.Parallel()
	if contains(refs(t, writeAndReport(t, synthHistory(false))), "consumer-lag.png") {
		t.Error("a queue run has a consumer lag plot")
	}
	h := synthHistory(false)
	for s := range 6 {
		for i, name := range []string{"c0", "c1"} {
			pending := uint64(100 - 20*s) // c0 catches up
			if i == 1 {
				pending = 100 // c1 does not
			}
			h = append(h, history.Op{Process: -1, Type: history.OK, F: history.FConsumerState, Time: time.Duration(s) * time.Second,
				Value: history.ConsumerState{Consumer: name, NumPending: pending, NumAckPending: 5}})
		}
	}
	dir := writeAndReport(t, h)
	if !contains(refs(t, dir), "consumer-lag.png") {
		t.Fatalf("no consumer lag plot; refs %v", refs(t, dir))
	}
	img := decodePNG(t, filepath.Join(dir, "consumer-lag.png"))
	for i, c := range consumerColors[:2] {
		r, g, b, _ := c.RGBA()
		if countColor(img, [3]uint32{r >> 8, g >> 8, b >> 8}) == 0 {
			t.Errorf("consumer c%d's colour is not in the plot", i)
		}
	}
}

func writeAndReport(t *testing.T, h []history.Op) string {
	t.Helper()
	dir := writeRunDir(t, h)
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}
