package workloads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// ObjectsOptions configures the objects workload.
type ObjectsOptions struct {
	// Queue are the bucket (Stream, default "jetstorm": the stream is
	// OBJ_<bucket>) and the clients' options; Rate is ops a second.
	Queue QueueOptions
	// Objects is how many object names the clients write (o0, o1, ...).
	Objects int
	// Sizes are the objects' sizes in bytes, drawn at random per put.
	Sizes []int
	// ChunkSize is the chunk size of a put (nats.go's default 128 KiB).
	ChunkSize int
	// DeleteEvery > 0: every DeleteEvery-th op of a client is a delete.
	DeleteEvery int
	Seed        uint64
}

// Objects is the objects workload: clients pinned to nodes put objects of
// many sizes (one chunk to many) on a few names, overwriting each other,
// delete some, and read some back through the API; each put's content
// follows from its op's name and its meta names the op, so every read
// says which put it came from. The final reads get every name from the
// stream leader and List the bucket (Drain), and rebuild every object
// from each node's own copy (DrainNodes).
type Objects struct {
	*Queue
	o      ObjectsOptions
	bucket string
	// Tamper, when set (tests), makes a client write different bytes
	// than it records for the puts it returns true for.
	Tamper func(op string) bool
}

// NewObjects fills the defaults.
func NewObjects(o ObjectsOptions) *Objects {
	if o.Objects <= 0 {
		o.Objects = 8
	}
	if len(o.Sizes) == 0 {
		o.Sizes = []int{100, 100 << 10, 300 << 10, 1 << 20}
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 128 << 10
	}
	if o.Queue.Timeout <= 0 {
		o.Queue.Timeout = 5 * time.Second
	}
	if o.Queue.Stream == "" {
		o.Queue.Stream = "jetstorm"
	}
	w := &Objects{bucket: o.Queue.Stream}
	o.Queue.Stream = "OBJ_" + w.bucket
	w.Queue = NewQueue(o.Queue)
	o.Queue = w.Queue.o
	w.o = o
	return w
}

func (w *Objects) Name() string { return "objects" }

// objName is object k's name.
func objName(k int) string { return fmt.Sprintf("o%d", k) }

func (w *Objects) Setup(ctx context.Context, c clusters.Cluster) error {
	w.urls = clusters.ClientURLs(c)
	nc, js, err := connectAll(c, "objects setup")
	if err != nil {
		return err
	}
	defer nc.Close()
	storage := storageOf(w.o.Queue.Memory)
	return retry(ctx, "objects setup", func(ctx context.Context) error {
		if _, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: w.bucket, Replicas: w.o.Queue.Replicas, Storage: storage,
		}); err != nil {
			return err
		}
		// A meta read by a direct get from a lagging replica would call an
		// acked object absent or old: metas are read from the leader.
		return leaderReads(ctx, js, w.o.Queue.Stream)
	})
}

func (w *Objects) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	return runPinned(ctx, c, rec, w.o.Queue.Clients, w.o.Queue.Rate, w.o.Queue.Duration, w.client)
}

func (w *Objects) client(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
	nc, js, err := w.connectClient(node, fmt.Sprintf("jetstorm-objects-%d", id))
	if err != nil {
		return err
	}
	defer nc.Close()
	var obs jetstream.ObjectStore
	if err := retryUntil(ctx, end, "objects bind", func(ctx context.Context) error {
		obs, err = js.ObjectStore(ctx, w.bucket)
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
		e := history.ObjEntry{Name: objName(rng.IntN(w.o.Objects)), Op: fmt.Sprintf("%d-%d", process, counter), Chunks: -1}
		counter++
		at := w.nodeOf(nc, node)
		f, do := history.FObjPut, func() error { return w.put(obs, e) }
		if w.o.DeleteEvery > 0 && counter%w.o.DeleteEvery == 0 {
			f, do = history.FObjDelete, func() error { return w.delete(obs, e.Name) }
		} else {
			e.Size = int64(w.o.Sizes[rng.IntN(len(w.o.Sizes))])
			e.SHA = objectSHA(e.Op, e.Size)
		}
		if nc.IsReconnecting() {
			do = func() error { return errNotSent }
		}
		rec.Record(history.Op{Process: process, Type: history.Invoke, F: f, Value: e.String(), Node: at})
		err := do()
		op := history.Op{Process: process, Type: objOutcome(err), F: f, Value: e.String(), Node: at}
		if err != nil {
			op.Err = err.Error()
		}
		rec.Record(op)
		if op.Type == history.Info {
			process += w.o.Queue.Clients
			counter = 0
			continue
		}
		if op.Type == history.OK && f == history.FObjPut && rng.IntN(2) == 0 {
			name := objName(rng.IntN(w.o.Objects))
			rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FObjGet, Value: name, Node: at})
			op := w.get(obs, name)
			op.Process, op.F, op.Node = process, history.FObjGet, at
			// A failed read (info) tells nothing and changes nothing: the
			// process goes on.
			rec.Record(op)
		}
	}
	return nil
}

