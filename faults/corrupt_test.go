package faults

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Corruption faults really change store files of a stopped node, and the
// node really restarts on them.
func TestCorruption(t *testing.T) {
	c, ctx := startCluster(t, false)
	_, js := connect(t, c.Nodes()[0])
	createStream(t, ctx, js)
	if n := publishes(ctx, js, 300, 5*time.Second); n != 300 {
		t.Fatalf("%d/300 published", n)
	}
	healthy(t, ctx, c)
	n := c.Nodes()[1]
	st := n.Store()

	// The fault kills the node itself; killing it first lets the test copy
	// the files the fault will damage.
	snapshot := func() map[string][]byte {
		if err := n.Kill(); err != nil {
			t.Fatal(err)
		}
		files, err := st.Files()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]byte{}
		for _, f := range files {
			m[f], _ = st.ReadFile(f)
		}
		return m
	}
	restarted := func(kind string, inj *Injection, oldPid int) {
		t.Helper()
		if err := inj.Heal(ctx); err != nil {
			t.Fatalf("%s: restart on the damaged store: %v", kind, err)
		}
		if !n.Running() || n.Pid() == oldPid {
			t.Fatalf("%s: node not restarted", kind)
		}
		healthy(t, ctx, c)
	}

	t.Run("bitflip", func(t *testing.T) {
		pid := n.Pid()
		before := snapshot()
		inj := injectNow(t, ctx, c, Spec{Kind: "bitflip", Target: n.Name(), Params: CorruptParams{Files: []string{"stream-blocks"}, Count: 5}})
		changes := inj.Params["files"].(map[string]any)[n.Name()].([]map[string]any)
		if len(changes) == 0 {
			t.Fatal("no file touched")
		}
		for _, ch := range changes {
			f := ch["file"].(string)
			if !strings.Contains(f, "/streams/T/msgs/") || !strings.HasSuffix(f, ".blk") {
				t.Errorf("files: [stream-blocks] flipped bits in %s", f)
			}
			after, _ := st.ReadFile(f)
			diff := 0
			for i := range after {
				diff += bitsSet(after[i] ^ before[f][i])
			}
			if len(after) != len(before[f]) || diff == 0 || diff > 5 {
				t.Errorf("%s: %d bits differ (want 1..5, an even flip count may cancel), size %d -> %d", f, diff, len(before[f]), len(after))
			}
		}
		restarted("bitflip", inj, pid)
	})

	t.Run("truncate", func(t *testing.T) {
		pid := n.Pid()
		before := snapshot()
		inj := injectNow(t, ctx, c, Spec{Kind: "truncate", Target: n.Name(), Params: CorruptParams{Files: []string{".blk"}, Count: 100}})
		ch := inj.Params["files"].(map[string]any)[n.Name()].([]map[string]any)[0]
		f := ch["file"].(string)
		after, _ := st.ReadFile(f)
		if len(after) != len(before[f])-100 || !bytes.Equal(after, before[f][:len(after)]) {
			t.Errorf("%s: %d bytes -> %d, want the same bytes less 100 at the tail", f, len(before[f]), len(after))
		}
		restarted("truncate", inj, pid)
	})

	t.Run("rollback", func(t *testing.T) {
		pid := n.Pid()
		inj := injectNow(t, ctx, c, Spec{Kind: "rollback", Target: n.Name(), Params: CorruptParams{Files: []string{".blk"}, Count: 8}})
		// New writes change the chunks saved when the fault started.
		if got := publishes(ctx, js, 300, 5*time.Second); got != 300 {
			t.Fatalf("%d/300 published", got)
		}
		restarted("rollback", inj, pid)
		rolled := 0
		for _, ch := range inj.Params["chunks"].(map[string]any)[n.Name()].([]map[string]any) {
			if ch["rolled_back"] == true {
				rolled++
				if ch["was"] == ch["now"] {
					t.Errorf("chunk %v reported rolled back but unchanged", ch)
				}
			}
		}
		if rolled == 0 {
			t.Errorf("no chunk rolled back: %v", inj.Params["chunks"])
		}
	})
}

func bitsSet(b byte) (n int) {
	for ; b != 0; b &= b - 1 {
		n++
	}
	return n
}
