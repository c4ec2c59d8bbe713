package workloads

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// fastPublisher publishes bench messages as JetStream fast batches (fast
// ingest, nats-server 2.14+, stream option allow_batched). nats.go has no
// API for them; the protocol is all in the reply subject:
//
//	<base>.<batch id>.<flow>.fail.<batch seq>.<op>.$FI
//
// with op 0 for a batch's first message, 1 for the next ones, 2 for its
// last (the commit, which carries data) and 4 for a ping. There is no ack
// per message: the server answers {"type":"ack","seq":S,"msgs":N} each
// time it has stored another N messages of the batch (S is the highest
// stored), and the commit with a PubAck naming the batch and its count.
// A message is acked by the first flow ack or commit that covers its
// batch sequence; its latency runs from its intended send time to then.
//
// The bench's window bounds the messages not yet acked; the flow asked
// for is half of it, so two flow acks can be outstanding (orbit.go's
// default) and a full window always has an ack coming. When the oldest
// message has waited a third of the ack timeout (a stall, or a rate so
// low that N messages take long to come), the publisher pings the batch,
// which makes the server send its latest flow ack, as orbit.go does.
type fastPublisher struct {
	nc        *nats.Conn
	sub       *nats.Subscription
	base      string // "<inbox>."
	done      func(sent int64, err error)
	timeout   time.Duration
	batchSize int
	flow      int

	// Owned by the publishing goroutine.
	buf []byte
	hdr nats.Header
	ids msgIDs

	mu      sync.Mutex
	cur     *fastBatch            // the open batch; nil between batches
	batches map[string]*fastBatch // batches with messages not yet acked
	sweeper sweeper
}

type fastBatch struct {
	id      string
	subject string // its first message's (pings go there)
	// Guarded by the publisher's mu.
	seq      int       // the highest batch sequence sent
	pending  []fastMsg // sent, not yet acked, by batch sequence
	pingedAt time.Time
	closed   bool // its commit was sent
	dead     bool // answered for good (PubAck or error): no more messages
}

type fastMsg struct {
	seq   int
	sent  int64     // intended send time
	since time.Time // actual send
}

// Fast batch reply ops.
const (
	fastOpStart  = "0"
	fastOpAppend = "1"
	fastOpCommit = "2"
	fastOpPing   = "4"
)

var errFastGap = errors.New("bench: fast batch: the server stored the batch only up to an earlier message (gap)")

func newFastPublisher(i int, url string, o rawPubOptions, done func(sent int64, err error)) (asyncPublisher, error) {
	nc, err := connect(url, fmt.Sprintf("jetstorm-bench-pub-%d", i))
	if err != nil {
		return nil, err
	}
	p := &fastPublisher{nc: nc, base: nc.NewRespInbox() + ".", done: done, timeout: o.Timeout,
		batchSize: max(o.BatchSize, 1), flow: min(max(o.Window/2, 1), 65535),
		batches: map[string]*fastBatch{}, hdr: nats.Header{}}
	p.ids.init(o.MsgID)
	if p.sub, err = nc.Subscribe(p.base+">", p.reply); err != nil {
		nc.Close()
		return nil, err
	}
	p.sub.SetPendingLimits(-1, -1)
	p.sweeper.start(p.timeout, p.sweep)
	return p, nil
}

func (p *fastPublisher) replySubject(b *fastBatch, seq int, op string) string {
	return p.base + b.id + "." + strconv.Itoa(p.flow) + ".fail." + strconv.Itoa(seq) + "." + op + ".$FI"
}

func (p *fastPublisher) publish(subject string, data []byte, sent int64, last bool) error {
	p.mu.Lock()
	if p.cur != nil && p.cur.dead {
		p.cur = nil // the server ended it (an error): go on with a new one
	}
	b := p.cur
	if b == nil {
		b = &fastBatch{id: nuid.Next(), subject: subject}
		p.cur = b
		p.batches[b.id] = b
	}
	b.seq++
	op := fastOpAppend
	switch {
	case b.seq == p.batchSize || last:
		op = fastOpCommit
		p.cur = nil
	case b.seq == 1:
		op = fastOpStart
	}
	b.pending = append(b.pending, fastMsg{seq: b.seq, sent: sent, since: time.Now()})
	b.closed = op == fastOpCommit
	seq := b.seq
	p.mu.Unlock()
	p.buf = append(p.buf[:0], data...)
	binary.BigEndian.PutUint64(p.buf, uint64(sent))
	var err error
	if p.ids.set(p.hdr) {
		err = p.nc.PublishMsg(&nats.Msg{Subject: subject, Reply: p.replySubject(b, seq, op), Data: p.buf, Header: p.hdr})
	} else {
		err = p.nc.PublishRequest(subject, p.replySubject(b, seq, op), p.buf)
	}
	if err != nil {
		// The batch now has a gap: its later messages fail with it.
		if _, ok := p.take(b, seq); ok {
			return err
		}
		return nil // already timed out by the sweeper, which reported it
	}
	return nil
}

