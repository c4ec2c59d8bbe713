package workloads

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// TTLOptions configures the ttl workload.
type TTLOptions struct {
	// Queue are the stream and the clients' options: Rate is messages a
	// second. NewTTL sets ReadValue and Configure.
	Queue QueueOptions
	// TTLs are the TTLs a message gets, drawn at random (whole seconds).
	TTLs []time.Duration
	// NeverEvery > 0: every NeverEvery-th message of a client has no TTL
	// (it must stay, as a queue's message does).
	NeverEvery int
	// MarkerTTL > 0 turns on subject delete markers (the stream's
	// SubjectDeleteMarkerTTL, a KV bucket's LimitMarkerTTL).
	MarkerTTL time.Duration
	// KV: through the KV API, on bucket Queue.Stream (per-key TTLs).
	KV bool
	// MaxAge > 0 is the stream's max age (a KV bucket's TTL): a message
	// without a TTL, or with a longer one, goes at MaxAge, and is
	// recorded with it (whole seconds).
	MaxAge time.Duration
	// Slack is how long after its TTL a message may still be seen.
	Slack time.Duration
	// ProbeInterval is how often every node's own copy is read.
	ProbeInterval time.Duration
	Seed          uint64
}

// TTL is the ttl workload (issue 21): clients pinned to nodes publish
// messages with a Nats-TTL (or create KV keys with a TTL), each on a
// subject of its own, and read some back through the API; a prober reads
// every node's own copy every ProbeInterval until the last message is
// past its TTL and the slack. The drains read the copies once more at the
// end.
type TTL struct {
	*Queue
	o      TTLOptions
	bucket string // KV: the bucket
	// Sent, when set (tests), is the TTL really sent for one recorded.
	Sent func(time.Duration) time.Duration
}

// NewTTL fills the defaults.
func NewTTL(o TTLOptions) *TTL {
	if len(o.TTLs) == 0 {
		o.TTLs = []time.Duration{5 * time.Second, 10 * time.Second}
	}
	if o.Slack <= 0 {
		o.Slack = 10 * time.Second
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = time.Second
	}
	if o.Queue.Timeout <= 0 {
		o.Queue.Timeout = 5 * time.Second
	}
	if o.Queue.Stream == "" {
		o.Queue.Stream = "jetstorm"
	}
	w := &TTL{}
	if o.KV {
		w.bucket = o.Queue.Stream
		o.Queue.Stream = "KV_" + w.bucket
	}
	o.Queue.ReadValue = ttlReadValue
	o.Queue.Configure = func(cfg *jetstream.StreamConfig) {
		cfg.AllowMsgTTL = true
		cfg.MaxAge = o.MaxAge
		if o.MarkerTTL > 0 {
			cfg.SubjectDeleteMarkerTTL = o.MarkerTTL
			cfg.AllowRollup = true // markers roll their subject up
		}
	}
	w.Queue = NewQueue(o.Queue)
	o.Queue = w.Queue.o
	w.o = o
	return w
}

func (w *TTL) Name() string { return "ttl" }

// Tail is how long the prober keeps reading after the last publish: the
// longest TTL and the slack.
func (w *TTL) Tail() time.Duration { return slices.Max(w.o.TTLs) + w.o.Slack + time.Second }

// ttlReadValue is what the reads record of a message: its name (the last
// token of its subject), a marker's with history.MarkerPrefix, anything
// else's subject with history.ForeignPrefix.
func ttlReadValue(subject string, h nats.Header, _ []byte, _ time.Time) string {
	name := subject[strings.LastIndexByte(subject, '.')+1:]
	if h.Get(jetstream.MarkerReasonHeader) != "" {
		return history.MarkerPrefix + name
	}
	if _, ok := history.ParseTTLEntry(name + " 0"); !ok || !strings.Contains(name, "-") {
		return history.ForeignPrefix + subject
	}
	return name
}

