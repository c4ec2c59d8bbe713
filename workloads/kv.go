package workloads

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// KVClient is what the KV workload does against a bucket. Tests wrap it to
// misbehave on purpose (e.g. serve stale reads) and see the check fail.
type KVClient interface {
	Get(ctx context.Context, key string) (value string, rev uint64, err error) // "", 0, nil when the key has no value
	Put(ctx context.Context, key, value string) (rev uint64, err error)
	Update(ctx context.Context, key, value string, expectRev uint64) (rev uint64, err error)
}

// KVOptions configures the KV workload.
type KVOptions struct {
	Bucket   string // default "jetstorm"
	Replicas int
	Memory   bool
	Keys     int // number of keys (default 5)
	Clients  int
	Rate     float64 // total ops/s
	Duration time.Duration
	Timeout  time.Duration
	// DirectReads keeps the bucket's direct gets, which any replica may
	// answer (not linearizable by design). Default: reads go to the leader.
	DirectReads bool
	// Wrap, if set, wraps every client (tests).
	Wrap func(KVClient) KVClient
}

// KV is a compare-and-set register workload on a JetStream KV bucket:
// clients pinned to nodes do get, put and update-with-expected-revision on
// a few keys, open loop, every op recorded for the linearizability check.
type KV struct{ o KVOptions }

func NewKV(o KVOptions) *KV {
	if o.Bucket == "" {
		o.Bucket = "jetstorm"
	}
	if o.Keys <= 0 {
		o.Keys = 5
	}
	return &KV{o: o}
}

func (w *KV) Name() string   { return "kv" }
func (w *KV) Stream() string { return "KV_" + w.o.Bucket }

func (w *KV) Setup(ctx context.Context, c clusters.Cluster) error {
	return createBucket(ctx, c, "kv setup", jetstream.KeyValueConfig{Bucket: w.o.Bucket, Replicas: w.o.Replicas, History: 1},
		w.o.Memory, !w.o.DirectReads)
}

// createBucket creates (or updates) a KV bucket, in memory or on file;
// leaderOnly turns its direct gets off (see leaderReads).
func createBucket(ctx context.Context, c clusters.Cluster, what string, cfg jetstream.KeyValueConfig, memory, leaderOnly bool) error {
	nc, js, err := connectAll(c, what)
	if err != nil {
		return err
	}
	defer nc.Close()
	cfg.Storage = storageOf(memory)
	return retry(ctx, what, func(ctx context.Context) error {
		if _, err := js.CreateOrUpdateKeyValue(ctx, cfg); err != nil {
			return err
		}
		if !leaderOnly {
			return nil
		}
		return leaderReads(ctx, js, "KV_"+cfg.Bucket)
	})
}

// storageOf is a stream's storage: memory or file.
func storageOf(memory bool) jetstream.StorageType {
	if memory {
		return jetstream.MemoryStorage
	}
	return jetstream.FileStorage
}

// leaderReads turns a KV bucket's direct gets off: a bucket always allows
// them, answered by any replica (a lagging one, too), and reads must come
// from the leader.
func leaderReads(ctx context.Context, js jetstream.JetStream, stream string) error {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return err
	}
	cfg := st.CachedInfo().Config
	if !cfg.AllowDirect {
		return nil
	}
	cfg.AllowDirect = false
	_, err = js.UpdateStream(ctx, cfg)
	return err
}

type natsKV struct{ kv jetstream.KeyValue }

func (k natsKV) Get(ctx context.Context, key string) (string, uint64, error) {
	e, err := k.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	return string(e.Value()), e.Revision(), nil
}

func (k natsKV) Put(ctx context.Context, key, value string) (uint64, error) {
	return k.kv.PutString(ctx, key, value)
}

func (k natsKV) Update(ctx context.Context, key, value string, rev uint64) (uint64, error) {
	return k.kv.Update(ctx, key, []byte(value), rev)
}

// Run starts Clients clients, client i pinned to node i mod N. As in the
// queue workload, a client is a sequence of processes: after an op with an
// unknown outcome its process is retired (porcupine needs that op open
// forever) and it continues as process p+Clients.
func (w *KV) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	return runPinned(ctx, c, rec, w.o.Clients, w.o.Rate, w.o.Duration, w.client)
}

