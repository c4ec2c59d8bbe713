package workloads

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"jetstorm/stats"
)

// asyncPublisher sends one message without waiting for its ack. Unless
// publish returns an error, the completion callback given when the
// publisher was made is called exactly once for the message, later and
// possibly from another goroutine, with the message's sent value and nil
// or the error (including the ack timeout).
type asyncPublisher interface {
	// publish sends data to subject with the intended send time sent
	// (unix nanoseconds) in the payload's first 8 bytes; last says it is
	// the publisher's last message (a batch publisher commits then).
	publish(subject string, data []byte, sent int64, last bool) error
	close()
}

type publisherFactory func(i int, url string, done func(sent int64, err error)) (asyncPublisher, error)

// sentOf reads the intended send time (unix nanoseconds) from the first 8
// bytes of a bench payload (0 if it is too short).
func sentOf(data []byte) int64 {
	if len(data) < 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(data))
}

// benchPub is one publisher.
type benchPub struct {
	r        *benchRun
	id       int
	pub      asyncPublisher
	sem      chan struct{} // in-flight window: send to take a slot, receive to free one
	inflight atomic.Int64

	// Owned by the publishing goroutine.
	offered, failed []int64 // failed: skipped (backlog cap) or rejected at send
	lastW           int
	delay           winHist // actual send - intended send, by intended window

	// The ack side: completions may come from several library goroutines
	// (reply subscription, ack timers, reconnect handler), so it has its
	// own lock, never shared with another publisher.
	mu                      sync.Mutex
	closed                  bool
	acked, ackErrs, ackRecv []int64 // ackRecv: by ack time
	lat                     winHist
	gaps                    stats.GapTracker // spans it wanted an ack and got none
	outages                 []stats.Span     // gaps, when finished
}

// done is the completion callback of one publish.
func (p *benchPub) done(sent int64, err error) {
	now := time.Since(p.r.start) // monotonic
	off := time.Duration(sent - p.r.startNs)
	w := p.r.wins.index(off)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if err != nil {
		bump(&p.ackErrs, w, 1)
		p.gaps.Failed(off)
	} else {
		bump(&p.acked, w, 1)
		bump(&p.ackRecv, p.r.wins.index(now), 1)
		if p.r.b.o.Backlog != nil { // one counter for all publishers: only when it is read
			p.r.acks.Add(1)
		}
		p.lat.record(w, now-off)
		p.gaps.Acked(off, now)
	}
	p.inflight.Add(-1)
	p.mu.Unlock()
	<-p.sem
	if err != nil {
		p.r.errs.add(err)
	}
}

// run follows the schedule. Publisher p of P sends the messages j = p,
// p+P, p+2P, ... of each step at step start + j/rate.
func (p *benchPub) run(ctx context.Context) {
	r := p.r
	b := r.b
	nP := b.o.Publishers
	subjects := b.pubSubjects()
	next := p.id % len(subjects)
	choose := b.keyChooser(p.id, len(subjects)) // nil: round robin
	done := ctx.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	defer p.finish(ctx)
	for si, st := range b.o.Steps {
		if st.Rate <= 0 || st.Duration <= 0 {
			continue
		}
		s0, s1 := r.wins.stepStart[si], r.wins.stepStart[si]+st.Duration
		w0 := r.wins.stepFirst[si]
		per := float64(time.Second) / st.Rate
		for j := p.id; ; j += nP {
			off := s0 + time.Duration(float64(j)*per)
			if off >= s1 {
				break
			}
			w := w0 + int((off-s0)/benchWindowLen)
			late := time.Since(r.start) - off
			if late < 0 {
				timer.Reset(-late)
				select {
				case <-done:
					return
				case <-r.stopPub: // nil unless a backlog stops the publishers
					return
				case <-timer.C:
				}
			} else {
				select {
				case <-done:
					return
				case <-r.stopPub:
					return
				default:
				}
			}
			if late > b.backlogCap {
				bump(&p.offered, w, 1) // too far behind: skip
				bump(&p.failed, w, 1)
				p.lastW = w
				p.sendFailed(off)
				continue
			}
			select { // take a window slot; block if the window is full
			case p.sem <- struct{}{}:
			default:
				select {
				case p.sem <- struct{}{}:
				case <-done:
					return
				}
			}
			bump(&p.offered, w, 1)
			p.lastW = w
			behind := time.Since(r.start) - off
			if behind > b.backlogCap { // fell behind while blocked
				<-p.sem
				bump(&p.failed, w, 1)
				p.sendFailed(off)
				continue
			}
			p.delay.record(w, behind)
			p.inflight.Add(1)
			last := si == len(b.o.Steps)-1 && off+time.Duration(float64(nP)*per) >= s1
			if err := p.pub.publish(subjects[next], b.payload, r.startNs+int64(off), last); err != nil {
				p.inflight.Add(-1)
				<-p.sem
				bump(&p.failed, w, 1)
				p.sendFailed(off)
				r.errs.add(err)
			}
			if choose != nil {
				next = choose()
			} else if next++; next == len(subjects) {
				next = 0
			}
		}
	}
}

