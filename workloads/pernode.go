package workloads

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// DrainNodes reads every replica's own copy of the stream, one node at a
// time, for the per-node (split-brain) check. A direct get may be answered
// by any replica, so instead each node in turn is made the stream leader
// (a leader step-down naming it as the preferred placement) and the stream
// is read through STREAM.MSG.GET, which only the leader answers from its own
// store. Each node's read is bracketed by node-drain ops; it is incomplete
// (info) if the node could not lead or leadership moved during the read.
func (q *Queue) DrainNodes(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	nc, js, err := connectAll(c, "per-node drain")
	if err != nil {
		return err
	}
	defer nc.Close()
	info, err := q.info(ctx, js)
	if err != nil {
		return fmt.Errorf("per-node drain: %w", err)
	}
	var names []string
	if info.Cluster != nil {
		if info.Cluster.Leader != "" {
			names = append(names, info.Cluster.Leader)
		}
		for _, r := range info.Cluster.Replicas {
			names = append(names, r.Name)
		}
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		rec.Record(history.Op{Process: -1, Type: history.Invoke, F: history.FNodeDrain, Node: name})
		n, err := q.drainNode(ctx, nc, js, name, rec)
		op := history.Op{Process: -1, Type: history.OK, F: history.FNodeDrain, Node: name, Value: n}
		if err != nil {
			op.Type, op.Err = history.Info, err.Error()
			errs = append(errs, fmt.Errorf("read %s's copy: %w", name, err))
		}
		rec.Record(op)
	}
	return errors.Join(errs...)
}

func (q *Queue) info(ctx context.Context, js jetstream.JetStream) (*jetstream.StreamInfo, error) {
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := js.Stream(actx, q.o.Stream)
	if err != nil {
		return nil, err
	}
	return st.Info(actx)
}

func (q *Queue) drainNode(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, name string, rec *history.Recorder) (int, error) {
	if err := clusters.MoveStreamLeader(ctx, nc, q.o.Stream, name); err != nil {
		return 0, err
	}
	info, err := q.info(ctx, js)
	if err != nil {
		return 0, err
	}
	st, err := js.Stream(ctx, q.o.Stream)
	if err != nil {
		return 0, err
	}
	read := 0
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := getMsg(ctx, st, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // a gap on this node: the check sees what is missing
		}
		if err != nil {
			return read, fmt.Errorf("get seq %d: %w", seq, err)
		}
		rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FNodeRead, Node: name,
			Value: valueOf(m.Data), Seq: m.Sequence})
		read++
	}
	// Every message must have come from this node's store.
	after, err := q.info(ctx, js)
	if err != nil {
		return read, err
	}
	if after.Cluster == nil || after.Cluster.Leader != name {
		return read, fmt.Errorf("leadership moved away from %s during the read", name)
	}
	return read, nil
}
