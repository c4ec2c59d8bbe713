package clusters

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startDockerLinked starts a 3-node docker cluster whose route links
// jetstorm cuts (LinkProxies: kernel rules on this backend), waits until it
// is healthy with every route up and creates the R3 stream "t".
func startDockerLinked(t *testing.T) (*DockerCluster, context.Context) {
	t.Helper()
	needDocker(t)
	if err := DockerLinksAvailable(); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	cl, _, err := Start(ctx, Config{Backend: "docker", Logf: t.Logf,
		ProcessOptions: ProcessOptions{Dir: t.TempDir(), Nodes: 3, LinkProxies: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close(context.Background()) })
	c := cl.(*DockerCluster)
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes() {
		if p, err := RoutedPeers(ctx, n); err != nil || len(p) != 2 {
			t.Fatalf("%s routes before the cut: %v %v", n.Name(), p, err)
		}
	}
	_, js := dockerJS(t, c.Nodes()[1])
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := js.CreateOrUpdateStream(actx, jetstream.StreamConfig{Name: "t", Subjects: []string{"t"}, Replicas: 3})
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return c, ctx
}

// dockerJS connects to n alone (no other server of the cluster).
func dockerJS(t *testing.T, n Node) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(n.ClientURL(), nats.IgnoreDiscoveredServers(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	return nc, js
}

// acked counts the publishes to "t" acknowledged out of k tries.
func acked(ctx context.Context, js jetstream.JetStream, k int, timeout time.Duration) int {
	ok := 0
	for range k {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		if _, err := js.Publish(pctx, "t", []byte("x")); err == nil {
			ok++
		}
		cancel()
	}
	return ok
}

// isolate cuts both directions of every link between n and the others.
func isolate(c *DockerCluster, n string) []*DockerLink {
	var cut []*DockerLink
	for _, m := range c.Nodes() {
		if m.Name() != n {
			cut = append(cut, c.Link(n, m.Name()).(*DockerLink), c.Link(m.Name(), n).(*DockerLink))
		}
	}
	for _, l := range cut {
		l.Cut()
	}
	return cut
}

// waitRoutes polls until every node routes to exactly the peers want
// gives it, or fails after d.
func waitRoutes(t *testing.T, ctx context.Context, c Cluster, d time.Duration, want map[string][]string) {
	t.Helper()
	var got map[string][]string
	for deadline := time.Now().Add(d); ; {
		got = map[string][]string{}
		ok := true
		for _, n := range c.Nodes() {
			p, _ := RoutedPeers(ctx, n)
			got[n.Name()] = p
			ok = ok && slices.Equal(p, want[n.Name()])
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("routes after %s: %v, want %v", d, got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// n1 isolated: n1 routes to nobody, n2 and n3 only to each other.
var n1Isolated = map[string][]string{"n1": nil, "n2": {"n3"}, "n3": {"n2"}}

// An isolated node is cut off in the kernel, silently and completely: once
// its routes have timed out, /routez shows no route across the cut for the
// rest of it, the counting rule behind each drop rule stays flat (not one
// packet from a cut peer reaches the node: with no drop rule it counts
// every route packet, as it does on the open links) while the drop rules
// count what they drop; the majority commits, the isolated node cannot;
// after HealAll every route is back and the cluster is healthy.
func TestDockerPartition(t *testing.T) {
	c, ctx := startDockerLinked(t)
	_, js1 := dockerJS(t, c.Nodes()[0])
	_, js2 := dockerJS(t, c.Nodes()[1])
	open := c.Link("n2", "n3").(*DockerLink)

	cut := isolate(c, "n1")
	for _, l := range cut {
		if !l.IsCut() {
			t.Fatalf("%s->%s not cut", l.From, l.To)
		}
	}
	start := time.Now()
	waitRoutes(t, ctx, c, 20*time.Second, n1Isolated)
	t.Logf("routes across the cut gone after %s", time.Since(start).Round(time.Millisecond))

	// From here on the routes are down; every counter is read now and
	// again after the checks below.
	before := map[*DockerLink]LinkStats{}
	for _, l := range append(cut, open) {
		before[l] = l.Stats()
		if before[l].Forwarded == 0 {
			t.Errorf("%s->%s: no byte counted before the cut: the counting rule sees nothing", l.From, l.To)
		}
	}
	okMajority := 0
	for i := 0; i < 30 && okMajority == 0; i++ {
		okMajority = acked(ctx, js2, 1, 2*time.Second)
	}
	if okMajority == 0 {
		t.Error("the majority never committed a publish during the partition")
	}
	if n := acked(ctx, js1, 5, time.Second); n != 0 {
		t.Errorf("the isolated node committed %d publishes", n)
	}
	for range 10 {
		for _, n := range c.Nodes() {
			if p, _ := RoutedPeers(ctx, n); !slices.Equal(p, n1Isolated[n.Name()]) {
				t.Fatalf("%s routes to %v during the cut", n.Name(), p)
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	for _, l := range cut {
		s := l.Stats()
		if s.Forwarded != before[l].Forwarded {
			t.Errorf("%s->%s: %d bytes got through the cut", l.From, l.To, s.Forwarded-before[l].Forwarded)
		}
		if s.Dropped <= before[l].Dropped {
			t.Errorf("%s->%s: nothing dropped while the peers kept dialling (%+v)", l.From, l.To, s)
		}
		t.Logf("%s->%s during the cut: %+v", l.From, l.To, s)
	}
	if s := open.Stats(); s.Forwarded <= before[open].Forwarded || s.Dropped != 0 {
		t.Errorf("the open link n2->n3 counted %+v, before %+v: it should carry route traffic and drop nothing", s, before[open])
	}

	for _, l := range cut {
		l.HealAll()
		if l.IsCut() {
			t.Fatalf("%s->%s still cut after HealAll", l.From, l.To)
		}
	}
	healStart := time.Now()
	hctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := c.WaitHealthy(hctx); err != nil {
		t.Fatal(err)
	}
	all := map[string][]string{"n1": {"n2", "n3"}, "n2": {"n1", "n3"}, "n3": {"n1", "n2"}}
	waitRoutes(t, ctx, c, 10*time.Second, all)
	t.Logf("healthy with every route %s after healing", time.Since(healStart).Round(time.Millisecond))
	for _, l := range cut {
		if l.Stats().Forwarded == before[l].Forwarded {
			t.Errorf("%s->%s: no traffic after healing", l.From, l.To)
		}
	}
	okAfter := 0
	for i := 0; i < 20 && okAfter == 0; i++ {
		if okAfter = acked(ctx, js1, 1, 2*time.Second); okAfter == 0 {
			time.Sleep(500 * time.Millisecond)
		}
	}
	if okAfter == 0 {
		t.Error("n1 cannot publish after healing")
	}
}

// Cuts nest: a link stays cut until each Cut is healed; HealAll opens it.
func TestDockerLinkNestedCuts(t *testing.T) {
	c, _ := startDockerLinked(t)
	testNestedCuts(t, c.Link("n1", "n2"))
	if c.Link("n1", "n1") != nil || c.Link("n1", "n9") != nil {
		t.Error("a link to itself or to no node")
	}
}

// A node restarted during a cut is still cut: its new network namespace
// gets the rules back at its start, and so do its peers', which name its
// address. Both sides of the cut are restarted.
func TestDockerPartitionRestart(t *testing.T) {
	c, ctx := startDockerLinked(t)
	cut := isolate(c, "n1")
	waitRoutes(t, ctx, c, 20*time.Second, n1Isolated)
	for _, name := range []string{"n1", "n2"} {
		n := NodeByName(c, name)
		_, ipBefore, _ := n.(*DockerNode).readState(ctx)
		if err := n.Kill(); err != nil {
			t.Fatal(err)
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		_, ipAfter, _ := n.(*DockerNode).readState(ctx)
		t.Logf("%s restarted: address %s, before %s", name, ipAfter, ipBefore)
		before := map[*DockerLink]LinkStats{}
		for _, l := range cut {
			before[l] = l.Stats()
		}
		// The restarted node dials its routes at once and keeps dialling:
		// for 5 s, no route may cross the cut.
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
			for _, m := range c.Nodes() {
				p, _ := RoutedPeers(ctx, m)
				if (m.Name() == "n1" && len(p) > 0) || (m.Name() != "n1" && slices.Contains(p, "n1")) {
					t.Fatalf("after restarting %s: %s routes to %v across the cut", name, m.Name(), p)
				}
			}
		}
		var dropped int64
		for _, l := range cut {
			s := l.Stats()
			if s.Forwarded != before[l].Forwarded {
				t.Errorf("after restarting %s: %d bytes got through %s->%s", name, s.Forwarded-before[l].Forwarded, l.From, l.To)
			}
			dropped += s.Dropped - before[l].Dropped
		}
		if dropped == 0 {
			t.Errorf("after restarting %s: nothing dropped while it dialled its routes", name)
		}
	}
	if err := c.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	hctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := c.WaitHealthy(hctx); err != nil {
		t.Fatal(err)
	}
	waitRoutes(t, ctx, c, 10*time.Second, map[string][]string{"n1": {"n2", "n3"}, "n2": {"n1", "n3"}, "n3": {"n1", "n2"}})
}