func (w *KV) client(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
	nc, js, err := connectPinned(node, fmt.Sprintf("jetstorm-kv-%d", id))
	if err != nil {
		return err
	}
	defer nc.Close()
	var kvc KVClient
	if err := retry(ctx, "kv bind", func(ctx context.Context) error {
		kv, err := js.KeyValue(ctx, w.o.Bucket)
		kvc = natsKV{kv}
		return err
	}); err != nil {
		return err
	}
	if w.o.Wrap != nil {
		kvc = w.o.Wrap(kvc)
	}
	rng := rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano())))
	process, counter := id, 0
	lastRev := map[string]uint64{} // revision this client last read, per key: what its CAS expects
	for ; next.Before(end); next = next.Add(interval) {
		if !waitDue(ctx, next) {
			return nil
		}
		key := fmt.Sprintf("k%d", rng.IntN(w.o.Keys))
		value := fmt.Sprintf("%d-%d", process, counter)
		counter++
		f := history.FKVGet
		switch r := rng.IntN(10); {
		case r < 3:
			f = history.FKVPut
		case r < 6:
			if _, ok := lastRev[key]; ok {
				f = history.FKVCas
			}
		}
		in := map[string]any{"key": key}
		if f != history.FKVGet {
			in["value"] = value
		}
		if f == history.FKVCas {
			in["expect_rev"] = lastRev[key]
		}
		// Unlike the queue workload, the invoke is stamped when the op is
		// really sent: an interval opened at an intended time long past
		// (a client behind schedule) overlaps everything and makes the
		// linearizability search explode, while adding nothing to it.
		rec.Record(history.Op{Process: process, Type: history.Invoke, F: f, Value: in, Node: node.Name()})
		octx, cancel := context.WithTimeout(context.Background(), w.o.Timeout)
		out := map[string]any{"key": key}
		var rev uint64
		switch f {
		case history.FKVGet:
			var v string
			v, rev, err = kvc.Get(octx, key)
			out["value"] = v
		case history.FKVPut:
			rev, err = kvc.Put(octx, key, value)
			out["value"] = value
		case history.FKVCas:
			rev, err = kvc.Update(octx, key, value, lastRev[key])
			out["value"] = value
		}
		cancel()
		op := history.Op{Process: process, Type: Classify(err), F: f, Value: out, Node: node.Name()}
		if f == history.FKVGet && op.Type == history.Fail {
			op.Type = history.Info // a failed read is simply no information
		}
		if err != nil {
			op.Err = err.Error()
			op.Value = in
			delete(lastRev, key) // re-read before the next CAS
		} else {
			out["rev"] = rev
			lastRev[key] = rev
		}
		rec.Record(op)
		if op.Type == history.Info {
			process += w.o.Clients
			counter = 0
		}
	}
	return nil
}

// Drain reads every key once more after healing (recorded as gets, so the
// check sees the final state).
func (w *KV) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	nc, js, err := connectAll(c, "kv drain")
	if err != nil {
		return err
	}
	defer nc.Close()
	var kv jetstream.KeyValue
	if err := retry(ctx, "kv drain bind", func(ctx context.Context) error {
		kv, err = js.KeyValue(ctx, w.o.Bucket)
		return err
	}); err != nil {
		return err
	}
	kvc := KVClient(natsKV{kv})
	rec.Record(history.Op{Process: -1, Type: history.Invoke, F: history.FDrain})
	for i := 0; i < w.o.Keys; i++ {
		key := fmt.Sprintf("k%d", i)
		p := -1000 - i // one process per final read
		rec.Record(history.Op{Process: p, Type: history.Invoke, F: history.FKVGet, Value: map[string]any{"key": key}})
		var v string
		var rev uint64
		err := retry(ctx, "kv final read", func(ctx context.Context) error {
			v, rev, err = kvc.Get(ctx, key)
			return err
		})
		if err != nil {
			rec.Record(history.Op{Process: p, Type: history.Info, F: history.FKVGet, Value: map[string]any{"key": key}, Err: err.Error()})
			rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FDrain, Err: err.Error()})
			return err
		}
		rec.Record(history.Op{Process: p, Type: history.OK, F: history.FKVGet, Value: map[string]any{"key": key, "value": v, "rev": rev}})
	}
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FDrain})
	return nil
}
