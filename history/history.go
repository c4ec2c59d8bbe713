// Package history holds the record of a run: one Op per event, written as
// JSON lines while the run goes, so a crash leaves a readable prefix.
// It is the leaf package: workloads write it, checkers read it.
package history

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"sync"
	"time"
)

// OpType is the phase of an operation, as in Jepsen.
type OpType string

const (
	Invoke OpType = "invoke" // the operation was started
	OK     OpType = "ok"     // it definitely happened
	Fail   OpType = "fail"   // it definitely did not happen
	Info   OpType = "info"   // outcome unknown (e.g. timeout): it may have happened
)

// Op is one line of history.jsonl.
//
// For open-loop workloads the Time of an invoke is the operation's intended
// start time, so completion minus invoke is a latency that includes queueing
// (no coordinated omission). The file is therefore in write order (Index),
// not strictly in Time order.
type Op struct {
	Index   int64  `json:"index"`
	Process int    `json:"process"`
	Type    OpType `json:"type"`
	F       string `json:"f"`
	Value   any    `json:"value,omitempty"`
	Seq     uint64 `json:"seq,omitempty"` // stream sequence (publish ack, read), when known
	Node    string `json:"node,omitempty"`
	// Subject is the message subject of a consume-workload publish (the
	// consumer check matches it against each consumer's filter); "" when
	// not recorded (the queue workload publishes to one subject).
	Subject string        `json:"subject,omitempty"`
	Time    time.Duration `json:"time"` // since run start, nanoseconds
	Err     string        `json:"err,omitempty"`
}

// Function names used across packages.
const (
	FMeta    = "meta"    // first op: run metadata (Value is a map)
	FPublish = "publish" // queue workload publish; Value is the published string
	FRead    = "read"    // final drain read; Value is the string read, Seq its stream sequence
	FDrain   = "drain"   // final drain: invoke, then ok (complete) or fail/info (incomplete)
	FFault   = "fault"   // fault start (invoke) and end (ok/info); Value describes it
	FNote    = "note"    // a remark for people reading the history; checkers ignore it

	FKVPut = "kv-put" // kv workload: put; Value {key, value}, ok adds rev
	FKVGet = "kv-get" // kv workload: get; ok Value {key, value, rev}
	FKVCas = "kv-cas" // kv workload: update with expect_rev

	// FPublishRetry is one retry of a queue publish whose outcome was
	// unknown (info; Value the value, Err the previous attempt's error),
	// sent again with the same Nats-Msg-Id (queue workload, exactly_once).
	FPublishRetry = "publish-retry"
	// FDedup records that publishes are retried for exactly-once (ok, at
	// the start of the load; Value a Dedup).
	FDedup = "dedup"

	FNodeRead  = "node-read"  // per-node read: ok; Node, Value (the string read from that node's copy), Seq
	FNodeDrain = "node-drain" // per-node drain of Node: invoke, then ok (complete) or fail/info (incomplete)

	// FRecover brackets the final heal: invoke, then ok when every node was
	// healthy within final.recover, or info with Value a map of node name to
	// its last health error (the nodes that never recovered).
	FRecover = "recover"
	// FStaleRead is an ok op recorded by the final drain when its consumer
	// reported the end of the stream (nothing pending) before the stream
	// leader's last sequence; Node is the node that hosted the consumer and
	// Value a StaleRead.
	FStaleRead = "stale-read"
	// FRunError is an info op recorded at the end of a run for each error
	// of the run itself (interrupted, a drain that failed, a heal that
	// failed), Err the message: `jetstorm check` on the saved run sees
	// them as the run did. Checkers ignore it.
	FRunError = "run-error"
)

// Dedup is the Value of an FDedup op: the stream's duplicate window, and
// how long a publish is retried.
type Dedup struct {
	WindowMs   int64 `json:"window_ms"`
	RetryForMs int64 `json:"retry_for_ms"`
}

