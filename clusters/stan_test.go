package clusters

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// A 3-node NATS Streaming cluster (nats-streaming-server, built from the
// module proxy) starts on the process backend: one Raft leader, followers
// routed to it; the leader SIGKILLed, another node leads, and the old one
// rejoins as a follower.
func TestSTANCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nats-streaming-server and starts a real cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	bin, err := STANBinary(ctx, "", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	c, err := StartProcess(ctx, ProcessOptions{Dir: t.TempDir(), Nodes: 3, ServerBinary: bin, STAN: &STANOptions{FileSync: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	healthy := func() {
		t.Helper()
		hctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := c.WaitHealthy(hctx); err != nil {
			t.Fatal(err)
		}
	}
	healthy()
	leader, err := STANLeader(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(c.Nodes()[0].(*ProcessNode).ConfigPath())
	conf := string(b)
	for _, want := range []string{"streaming {", "sync_on_flush: true", `node_id: "n1"`, `peers: ["n2", "n3"]`} {
		if !strings.Contains(conf, want) {
			t.Errorf("n1's config lacks %q:\n%s", want, conf)
		}
	}
	n := NodeByName(c, leader)
	if err := n.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		l, err := STANLeader(ctx, c)
		if err == nil && l != leader {
			t.Logf("leader %s killed, %s leads", leader, l)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new leader within a minute of killing %s: %v", leader, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	healthy()
}
