package workloads

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// WatchOptions configures the watch workload.
type WatchOptions struct {
	Bucket   string // default "jetstorm"
	Replicas int
	Memory   bool
	Keys     int     // default 20
	Clients  int     // writers
	Rate     float64 // puts a second, all writers
	Duration time.Duration
	Timeout  time.Duration
	// Watchers watch every key, watcher i pinned to node i mod N; default
	// one a node.
	Watchers int
	// History is the bucket's history depth (1..64; default 64): a key
	// keeps its last History revisions, and a watcher that falls further
	// behind than that skips the older ones by design.
	History int
	// RestartEvery: each watcher stops and watches again, resuming after
	// the last revision it saw, about this often (jittered ±50%), on top
	// of doing so when its connection comes back and when nothing came for
	// IdleRestart; 0: only then.
	RestartEvery time.Duration
	// Converge is how long every watcher may take after the final reads to
	// show every key's final value, and after a heal to catch up.
	Converge time.Duration
	Seed     uint64
	// Drop (tests) makes watcher w leave out an update it was delivered
	// (not recorded) when it returns true: a gap.
	Drop func(watcher int, rev uint64) bool
}

// WatchProcess is the history process of the first watcher.
const WatchProcess = 4_000_000

// idleRestart: a watcher that got nothing for this long while writes go on
// watches again (its consumer may be stuck behind a fault).
const idleRestart = 5 * time.Second

// Watch is the watch workload (issue 22): writers pinned to nodes put
// values to a bucket's keys, open loop; watchers pinned to nodes watch
// every key with history, record each update, and restart during faults
// resuming from the revision after the last one they saw. After the final
// heal the drain reads every key's final value from the stream leader and
// waits for every watcher to show it.
type Watch struct {
	o WatchOptions

	mu       sync.Mutex
	watchers []*watcherState // set by Run, stopped by Drain
	done     chan struct{}   // closed when every watcher has returned
}

// watcherState is what Drain needs of a running watcher.
type watcherState struct {
	mu   sync.Mutex
	last map[string]string // key -> value last seen
	kick chan struct{}     // watch again now
	stop chan struct{}     // record the stop and return
}

func NewWatch(o WatchOptions) *Watch {
	if o.Bucket == "" {
		o.Bucket = "jetstorm"
	}
	if o.Keys <= 0 {
		o.Keys = 20
	}
	if o.History <= 0 {
		o.History = 64
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Converge <= 0 {
		o.Converge = 30 * time.Second
	}
	return &Watch{o: o}
}

func (w *Watch) Name() string   { return "watch" }
func (w *Watch) Stream() string { return "KV_" + w.o.Bucket }

func (w *Watch) Setup(ctx context.Context, c clusters.Cluster) error {
	// The final reads must come from the leader (a lagging replica's
	// direct get would make a converged watcher look behind).
	return createBucket(ctx, c, "watch setup", jetstream.KeyValueConfig{
		Bucket: w.o.Bucket, Replicas: w.o.Replicas, History: uint8(w.o.History),
	}, w.o.Memory, true)
}

func (w *Watch) key(i int) string { return fmt.Sprintf("k%d", i) }

// Run starts the watchers, then the writers; it returns when the writers
// are done. The watchers go on (on ctx, which the harness ends after the
// drains) until Drain stops them.
func (w *Watch) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FWatchRules, Value: history.WatchRules{
		History: w.o.History, ConvergeMs: w.o.Converge.Milliseconds()}})
	nodes := c.Nodes()
	n := w.o.Watchers
	if n <= 0 {
		n = len(nodes)
	}
	w.mu.Lock()
	w.done = make(chan struct{})
	w.watchers = make([]*watcherState, n)
	for i := range w.watchers {
		w.watchers[i] = &watcherState{last: map[string]string{}, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	}
	w.mu.Unlock()
	var wg sync.WaitGroup
	for i, st := range w.watchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.watch(ctx, rec, nodes[i%len(nodes)], i, st)
		}()
	}
	go func() { wg.Wait(); close(w.done) }()
	return runPinned(ctx, c, rec, w.o.Clients, w.o.Rate, w.o.Duration, w.writer)
}

