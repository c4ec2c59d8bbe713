package workloads

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

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

	mu    sync.Mutex
	slots []rawSlot
	free  []int
	stop  chan struct{}
	wg    sync.WaitGroup
}

type rawSlot struct {
	busy  bool
	gen   uint64
	reply string    // "<inbox>.<slot>.<gen>", built again only when gen changes
	sent  int64     // intended send time, for the latency
	since time.Time // actual send, for the ack timeout
}

// errAckTimeout is a publish whose ack did not come within the timeout.
var errAckTimeout = errors.New("bench: no ack within the timeout")

func newRawPublisher(i int, url string, window int, timeout time.Duration, done func(sent int64, err error)) (asyncPublisher, error) {
	nc, err := connect(url, fmt.Sprintf("jetstorm-bench-pub-%d", i))
	if err != nil {
		return nil, err
	}
	p := &rawPublisher{nc: nc, prefix: nc.NewRespInbox() + ".", done: done, timeout: timeout,
		slots: make([]rawSlot, 2*window), stop: make(chan struct{})}
	for s := len(p.slots) - 1; s >= 0; s-- {
		p.free = append(p.free, s)
	}
	if p.sub, err = nc.Subscribe(p.prefix+"*.*", p.ack); err != nil {
		nc.Close()
		return nil, err
	}
	p.sub.SetPendingLimits(-1, -1)
	p.wg.Add(1)
	go p.sweep()
	return p, nil
}

func (p *rawPublisher) publish(subject string, data []byte, sent int64) error {
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
	gen, reply := sl.gen, sl.reply
	p.mu.Unlock()

	// The client copies the payload into its write buffer before Publish
	// returns, so one buffer serves every message.
	p.buf = append(p.buf[:0], data...)
	binary.BigEndian.PutUint64(p.buf, uint64(sent)) // the send time rides in the first 8 bytes
	if err := p.nc.PublishRequest(subject, reply, p.buf); err != nil {
		if _, ok := p.release(s, gen, true); !ok {
			// The write blocked past the ack timeout and the sweeper has
			// already reported this publish: reporting it again would
			// free the window slot twice.
			return nil
		}
		return err
	}
	return nil
}

// release frees slot s if it still holds generation gen; it returns the
// slot's send time and whether it did. A slot released without its ack
// (timeout, failed send) moves to the next generation, so a late ack for
// the old message cannot complete the slot's next one; a slot released by
// its ack keeps its generation (one ack per publish) and its reply subject.
func (p *rawPublisher) release(s int, gen uint64, unacked bool) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sl := &p.slots[s]
	if !sl.busy || sl.gen != gen {
		return 0, false // a late ack for a publish already timed out
	}
	p.free1(s, unacked)
	return sl.sent, true
}

// free1 frees slot s; p.mu is held.
func (p *rawPublisher) free1(s int, unacked bool) {
	sl := &p.slots[s]
	sl.busy = false
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
	sent, ok := p.release(s, gen, false)
	if !ok {
		return
	}
	p.done(sent, ackError(m))
}

// ackError is nil for a PubAck, else what went wrong. Only the rare error
// answer is decoded.
func ackError(m *nats.Msg) error {
	if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
		return nats.ErrNoResponders
	}
	if !bytes.Contains(m.Data, []byte(`"error"`)) {
		return nil
	}
	var r struct {
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(m.Data, &r); err != nil || r.Error == nil {
		return fmt.Errorf("bench: bad ack %q", m.Data)
	}
	return fmt.Errorf("nats: API error: code=%d err_code=%d description=%s", r.Error.Code, r.Error.ErrCode, r.Error.Description)
}

// sweep times out publishes whose ack has not come.
func (p *rawPublisher) sweep() {
	defer p.wg.Done()
	t := time.NewTicker(min(100*time.Millisecond, max(p.timeout/4, time.Millisecond)))
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			var late []int64
			p.mu.Lock()
			for s := range p.slots {
				if sl := &p.slots[s]; sl.busy && now.Sub(sl.since) > p.timeout {
					late = append(late, sl.sent)
					p.free1(s, true)
				}
			}
			p.mu.Unlock()
			for _, sent := range late {
				p.done(sent, errAckTimeout)
			}
		}
	}
}

func (p *rawPublisher) close() {
	close(p.stop)
	p.wg.Wait()
	p.nc.Close()
}