// sendFailed notes a publish intended at off that was never sent.
func (p *benchPub) sendFailed(off time.Duration) {
	p.mu.Lock()
	p.gaps.Failed(off)
	p.mu.Unlock()
}

// finish waits for the publishes in flight (each is acked, fails or times
// out within Timeout of being sent), then stops recording. Any still
// unresolved count as errors in the window of the last intended send.
func (p *benchPub) finish(ctx context.Context) {
	deadline := time.Now().Add(p.r.b.o.Timeout + 2*time.Second)
	for p.inflight.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	p.mu.Lock()
	p.closed = true
	if n := p.inflight.Load(); n > 0 {
		bump(&p.ackErrs, p.lastW, n)
		p.r.errs.add(fmt.Errorf("%d publishes unresolved at the end of the run", n))
	}
	p.lat.flush()
	p.delay.flush() // finish runs in the publishing goroutine, which owns delay
	p.outages = p.gaps.End(time.Since(p.r.start))
	p.mu.Unlock()
	p.pub.close()
}

// rawPublisher publishes bench messages with core NATS and collects the
// PubAcks itself: every message gets the reply subject <inbox>.<slot>.<gen>
// and one wildcard subscription receives all acks. Compared with the
// library's PublishMsgAsync (a future, a map entry and a timer per message,
// and a JSON decode per ack) this leaves the cluster more of a shared CPU:
// the generator must not be what limits the numbers.
type rawPublisher struct {
	nc      *nats.Conn
	sub     *nats.Subscription
	prefix  string // "<inbox>."
	done    func(sent int64, err error)
	timeout time.Duration

	buf []byte // the payload being sent; publish is called by one goroutine
	// noPayload: requests go out empty (kv-get's direct gets, whose payload
	// would be read as a JSON request); the send time is in the slot only.
	noPayload bool

	// Atomic batches (batchSize > 1): messages go out with Nats-Batch-Id
	// and -Sequence and no reply; the batch's last (batchSize-th, or the
	// publisher's last) also has Nats-Batch-Commit and takes a slot, whose
	// ack completes every message of the batch. Owned by the publishing
	// goroutine.
	batchSize int
	batchID   string
	batchSeq  int
	open      []int64 // sent times of the open batch's messages before its commit
	hdr       nats.Header

	ids msgIDs

	mu      sync.Mutex
	slots   []rawSlot
	free    []int
	sweeper sweeper
}

type rawSlot struct {
	busy  bool
	batch []int64 // a batch commit: the sent times of the batch's other messages
	gen   uint64
	reply string    // "<inbox>.<slot>.<gen>", built again only when gen changes
	sent  int64     // intended send time, for the latency
	since time.Time // actual send, for the ack timeout
}

// errAckTimeout is a publish whose ack did not come within the timeout.
var errAckTimeout = errors.New("bench: no ack within the timeout")

// rawPubOptions configure a rawPublisher.
type rawPubOptions struct {
	Window    int           // publishes in flight at most
	BatchSize int           // > 1: atomic batches of this many messages
	Timeout   time.Duration // ack timeout
	NoPayload bool          // send requests empty (kv-get)
	// MsgID: every message carries a unique Nats-Msg-Id, so the stream
	// deduplicates (and pays for it).
	MsgID bool
}