// StaleRead is the Value of an FStaleRead op.
type StaleRead struct {
	Leader     string `json:"leader"`      // the stream leader when the stale end was seen
	ClaimedEnd uint64 `json:"claimed_end"` // the last sequence the consumer delivered, with nothing pending after it
	LeaderLast uint64 `json:"leader_last"` // the leader's last sequence at that time
	// NodeLast is the hosting node's own last sequence (/jsz) at that time;
	// NodeLastErr says why it is unknown.
	NodeLast    uint64 `json:"node_last"`
	NodeLastErr string `json:"node_last_err,omitempty"`
	// Confirmed: NodeLast reached LeaderLast, and the consumer, asked once
	// more after NodeLast was read, still delivered nothing: it hid
	// messages its node held.
	Confirmed bool `json:"confirmed,omitempty"`
}

// Decode re-reads an op's Value into v (a history read back from JSON holds
// maps where the writer had structs).
func (o Op) Decode(v any) error {
	b, err := json.Marshal(o.Value)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// ValueString returns Value as a string ("" when it is not one).
func (o Op) ValueString() string {
	s, _ := o.Value.(string)
	return s
}

// Recorder appends ops to a writer as JSON lines. It is safe for concurrent
// use; every op is flushed to the file when recorded, so nothing already
// recorded is lost if the process dies.
type Recorder struct {
	mu    sync.Mutex
	start time.Time
	next  int64
	w     io.Writer
	f     *os.File
	buf   []byte // the line being written
	err   error
	ops   []Op // kept in memory too, so the run can check without re-reading
	keep  bool
	count map[[2]string]int64 // ops recorded per (F, Type), for progress

	// Compressed (CreateCompressed): the gzip writer, and its flusher.
	gz        *gzip.Writer
	stopFlush chan struct{}
	flushDone *sync.WaitGroup
}

// Create opens path for writing (truncating it) and returns a Recorder whose
// clock starts now. keep=true also keeps every op in memory (Ops).
func Create(path string, keep bool) (*Recorder, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create history: %w", err)
	}
	r := NewRecorder(f, keep)
	r.f = f
	return r, nil
}

// NewRecorder writes to w (unbuffered: each op is one write).
func NewRecorder(w io.Writer, keep bool) *Recorder {
	return &Recorder{start: time.Now(), w: w, keep: keep}
}

// Start is the run's time origin.
func (r *Recorder) Start() time.Time { return r.start }

// Since is the monotonic time since the run started.
func (r *Recorder) Since() time.Duration { return time.Since(r.start) }

// Record assigns the op its index (and its time, when zero) and writes it.
func (r *Recorder) Record(op Op) Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	if op.Time == 0 {
		op.Time = time.Since(r.start)
	}
	op.Index = r.next
	r.next++
	var err error
	if r.buf, err = appendOp(r.buf[:0], op); err == nil {
		_, err = r.w.Write(r.buf)
	}
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("write history: %w", err)
	}
	if r.keep {
		r.ops = append(r.ops, op)
	}
	if r.count == nil {
		r.count = map[[2]string]int64{}
	}
	r.count[[2]string{op.F, string(op.Type)}]++
	return op
}

// Count is how many ops of function f and type t were recorded so far.
func (r *Recorder) Count(f string, t OpType) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count[[2]string{f, string(t)}]
}

// Ops returns a copy of the ops recorded so far (only with keep=true).
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Op(nil), r.ops...)
}

// Err reports the first write error, if any.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close syncs and closes the file (when the Recorder owns one).
func (r *Recorder) Close() error {
	if r.stopFlush != nil {
		close(r.stopFlush)
		r.flushDone.Wait()
		r.stopFlush = nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return r.err
	}
	var zerr error
	if r.gz != nil {
		zerr = r.gz.Close()
		r.gz = nil
	}
	err := errors.Join(r.err, zerr, r.f.Sync(), r.f.Close())
	r.f = nil
	return err
}

