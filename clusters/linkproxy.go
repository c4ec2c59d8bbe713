package clusters

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Link forwards TCP connections from one node to another node's route port.
// It sits in userspace on 127.0.0.1 so partitions, latency and bandwidth
// limits need no root (no iptables/tc).
type Link struct {
	From, To string

	target string
	ln     net.Listener
	ctx    context.Context // cancelled by Close, aborts pending dials
	cancel context.CancelFunc

	// state is a cut generation: odd = cut. Cut and Heal each bump it, so a
	// chunk queued before a Cut never matches again, even after a quick Heal.
	state atomic.Uint64
	delay atomic.Int64 // time.Duration
	rate  atomic.Int64 // bytes per second, 0 = unlimited

	accepted, forwarded, dropped atomic.Int64
	open                         atomic.Int64

	mu     sync.Mutex
	closed bool
	pairs  map[*linkPair]struct{}
	wg     sync.WaitGroup // accept loop and connection handlers
}

// LinkStats is a snapshot of a Link's counters.
type LinkStats struct {
	Accepted  int64 // connections accepted, ever
	Open      int   // connections currently open
	Forwarded int64 // bytes delivered to the other side, both directions, ever
	Dropped   int64 // bytes read and thrown away while cut, both directions, ever
}

// linkPair is one proxied connection: the accepted side and the dialled side.
type linkPair struct {
	a, b net.Conn
	done chan struct{}
	once sync.Once
}

func (p *linkPair) close() {
	p.once.Do(func() {
		close(p.done)
		p.a.Close()
		if p.b != nil {
			p.b.Close()
		}
	})
}

// chunk is one read, waiting in the delay queue.
type chunk struct {
	b     []byte
	at    time.Time     // read time
	delay time.Duration // delay in force when read
	state uint64        // cut generation when read
}

// NewLink listens on 127.0.0.1:0 and forwards each accepted connection to
// target ("127.0.0.1:port").
func NewLink(from, to, target string) (*Link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Link{From: from, To: to, target: target, ln: ln, ctx: ctx, cancel: cancel,
		pairs: map[*linkPair]struct{}{}}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Addr is the "127.0.0.1:port" the link listens on.
func (l *Link) Addr() string { return l.ln.Addr().String() }

// Port is the port the link listens on.
func (l *Link) Port() int { return l.ln.Addr().(*net.TCPAddr).Port }

// Cut drops every byte silently in both directions, on existing and new
// connections, including bytes already queued. Connections stay open: like a
// pulled cable, no RST and no FIN.
func (l *Link) Cut() {
	for {
		s := l.state.Load()
		if s&1 == 1 || l.state.CompareAndSwap(s, s+1) {
			return
		}
	}
}

// Heal forwards again; connections that survived the cut resume.
func (l *Link) Heal() {
	for {
		s := l.state.Load()
		if s&1 == 0 || l.state.CompareAndSwap(s, s+1) {
			return
		}
	}
}

// IsCut reports whether the link is cut.
func (l *Link) IsCut() bool { return l.state.Load()&1 == 1 }

// SetDelay sets the added one-way latency per direction (0 = none), for
// bytes read from now on.
func (l *Link) SetDelay(d time.Duration) { l.delay.Store(int64(max(d, 0))) }

// SetRate limits bandwidth per direction per connection (0 = unlimited).
func (l *Link) SetRate(bytesPerSec int64) { l.rate.Store(max(bytesPerSec, 0)) }

// Stats returns a snapshot of the counters.
func (l *Link) Stats() LinkStats {
	return LinkStats{Accepted: l.accepted.Load(), Open: int(l.open.Load()),
		Forwarded: l.forwarded.Load(), Dropped: l.dropped.Load()}
}

// Close stops listening, closes every connection and waits for all
// goroutines. It is idempotent.
func (l *Link) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.wg.Wait()
		return nil
	}
	l.closed = true
	err := l.ln.Close()
	l.cancel()
	for p := range l.pairs {
		p.close()
	}
	l.mu.Unlock()
	l.wg.Wait()
	return err
}

func (l *Link) acceptLoop() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. EMFILE: don't spin
			continue
		}
		l.accepted.Add(1)
		l.open.Add(1)
		l.wg.Add(1) // safe: this goroutine is itself counted
		go l.handle(c)
	}
}

// handle dials the target and pumps both directions until either side ends.
func (l *Link) handle(a net.Conn) {
	defer l.wg.Done()
	defer l.open.Add(-1)
	var d net.Dialer
	ctx, cancel := context.WithTimeout(l.ctx, 5*time.Second)
	b, err := d.DialContext(ctx, "tcp", l.target)
	cancel()
	if err != nil {
		a.Close()
		return
	}
	p := &linkPair{a: a, b: b, done: make(chan struct{})}
	l.mu.Lock()
	if l.closed { // Close ran while we were dialling
		l.mu.Unlock()
		p.close()
		return
	}
	l.pairs[p] = struct{}{}
	l.mu.Unlock()

	var wg sync.WaitGroup
	for _, dir := range [][2]net.Conn{{a, b}, {b, a}} {
		q := make(chan chunk, 1024) // generous; when full the reader blocks (backpressure)
		wg.Add(2)
		go func() { defer wg.Done(); l.read(p, dir[0], q) }()
		go func() { defer wg.Done(); l.write(p, dir[1], q) }()
	}
	wg.Wait()
	p.close()
	l.mu.Lock()
	delete(l.pairs, p)
	l.mu.Unlock()
}

// read keeps reading even while cut, so senders never see a full window
// and the bytes vanish instead.
func (l *Link) read(p *linkPair, src net.Conn, q chan<- chunk) {
	defer close(q) // lets the writer flush what is queued, then close the pair
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			now, s := time.Now(), l.state.Load()
			if s&1 == 1 {
				l.dropped.Add(int64(n))
			} else {
				c := chunk{b: bytes.Clone(buf[:n]), at: now, delay: time.Duration(l.delay.Load()), state: s}
				select {
				case q <- c:
				case <-p.done:
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// write delivers chunks in order at readTime+delay, paced by the rate limit
// (serialise first, then propagate), and drops them if a cut happened since
// they were read.
func (l *Link) write(p *linkPair, dst net.Conn, q <-chan chunk) {
	defer p.close()    // either side ending ends the whole connection
	var free time.Time // when this direction's "wire" is free again
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		var c chunk
		var ok bool
		select {
		case c, ok = <-q:
			if !ok {
				return
			}
		case <-p.done:
			return
		}
		at := c.at
		if r := l.rate.Load(); r > 0 {
			free = later(free, c.at).Add(time.Duration(int64(len(c.b)) * int64(time.Second) / r))
			at = free
		}
		at = at.Add(c.delay)
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-p.done:
				return
			}
		}
		if l.state.Load() != c.state { // cut now, or cut (and maybe healed) since read
			l.dropped.Add(int64(len(c.b)))
			continue
		}
		n, err := dst.Write(c.b)
		l.forwarded.Add(int64(n))
		if err != nil {
			return
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
