package clusters

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// In proxy mode (DelayLinks) a 3-node docker cluster routes every route
// link through a userspace proxy on the host: it becomes healthy with
// every route through a proxy on the network's gateway (/routez; the
// proxies count bytes), a delay on the links between two nodes raises the
// round trip of a request between them, a cut stops every byte, and a
// restarted node's routes form again through the proxies.
func TestDockerProxyLinks(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, _, err := Start(ctx, Config{Backend: "docker", Logf: t.Logf,
		ProcessOptions: ProcessOptions{Dir: t.TempDir(), Nodes: 3, DelayLinks: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(context.Background())
	c := cl.(*DockerCluster)
	if c.proxies == nil || c.links != nil {
		t.Fatal("not in proxy mode")
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	waitRoutes(t, ctx, c, 30*time.Second, map[string][]string{"n1": {"n2", "n3"}, "n2": {"n1", "n3"}, "n3": {"n1", "n2"}})
	gw := c.proxies.gw.String()
	for _, n := range c.Nodes() {
		var rz server.Routez
		if err := GetJSON(ctx, n, "/routez", &rz); err != nil {
			t.Fatal(err)
		}
		for _, r := range rz.Routes {
			if r.IP != gw {
				t.Errorf("%s: route to %s at %s:%d, not through a proxy on %s", n.Name(), r.RemoteName, r.IP, r.Port, gw)
			}
		}
	}
	for k, l := range c.proxies.links {
		if s := l.Stats(); s.Accepted == 0 || s.Forwarded == 0 {
			t.Errorf("link %s->%s: %+v, want connections and bytes", k[0], k[1], s)
		}
		if c.Link(k[0], k[1]) != LinkControl(l) {
			t.Errorf("Link(%s, %s) is not its proxy", k[0], k[1])
		}
	}

	// Requests from n1 to a responder on n2 (whichever of the two links
	// carries them).
	nodes := c.Nodes()
	conn := func(n Node) *nats.Conn {
		nc, err := nats.Connect(n.ClientURL(), nats.IgnoreDiscoveredServers())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	resp, req := conn(nodes[1]), conn(nodes[0])
	if _, err := resp.Subscribe("echo", func(m *nats.Msg) { m.Respond(m.Data) }); err != nil {
		t.Fatal(err)
	}
	resp.Flush()
	rtt := func() time.Duration {
		t.Helper()
		var last error
		for range 50 {
			start := time.Now()
			if _, err := req.Request("echo", []byte("x"), 3*time.Second); err != nil {
				last = err
				time.Sleep(100 * time.Millisecond) // interest not propagated yet
				continue
			}
			return time.Since(start)
		}
		t.Fatalf("no reply: %v", last)
		return 0
	}
	rtt()
	base := rtt()
	a, b := c.Link("n1", "n2"), c.Link("n2", "n1")
	a.SetDelay(200 * time.Millisecond)
	b.SetDelay(200 * time.Millisecond)
	rtt() // the first may have been read before the delay
	slow := rtt()
	t.Logf("request n1->n2: %s, with 200ms on both links: %s", base, slow)
	if base > 150*time.Millisecond || slow < 350*time.Millisecond {
		t.Errorf("round trip %s without delay, %s with 200ms each way: want < 150ms and >= 350ms", base, slow)
	}
	a.SetDelay(0)
	b.SetDelay(0)

	// A cut stops the bytes: nothing more crosses either link.
	a.Cut()
	b.Cut()
	fa, fb := a.Stats().Forwarded, b.Stats().Forwarded
	time.Sleep(3 * time.Second) // route pings every 1s
	if ga, gb := a.Stats().Forwarded, b.Stats().Forwarded; ga != fa || gb != fb {
		t.Errorf("bytes crossed a cut link: %d -> %d, %d -> %d", fa, ga, fb, gb)
	}
	if _, err := req.Request("echo", []byte("x"), time.Second); err == nil {
		t.Error("a request crossed the cut links")
	}
	a.Heal()
	b.Heal()
	all := map[string][]string{"n1": {"n2", "n3"}, "n2": {"n1", "n3"}, "n3": {"n1", "n2"}}
	waitRoutes(t, ctx, c, 30*time.Second, all)

	// A restarted node is found again (the proxies look its address up at
	// each dial; the engine may have given it another).
	if err := nodes[1].Kill(); err != nil {
		t.Fatal(err)
	}
	if err := nodes[1].Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitRoutes(t, ctx, c, 30*time.Second, all)
}