// objOutcome is a put's or delete's outcome. Only errNotSent (not sent at
// all) proves nothing was written: a put publishes its chunks and meta
// asynchronously, so an error answer to one chunk may come after the meta
// was stored; a delete writes its marker, then purges the chunks, and an
// error of the purge comes after the marker was stored.
func objOutcome(err error) history.OpType {
	switch {
	case err == nil:
		return history.OK
	case errors.Is(err, errNotSent):
		return history.Fail
	}
	return history.Info
}

func (w *Objects) put(obs jetstream.ObjectStore, e history.ObjEntry) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.o.Queue.Timeout)
	defer cancel()
	var r io.Reader = newObjectContent(e.Op, e.Size)
	if w.Tamper != nil && w.Tamper(e.Op) {
		r = &tamperReader{r: r}
	}
	_, err := obs.Put(ctx, jetstream.ObjectMeta{
		Name: e.Name, Metadata: map[string]string{history.ObjOpMeta: e.Op},
		Opts: &jetstream.ObjectMetaOptions{ChunkSize: uint32(w.o.ChunkSize)},
	}, r)
	return err
}

func (w *Objects) delete(obs jetstream.ObjectStore, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.o.Queue.Timeout)
	defer cancel()
	return obs.Delete(ctx, name)
}

// get reads object name through the API and returns its completion: ok
// with what it read (or ObjAbsent), Err set when the library found the
// bytes differ from the meta's digest; info when the read did not reach
// the object's end.
func (w *Objects) get(obs jetstream.ObjectStore, name string) history.Op {
	ctx, cancel := context.WithTimeout(context.Background(), w.o.Queue.Timeout)
	defer cancel()
	res, err := obs.Get(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return history.Op{Type: history.OK, Value: history.ObjEntry{Name: name, Op: history.ObjAbsent, Chunks: -1}.String()}
	}
	if err != nil {
		return history.Op{Type: history.Info, Value: name, Err: err.Error()}
	}
	defer res.Close()
	e := history.ObjEntry{Name: name, Op: history.ObjForeign, Chunks: -1}
	if info, err := res.Info(); err == nil && info.Metadata[history.ObjOpMeta] != "" {
		e.Op = info.Metadata[history.ObjOpMeta]
	}
	h := sha256.New()
	n, err := io.Copy(h, res)
	e.Size, e.SHA = n, hex.EncodeToString(h.Sum(nil))
	op := history.Op{Type: history.OK, Value: e.String()}
	if err != nil {
		op.Err = err.Error()
		if !errors.Is(err, jetstream.ErrDigestMismatch) {
			op.Type = history.Info // it stopped short of the end: not judged as a whole read
		}
	}
	return op
}

// objectContent is the content of put op: size bytes of a PRNG stream
// seeded by the op's name, so it never has to be held.
type objectContent struct {
	rng  *rand.PCG
	left int64
	word uint64
	have int // bytes of word not yet used
}

func newObjectContent(op string, size int64) *objectContent {
	h := fnv.New64a()
	h.Write([]byte(op))
	return &objectContent{rng: rand.NewPCG(h.Sum64(), uint64(size)), left: size}
}

func (c *objectContent) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), c.left))
	for i := range n {
		if c.have == 0 {
			c.word, c.have = c.rng.Uint64(), 8
		}
		p[i] = byte(c.word)
		c.word >>= 8
		c.have--
	}
	c.left -= int64(n)
	return n, nil
}

// objectSHA is the hex SHA-256 of put op's content.
func objectSHA(op string, size int64) string {
	h := sha256.New()
	io.Copy(h, newObjectContent(op, size))
	return hex.EncodeToString(h.Sum(nil))
}

// tamperReader flips the first byte it reads (Objects.Tamper).
type tamperReader struct {
	r    io.Reader
	done bool
}

func (t *tamperReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 && !t.done {
		p[0] ^= 0xff
		t.done = true
	}
	return n, err
}
