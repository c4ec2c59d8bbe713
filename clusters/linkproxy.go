package clusters

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Link forwards TCP connections from one node to another node's route port.
// It sits in userspace on 127.0.0.1 so partitions, latency and bandwidth
// limits need no root (no iptables/tc).
type Link struct {
	From, To string

	target func() (string, error) // resolved at each dial (see NewLinkFunc)
	ln     net.Listener
	ctx    context.Context // cancelled by Close, aborts pending dials
	cancel context.CancelFunc

	// cut pauses the link; resume is closed by Heal (a new one per cut).
	// cuts counts the faults that cut it: overlapping partitions may share
	// a link, and it stays cut until the last of them heals.
	// writing holds the writers that are in a Write to their destination:
	// they register under cutMu only while the link is not cut, so Cut
	// (under cutMu too) sees every Write that may still move bytes, sets
	// a deadline on it and waits on drained, closed by the last of them to
	// finish.
	cutMu   sync.Mutex
	cut     bool
	cuts    int
	resume  chan struct{}
	writing map[*linkWriter]struct{}
	drained chan struct{}
	delay   atomic.Int64 // time.Duration
	rate    atomic.Int64 // bytes per second, 0 = unlimited

	accepted, forwarded, held atomic.Int64
	open                      atomic.Int64

	mu     sync.Mutex
	closed bool
	pairs  map[*linkPair]struct{}
	wg     sync.WaitGroup // accept loop and connection handlers
}

// LinkStats is a snapshot of a link's counters: a Link's (a proxy), or a
// DockerLink's (kernel rules; see its Stats for what each means there).
type LinkStats struct {
	Accepted  int64 // connections accepted, ever
	Open      int   // connections currently open
	Forwarded int64 // bytes delivered to the other side, both directions, ever
	Held      int64 // bytes read while cut and delivered only after the heal, both directions, ever
	// Kernel links only: packets a cut dropped, and their bytes (IP
	// headers included), ever.
	Dropped, DroppedBytes int64
}

// cutDrain bounds how long Cut waits for the Writes it interrupted. A Write
// past its deadline returns at once, whatever the peer does, so this is a
// safety net only for a process so starved that the writer goroutine does
// not run for that long; Cut normally returns in well under a millisecond.
const cutDrain = time.Second

// linkWriter is one direction's writer, as Cut sees it.
type linkWriter struct {
	dst         net.Conn
	interrupted bool // Cut set a write deadline on dst (under cutMu)
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
}

// NewLink listens on 127.0.0.1:0 and forwards each accepted connection to
// target ("127.0.0.1:port").
func NewLink(from, to, target string) (*Link, error) {
	return NewLinkFunc(from, to, "127.0.0.1:0", func() (string, error) { return target, nil })
}

