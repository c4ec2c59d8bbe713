package workloads

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// BenchKV makes a bench a KV benchmark: its publishers put (kv-put) or get
// (kv-get) keys of a KV bucket named after the bench's stream, through the
// same open-loop engine: the per-second windows, latency from the intended
// send time, outages under faults.
type BenchKV struct {
	Op      string // "kv-put" or "kv-get"
	Keys    int    // how many keys (default 1000)
	Dist    string // how a publisher picks its next key: uniform (default) or zipf
	History int    // the bucket's history depth (default 1)
}

// KV ops of the bench.
const (
	KVPut = "kv-put"
	KVGet = "kv-get"
)

// zipfS is the Zipf skew: with s = 1.1 over 1,000 keys, the first key
// takes about 15 % of the ops and the first 10 about 40 %.
const zipfS = 1.1

func (k *BenchKV) withDefaults() {
	if k.Keys <= 0 {
		k.Keys = 1000
	}
	if k.Dist == "" {
		k.Dist = "uniform"
	}
	if k.History <= 0 {
		k.History = 1
	}
}

// kvKey is key i's name.
func kvKey(i int) string { return "k" + strconv.Itoa(i) }

// kvSubjects are the subjects the publishers send to, one per key: the
// key's subject (a put is a publish to it) or the direct get of its last
// value (any replica may answer).
func (b *Bench) kvSubjects() []string {
	bucket, k := b.o.Stream, b.o.KV
	subjects := make([]string, k.Keys)
	for i := range subjects {
		subj := "$KV." + bucket + "." + kvKey(i)
		if k.Op == KVGet {
			subj = "$JS.API.DIRECT.GET.KV_" + bucket + "." + subj
		}
		subjects[i] = subj
	}
	return subjects
}

// keyChooser picks publisher id's next key (or subject) index among n:
// nil for round robin (the plain bench's default), else uniform or Zipf,
// seeded per publisher.
func (b *Bench) keyChooser(id, n int) func() int {
	if b.o.KV == nil && b.o.SubjectChoice != SubjectsRandom {
		return nil
	}
	r := rand.New(rand.NewPCG(uint64(id)+1, 0x6b76))
	if b.o.KV != nil && b.o.KV.Dist == "zipf" && n > 1 {
		z := rand.NewZipf(r, zipfS, 1, uint64(n-1))
		return func() int { return int(z.Uint64()) }
	}
	return func() int { return r.IntN(n) }
}

// setupKV (re)creates the bucket; for kv-get it puts every key once, so
// each get finds a value.
func (b *Bench) setupKV(ctx context.Context, js jetstream.JetStream) error {
	k := b.o.KV
	if err := js.DeleteKeyValue(ctx, b.o.Stream); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
		return fmt.Errorf("delete bucket: %w", err)
	}
	storage := storageOf(b.o.Memory)
	var meta map[string]string
	if b.o.Shards > 1 {
		meta = map[string]string{shardMark: b.o.ShardKey} // the other shards wait for it
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b.o.Stream, History: uint8(k.History),
		Replicas: b.o.Replicas, Storage: storage, Metadata: meta})
	if err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	if k.Op != KVGet {
		return nil
	}
	for i := 0; i < k.Keys; i++ {
		if _, err := kv.Put(ctx, kvKey(i), b.payload); err != nil {
			return fmt.Errorf("put %s: %w", kvKey(i), err)
		}
	}
	return nil
}