func newRawPublisher(i int, url string, o rawPubOptions, done func(sent int64, err error)) (asyncPublisher, error) {
	nc, err := connect(url, fmt.Sprintf("jetstorm-bench-pub-%d", i))
	if err != nil {
		return nil, err
	}
	p := &rawPublisher{nc: nc, prefix: nc.NewRespInbox() + ".", done: done, timeout: o.Timeout,
		slots: make([]rawSlot, 2*o.Window), batchSize: o.BatchSize, hdr: nats.Header{},
		noPayload: o.NoPayload}
	p.ids.init(o.MsgID)
	for s := len(p.slots) - 1; s >= 0; s-- {
		p.free = append(p.free, s)
	}
	if p.sub, err = nc.Subscribe(p.prefix+"*.*", p.ack); err != nil {
		nc.Close()
		return nil, err
	}
	p.sub.SetPendingLimits(-1, -1)
	p.sweeper.start(p.timeout, p.sweep)
	return p, nil
}

func (p *rawPublisher) publish(subject string, data []byte, sent int64, last bool) error {
	if p.batchSize > 1 {
		p.batchSeq++
		if p.batchSeq == 1 {
			p.batchID = nuid.Next()
		}
		if p.batchSeq < p.batchSize && !last {
			p.buf = append(p.buf[:0], data...)
			binary.BigEndian.PutUint64(p.buf, uint64(sent))
			p.setBatchHeaders(false)
			p.ids.set(p.hdr)
			if err := p.nc.PublishMsg(&nats.Msg{Subject: subject, Data: p.buf, Header: p.hdr}); err != nil {
				return err // the batch now has a gap: its commit fails, and with it the rest
			}
			p.open = append(p.open, sent)
			return nil
		}
	}
	p.mu.Lock()
	if len(p.free) == 0 {
		p.mu.Unlock()
		return errors.New("bench: more publishes in flight than the window allows")
	}
	s := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	sl := &p.slots[s]
	if sl.reply == "" {
		sl.reply = p.prefix + strconv.Itoa(s) + "." + strconv.FormatUint(sl.gen, 10)
	}
	sl.busy, sl.sent, sl.since = true, sent, time.Now()
	sl.batch, p.open = p.open, nil
	gen, reply := sl.gen, sl.reply
	p.mu.Unlock()

	// The client copies the payload into its write buffer before Publish
	// returns, so one buffer serves every message.
	p.buf = append(p.buf[:0], data...)
	binary.BigEndian.PutUint64(p.buf, uint64(sent)) // the send time rides in the first 8 bytes
	if p.noPayload {
		p.buf = p.buf[:0]
	}
	var err error
	if p.batchSize > 1 || p.ids.on() {
		if p.batchSize > 1 {
			p.setBatchHeaders(true)
			p.batchSeq = 0
		}
		p.ids.set(p.hdr)
		err = p.nc.PublishMsg(&nats.Msg{Subject: subject, Reply: reply, Data: p.buf, Header: p.hdr})
	} else {
		err = p.nc.PublishRequest(subject, reply, p.buf)
	}
	if err != nil {
		_, batch, ok := p.release(s, gen, true)
		if !ok {
			// The write blocked past the ack timeout and the sweeper has
			// already reported this publish: reporting it again would
			// free the window slot twice.
			return nil
		}
		for _, b := range batch {
			p.done(b, err)
		}
		return err
	}
	return nil
}

// setBatchHeaders sets the atomic batch headers of the next message.
func (p *rawPublisher) setBatchHeaders(commit bool) {
	p.hdr.Set("Nats-Batch-Id", p.batchID)
	p.hdr.Set("Nats-Batch-Sequence", strconv.Itoa(p.batchSeq))
	if commit {
		p.hdr.Set("Nats-Batch-Commit", "1")
	} else {
		p.hdr.Del("Nats-Batch-Commit")
	}
}

// msgIDs numbers a publisher's messages for Nats-Msg-Id: a prefix unique
// across publishers and runs on the same stream (a capacity search makes
// new publishers for every step), then a counter.
type msgIDs struct {
	prefix string
	seq    uint64
}

func (m *msgIDs) init(on bool) {
	if on {
		m.prefix = nuid.Next() + "."
	}
}

func (m *msgIDs) on() bool { return m.prefix != "" }

