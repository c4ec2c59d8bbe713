// Package workloads drives client operations against a cluster and records
// every one of them in the history. Workloads never import checkers.
package workloads

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// Workload is one kind of client load.
type Workload interface {
	Name() string
	// Setup creates what the workload needs (streams, buckets) on a healthy cluster.
	Setup(ctx context.Context, c clusters.Cluster) error
	// Run drives the load until its duration is over or ctx ends, recording
	// every op. It returns when every op it started has completed.
	Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error
	// Drain reads back what the cluster holds after faults are healed.
	Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error
	// Stream is the stream under test (for stream-leader fault targets).
	Stream() string
}

// WithConsumers is a workload with durable consumers (for the
// pause-consumer fault).
type WithConsumers interface {
	Consumers() []string
}

// NodeDrainer is a workload that can read every replica's own copy.
type NodeDrainer interface {
	DrainNodes(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error
}

// connect opens a client connection pinned to one node: it reconnects to
// that node only, and with no reconnect buffer, so a publish made while
// disconnected fails at once (definitely not sent) instead of being queued.
// Given several URLs (a roaming client), it starts on the first and
// reconnects to the next one in order; extra options come first.
func connect(url, name string, extra ...nats.Option) (*nats.Conn, error) {
	return clusters.Connect(url, append(extra,
		nats.Name(name),
		nats.DontRandomize(),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond),
		nats.ReconnectBufSize(-1),
		nats.RetryOnFailedConnect(true),
		nats.Timeout(2*time.Second),
		nats.NoCallbacksAfterClientClose(),
		// Don't learn other nodes' URLs from gossip: the client stays pinned
		// (or roams over the URLs given: gossip would give a docker node's
		// container address, which jetstorm cannot reach).
		nats.IgnoreDiscoveredServers(),
	)...)
}

// Classify maps a publish error to its history outcome. Only errors that
// prove the message was not stored are Fail; anything else (timeouts, a
// connection lost after sending) is Info: it may have been stored.
func Classify(err error) history.OpType {
	if err == nil {
		return history.OK
	}
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		return history.Fail // no stream was listening: nothing stored
	case errors.Is(err, nats.ErrReconnectBufExceeded), errors.Is(err, nats.ErrMaxPayload):
		return history.Fail // rejected by the client before sending
	case errors.As(err, &apiErr):
		return history.Fail // the stream answered with an error
	}
	return history.Info
}

// clientFunc runs one pinned client, recording into rec: its first op is
// due at next, then one every interval until end.
type clientFunc func(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error

// runPinned starts n clients, client i pinned to node i mod N, sharing the
// total rate open loop (each at rate/n, staggered across one interval), and
// waits for all of them.
func runPinned(ctx context.Context, c clusters.Cluster, rec *history.Recorder, n int, rate float64, d time.Duration, client clientFunc) error {
	nodes := c.Nodes()
	interval := time.Duration(float64(time.Second) * float64(n) / rate)
	start := time.Now().Add(100 * time.Millisecond)
	end := start.Add(d)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := start.Add(time.Duration(i) * interval / time.Duration(n))
			errs[i] = client(ctx, rec, nodes[i%len(nodes)], i, first, end, interval)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitDue waits until an op's intended start; when behind schedule it goes
// at once. False when ctx ended.
func waitDue(ctx context.Context, due time.Time) bool {
	if d := time.Until(due); d > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	return ctx.Err() == nil
}

// retry runs f with a 5 s deadline per attempt until it succeeds or ctx ends.
func retry(ctx context.Context, what string, f func(context.Context) error) error {
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(actx)
		cancel()
		if err == nil {
			return nil
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.Code == 400 {
			return fmt.Errorf("%s: %w", what, err) // a bad request stays bad: do not retry
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// retryUntil is retry, giving up at end: a client binding its stream or
// bucket on a node that is down from the start puts no load on it.
func retryUntil(ctx context.Context, end time.Time, what string, f func(context.Context) error) error {
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	return retry(ctx, what, f)
}

// connectAll opens a client connection that may use any node (setup and
// drains, not the pinned clients).
func connectAll(c clusters.Cluster, what string) (*nats.Conn, jetstream.JetStream, error) {
	// In node order, not shuffled: which node relays the drain's requests
	// is then the cluster's to choose (tests order Nodes to pick it).
	nc, err := clusters.Connect(strings.Join(clusters.ClientURLs(c), ","), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.DontRandomize())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: connect: %w", what, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// connectPinned opens a pinned client's connection (see connect).
func connectPinned(node clusters.Node, name string) (*nats.Conn, jetstream.JetStream, error) {
	return connectURLs(node, []string{node.ClientURL()}, name)
}

// connectURLs opens a client's connection to urls, the first its node's.
// A roaming client (several URLs) pings every second, so that it notices
// a silent cut (client-partition) in seconds, not minutes, and moves on.
func connectURLs(node clusters.Node, urls []string, name string) (*nats.Conn, jetstream.JetStream, error) {
	var extra []nats.Option
	if len(urls) > 1 {
		extra = append(extra, nats.PingInterval(time.Second), nats.MaxPingsOutstanding(3))
	}
	nc, err := connect(strings.Join(urls, ","), name, extra...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: connect %s: %w", name, node.Name(), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// valueOf extracts the published value from a message body.
func valueOf(data []byte) string {
	if i := bytes.IndexByte(data, ' '); i >= 0 {
		return string(data[:i])
	}
	return string(data)
}

// recordDrain records a final drain: an invoke, then ok with the count
// read, or info with the error (the checker then says unknown).
func recordDrain(rec *history.Recorder, drain func() (int, error)) error {
	rec.Record(history.Op{Process: -1, Type: history.Invoke, F: history.FDrain})
	read, err := drain()
	if err != nil {
		rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FDrain, Value: read, Err: err.Error()})
		return err
	}
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FDrain, Value: read})
	return nil
}

// queueBody is a queue message: the value, then a space and padding up to
// payload bytes (pad is reused between calls).
func queueBody(value string, payload int, pad *[]byte) []byte {
	n := payload - len(value) - 1
	if n > len(*pad) {
		*pad = bytes.Repeat([]byte{'.'}, n)
	}
	data := []byte(value)
	if n > 0 {
		data = append(append(data, ' '), (*pad)[:n]...)
	}
	return data
}
