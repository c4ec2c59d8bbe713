package powerfs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const testWriteback = 200 * time.Millisecond

func TestWritebackInterval(t *testing.T) {
	for _, c := range []struct{ d, want time.Duration }{
		{30 * time.Second, 5 * time.Second},
		{2 * time.Minute, 5 * time.Second},
		{4 * time.Second, 2 * time.Second},
		{200 * time.Millisecond, 100 * time.Millisecond},
		{5 * time.Millisecond, 10 * time.Millisecond},
		{time.Nanosecond, 10 * time.Millisecond},
	} {
		if got := writebackInterval(c.d); got != c.want {
			t.Errorf("writebackInterval(%v) = %v, want %v", c.d, got, c.want)
		}
	}
}

func TestNegativeWriteback(t *testing.T) {
	if _, err := New(t.TempDir(), t.TempDir(), Options{Writeback: -time.Second}); err == nil {
		t.Fatal("New accepted a negative Writeback")
	}
}

// TestWritebackKeepsOldWrites: with Writeback, data left unsynced for longer
// than the expiry reaches the backing file on its own and survives the cut.
func TestWritebackKeepsOldWrites(t *testing.T) {
	e := newEnvOpts(t, Options{Writeback: testWriteback})
	e.writeSync(e.p("f"), []byte("synced "))
	start := time.Now()
	must(t, os.WriteFile(e.p("meta.inf"), []byte("written once"), 0o644)) // write + close, no fsync
	f := e.open(e.p("f"), os.O_WRONLY|os.O_APPEND)
	_, err := f.Write([]byte("unsynced"))
	must(t, err)
	must(t, os.Truncate(e.p("f"), 10)) // truncations are written back too
	// On a busy machine the expiry may pass between the write and the
	// truncation: f is then written back twice.
	fast := time.Since(start) < testWriteback
	if fast {
		e.expect(e.b("meta.inf"), nil) // not yet
	}

	// Before the cut, without any fsync: in the backing file, nothing pending.
	e.eventually(func() bool {
		st := e.m.Stats()
		return st.PendingFiles == 0 && st.PendingBytes == 0 &&
			string(e.read(e.b("meta.inf"))) == "written once" && string(e.read(e.b("f"))) == "synced uns"
	})
	st := e.m.Stats()
	if (fast && st.Writebacks != 2) || st.Writebacks < 2 || st.Fsyncs != 1 {
		t.Fatalf("stats %+v", st)
	}
	// The state is clean again; a new write dirties it anew.
	_, err = f.Write([]byte("+more"))
	must(t, err)
	e.expect(e.p("f"), []byte("synced uns+more"))
	e.eventually(func() bool { return e.m.Stats().Writebacks == st.Writebacks+1 })
	e.expect(e.b("f"), []byte("synced uns+more"))
	must(t, f.Close())
	e.eventually(func() bool { // forgotten once clean and closed
		e.m.mu.Lock()
		defer e.m.mu.Unlock()
		return len(e.m.states) == 0
	})

	e.powerLoss()
	e.expect(e.p("meta.inf"), []byte("written once"))
	e.expect(e.p("f"), []byte("synced uns+more"))
}