// NewLinkFunc listens on listen ("host:0") and forwards each accepted
// connection to the address target returns at that moment: the docker
// backend's proxies forward to a container, whose address may change when
// it restarts. A target error closes the accepted connection, as a failed
// dial does.
func NewLinkFunc(from, to, listen string, target func() (string, error)) (*Link, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Link{From: from, To: to, target: target, ln: ln, ctx: ctx, cancel: cancel,
		pairs: map[*linkPair]struct{}{}, writing: map[*linkWriter]struct{}{}}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Addr is the "host:port" the link listens on.
func (l *Link) Addr() string { return l.ln.Addr().String() }

// Port is the port the link listens on.
func (l *Link) Port() int { return l.ln.Addr().(*net.TCPAddr).Port }

// Cut stops every byte in both directions, on existing and new connections
// (new ones are still accepted and dialled). Connections stay open: no RST,
// no FIN. The proxy stops reading, so bytes wait in the kernel's socket
// buffers and the senders' windows fill, as when a cable is pulled and TCP
// keeps retransmitting. Nothing is dropped from the middle of a stream: a
// connection that survives the cut resumes intact on Heal (real TCP never
// delivers a stream with a hole; an earlier version that threw the bytes
// away made routes fail with parse errors after healing). A connection an
// endpoint gave up on during the cut (ping timeout) ends after Heal.
//
// The cut is exact: once Cut returns, not one more byte crosses the link
// (Forwarded stops, and the destination gets nothing it had not been
// handed before the call). A Write under way is interrupted (a write
// deadline of now, so a destination that does not read, e.g. a paused
// node, cannot hold Cut up) and Cut waits until it has returned; what it
// had not written is held and goes first after the heal.
//
// Cuts nest: each Cut needs its own Heal before bytes flow again.
func (l *Link) Cut() {
	l.cutMu.Lock()
	l.cuts++
	if !l.cut {
		l.cut, l.resume = true, make(chan struct{})
		now := time.Now()
		for w := range l.writing {
			w.dst.SetWriteDeadline(now)
			w.interrupted = true
		}
	}
	if len(l.writing) > 0 && l.drained == nil {
		l.drained = make(chan struct{})
	}
	drained := l.drained // a nested Cut waits for the same Writes
	l.cutMu.Unlock()
	if drained != nil {
		t := time.NewTimer(cutDrain)
		defer t.Stop()
		select {
		case <-drained:
		case <-t.C:
		}
	}
}

// Heal undoes one Cut; the link lets bytes through again when every Cut
// has been healed.
func (l *Link) Heal() {
	l.cutMu.Lock()
	defer l.cutMu.Unlock()
	if l.cuts > 0 {
		l.cuts--
	}
	if l.cut && l.cuts == 0 {
		l.cut = false
		close(l.resume)
	}
}

// HealAll undoes every Cut at once.
func (l *Link) HealAll() {
	l.cutMu.Lock()
	l.cuts = min(l.cuts, 1)
	l.cutMu.Unlock()
	l.Heal()
}

// IsCut reports whether the link is cut.
func (l *Link) IsCut() bool {
	l.cutMu.Lock()
	defer l.cutMu.Unlock()
	return l.cut
}

// waitHealed blocks while the link is cut; false if the pair closed first.
func (l *Link) waitHealed(p *linkPair) bool {
	for {
		l.cutMu.Lock()
		cut, resume := l.cut, l.resume
		l.cutMu.Unlock()
		if !cut {
			return true
		}
		select {
		case <-resume:
		case <-p.done:
			return false
		}
	}
}

// beginWrite waits until the link is not cut, then registers w as writing,
// clearing a deadline an earlier Cut left on its destination; false if the
// pair closed first. Each true needs its endWrite.
func (l *Link) beginWrite(p *linkPair, w *linkWriter) bool {
	for {
		l.cutMu.Lock()
		if !l.cut {
			if w.interrupted { // under cutMu: a later Cut's deadline comes after this
				w.dst.SetWriteDeadline(time.Time{})
				w.interrupted = false
			}
			l.writing[w] = struct{}{}
			l.cutMu.Unlock()
			return true
		}
		resume := l.resume
		l.cutMu.Unlock()
		select {
		case <-resume:
		case <-p.done:
			return false
		}
	}
}

// endWrite unregisters w after its Write (and its count in Forwarded) and
// reports whether a Cut interrupted that Write.
func (l *Link) endWrite(w *linkWriter) (interrupted bool) {
	l.cutMu.Lock()
	defer l.cutMu.Unlock()
	delete(l.writing, w)
	if len(l.writing) == 0 && l.drained != nil {
		close(l.drained)
		l.drained = nil
	}
	return w.interrupted
}

// SetDelay sets the added one-way latency per direction (0 = none), for
// bytes read from now on.
func (l *Link) SetDelay(d time.Duration) { l.delay.Store(int64(max(d, 0))) }

// SetRate limits bandwidth per direction per connection (0 = unlimited).
func (l *Link) SetRate(bytesPerSec int64) { l.rate.Store(max(bytesPerSec, 0)) }

// Stats returns a snapshot of the counters.
func (l *Link) Stats() LinkStats {
	return LinkStats{Accepted: l.accepted.Load(), Open: int(l.open.Load()),
		Forwarded: l.forwarded.Load(), Held: l.held.Load()}
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
	target, err := l.target()
	if err != nil {
		a.Close()
		return
	}
	var d net.Dialer
	ctx, cancel := context.WithTimeout(l.ctx, 5*time.Second)
	b, err := d.DialContext(ctx, "tcp", target)
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

// read forwards what src sends into q; while the link is cut it does not
// read at all (bytes stay in the kernel, the sender's window fills).
func (l *Link) read(p *linkPair, src net.Conn, q chan<- chunk) {
	defer close(q) // lets the writer flush what is queued, then close the pair
	buf := make([]byte, 32<<10)
	for {
		if !l.waitHealed(p) {
			return
		}
		n, err := src.Read(buf)
		if n > 0 {
			if l.IsCut() { // the read was under way when the cut came
				l.held.Add(int64(n))
			}
			c := chunk{b: bytes.Clone(buf[:n]), at: time.Now(), delay: time.Duration(l.delay.Load())}
			select {
			case q <- c:
			case <-p.done:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// write delivers chunks in order at readTime+delay, paced by the rate limit
// (serialise first, then propagate), holding them while the link is cut,
// including the rest of a chunk whose Write a Cut interrupted.
func (l *Link) write(p *linkPair, dst net.Conn, q <-chan chunk) {
	defer p.close() // either side ending ends the whole connection
	w := &linkWriter{dst: dst}
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
		for b := c.b; len(b) > 0; { // a cut holds back what was already read, too
			if !l.beginWrite(p, w) {
				return
			}
			n, err := dst.Write(b)
			l.forwarded.Add(int64(n)) // before endWrite: Cut returns with Forwarded final
			b = b[n:]
			interrupted := l.endWrite(w)
			if err != nil && !(interrupted && errors.Is(err, os.ErrDeadlineExceeded)) {
				return // a deadline that no Cut set is a real error
			}
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