// take removes message seq from b's pending list and returns its send
// time; false if it is not there (already reported).
func (p *fastPublisher) take(b *fastBatch, seq int) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, m := range b.pending {
		if m.seq == seq {
			b.pending = append(b.pending[:i], b.pending[i+1:]...)
			return m.sent, true
		}
	}
	return 0, false
}

// fastReply is any answer to a fast batch message: a flow ack, gap or
// error (type set), or the batch's PubAck or error (type empty).
type fastReply struct {
	Type  string    `json:"type"`
	Seq   uint64    `json:"seq"`
	Batch string    `json:"batch"`
	Count int       `json:"count"`
	Error *apiError `json:"error"`
}

// reply handles one answer on the inbox.
func (p *fastPublisher) reply(m *nats.Msg) {
	// <base><id>.<flow>.<gap>.<seq>.<op>.$FI
	toks := strings.Split(strings.TrimPrefix(m.Subject, p.base), ".")
	if len(toks) != 6 {
		return
	}
	p.mu.Lock()
	b := p.batches[toks[0]]
	p.mu.Unlock()
	if b == nil {
		return
	}
	if err := statusError(m); err != nil {
		p.complete(b, 0, err, true)
		return
	}
	var r fastReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		p.complete(b, 0, fmt.Errorf("bench: fast batch: bad answer %q", m.Data), true)
		return
	}
	switch {
	case r.Type == "ack":
		p.complete(b, int(r.Seq), nil, false)
	case r.Type == "gap":
		// With gap mode fail the server ends the batch; its PubAck says
		// how far it got and fails the rest.
	case r.Type == "err" && r.Error != nil:
		if sent, ok := p.take(b, int(r.Seq)); ok {
			p.done(sent, r.Error.err())
		}
	case r.Error != nil:
		p.complete(b, 0, r.Error.err(), true)
	case r.Batch == "" || r.Batch != b.id:
		// A plain PubAck: a server before 2.14 stored the message as an
		// ordinary publish. Not a fast batch: fail loudly.
		p.complete(b, 0, errors.New("bench: fast batch: the server answered with a plain ack (fast batches need nats-server 2.14+)"), true)
	default: // the commit's PubAck: everything up to count is stored
		p.complete(b, r.Count, nil, true)
	}
}

// complete acks b's pending messages up to seq (with err if not nil) and,
// if final, fails the rest (gap) and forgets the batch.
func (p *fastPublisher) complete(b *fastBatch, upTo int, err error, final bool) {
	type res struct {
		sent int64
		err  error
	}
	var out []res
	p.mu.Lock()
	i := 0
	for ; i < len(b.pending) && b.pending[i].seq <= upTo; i++ {
		out = append(out, res{b.pending[i].sent, err})
	}
	b.pending = b.pending[i:]
	if final {
		rest := err
		if rest == nil {
			rest = errFastGap
		}
		for _, m := range b.pending {
			out = append(out, res{m.sent, rest})
		}
		b.pending, b.dead = nil, true
		delete(p.batches, b.id)
	}
	p.mu.Unlock()
	for _, r := range out {
		p.done(r.sent, r.err)
	}
}

// sweep pings batches whose oldest message has waited a third of the ack
// timeout and times out messages past it.
func (p *fastPublisher) sweep(now time.Time) {
	var late []int64
	var pings []*fastBatch
	var pingSeq []int
	p.mu.Lock()
	for id, b := range p.batches {
		i := 0
		for ; i < len(b.pending) && now.Sub(b.pending[i].since) > p.timeout; i++ {
			late = append(late, b.pending[i].sent)
		}
		b.pending = b.pending[i:]
		if len(b.pending) == 0 && b.closed {
			delete(p.batches, id) // its commit ack never came
			continue
		}
		// A committed batch is not pinged: the server may have
		// forgotten it (its PubAck on the way), and would answer
		// with an error.
		if !b.closed && len(b.pending) > 0 && now.Sub(b.pending[0].since) > p.timeout/3 && now.Sub(b.pingedAt) > p.timeout/3 {
			b.pingedAt = now
			pings = append(pings, b)
			pingSeq = append(pingSeq, b.pending[len(b.pending)-1].seq)
		}
	}
	p.mu.Unlock()
	for i, b := range pings {
		_ = p.nc.PublishRequest(b.subject, p.replySubject(b, pingSeq[i], fastOpPing), nil)
	}
	for _, sent := range late {
		p.done(sent, errAckTimeout)
	}
}

func (p *fastPublisher) close() {
	p.sweeper.halt()
	p.nc.Close()
}
