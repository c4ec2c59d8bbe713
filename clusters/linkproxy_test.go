package clusters

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startEcho runs a local echo server; the returned address is the link target.
func startEcho(t *testing.T) string {
	t.Helper()
	return startServer(t, func(c net.Conn) { io.Copy(c, c) })
}

// startServer runs serve on every accepted connection until the test ends.
func startServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); serve(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func newTestLink(t *testing.T, target string) *Link {
	t.Helper()
	l, err := NewLink("n1", "n2", target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func dialLink(t *testing.T, l *Link) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends msg and reads the echo back.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second)) // generous: a busy machine
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("round trip %q: %v", msg, err)
	}
	if string(got) != msg {
		t.Fatalf("echo %q, want %q", got, msg)
	}
}

// eventually polls cond for up to 10 s (generous: a busy machine):
// counters are updated by the proxy goroutines just after the bytes move.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLinkForward(t *testing.T) {
	l := newTestLink(t, startEcho(t))
	if l.Port() == 0 || l.Addr() == "" || l.From != "n1" || l.To != "n2" {
		t.Fatalf("bad link %q %d %q %q", l.Addr(), l.Port(), l.From, l.To)
	}
	c := dialLink(t, l)
	roundTrip(t, c, "hello")
	eventually(t, "Forwarded == 10", func() bool { return l.Stats().Forwarded == 10 })
	if s := l.Stats(); s.Accepted != 1 || s.Open != 1 || s.Held != 0 {
		t.Fatalf("stats %+v", s)
	}
	c.Close()
	eventually(t, "Open == 0", func() bool { return l.Stats().Open == 0 })
}

// A cut passes nothing, on old and new connections, without closing them;
// on heal the held bytes arrive, in order and whole, like TCP after a
// pulled cable is plugged back in.
func TestLinkCut(t *testing.T) {
	l := newTestLink(t, startEcho(t))
	c1 := dialLink(t, l)
	roundTrip(t, c1, "hello")
	eventually(t, "Forwarded == 10", func() bool { return l.Stats().Forwarded == 10 })

	l.Cut()
	if !l.IsCut() {
		t.Fatal("IsCut false after Cut")
	}
	c2 := dialLink(t, l) // a new connection during the cut is accepted, nothing passes
	deadline := time.Now().Add(300 * time.Millisecond)
	for _, c := range []net.Conn{c1, c2} {
		if _, err := c.Write([]byte("held")); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(deadline)
	}
	for i, c := range []net.Conn{c1, c2} {
		n, err := c.Read(make([]byte, 16))
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("conn %d during cut: read %d bytes, err %v; want a timeout", i+1, n, err)
		}
	}
	eventually(t, "the second connection to be accepted", func() bool { return l.Stats().Accepted == 2 })
	if s := l.Stats(); s.Forwarded != 10 || s.Open != 2 || s.Accepted != 2 {
		t.Fatalf("stats during cut %+v", s)
	}

	l.Heal()
	if l.IsCut() {
		t.Fatal("IsCut true after Heal")
	}
	// What was sent during the cut arrives first, then the stream goes on.
	for _, c := range []net.Conn{c1, c2} {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		got := make([]byte, 4)
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "held" {
			t.Fatalf("after heal: %q, %v; want the held bytes", got, err)
		}
		c.SetReadDeadline(time.Time{})
	}
	roundTrip(t, c1, "again")
	roundTrip(t, c2, "new")
}

// Bytes already in the delay line when the cut comes are held, not lost:
// they arrive after the heal, before anything sent later.
func TestLinkCutHoldsQueued(t *testing.T) {
	l := newTestLink(t, startEcho(t))
	// The proxy must read the bytes before the cut. Nothing shows when it
	// has, but Held shows when it has not (it read them during the cut):
	// then that try tested the other path, and a busy machine gets another.
	for try := 1; ; try++ {
		c := dialLink(t, l)
		held := l.Stats().Held
		l.SetDelay(500 * time.Millisecond)
		c.Write([]byte("queued"))
		time.Sleep(100 * time.Millisecond) // let the proxy read it into the delay queue
		l.Cut()
		time.Sleep(600 * time.Millisecond) // past its due time: still held
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, _ := c.Read(make([]byte, 16)); n != 0 {
			t.Fatalf("%d bytes passed a cut link", n)
		}
		c.SetReadDeadline(time.Time{})
		l.Heal()
		l.SetDelay(0)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got := make([]byte, 6)
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "queued" {
			t.Fatalf("after heal: %q, %v", got, err)
		}
		c.SetReadDeadline(time.Time{})
		roundTrip(t, c, "fresh")
		if l.Stats().Held == held {
			return // read before the cut: the delay queue held it
		}
		if try == 5 {
			t.Fatal("in 5 tries the proxy never read 6 bytes within 100ms, before the cut")
		}
		t.Logf("try %d: the proxy read the bytes only during the cut; again", try)
	}
}

