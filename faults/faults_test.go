package faults

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
	"jetstorm/powerfs"
	"jetstorm/units"
)

func TestMain(m *testing.M) {
	clusters.RunNodeIfChild()
	os.Exit(m.Run())
}

func startCluster(t *testing.T, proxies bool) (*clusters.ProcessCluster, context.Context) {
	t.Helper()
	return startClusterWith(t, clusters.ProcessOptions{LinkProxies: proxies})
}

// startClusterWith starts a healthy cluster with o (Dir is set here;
// Nodes 0: 3 nodes), closed when the test ends.
func startClusterWith(t *testing.T, o clusters.ProcessOptions) (*clusters.ProcessCluster, context.Context) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	o.Dir, o.Nodes = t.TempDir(), cmp.Or(o.Nodes, 3)
	c, err := clusters.StartProcess(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	return c, ctx
}

func healthy(t *testing.T, ctx context.Context, c clusters.Cluster) {
	t.Helper()
	hctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := c.WaitHealthy(hctx); err != nil {
		t.Fatal(err)
	}
}

func injectNow(t *testing.T, ctx context.Context, c clusters.Cluster, s Spec) *Injection {
	t.Helper()
	if err := Check(s, clusters.NodeNames("process", len(c.Nodes()))); err != nil {
		t.Fatal(err)
	}
	inj, err := Registry[s.Kind].Inject(ctx, c, Env{Stream: "T"}, s, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatalf("inject %+v: %v", s, err)
	}
	return inj
}

