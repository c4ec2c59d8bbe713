package clusters

import (
	"errors"
	"io"
	"net"
	"sync"
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
	c.SetDeadline(time.Now().Add(2 * time.Second))
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

// eventually polls cond for up to a second: counters are updated by the
// proxy goroutines just after the bytes move.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); !cond(); {
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
	c := dialLink(t, l)
	l.SetDelay(200 * time.Millisecond)
	c.Write([]byte("queued"))
	time.Sleep(50 * time.Millisecond) // let the proxy read it into the delay queue
	l.Cut()
	time.Sleep(300 * time.Millisecond) // past its due time: still held
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _ := c.Read(make([]byte, 16)); n != 0 {
		t.Fatalf("%d bytes passed a cut link", n)
	}
	c.SetReadDeadline(time.Time{})
	l.Heal()
	l.SetDelay(0)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	got := make([]byte, 6)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "queued" {
		t.Fatalf("after heal: %q, %v", got, err)
	}
	c.SetReadDeadline(time.Time{})
	roundTrip(t, c, "fresh")
}

func TestLinkDelay(t *testing.T) {
	l := newTestLink(t, startEcho(t))
	c := dialLink(t, l)
	measure := func() time.Duration {
		start := time.Now()
		roundTrip(t, c, "ping")
		return time.Since(start)
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
	case <-time.After(3 * time.Second):
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
	c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read through a link to a dead target: %v, want EOF", err)
	}
	eventually(t, "Open == 0", func() bool { return l.Stats().Open == 0 })
}

// Cuts nest, as two overlapping partitions sharing a link do: the link
// stays cut until both heal; HealAll undoes every cut.
func TestLinkNestedCuts(t *testing.T) {
	l := newTestLink(t, startEcho(t))
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
	roundTrip(t, dialLink(t, l), "open")
}
