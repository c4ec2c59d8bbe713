package workloads

// The consume workload's end: the dead letters read back, and each node's
// own copy of every durable's state.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// Drain reads the dead letters back (one FDeadLetter op per advisory),
// then drains the stream as the queue workload does.
func (w *Consume) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	dlErr := w.deadLetters(ctx, c, rec)
	if dlErr != nil {
		rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote, Err: dlErr.Error()})
	}
	return errors.Join(dlErr, w.Queue.Drain(ctx, c, rec))
}

// advisory holds the fields of both dead-letter advisories (max_deliver
// and terminated) the history needs.
type advisory struct {
	Type       string `json:"type"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// deadLetters reads the dead-letter stream from its leader.
func (w *Consume) deadLetters(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	nc, js, err := connectAll(c, "dead letters")
	if err != nil {
		return err
	}
	defer nc.Close()
	var st jetstream.Stream
	var info *jetstream.StreamInfo
	err = retry(ctx, "dead-letter stream "+w.DLQ(), func(ctx context.Context) error {
		var err error
		if st, err = js.Stream(ctx, w.DLQ()); err == nil {
			info, err = st.Info(ctx)
		}
		return err
	})
	if err != nil || info.State.Msgs == 0 {
		return err
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := getMsg(ctx, js.Conn(), w.DLQ(), seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("dead letters: get seq %d: %w", seq, err)
		}
		var a advisory
		if err := json.Unmarshal(m.Data, &a); err != nil {
			return fmt.Errorf("dead letters: seq %d on %s: %w", seq, m.Subject, err)
		}
		kind := "max_deliveries"
		if strings.Contains(m.Subject, ".MSG_TERMINATED.") {
			kind = "terminated"
		}
		rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FDeadLetter, Seq: a.StreamSeq,
			Value: history.DeadLetter{Consumer: a.Consumer, Kind: kind, StreamSeq: a.StreamSeq, Deliveries: a.Deliveries}})
	}
	return nil
}

// DrainNodes records each node's own copy of every durable's state (its
// /jsz, final FConsumerState ops, Node the node), then reads each
// replica's copy of the stream as the queue workload does.
func (w *Consume) DrainNodes(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	var errs []error
	for _, n := range c.Nodes() {
		if n.MonitorURL() == "" {
			continue
		}
		if err := w.nodeStates(ctx, n, rec); err != nil {
			rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote, Node: n.Name(), Err: err.Error()})
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, w.Queue.DrainNodes(ctx, c, rec))...)
}

// nodeStates reads n's /jsz with consumer details.
func (w *Consume) nodeStates(ctx context.Context, n clusters.Node, rec *history.Recorder) error {
	jctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var info server.JSInfo
	if err := clusters.GetJSON(jctx, n, "/jsz?consumers=true", &info); err != nil {
		return fmt.Errorf("consumer states on %s: %w", n.Name(), err)
	}
	for _, a := range info.AccountDetails {
		for _, sd := range a.Streams {
			if sd.Name != w.o.Queue.Stream {
				continue
			}
			for _, ci := range sd.Consumer {
				if ci == nil {
					continue
				}
				s := history.ConsumerState{
					Consumer: ci.Name, NumPending: ci.NumPending, NumAckPending: ci.NumAckPending,
					Delivered: ci.Delivered.Stream, DeliveredConsumer: ci.Delivered.Consumer, AckFloor: ci.AckFloor.Stream, Final: true, Paused: ci.Paused,
				}
				if ci.Cluster != nil {
					s.Leader = ci.Cluster.Leader
				}
				rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FConsumerState, Node: n.Name(), Value: s})
			}
		}
	}
	return nil
}