func (w *TTL) Setup(ctx context.Context, c clusters.Cluster) error {
	if !w.o.KV {
		return w.Queue.Setup(ctx, c)
	}
	// A direct get from a lagging replica would call an acked key absent:
	// reads go to the leader.
	return createBucket(ctx, c, "ttl setup", jetstream.KeyValueConfig{
		Bucket: w.bucket, Replicas: w.o.Queue.Replicas, History: 1, LimitMarkerTTL: w.o.MarkerTTL, TTL: w.o.MaxAge,
	}, w.o.Queue.Memory, true)
}

// subject is message name's subject.
func (w *TTL) subject(name string) string {
	if w.o.KV {
		return "$KV." + w.bucket + "." + name
	}
	return w.o.Queue.Stream + ".m." + name
}

// Run runs the clients and the prober; the prober goes on for Tail after
// the clients stop.
func (w *TTL) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FTimeRules, Value: history.TimeRules{
		SlackMs: w.o.Slack.Milliseconds(), MarkerTTLMs: w.o.MarkerTTL.Milliseconds()}})
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	var probeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		probeErr = w.probe(pctx, c, rec)
	}()
	err := runPinned(ctx, c, rec, w.o.Queue.Clients, w.o.Queue.Rate, w.o.Queue.Duration, w.client)
	select {
	case <-ctx.Done():
	case <-time.After(w.Tail()):
	}
	stop()
	wg.Wait()
	return errors.Join(err, probeErr)
}

// ttlClient is what a client reads and writes through.
type ttlClient struct {
	w  *TTL
	js jetstream.JetStream
	st jetstream.Stream
	kv jetstream.KeyValue
}

func (w *TTL) client(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
	nc, js, err := w.connectClient(node, fmt.Sprintf("jetstorm-ttl-%d", id))
	if err != nil {
		return err
	}
	defer nc.Close()
	cl := &ttlClient{w: w, js: js}
	if err := retryUntil(ctx, end, "ttl bind", func(ctx context.Context) error {
		if w.o.KV {
			cl.kv, err = js.KeyValue(ctx, w.bucket)
		} else {
			cl.st, err = js.Stream(ctx, w.o.Queue.Stream)
		}
		return err
	}); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(w.o.Seed, uint64(id)))
	process, counter := id, 0
	var acked []string // this client's last acked messages, for its reads
	for ; next.Before(end); next = next.Add(interval) {
		if !waitDue(ctx, next) {
			return nil
		}
		sent := w.o.TTLs[rng.IntN(len(w.o.TTLs))]
		if w.o.NeverEvery > 0 && counter%w.o.NeverEvery == w.o.NeverEvery-1 {
			sent = 0
		}
		e := history.TTLEntry{Op: fmt.Sprintf("%d-%d", process, counter), TTL: int(sent / time.Second)}
		if w.o.MaxAge > 0 && (sent == 0 || sent > w.o.MaxAge) {
			e.TTL = int(w.o.MaxAge / time.Second) // the max age removes it first
		}
		counter++
		at := w.nodeOf(nc, node)
		rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FTTLPut, Value: e.String(), Node: at})
		seq, err := cl.put(e.Op, e.String(), sent)
		op := history.Op{Process: process, Type: Classify(err), F: history.FTTLPut, Value: e.String(), Node: at, Seq: seq}
		if err != nil {
			op.Err = err.Error()
		} else {
			acked = append(acked, e.Op)
			if len(acked) > 64 {
				acked = acked[1:]
			}
		}
		rec.Record(op)
		if op.Type == history.Info {
			process += w.o.Queue.Clients
			counter = 0
			continue
		}
		if len(acked) > 0 && rng.IntN(2) == 0 {
			name := acked[rng.IntN(len(acked))]
			rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FTTLGet, Value: name, Node: at})
			found, err := cl.get(name)
			op := history.Op{Process: process, Type: history.OK, F: history.FTTLGet, Value: name + " " + found, Node: at}
			if err != nil {
				// A failed read tells nothing; the process goes on (a read
				// changes nothing, so it may have another op in flight).
				op.Type, op.Err, op.Value = history.Info, err.Error(), name
			}
			rec.Record(op)
		}
	}
	return nil
}