func TestLinkDelay(t *testing.T) {
	l := newTestLink(t, startEcho(t))
	c := dialLink(t, l)
	// The fastest of a few round trips: a busy machine slows some of them
	// down, never one below the delay.
	measure := func() time.Duration {
		var best time.Duration
		for i := range 5 {
			start := time.Now()
			roundTrip(t, c, "ping")
			if d := time.Since(start); i == 0 || d < best {
				best = d
			}
		}
		return best
	}
	if d := measure(); d >= 100*time.Millisecond {
		t.Fatalf("round trip without delay took %v", d)
	}
	l.SetDelay(50 * time.Millisecond)
	if d := measure(); d < 100*time.Millisecond || d > time.Second {
		t.Fatalf("round trip with 50ms delay took %v, want 100ms..1s", d)
	}
	l.SetDelay(0)
	if d := measure(); d >= 100*time.Millisecond {
		t.Fatalf("round trip after removing delay took %v", d)
	}
}

func TestLinkRate(t *testing.T) {
	const size = 50_000
	got := make(chan time.Time, 1)
	sink := startServer(t, func(c net.Conn) {
		if n, _ := io.CopyN(io.Discard, c, size); n == size {
			got <- time.Now()
		}
	})
	l := newTestLink(t, sink)
	l.SetRate(100_000)
	c := dialLink(t, l)
	start := time.Now()
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	select {
	case end := <-got:
		if d := end.Sub(start); d < 400*time.Millisecond {
			t.Fatalf("50 KB at 100 KB/s took %v, want >= 0.4s", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sink never got 50 KB")
	}
}

func TestLinkClose(t *testing.T) {
	l := newTestLink(t, startEcho(t))
	c := dialLink(t, l)
	roundTrip(t, c, "hi")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.Open != 0 { // Close waited for the handlers
		t.Fatalf("stats after Close %+v", s)
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := c.Read(make([]byte, 8)); err == nil {
		t.Fatalf("read %d bytes after Close, want EOF or error", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("Close did not close the client's connection")
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if c2, err := net.DialTimeout("tcp", l.Addr(), time.Second); err == nil {
		c2.Close()
		t.Fatal("link still listening after Close")
	}
}

// A target that is down: the accepted connection is closed, not left hanging.
func TestLinkDialFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	l := newTestLink(t, dead)
	c := dialLink(t, l)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read through a link to a dead target: %v, want EOF", err)
	}
	eventually(t, "Open == 0", func() bool { return l.Stats().Open == 0 })
}

// Cuts nest, as two overlapping partitions sharing a link do: the link
// stays cut until both heal; HealAll undoes every cut.
func TestLinkNestedCuts(t *testing.T) {
	l := newTestLink(t, startEcho(t))
	testNestedCuts(t, l)
	roundTrip(t, dialLink(t, l), "open")
}

// testNestedCuts drives any LinkControl (a proxy, a kernel link) through
// nested cuts, extra heals and HealAll, and leaves it open.
func testNestedCuts(t *testing.T, l LinkControl) {
	t.Helper()
	l.Cut()
	l.Cut()
	l.Heal()
	if !l.IsCut() {
		t.Fatal("one of two cuts healed: the link must stay cut")
	}
	l.Heal()
	if l.IsCut() {
		t.Fatal("both cuts healed: the link must be open")
	}
	l.Heal() // an extra heal does not make the next cut a no-op
	l.Cut()
	if !l.IsCut() {
		t.Fatal("Cut after an extra Heal must cut")
	}
	l.Cut()
	l.HealAll()
	if l.IsCut() {
		t.Fatal("HealAll must open the link")
	}
}

// The test streams are the big-endian uint64 sequence 0, 1, 2, ...: a
// hole, a repeated or a reordered byte anywhere breaks it.
func seqFill(b []byte, off int64) {
	for i := range b {
		k := off + int64(i)
		b[i] = byte(uint64(k/8) >> (56 - 8*(k%8)))
	}
}

// seqSink is a link target that reads one connection's stream, checks it
// is the sequence, and counts it. Paused, it stops reading, as a
// SIGSTOPped node does: its receive buffer fills, then the proxy's send
// buffer, then the proxy's Write blocks.
type seqSink struct {
	addr   string
	paused atomic.Bool
	mu     sync.Mutex
	n      int64 // bytes received, all of them in sequence
	err    error // the first break in the sequence
}

func startSeqSink(t *testing.T) *seqSink {
	t.Helper()
	s := &seqSink{}
	s.addr = startServer(t, func(c net.Conn) {
		buf, want := make([]byte, 32<<10), make([]byte, 32<<10)
		for {
			for s.paused.Load() {
				time.Sleep(time.Millisecond)
			}
			n, err := c.Read(buf)
			s.mu.Lock()
			seqFill(want[:n], s.n)
			if s.err == nil && !bytes.Equal(buf[:n], want[:n]) {
				s.err = fmt.Errorf("the stream breaks in the %d bytes at offset %d", n, s.n)
			}
			s.n += int64(n)
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	})
	return s
}

func (s *seqSink) got() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, s.err
}

// streamSeq writes the sequence into c as fast as c takes it, until stop;
// it returns how many bytes c accepted.
func streamSeq(c net.Conn, stop <-chan struct{}) <-chan int64 {
	total := make(chan int64, 1)
	go func() {
		var off int64
		buf := make([]byte, 32<<10)
		defer func() { total <- off }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			seqFill(buf, off)
			n, err := c.Write(buf)
			off += int64(n)
			if err != nil {
				return
			}
		}
	}()
	return total
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stillCut checks, by polling for a while, that after Cut returned nothing
// crosses: Forwarded stays where it was when Cut returned, and the receiver
// gets what was forwarded by then (it was in the kernel's buffers) and not
// one byte more.
func stillCut(t *testing.T, l *Link, s *seqSink, fwd int64, i int) {
	t.Helper()
	check := func() {
		t.Helper()
		got, _ := s.got()
		if f := l.Stats().Forwarded; f != fwd || got > fwd {
			t.Fatalf("cut %d: %d bytes forwarded and %d received after Cut returned (Forwarded %d -> %d, receiver at %d)",
				i, f-fwd, max(got-fwd, 0), fwd, f, got)
		}
	}
	waitFor(t, 10*time.Second, "the receiver to get the bytes forwarded before the cut", func() bool {
		check()
		got, _ := s.got()
		return got == fwd
	})
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		check()
	}
	check()
}

// finishSeq stops the stream and checks the receiver got all of it, intact.
func finishSeq(t *testing.T, s *seqSink, stop chan struct{}, total <-chan int64) {
	t.Helper()
	close(stop)
	var sent int64
	select {
	case sent = <-total:
	case <-time.After(10 * time.Second):
		t.Fatal("the sender never stopped")
	}
	waitFor(t, 10*time.Second, fmt.Sprintf("the receiver to get all %d bytes sent", sent), func() bool {
		got, err := s.got()
		return got >= sent || err != nil
	})
	if got, err := s.got(); err != nil || got != sent {
		t.Fatalf("received %d bytes of %d sent: %v", got, sent, err)
	}
}

// A cut is exact: once Cut returns, no byte of a stream in full flow
// crosses the link, not even one the proxy was writing at that moment;
// on Heal the stream goes on with no hole, repeat or reordering.
func TestLinkCutExact(t *testing.T) {
	s := startSeqSink(t)
	l := newTestLink(t, s.addr)
	c := dialLink(t, l)
	stop := make(chan struct{})
	total := streamSeq(c, stop)
	var lat []time.Duration
	for i := range 20 {
		from, _ := s.got()
		waitFor(t, 10*time.Second, "the stream to flow", func() bool {
			got, _ := s.got()
			return got > from+256<<10
		})
		start := time.Now()
		l.Cut()
		fwd := l.Stats().Forwarded
		lat = append(lat, time.Since(start))
		stillCut(t, l, s, fwd, i)
		l.Heal()
	}
	finishSeq(t, s, stop, total)
	slices.Sort(lat)
	t.Logf("Cut() on a streaming link: median %v, max %v", lat[len(lat)/2], lat[len(lat)-1])
}

// Cut returns promptly and exactly even when the destination has stopped
// reading (a SIGSTOPped node: its buffers full, the proxy blocked in a
// Write), also when it stays paused across a heal and the next cut; what
// the interrupted Write had left arrives, in order, after the heal.
func TestLinkCutStalledDestination(t *testing.T) {
	s := startSeqSink(t)
	l := newTestLink(t, s.addr)
	c := dialLink(t, l)
	stop := make(chan struct{})
	total := streamSeq(c, stop)
	waitFor(t, 10*time.Second, "the stream to flow", func() bool {
		got, _ := s.got()
		return got > 256<<10
	})
	// stalled waits until the proxy's Write is stuck: Forwarded stops moving.
	stalled := func() {
		t.Helper()
		last, since := l.Stats().Forwarded, time.Now()
		waitFor(t, 30*time.Second, "the proxy to stall on the paused receiver", func() bool {
			if f := l.Stats().Forwarded; f != last {
				last, since = f, time.Now()
			}
			return time.Since(since) > 200*time.Millisecond
		})
	}
	cut := func() (fwd int64, d time.Duration) {
		t.Helper()
		start := time.Now()
		l.Cut()
		fwd = l.Stats().Forwarded
		if d = time.Since(start); d > 2*time.Second {
			t.Fatalf("Cut took %v with the receiver paused", d)
		}
		return fwd, d
	}
	var lat []time.Duration
	for i := range 3 {
		s.paused.Store(true)
		stalled()
		fwd, d := cut()
		lat = append(lat, d)
		// Healed and cut again, the receiver still paused.
		l.Heal()
		stalled()
		fwd, d = cut()
		lat = append(lat, d)
		s.paused.Store(false) // SIGCONT during the cut
		stillCut(t, l, s, fwd, i)
		l.Heal()
		from, _ := s.got()
		waitFor(t, 10*time.Second, "the stream to flow after the heal", func() bool {
			got, _ := s.got()
			return got > from+256<<10
		})
	}
	finishSeq(t, s, stop, total)
	slices.Sort(lat)
	t.Logf("Cut() with the receiver paused: median %v, max %v", lat[len(lat)/2], lat[len(lat)-1])
}