// TestWritebackRecentWritesLost: writes younger than the expiry still die
// with the power.
func TestWritebackRecentWritesLost(t *testing.T) {
	e := newEnvOpts(t, Options{Writeback: testWriteback})
	e.writeSync(e.p("f"), []byte("old"))
	for attempt := 1; ; attempt++ {
		start := time.Now()
		must(t, os.WriteFile(e.p("f"), []byte("new content"), 0o644))
		must(t, os.WriteFile(e.p("g"), []byte("fresh"), 0o644))
		e.m.DropUnsynced()
		if elapsed := time.Since(start); elapsed >= testWriteback {
			// Too slow to tell (a loaded machine): writeback was allowed.
			if attempt == 5 {
				t.Skipf("writes took %v, longer than the %v expiry", elapsed, testWriteback)
			}
			t.Logf("attempt %d: writes took %v, retrying", attempt, elapsed)
			e.writeSync(e.p("f"), []byte("old"))
			must(t, os.Remove(e.p("g")))
			continue
		}
		break
	}
	must(t, e.m.Unmount())
	e.mount()
	e.expect(e.p("f"), []byte("old"))
	e.expect(e.p("g"), nil)
	if st := e.m.Stats(); st.Writebacks != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestWritebackContinuousAppend appends a record every few milliseconds and
// cuts the power right after the last one: what survives is a prefix of
// whole records that includes everything older than the expiry (plus a
// generous margin for the flusher's period and scheduling).
func TestWritebackContinuousAppend(t *testing.T) {
	e := newEnvOpts(t, Options{Writeback: testWriteback})
	const recLen = 100
	f := e.open(e.p("log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND)
	var times []time.Time
	var all []byte
	start := time.Now()
	for i := 0; time.Since(start) < 1500*time.Millisecond || i < 10; i++ {
		rec := bytes.Repeat([]byte{byte('a' + i%26)}, recLen)
		_, err := f.Write(rec)
		must(t, err)
		times = append(times, time.Now())
		all = append(all, rec...)
		time.Sleep(5 * time.Millisecond)
	}
	cut := time.Now()
	e.m.DropUnsynced()
	must(t, f.Close())
	must(t, e.m.Unmount())
	e.mount()
	got := e.read(e.p("log"))
	if len(got)%recLen != 0 || !bytes.Equal(got, all[:len(got)]) {
		t.Fatalf("survivors (%d bytes) are not a whole-record prefix of the %d bytes written", len(got), len(all))
	}
	survived, old := len(got)/recLen, 0
	for _, ts := range times {
		if cut.Sub(ts) > testWriteback+writebackInterval(testWriteback)+500*time.Millisecond {
			old++
		}
	}
	t.Logf("%d of %d records survived (%d had to)", survived, len(times), old)
	if survived < max(old, 1) {
		t.Fatalf("%d of %d records survived, want at least %d", survived, len(times), max(old, 1))
	}
}

// TestWritebackConcurrent runs appenders (some fsync, two share a file),
// truncating writers, readers and Stats while a fast flusher writes back
// (run it with -race). In the end the flusher alone brings every file to
// the backing dir, and it all survives a power cut.
func TestWritebackConcurrent(t *testing.T) {
	e := newEnvOpts(t, Options{Writeback: 20 * time.Millisecond})
	const writers, rounds, recLen = 6, 300, 300
	errs := make(chan error, writers+2)
	stop := make(chan struct{})
	go func() { // reader and Stats
		for {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			e.m.Stats()
			for i := range writers - 1 {
				got, err := os.ReadFile(e.p(fmt.Sprintf("f%d", i)))
				if err != nil {
					continue // not created yet
				}
				// A read racing with appends may end mid-record (as on
				// Linux), but whole records are never torn.
				for off := 0; off+recLen <= len(got); off += recLen {
					if bytes.Count(got[off:off+recLen], got[off:off+1]) != recLen {
						errs <- fmt.Errorf("f%d: read a torn record at %d", i, off)
						return
					}
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	go func() { // rewrites a file in place with truncations (a meta file)
		name := e.p("meta")
		for i := 0; ; i++ {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			data := bytes.Repeat([]byte{byte('A' + i%26)}, 1+i%9000)
			if err := os.WriteFile(name, data, 0o644); err != nil {
				errs <- err
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	for w := range writers {
		go func() {
			errs <- appendRecords(e, w, writers, rounds, recLen, 50, func(i int) {
				if i%4 == 0 {
					time.Sleep(time.Millisecond)
				}
			})
		}()
	}
	for range writers {
		must(t, <-errs)
	}
	close(stop)
	must(t, <-errs)
	must(t, <-errs)

	contents := map[string][]byte{"meta": e.read(e.p("meta"))}
	for i := range writers - 1 {
		name := fmt.Sprintf("f%d", i)
		got := e.read(e.p(name))
		want := rounds * recLen
		if i == 0 {
			want *= 2
		}
		if len(got) != want {
			t.Fatalf("%s: %d bytes, want %d", name, len(got), want)
		}
		for off := 0; off < len(got); off += recLen {
			if bytes.Count(got[off:off+recLen], got[off:off+1]) != recLen {
				t.Fatalf("%s: torn record at %d", name, off)
			}
		}
		contents[name] = got
	}
	// No SyncAll: the flusher writes everything back by itself.
	e.eventually(func() bool { st := e.m.Stats(); return st.PendingFiles == 0 && st.PendingBytes == 0 })
	if st := e.m.Stats(); st.Writebacks == 0 {
		t.Fatalf("no writebacks: %+v", st)
	}
	for name, want := range contents {
		e.expect(e.b(name), want)
	}
	t.Logf("stats %+v", e.m.Stats())
	e.powerLoss()
	for name, want := range contents {
		e.expect(e.p(name), want)
	}
}

func TestKeeperArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		ok   bool
		wb   time.Duration
	}{
		{[]string{"--backing", "b", "--mount", "m"}, true, 0},
		{[]string{"--backing", "b", "--mount", "m", "--writeback", "30s"}, true, 30 * time.Second},
		{[]string{"--backing=b", "--mount=m", "--writeback=250ms", "--debug"}, true, 250 * time.Millisecond},
		{[]string{"--backing", "b", "--mount", "m", "--writeback", "0"}, true, 0},
		{[]string{"--backing", "b", "--mount", "m", "--writeback", "30"}, false, 0}, // no unit
		{[]string{"--backing", "b", "--mount", "m", "--writeback", "-1s"}, false, 0},
		{[]string{"--backing", "b", "--mount", "m", "--writeback"}, false, 0},
	} {
		var errb bytes.Buffer
		cfg, ok := parseKeeperArgs(c.args, &errb)
		if ok != c.ok || (ok && (cfg.opts.Writeback != c.wb || cfg.backing != "b" || cfg.mountpoint != "m")) {
			t.Errorf("%q: ok %v, config %+v, stderr %q", c.args, ok, cfg, errb.String())
		}
		if !ok && !strings.Contains(errb.String(), "usage") && !strings.Contains(errb.String(), "writeback") {
			t.Errorf("%q: stderr %q", c.args, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := keeper([]string{"--backing", "b", "--mount", "m", "--writeback", "soon"}, strings.NewReader(""), &out, &errb); code != ExitUsage {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
}

// TestKeeperWriteback: a keeper started with --writeback writes old
// unsynced data back, so it survives SIGKILL.
func TestKeeperWriteback(t *testing.T) {
	skipUnlessAvailable(t)
	dir := t.TempDir()
	backing, mnt := filepath.Join(dir, "backing"), filepath.Join(dir, "mnt")
	k := startKeeper(t, backing, mnt, "--writeback", testWriteback.String())
	e := &env{tb: t, backing: backing, mnt: mnt}
	must(t, os.WriteFile(e.p("meta.inf"), []byte("written once"), 0o644))
	var st Stats
	var line string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		line = k.do(t, "stats")
		must(t, json.Unmarshal([]byte(line), &st))
		if st.Writebacks > 0 || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(line, `"writebacks":1`) || st.Writebacks != 1 || st.PendingFiles != 0 {
		t.Fatalf("stats %s", line)
	}
	must(t, k.cmd.Process.Signal(syscall.SIGKILL))
	k.wait(t)
	must(t, ForceUnmount(mnt))
	e.expect(e.b("meta.inf"), []byte("written once"))
}