// ErrTruncated marks a history whose last line is incomplete (the writer
// died mid-line): every complete line before it was read and is returned,
// so the history can still be checked.
var ErrTruncated = errors.New("truncated history (last line is incomplete)")

// ReadFile loads a history.jsonl. A malformed line is an error naming the
// file and line; the ops before it are returned as well. An incomplete last
// line is an error wrapping ErrTruncated, returned with every op before it.
func ReadFile(path string) ([]Op, error) {
	return collect(Stream(path))
}

// Read parses JSON lines from r; name is used in error messages.
func Read(r io.Reader, name string) ([]Op, error) {
	return collect(StreamFrom(r, name))
}

// collect gathers a stream's ops up to its error.
func collect(ops iter.Seq2[Op, error]) ([]Op, error) {
	var out []Op
	for op, err := range ops {
		if err != nil {
			return out, err
		}
		out = append(out, op)
	}
	return out, nil
}

// Stream reads a history.jsonl one line at a time, holding one line in
// memory, and yields its ops in file order. It stops at the first error,
// which it yields (with a zero Op) as ReadFile returns it: a malformed line
// names the file and line, an incomplete last line wraps ErrTruncated
// (every complete op before it was yielded), and a file that cannot be
// opened is the open error. Each range over the sequence reads the file
// again from the start; stopping early closes it.
func Stream(path string) iter.Seq2[Op, error] {
	return func(yield func(Op, error) bool) {
		f, err := open(path)
		if err != nil {
			yield(Op{}, err)
			return
		}
		defer f.Close()
		StreamFrom(f, path)(yield)
	}
}

// StreamFrom is Stream over the JSON lines of r; name is used in error
// messages. It reads r as it is ranged over, so it can be ranged over once.
func StreamFrom(r io.Reader, name string) iter.Seq2[Op, error] {
	return func(yield func(Op, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		var buf []byte
		for line := 1; ; line++ {
			b, err := readLine(br, buf[:0])
			buf = b
			if len(b) == 0 && err == io.EOF {
				return
			}
			if cut(err) {
				// A compressed history cut mid-stream (its writer killed):
				// the lines before are whole, what follows is gone.
				yield(Op{}, fmt.Errorf("%s:%d: %w: the compressed stream ends mid-way", name, line, ErrTruncated))
				return
			}
			if err != nil && err != io.EOF {
				yield(Op{}, fmt.Errorf("%s:%d: %w", name, line, err))
				return
			}
			truncated := err == io.EOF // last line has no newline: the writer died mid-line
			op, jerr := decodeOp(b)
			if jerr != nil {
				if truncated {
					yield(Op{}, fmt.Errorf("%s:%d: %w: %v", name, line, ErrTruncated, jerr))
					return
				}
				yield(Op{}, fmt.Errorf("%s:%d: malformed history line: %v", name, line, jerr))
				return
			}
			if op.Type != Invoke && op.Type != OK && op.Type != Fail && op.Type != Info {
				yield(Op{}, fmt.Errorf("%s:%d: unknown op type %q", name, line, op.Type))
				return
			}
			if !yield(op, nil) || truncated {
				return
			}
		}
	}
}

// readLine appends the next line of br, with its newline, to buf, as
// bufio.Reader.ReadBytes would return it but reusing buf (json.Unmarshal
// copies what it keeps).
func readLine(br *bufio.Reader, buf []byte) ([]byte, error) {
	for {
		b, err := br.ReadSlice('\n')
		buf = append(buf, b...)
		if err != bufio.ErrBufferFull {
			return buf, err
		}
	}
}

// Seq yields the ops of h in order, never an error: a history held in
// memory, as a stream.
func Seq(h []Op) iter.Seq2[Op, error] {
	return func(yield func(Op, error) bool) {
		for _, op := range h {
			if !yield(op, nil) {
				return
			}
		}
	}
}
