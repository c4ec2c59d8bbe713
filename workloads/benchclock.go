package workloads

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/stats"
)

// clockSamples is how many stream-info round trips an estimate takes; the
// one with the shortest round trip wins (the NTP rule).
const clockSamples = 8

// ClockOffset estimates this machine's clock against the stream leader's:
// the leader stamps each stream info it serves ("ts"), so the offset is
// that stamp minus the middle of the round trip, within half of it. Shards
// on several machines each measure it against the same stream, so their
// offsets' differences are the offsets between their clocks, which an
// end-to-end latency whose publisher and consumer ran on different shards
// carries (merge reports them). nil when no sample could be taken.
func (b *Bench) ClockOffset(ctx context.Context, urls []string) *stats.ClockOffset {
	nc, js, err := dialJS(urls)
	if err != nil {
		return nil
	}
	defer nc.Close()
	st, err := js.Stream(ctx, b.StreamName())
	if err != nil {
		return nil
	}
	return clockOffset(ctx, st)
}

func clockOffset(ctx context.Context, st jetstream.Stream) *stats.ClockOffset {
	var best *stats.ClockOffset
	for range clockSamples {
		t0 := time.Now()
		info, err := st.Info(ctx)
		rtt := time.Since(t0)
		if err != nil || info.TimeStamp.IsZero() {
			continue
		}
		mid := t0.Add(rtt / 2)
		if best == nil || rtt/2 < best.Uncertainty {
			best = &stats.ClockOffset{Server: info.Cluster.Leader, Offset: info.TimeStamp.Sub(mid), Uncertainty: rtt / 2}
		}
	}
	return best
}