func connect(t *testing.T, n clusters.Node) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(n.ClientURL(), nats.IgnoreDiscoveredServers(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	return nc, js
}

func createStream(t *testing.T, ctx context.Context, js jetstream.JetStream) {
	t.Helper()
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := js.CreateOrUpdateStream(actx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Replicas: 3})
		cancel()
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// publishes counts publishes that were acknowledged out of k tries.
func publishes(ctx context.Context, js jetstream.JetStream, k int, timeout time.Duration) int {
	ok := 0
	for i := 0; i < k; i++ {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		if _, err := js.Publish(pctx, "t.x", []byte("x")); err == nil {
			ok++
		}
		cancel()
	}
	return ok
}

// A partition cuts route traffic between the sides completely: no byte
// crosses any cut link for the whole cut, /routez shows the peers gone and
// never shows a route around the proxies, the majority keeps committing
// and the isolated node cannot; healing brings the routes back.
func TestPartition(t *testing.T) {
	c, ctx := startCluster(t, true)
	n1, n2 := c.Nodes()[0], c.Nodes()[1]
	for _, n := range c.Nodes() {
		if p, err := clusters.RoutedPeers(ctx, n); err != nil || len(p) != 2 {
			t.Fatalf("%s routes before the cut: %v %v", n.Name(), p, err)
		}
	}
	_, js2 := connect(t, n2)
	createStream(t, ctx, js2)
	_, js1 := connect(t, n1)

	inj := injectNow(t, ctx, c, Spec{Kind: "partition", Params: PartitionParams{Shape: "isolate"}, Target: "n1"})
	if !slices.Equal(inj.Targets, []string{"n1", "n2", "n3"}) {
		t.Errorf("targets %v", inj.Targets)
	}
	var cut []*clusters.Link
	for _, p := range [][2]string{{"n1", "n2"}, {"n2", "n1"}, {"n1", "n3"}, {"n3", "n1"}} {
		cut = append(cut, c.Link(p[0], p[1]).(*clusters.Link))
	}
	forwarded := func() (n int64) {
		for _, l := range cut {
			n += l.Stats().Forwarded
		}
		return n
	}
	// Every Cut has returned, and a cut is exact (a write under way is
	// interrupted before Cut returns): from here on no counter may move.
	var beforeEach []int64
	for _, l := range cut {
		beforeEach = append(beforeEach, l.Stats().Forwarded)
	}
	before := forwarded()

	// The cut routes are noticed (route ping_interval 1s) and dropped.
	deadline := time.Now().Add(20 * time.Second)
	for {
		p1, _ := clusters.RoutedPeers(ctx, n1)
		p2, _ := clusters.RoutedPeers(ctx, n2)
		if len(p1) == 0 && !slices.Contains(p2, "n1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("routes across the cut still up after 20s: n1 %v, n2 %v", p1, p2)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The majority side still commits; the isolated node cannot.
	okMajority := 0
	for i := 0; i < 30 && okMajority == 0; i++ {
		okMajority = publishes(ctx, js2, 1, 2*time.Second)
	}
	if okMajority == 0 {
		t.Error("the majority side never committed a publish during the partition")
	}
	if n := publishes(ctx, js1, 5, time.Second); n != 0 {
		t.Errorf("the isolated node committed %d publishes", n)
	}
	// For the whole cut: no route from n1 to anyone, not even an implicit
	// one to a gossiped address, and no byte across the cut links.
	for i := 0; i < 10; i++ {
		if p, _ := clusters.RoutedPeers(ctx, n1); len(p) != 0 {
			t.Fatalf("n1 has routes during the cut: %v", p)
		}
		if p, _ := clusters.RoutedPeers(ctx, c.Nodes()[2]); slices.Contains(p, "n1") {
			t.Fatalf("n3 has a route to n1 during the cut: %v", p)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if after := forwarded(); after != before {
		t.Errorf("%d bytes crossed the cut links during the cut", after-before)
		for i, l := range cut {
			if n := l.Stats().Forwarded - beforeEach[i]; n != 0 {
				t.Errorf("  %d bytes on %s->%s", n, l.From, l.To)
			}
		}
	}
	t.Logf("during the cut: %d implicit-route attempts stopped at the sinks", c.BypassAttempts())

	if err := inj.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	healStart := time.Now()
	healthy(t, ctx, c) // includes every route being back
	t.Logf("healthy with all routes %s after healing", time.Since(healStart).Round(time.Millisecond))
	if forwarded() == before {
		t.Error("no traffic on the healed links")
	}
	// Interest in the stream's subject reaches n1 again over the new routes.
	okAfter := 0
	for i := 0; i < 20 && okAfter == 0; i++ {
		if okAfter = publishes(ctx, js1, 1, 2*time.Second); okAfter == 0 {
			time.Sleep(500 * time.Millisecond)
		}
	}
	if okAfter == 0 {
		t.Error("n1 cannot publish after healing")
	}
}

// A bridge in a 3-node cluster cuts exactly one pair; halves cuts one node off.
func TestPartitionShapes(t *testing.T) {
	c, ctx := startCluster(t, true)
	countCut := func() (n int) {
		for _, l := range c.Links() {
			if l.IsCut() {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		spec Spec
		cut  int // directed links
	}{
		{Spec{Kind: "partition", Params: PartitionParams{Shape: "bridge"}}, 2},
		{Spec{Kind: "partition", Params: PartitionParams{Shape: "halves"}}, 4},
		{Spec{Kind: "partition", Params: PartitionParams{Links: [][]string{{"n1", "n2"}, {"n2", "n3"}}}}, 4},
		{Spec{Kind: "partition", Target: "majority"}, 4},
		{Spec{Kind: "partition", Target: NodeSet("n3", "n1")}, 4}, // {n1, n3} | {n2}
	} {
		inj := injectNow(t, ctx, c, tc.spec)
		if got := countCut(); got != tc.cut {
			t.Errorf("%+v: %d links cut, want %d (%v)", tc.spec, got, tc.cut, inj.Params)
		}
		if tc.spec.Target == NodeSet("n3", "n1") {
			for _, l := range c.Links() {
				if from, to := l.From, l.To; l.IsCut() != ((from == "n2") != (to == "n2")) {
					t.Errorf("node set {n1, n3} isolated: link %s->%s cut %v", from, to, l.IsCut())
				}
			}
		}
		inj.Heal(ctx)
		if got := countCut(); got != 0 {
			t.Errorf("%+v: %d links still cut after healing", tc.spec, got)
		}
	}
}

// A node set target hits every node of the set, and only them.
func TestNodeSetTarget(t *testing.T) {
	c, ctx := startCluster(t, false)
	inj := injectNow(t, ctx, c, Spec{Kind: "pause", Target: NodeSet("n3", "n1")})
	if !slices.Equal(inj.Targets, []string{"n1", "n3"}) {
		t.Errorf("targets %v, want [n1 n3]", inj.Targets)
	}
	for _, n := range c.Nodes() {
		if want := n.Name() != "n2"; n.Paused() != want {
			t.Errorf("%s paused %v, want %v", n.Name(), n.Paused(), want)
		}
	}
	if err := inj.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	healthy(t, ctx, c)
}

// A paused node stops answering, on its monitor port and to clients; it
// answers again after healing.
func TestPause(t *testing.T) {
	c, ctx := startCluster(t, false)
	n := c.Nodes()[1]
	inj := injectNow(t, ctx, c, Spec{Kind: "pause", Target: n.Name()})
	if !n.Paused() || !n.Running() {
		t.Fatal("node not paused")
	}
	hc := &http.Client{Timeout: time.Second}
	if resp, err := hc.Get(n.MonitorURL() + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("a paused node answered /healthz: %s", resp.Status)
	}
	if nc, err := nats.Connect(n.ClientURL(), nats.Timeout(time.Second)); err == nil {
		nc.Close()
		t.Fatal("a paused node accepted a client")
	}
	if err := inj.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	// A resumed node may be slow to answer on a busy machine: poll.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := hc.Get(n.MonitorURL() + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("resumed node does not answer within 30s: %v", err)
		}
	}
	healthy(t, ctx, c)
}

// awaitResponder waits until a request on "rtt" from a gets an answer:
// interest propagates over the route asynchronously.
func awaitResponder(t *testing.T, a *nats.Conn) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) { // "no responders" comes back at once
		if _, err := a.Request("rtt", nil, time.Second); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no responder across the route")
		}
	}
}

// rtt is the fastest of 21 round trips of a request from a client on n1
// to a responder on n2: the message crosses the route link both ways. The
// fastest, not the median: on a busy machine many round trips wait for a
// CPU, but none is faster than the floor, and an added delay raises the
// floor by exactly that much.
func rtt(t *testing.T, a, b *nats.Conn) time.Duration {
	t.Helper()
	var ds []time.Duration
	for i := 0; i < 21; i++ {
		start := time.Now()
		if _, err := a.Request("rtt", nil, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	return slices.Min(ds)
}

// A slow link adds its delay to a measured round trip across it (both ways).
func TestSlowLink(t *testing.T) {
	c, ctx := startCluster(t, true)
	a, _ := connect(t, c.Nodes()[0])
	b, _ := connect(t, c.Nodes()[1])
	sub, err := b.Subscribe("rtt", func(m *nats.Msg) { m.Respond(nil) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	b.Flush()
	awaitResponder(t, a)
	base := rtt(t, a, b)
	const delay = 20 * time.Millisecond
	inj := injectNow(t, ctx, c, Spec{Kind: "slowlink", Target: "n2", Params: SlowLinkParams{Delay: units.Duration(delay)}})
	slow := rtt(t, a, b)
	inj.Heal(ctx)
	healed := rtt(t, a, b)
	t.Logf("round trip: %s before, %s with %s per direction, %s healed", base, slow, delay, healed)
	if slow-base < 2*delay-2*time.Millisecond || slow-base > 2*delay+50*time.Millisecond {
		t.Errorf("round trip grew by %s, want about %s", slow-base, 2*delay)
	}
	if healed > base+delay { // nearer the base than the slowed round trip
		t.Errorf("round trip after healing %s, before %s", healed, base)
	}
}

// Kills by role hit the node /jsz names; a sync-interval change is a
// rolling restart after which /jsz reports the new value on every node.
func TestKillTargetsLeaderAndSyncInterval(t *testing.T) {
	c, ctx := startCluster(t, false)
	_, js := connect(t, c.Nodes()[0])
	createStream(t, ctx, js)
	healthy(t, ctx, c)

	// leader: the named node leads afterwards; with no target, a node that
	// did not lead before does.
	for _, target := range []string{"n3", "n1", ""} {
		before, err := clusters.StreamLeader(ctx, c, "T")
		if err != nil {
			t.Fatal(err)
		}
		inj := injectNow(t, ctx, c, Spec{Kind: "leader", Target: target})
		after, err := clusters.StreamLeader(ctx, c, "T")
		if err != nil || len(inj.Targets) != 1 || after != inj.Targets[0] || (target != "" && after != target) || (target == "" && after == before) {
			t.Errorf("leader %q: before %s, targets %v, after %s (%v)", target, before, inj.Targets, after, err)
		}
	}

	for _, role := range []string{"stream-leader", "meta-leader"} {
		var want string
		var err error
		if role == "stream-leader" {
			want, err = clusters.StreamLeader(ctx, c, "T")
		} else {
			want, err = clusters.MetaLeader(ctx, c)
		}
		if err != nil {
			t.Fatal(err)
		}
		inj := injectNow(t, ctx, c, Spec{Kind: "kill", Target: role})
		if !slices.Equal(inj.Targets, []string{want}) || clusters.NodeByName(c, want).Running() {
			t.Errorf("kill %s: hit %v, leader was %s", role, inj.Targets, want)
		}
		if err := inj.Heal(ctx); err != nil {
			t.Fatal(err)
		}
		healthy(t, ctx, c)
	}

	for _, n := range c.Nodes() {
		info, err := clusters.Jsz(ctx, n)
		if err != nil || info.Config.SyncAlways || info.Config.SyncInterval != 2*time.Minute {
			t.Fatalf("%s before: %v %+v", n.Name(), err, info.Config)
		}
	}
	injectNow(t, ctx, c, Spec{Kind: "sync-interval", Params: SyncIntervalParams{units.SyncAlways()}})
	for _, n := range c.Nodes() {
		info, err := clusters.Jsz(ctx, n)
		if err != nil || !info.Config.SyncAlways {
			t.Errorf("%s after the change to always: %v sync_always=%v", n.Name(), err, info.Config.SyncAlways)
		}
	}
	injectNow(t, ctx, c, Spec{Kind: "sync-interval", Target: "n2", Params: SyncIntervalParams{units.SyncEvery(time.Second)}})
	info, err := clusters.Jsz(ctx, c.Nodes()[1])
	if err != nil || info.Config.SyncAlways || info.Config.SyncInterval != time.Second {
		t.Errorf("n2 after the change to 1s: %v %+v", err, info.Config)
	}
}

// RunPlan writes each fault's start and end into the history and leaves
// the cluster healed.
func TestRunPlanRecordsFaults(t *testing.T) {
	c, ctx := startCluster(t, false)
	rec := history.NewRecorder(io.Discard, true)
	plan := []Planned{
		{At: 0, For: time.Second, Spec: Spec{Kind: "kill", Target: "n3"}, Seed: 1},
		{At: 2 * time.Second, For: time.Second, Spec: Spec{Kind: "pause", Target: "one"}, Seed: 2},
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := RunPlan(ctx, c, Env{Stream: "T"}, plan, rec, time.Now(), log); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range rec.Ops() {
		v := op.Value.(map[string]any)
		got = append(got, fmt.Sprintf("%s %s %v", op.Type, v["kind"], v["nodes"]))
	}
	want := []string{"invoke kill [n3]", "ok kill [n3]"}
	if len(got) != 4 || !slices.Equal(got[:2], want) || got[2][:12] != "invoke pause" || got[3][:8] != "ok pause" {
		t.Errorf("history: %v", got)
	}
	for _, n := range c.Nodes() {
		if !n.Running() || n.Paused() {
			t.Errorf("%s not healed", n.Name())
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("timeout")
	}
}

// A power loss really drops what a node wrote without fsync and keeps what
// it fsynced; the node restarts on what reached the disk.
func TestPowerLoss(t *testing.T) {
	powerfs.NeedInTest(t)
	if testing.Short() {
		t.Skip("starts a real cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := clusters.StartProcess(ctx, clusters.ProcessOptions{Dir: t.TempDir(), Nodes: 3, PowerLossFS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	healthy(t, ctx, c)
	n := c.Nodes()[0].(*clusters.ProcessNode)
	synced, unsynced := filepath.Join(n.StoreDir(), "synced"), filepath.Join(n.StoreDir(), "unsynced")
	f, err := os.Create(synced)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("durable")
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.WriteFile(unsynced, []byte("volatile"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(unsynced); string(b) != "volatile" {
		t.Fatalf("read-your-writes before the power loss: %q", b)
	}
	if pending, err := n.UnsyncedBytes(); err != nil || pending == 0 {
		t.Fatalf("unsynced bytes %d, %v; want > 0", pending, err)
	}
	inj := injectNow(t, ctx, c, Spec{Kind: "powerloss", Target: n.Name()})
	if n.Running() {
		t.Fatal("node still running after power loss")
	}
	lost := inj.Params["unsynced_bytes_lost"].(map[string]int64)[n.Name()]
	if lost == 0 {
		t.Error("power loss reports no unsynced bytes lost")
	}
	if err := inj.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	healthy(t, ctx, c)
	if b, _ := os.ReadFile(synced); string(b) != "durable" {
		t.Errorf("fsynced file after power loss: %q", b)
	}
	if b, _ := os.ReadFile(unsynced); len(b) != 0 {
		t.Errorf("unsynced file after power loss: %q, want it empty", b)
	}
	t.Logf("power loss dropped %d unsynced bytes on %s", lost, n.Name())
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := powerfs.IsMounted(n.StoreDir()); m {
		t.Error("store still mounted after Close")
	}
	// The keeper logs to its own file (started twice: at the start and
	// after the power loss), so the node log holds the server's lines only.
	nodeLog, _ := os.ReadFile(n.LogPath())
	keeperLog, err := os.ReadFile(n.KeeperLogPath())
	if err != nil || bytes.Count(keeperLog, []byte("=== jetstorm: starting the powerfs keeper of "+n.Name())) != 2 ||
		bytes.Contains(nodeLog, []byte("powerfs")) {
		t.Errorf("keeper log %q (%v); node log mentions powerfs: %v", keeperLog, err, bytes.Contains(nodeLog, []byte("powerfs")))
	}
}

// Lame duck on the stream leader: the node hands the leadership over and
// closes its clients, so a client that may reconnect anywhere moves to
// another node and keeps publishing; the node exits by itself (its log
// says it entered lame duck mode), and healing starts it again.
func TestLameDuck(t *testing.T) {
	c, ctx := startCluster(t, false)
	_, js := connect(t, c.Nodes()[0])
	createStream(t, ctx, js)
	var leader string
	for deadline := time.Now().Add(30 * time.Second); leader == ""; time.Sleep(200 * time.Millisecond) {
		leader, _ = clusters.StreamLeader(ctx, c, "T")
		if time.Now().After(deadline) {
			t.Fatal("no stream leader")
		}
	}
	target := clusters.NodeByName(c, leader)
	roamer := roamingClient(t, c, target)
	if roamer.ConnectedServerName() != leader {
		t.Fatalf("the roaming client starts on %s, not %s", roamer.ConnectedServerName(), leader)
	}
	rjs, _ := jetstream.New(roamer)
	inj := injectNow(t, ctx, c, Spec{Kind: "lame-duck", Target: "stream-leader"})
	if !slices.Equal(inj.Targets, []string{leader}) {
		t.Fatalf("targets %v, want the leader %s", inj.Targets, leader)
	}
	for deadline := time.Now().Add(lameDuckWait); target.Running(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still running %s after the lame duck signal", leader, lameDuckWait)
		}
	}
	if log, _ := os.ReadFile(target.LogPath()); !strings.Contains(string(log), "Entering lame duck mode") {
		t.Errorf("%s exited without entering lame duck mode", leader)
	}
	for deadline := time.Now().Add(30 * time.Second); roamer.ConnectedServerName() == leader || !roamer.IsConnected(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the roaming client did not move off %s", leader)
		}
	}
	if n := publishes(ctx, rjs, 20, 5*time.Second); n == 0 {
		t.Errorf("the roaming client, now on %s, cannot publish", roamer.ConnectedServerName())
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		now, err := clusters.StreamLeader(ctx, c, "T")
		if err == nil && now != "" && now != leader {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream leader after the lame duck: %q (%v)", now, err)
		}
	}
	if err := inj.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if !target.Running() {
		t.Fatal("not restarted")
	}
	healthy(t, ctx, c)
}

// A rolling upgrade from the newest 2.14 release to the embedded server:
// node by node, so that for a while the cluster runs both versions (seen
// on /varz); every node reports the new version at the end and the
// cluster is healthy and keeps the stream's messages.
func TestUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nats-server " + upgradeFrom + " and starts a real cluster; skipped with -short")
	}
	old, err := clusters.ServerBinary(t.Context(), upgradeFrom, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	c, ctx := startClusterWith(t, clusters.ProcessOptions{ServerBinaries: []string{old, old, old}})
	_, js := connect(t, c.Nodes()[0])
	createStream(t, ctx, js)
	if n := publishes(ctx, js, 50, 5*time.Second); n != 50 {
		t.Fatalf("%d/50 published", n)
	}
	// Watch the versions the running nodes report while the upgrade rolls.
	seen := map[string]bool{}
	mixed := false
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for wctx.Err() == nil {
			now := map[string]bool{}
			for _, n := range c.Nodes() {
				if v, err := clusters.NodeVersion(wctx, n); err == nil {
					now[v], seen[v] = true, true
				}
			}
			mixed = mixed || len(now) > 1
			time.Sleep(100 * time.Millisecond)
		}
	}()
	inj := injectNow(t, ctx, c, Spec{Kind: "upgrade", Params: UpgradeParams{To: "embedded"}})
	stop()
	<-done
	want := strings.TrimPrefix(upgradeFrom, "v")
	for _, n := range c.Nodes() {
		v := inj.Params["versions"].(map[string]any)[n.Name()].(map[string]string)
		if v["before"] != want || v["after"] != clusters.ServerVersion {
			t.Errorf("%s: %v, want %s -> %s", n.Name(), v, want, clusters.ServerVersion)
		}
	}
	if !mixed || !seen[want] || !seen[clusters.ServerVersion] {
		t.Errorf("versions seen during the upgrade %v, mixed %v: want both, at once", seen, mixed)
	}
	healthy(t, ctx, c)
	if info, err := js.Stream(ctx, "T"); err != nil || info.CachedInfo().State.Msgs != 50 {
		t.Errorf("stream after the upgrade: %v", err)
	}
}

// upgradeFrom is the release TestUpgrade upgrades from: the newest 2.14.
const upgradeFrom = "v2.14.9"

// A client partition cuts n1 off its clients and nothing else: no byte
// crosses n1's client link while it lasts (a pinned client's publishes
// get no answer), n1 stays in the cluster (its routes, its health), a
// roaming client moves to another node and publishes there, and after
// the heal the pinned client publishes again. A client slowlink delays a
// round trip through the client link by its delay, both ways.
func TestClientLinkFaults(t *testing.T) {
	c, ctx := startClusterWith(t, clusters.ProcessOptions{ClientLinks: true})
	n1, n2 := c.Nodes()[0], c.Nodes()[1]
	_, js2 := connect(t, n2)
	createStream(t, ctx, js2)
	pinned, pjs := connect(t, n1)
	roamer := roamingClient(t, c, n1)
	rjs, _ := jetstream.New(roamer)
	if roamer.ConnectedServerName() != "n1" || pinned.ConnectedServerName() != "n1" {
		t.Fatalf("clients start on %s and %s, want n1", pinned.ConnectedServerName(), roamer.ConnectedServerName())
	}
	link := c.ClientLink("n1")
	if n := publishes(ctx, pjs, 5, 5*time.Second); n != 5 || link.Stats().Forwarded == 0 {
		t.Fatalf("before the cut: %d/5 published, %d bytes through n1's client link", n, link.Stats().Forwarded)
	}

	inj := injectNow(t, ctx, c, Spec{Kind: "client-partition", Target: "n1"})
	before := link.Stats().Forwarded
	if n := publishes(ctx, pjs, 3, time.Second); n != 0 {
		t.Errorf("a client cut off n1 published %d", n)
	}
	if got := link.Stats().Forwarded; got != before {
		t.Errorf("%d bytes crossed n1's cut client link", got-before)
	}
	if n := publishes(ctx, js2, 5, 5*time.Second); n != 5 {
		t.Errorf("n2's client published %d/5 while n1's clients were cut", n)
	}
	if rs := routesOf(t, ctx, n1); rs < 2 {
		t.Errorf("n1 lost its routes (%d) in a client partition", rs)
	}
	for deadline := time.Now().Add(30 * time.Second); roamer.ConnectedServerName() == "n1" || !roamer.IsConnected(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the roaming client did not leave n1")
		}
	}
	if n := publishes(ctx, rjs, 5, 5*time.Second); n != 5 {
		t.Errorf("the roaming client, now on %s, published %d/5", roamer.ConnectedServerName(), n)
	}
	if err := inj.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	ok := 0
	for deadline := time.Now().Add(30 * time.Second); ok == 0 && time.Now().Before(deadline); {
		ok = publishes(ctx, pjs, 1, 5*time.Second)
	}
	if ok == 0 {
		t.Error("the pinned client cannot publish after the heal")
	}

	// client-slowlink: a request from a client on n1 to a responder on n2
	// crosses n1's client link twice (and the route); +20 ms each way.
	resp, _ := connect(t, n2)
	sub, err := resp.Subscribe("rtt", func(m *nats.Msg) { m.Respond(nil) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	resp.Flush()
	awaitResponder(t, pinned)
	base := rtt(t, pinned, resp)
	inj = injectNow(t, ctx, c, Spec{Kind: "client-slowlink", Target: "n1", Params: SlowLinkParams{Delay: units.Duration(20 * time.Millisecond)}})
	slow := rtt(t, pinned, resp)
	inj.Heal(ctx)
	if slow-base < 40*time.Millisecond {
		t.Errorf("round trip %s -> %s with 20 ms on n1's client link, want at least 40 ms more", base, slow)
	}
}

// roamingClient connects to every node, first to first: it reconnects to
// the next in order and pings every second, so a silent cut shows in
// seconds (as the workloads' clients_roam clients do).
func roamingClient(t *testing.T, c clusters.Cluster, first clusters.Node) *nats.Conn {
	t.Helper()
	urls := []string{first.ClientURL()}
	for _, n := range c.Nodes() {
		if n != first {
			urls = append(urls, n.ClientURL())
		}
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.DontRandomize(), nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond), nats.PingInterval(time.Second), nats.MaxPingsOutstanding(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// routesOf is how many routes a node's /routez lists.
func routesOf(t *testing.T, ctx context.Context, n clusters.Node) int {
	t.Helper()
	var rz struct {
		NumRoutes int `json:"num_routes"`
	}
	if err := clusters.GetJSON(ctx, n, "/routez", &rz); err != nil {
		t.Fatal(err)
	}
	return rz.NumRoutes
}