func (w *Watch) writer(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
	nc, js, err := connectPinned(node, fmt.Sprintf("jetstorm-watch-put-%d", id))
	if err != nil {
		return err
	}
	defer nc.Close()
	var kv jetstream.KeyValue
	if err := retryUntil(ctx, end, "watch bind", func(ctx context.Context) error {
		kv, err = js.KeyValue(ctx, w.o.Bucket)
		return err
	}); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(w.o.Seed, uint64(id)))
	process, counter := id, 0
	for ; next.Before(end); next = next.Add(interval) {
		if !waitDue(ctx, next) {
			return nil
		}
		e := history.WatchEntry{Key: w.key(rng.IntN(w.o.Keys)), Value: fmt.Sprintf("%d-%d", process, counter)}
		counter++
		rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FWatchPut, Value: e.String(), Node: node.Name()})
		var rev uint64
		err := errNotSent
		if !nc.IsReconnecting() {
			octx, cancel := context.WithTimeout(context.Background(), w.o.Timeout)
			rev, err = kv.PutString(octx, e.Key, e.Value)
			cancel()
		}
		op := history.Op{Process: process, Type: Classify(err), F: history.FWatchPut, Value: e.String(), Node: node.Name(), Seq: rev}
		if err != nil {
			op.Err = err.Error()
		}
		rec.Record(op)
		if op.Type == history.Info {
			process += w.o.Clients
			counter = 0
		}
	}
	return nil
}

// watch runs watcher id on node until ctx ends or Drain stops it: it
// watches every key from the revision after the last one it saw (from 1 at
// first), records each update, and watches again when its connection
// comes back, when nothing came for idleRestart, when Drain kicks it, and
// about every RestartEvery.
func (w *Watch) watch(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, st *watcherState) {
	process := WatchProcess + id
	back := make(chan struct{}, 1)
	nc, err := connect(node.ClientURL(), fmt.Sprintf("jetstorm-watcher-%d", id),
		nats.ReconnectHandler(func(*nats.Conn) { notify(back) }))
	if err != nil { // no final view: the check says unknown
		rec.Record(history.Op{Process: process, Type: history.Info, F: history.FWatchStart, Node: node.Name(), Err: err.Error()})
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		rec.Record(history.Op{Process: process, Type: history.Info, F: history.FWatchStart, Node: node.Name(), Err: err.Error()})
		return
	}
	rng := rand.New(rand.NewPCG(w.o.Seed, uint64(1000+id)))
	var kv jetstream.KeyValue
	var last uint64 // the highest revision recorded
	for {
		rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FWatchStart, Node: node.Name(), Seq: last + 1})
		kw, end, err := w.startWatch(ctx, js, &kv, last+1)
		if err != nil {
			rec.Record(history.Op{Process: process, Type: history.Info, F: history.FWatchStart, Node: node.Name(), Seq: last + 1, Err: err.Error()})
			select {
			case <-ctx.Done():
				return
			case <-st.stop:
				rec.Record(history.Op{Process: process, Type: history.OK, F: history.FWatchStop, Node: node.Name(), Seq: last})
				return
			case <-time.After(500 * time.Millisecond):
				continue
			}
		}
		rec.Record(history.Op{Process: process, Type: history.OK, F: history.FWatchStart, Node: node.Name(), Seq: last + 1})
		var restart <-chan time.Time
		if w.o.RestartEvery > 0 {
			restart = time.After(time.Duration(float64(w.o.RestartEvery) * (0.5 + rng.Float64())))
		}
		idle := time.NewTimer(idleRestart)
		stopped := false
	watching:
		for {
			select {
			case e, ok := <-kw.Updates():
				if !ok {
					break watching
				}
				if e == nil {
					continue // the end of the initial values
				}
				idle.Reset(idleRestart)
				rev := e.Revision()
				if w.o.Drop != nil && w.o.Drop(id, rev) {
					last = max(last, rev)
					continue
				}
				v := history.WatchEntry{Key: e.Key(), Value: string(e.Value())}
				rec.Record(history.Op{Process: process, Type: history.OK, F: history.FWatchSee, Node: node.Name(), Value: v.String(), Seq: rev})
				last = max(last, rev)
				st.mu.Lock()
				st.last[v.Key] = v.Value
				st.mu.Unlock()
			case <-idle.C:
				break watching
			case <-restart:
				break watching
			case <-back:
				break watching
			case <-st.kick:
				break watching
			case <-st.stop:
				stopped = true
				break watching
			case <-ctx.Done():
				stopped = true
				break watching
			}
		}
		idle.Stop()
		kw.Stop()
		end()
		go func() { // the library's callback may be blocked on a full channel
			for range kw.Updates() {
			}
		}()
		if stopped {
			if ctx.Err() == nil {
				rec.Record(history.Op{Process: process, Type: history.OK, F: history.FWatchStop, Node: node.Name(), Seq: last})
			}
			return
		}
	}
}