// put publishes message name (or creates key name) with body and TTL ttl
// (0: none).
func (cl *ttlClient) put(name, body string, ttl time.Duration) (uint64, error) {
	w := cl.w
	if cl.js.Conn().IsReconnecting() {
		return 0, errNotSent
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.o.Queue.Timeout)
	defer cancel()
	if w.Sent != nil && ttl > 0 {
		ttl = w.Sent(ttl)
	}
	if w.o.KV {
		var opts []jetstream.KVCreateOpt
		if ttl > 0 {
			opts = append(opts, jetstream.KeyTTL(ttl))
		}
		return cl.kv.Create(ctx, name, []byte(body), opts...)
	}
	var opts []jetstream.PublishOpt
	if ttl > 0 {
		opts = append(opts, jetstream.WithMsgTTL(ttl))
	}
	ack, err := cl.js.Publish(ctx, w.subject(name), []byte(body), opts...)
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}

// get reads message name back through the API: "present", "absent" or
// "marker".
func (cl *ttlClient) get(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cl.w.o.Queue.Timeout)
	defer cancel()
	if cl.w.o.KV {
		_, err := cl.kv.Get(ctx, name)
		switch {
		case err == nil:
			return "present", nil
		case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
			return "absent", nil // the KV API hides markers: an expired key is not found
		}
		return "", err
	}
	m, err := cl.st.GetLastMsgForSubject(ctx, cl.w.subject(name))
	switch {
	case err == nil && m.Header.Get(jetstream.MarkerReasonHeader) != "":
		return "marker", nil
	case err == nil:
		return "present", nil
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return "absent", nil
	}
	return "", err
}

// ProbeProcess is the history process of the first node's probes (the
// consume workload's clients start at 1,000,000, the batch readers at
// 2,000,000).
const ProbeProcess = 3_000_000

// probeBudget is how long a probe tries to place its consumer on a node.
const probeBudget = 3 * time.Second

// probe reads every node's own copy every ProbeInterval until ctx ends,
// each read one ttl-probe op (node i's process ProbeProcess+i: the
// negative ones are the harness's and the faults'). Each node has its own
// loop, so a node that answers slowly (cut off) leaves the others' reads
// on time.
func (w *TTL) probe(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	nc, js, err := connectAll(c, "ttl probe")
	if err != nil {
		return err
	}
	defer nc.Close()
	var wg sync.WaitGroup
	for i, n := range c.Nodes() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			process := ProbeProcess + i
			tick := time.NewTicker(w.o.ProbeInterval)
			defer tick.Stop()
			for ctx.Err() == nil {
				rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FTTLProbe, Node: n.Name()})
				tokens, last, err := w.readCopy(ctx, js, n.Name())
				op := history.Op{Process: process, Type: history.OK, F: history.FTTLProbe, Node: n.Name(), Value: strings.Join(tokens, " "), Seq: last}
				if err != nil {
					op.Type, op.Err, op.Value = history.Info, err.Error(), nil
				}
				rec.Record(op)
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// readCopy reads node name's own copy through a consumer placed on it:
// its tokens, and the last stream sequence the consumer delivered (what
// the read reached).
func (w *TTL) readCopy(ctx context.Context, js jetstream.JetStream, name string) ([]string, uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, probeBudget+5*time.Second)
	defer cancel()
	tokens := []string{}
	var last uint64
	_, err := w.readNode(ctx, js, name, probeBudget, func(m jetstream.Msg, md *jetstream.MsgMetadata) {
		tokens = append(tokens, w.readValue(m.Subject(), m.Headers(), m.Data(), md.Timestamp))
		last = md.Sequence.Stream
	})
	if err != nil {
		return nil, 0, err
	}
	return tokens, last, nil
}