// set sets h's Nats-Msg-Id to the next id; false if ids are off.
func (m *msgIDs) set(h nats.Header) bool {
	if m.prefix == "" {
		return false
	}
	m.seq++
	h.Set("Nats-Msg-Id", m.prefix+strconv.FormatUint(m.seq, 10))
	return true
}

// release frees slot s if it still holds generation gen; it returns the
// slot's send time and whether it did. A slot released without its ack
// (timeout, failed send) moves to the next generation, so a late ack for
// the old message cannot complete the slot's next one; a slot released by
// its ack keeps its generation (one ack per publish) and its reply subject.
func (p *rawPublisher) release(s int, gen uint64, unacked bool) (int64, []int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sl := &p.slots[s]
	if !sl.busy || sl.gen != gen {
		return 0, nil, false // a late ack for a publish already timed out
	}
	batch := sl.batch
	p.free1(s, unacked)
	return sl.sent, batch, true
}

// free1 frees slot s; p.mu is held.
func (p *rawPublisher) free1(s int, unacked bool) {
	sl := &p.slots[s]
	sl.busy, sl.batch = false, nil
	if unacked {
		sl.gen++
		sl.reply = ""
	}
	p.free = append(p.free, s)
}

// ack handles one PubAck (or a no-responders status) on the reply inbox.
func (p *rawPublisher) ack(m *nats.Msg) {
	tok := strings.TrimPrefix(m.Subject, p.prefix)
	dot := strings.IndexByte(tok, '.')
	if dot < 0 {
		return
	}
	s, err1 := strconv.Atoi(tok[:dot])
	gen, err2 := strconv.ParseUint(tok[dot+1:], 10, 64)
	if err1 != nil || err2 != nil || s < 0 || s >= len(p.slots) {
		return
	}
	sent, batch, ok := p.release(s, gen, false)
	if !ok {
		return
	}
	err := ackError(m)
	for _, b := range batch { // a batch is acked, or fails, as one
		p.done(b, err)
	}
	p.done(sent, err)
}

// ackError is nil for a PubAck, else what went wrong. Only the rare error
// answer is decoded.
func ackError(m *nats.Msg) error {
	if err := statusError(m); err != nil {
		return err
	}
	if !bytes.Contains(m.Data, []byte(`"error"`)) {
		return nil
	}
	var r struct {
		Error *apiError `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &r); err != nil || r.Error == nil {
		return fmt.Errorf("bench: bad ack %q", m.Data)
	}
	return r.Error.err()
}

// statusError is the error of a status reply (a status header and no
// data: no responders, a direct get's 404 or 408, ...), nil for any
// other message.
func statusError(m *nats.Msg) error {
	st := m.Header.Get("Status")
	if st == "" || len(m.Data) != 0 {
		return nil
	}
	if st == "503" {
		return nats.ErrNoResponders
	}
	return fmt.Errorf("bench: status %s %s", st, m.Header.Get("Description"))
}

// apiError is the error object of a JetStream API answer.
type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *apiError) err() error {
	return fmt.Errorf("nats: API error: code=%d err_code=%d description=%s", e.Code, e.ErrCode, e.Description)
}

// sweeper calls tick every quarter of an ack timeout (at most every
// 100 ms) in a goroutine of its own, until halted: the publishers' ack
// timeouts.
type sweeper struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

func (s *sweeper) start(timeout time.Duration, tick func(now time.Time)) {
	s.stop = make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(min(100*time.Millisecond, max(timeout/4, time.Millisecond)))
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case now := <-t.C:
				tick(now)
			}
		}
	}()
}

func (s *sweeper) halt() {
	close(s.stop)
	s.wg.Wait()
}

// sweep times out publishes whose ack has not come.
func (p *rawPublisher) sweep(now time.Time) {
	var late []int64
	p.mu.Lock()
	for s := range p.slots {
		if sl := &p.slots[s]; sl.busy && now.Sub(sl.since) > p.timeout {
			late = append(append(late, sl.batch...), sl.sent)
			p.free1(s, true)
		}
	}
	p.mu.Unlock()
	for _, sent := range late {
		p.done(sent, errAckTimeout)
	}
}

func (p *rawPublisher) close() {
	p.sweeper.halt()
	p.nc.Close()
}