// startWatch watches every key with history from revision from on, binding
// the bucket first if it is not yet. The watch lasts until cancel is
// called (the library ends it with the context it was created with); one
// not created within Timeout is given up.
func (w *Watch) startWatch(ctx context.Context, js jetstream.JetStream, kv *jetstream.KeyValue, from uint64) (jetstream.KeyWatcher, context.CancelFunc, error) {
	if *kv == nil {
		bctx, cancel := context.WithTimeout(ctx, w.o.Timeout)
		b, err := js.KeyValue(bctx, w.o.Bucket)
		cancel()
		if err != nil {
			return nil, nil, err
		}
		*kv = b
	}
	wctx, cancel := context.WithCancel(ctx)
	giveUp := time.AfterFunc(w.o.Timeout, cancel)
	kw, err := (*kv).WatchAll(wctx, jetstream.IncludeHistory(), jetstream.ResumeFromRevision(from))
	if !giveUp.Stop() && err == nil {
		err = context.DeadlineExceeded // created just as it was given up
	}
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return kw, cancel, nil
}

// notify signals c without blocking.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Drain reads every key's final value from the stream leader, then waits
// up to Converge for every watcher to show those values (kicking the ones
// behind every few seconds), and stops the watchers.
func (w *Watch) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	w.mu.Lock()
	watchers, done := w.watchers, w.done
	w.mu.Unlock()
	stopAll := func() {
		for _, st := range watchers {
			close(st.stop)
		}
		if done != nil {
			<-done
		}
	}
	final, err := w.readFinal(ctx, c, rec)
	if err != nil {
		stopAll()
		return err
	}
	deadline := time.Now().Add(w.o.Converge)
	kickAt := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		behind := 0
		for _, st := range watchers {
			if !st.shows(final) {
				behind++
				if time.Now().After(kickAt) {
					notify(st.kick)
				}
			}
		}
		if behind == 0 {
			break
		}
		if time.Now().After(kickAt) {
			kickAt = time.Now().Add(3 * time.Second)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopAll()
	return nil
}

// shows reports whether the watcher's last values are final's.
func (st *watcherState) shows(final map[string]string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	for k, v := range final {
		if st.last[k] != v {
			return false
		}
	}
	return true
}

// readFinal reads every key from the stream leader, each read recorded
// (watch-read); a key without a value reads "".
func (w *Watch) readFinal(ctx context.Context, c clusters.Cluster, rec *history.Recorder) (map[string]string, error) {
	nc, js, err := connectAll(c, "watch drain")
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	var kv jetstream.KeyValue
	if err := retry(ctx, "watch drain bind", func(ctx context.Context) error {
		kv, err = js.KeyValue(ctx, w.o.Bucket)
		return err
	}); err != nil {
		return nil, err
	}
	out := map[string]string{}
	err = recordDrain(rec, func() (int, error) {
		for i := 0; i < w.o.Keys; i++ {
			key := w.key(i)
			rec.Record(history.Op{Process: -1, Type: history.Invoke, F: history.FWatchRead, Value: key})
			var e jetstream.KeyValueEntry
			err := retry(ctx, "watch final read", func(ctx context.Context) error {
				e, err = kv.Get(ctx, key)
				if errors.Is(err, jetstream.ErrKeyNotFound) {
					e, err = nil, nil
				}
				return err
			})
			if err != nil {
				rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FWatchRead, Value: key, Err: err.Error()})
				return i, err
			}
			op := history.Op{Process: -1, Type: history.OK, F: history.FWatchRead, Value: key}
			if e != nil {
				op.Value, op.Seq = history.WatchEntry{Key: key, Value: string(e.Value())}.String(), e.Revision()
				out[key] = string(e.Value())
			}
			rec.Record(op)
		}
		return w.o.Keys, nil
	})
	return out, err
}
