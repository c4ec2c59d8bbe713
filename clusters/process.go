package clusters

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ProcessOptions configures the process backend.
type ProcessOptions struct {
	Name  string // cluster name; default "jetstorm"
	Dir   string // parent directory: one subdirectory per node (config, log, store)
	Nodes int    // default 3
	// SyncInterval is the jetstream sync_interval for every node as it is
	// written in a config file ("always", "1s", ...); "" keeps the server default.
	SyncInterval string
	// Exe runs as "Exe node --config FILE"; default: this executable.
	Exe string
	// ServerBinary, when set, is the nats-server executable every node runs
	// (`BINARY -c CONFIG`; see ServerBinary); "" runs the embedded server
	// (`Exe node --config CONFIG`).
	ServerBinary string
	// ServerBinaries, when set, gives each node its own executable in
	// node order (cluster.servers: a cluster of mixed versions; "" runs
	// the embedded server); it overrides ServerBinary.
	ServerBinaries []string
	// StartTimeout bounds each node start (default 30s).
	StartTimeout time.Duration
	// LinkProxies puts a Link (a TCP proxy jetstorm owns) on every directed
	// route link, for partitions and slow links. Off by default: the extra
	// copy costs route latency. The docker backend takes it as "control the
	// route links" and cuts them in the kernel instead (DockerLink: no
	// proxy, no delay) unless DelayLinks.
	LinkProxies bool
	// DelayLinks says the route links must be able to delay (a slowlink
	// is scheduled). The process backend's proxies always can; the docker
	// backend then routes every route link through a userspace proxy on
	// the host (see dockerproxy.go) instead of cutting them in the kernel,
	// which cannot delay here. It implies LinkProxies.
	DelayLinks bool
	// PowerLossFS serves each node's store dir through powerfs (in a keeper
	// child process), so unsynced writes can be lost (PowerLoss). Writeback
	// is its emulated kernel writeback (0: unsynced data never reaches disk).
	PowerLossFS bool
	Writeback   time.Duration
	// ClientLinks puts a Link on the way from clients to each node: every
	// client connection (workloads, setup, drain) reaches node n through
	// it, and ClientURL is the proxy's, so a fault can cut a node off its
	// clients, or slow them, while its routes stay up.
	ClientLinks bool
	// SystemUser gives every node a system account user (SysUser), for
	// faults that use the system account's API (membership).
	SystemUser bool
	// STAN, when set, runs NATS Streaming instead of JetStream (stan.go):
	// ServerBinary is then a nats-streaming-server.
	STAN *STANOptions
}

// ProcessCluster runs every node as a child process.
type ProcessCluster struct {
	opts  ProcessOptions
	nodes []*ProcessNode
	links map[[2]string]*Link // [from, to] -> proxy, when LinkProxies
	// clientLinks: node -> the proxy its clients come through (ClientLinks)
	clientLinks map[string]*Link
	sinks       []*sink

	closeOnce sync.Once
}

// StartProcess writes every node's config and starts the nodes. On error
// whatever was started is killed.
func StartProcess(ctx context.Context, o ProcessOptions) (*ProcessCluster, error) {
	o = o.withDefaults()
	exe, err := hostExe(o.Exe)
	if err != nil {
		return nil, err
	}
	o.Exe = exe
	ports, err := FreePorts(3 * o.Nodes)
	if err != nil {
		return nil, err
	}
	c := &ProcessCluster{opts: o, links: map[[2]string]*Link{}, clientLinks: map[string]*Link{}}
	for i := 0; i < o.Nodes; i++ {
		name := fmt.Sprintf("n%d", i+1)
		dir, err := filepath.Abs(filepath.Join(o.Dir, name))
		if err != nil {
			return nil, err
		}
		n := &ProcessNode{
			name: name, dir: dir, exe: o.Exe, serverBin: o.ServerBinary, startTimeout: o.StartTimeout,
			clientPort: ports[3*i], httpPort: ports[3*i+1], routePort: ports[3*i+2],
		}
		if i < len(o.ServerBinaries) {
			n.serverBin = o.ServerBinaries[i]
		}
		if o.PowerLossFS {
			n.power = newPowerStore(o.Exe, name, dir, o.Writeback)
		}
		c.nodes = append(c.nodes, n)
	}
	if err := c.configure(); err != nil {
		c.Close(context.Background())
		return nil, err
	}
	// Start all nodes at once: a node waits for its routes to form JetStream.
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.Start(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Close(context.Background())
		return nil, err
	}
	return c, nil
}

// hostExe is the jetstorm that runs on this host as a node or a powerfs
// keeper: exe, by default this executable.
func hostExe(exe string) (string, error) {
	if exe != "" {
		return exe, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find jetstorm executable: %w", err)
	}
	return exe, nil
}

// withDefaults fills in the name, node count and start timeout.
func (o ProcessOptions) withDefaults() ProcessOptions {
	if o.Name == "" {
		o.Name = "jetstorm"
	}
	if o.Nodes <= 0 {
		o.Nodes = 3
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 30 * time.Second
	}
	return o
}

// configure writes every node's config. With link proxies, node i reaches
// node j only through the Link [i, j], and every node advertises a sink
// address (a listener that closes whatever connects): nats-server gossips
// each route's advertised address, and a node that learned a peer's real
// address could open an implicit route around a cut. Gossip now leads to the
// sink, so every route goes through the proxies (a test proves it).
func (c *ProcessCluster) configure() error {
	o := c.opts
	for _, n := range c.nodes {
		conf := NodeConfig{
			Name: n.name, Cluster: o.Name, ClientPort: n.clientPort, HTTPPort: n.httpPort,
			RoutePort: n.routePort, StoreDir: n.StoreDir(), SyncInterval: o.SyncInterval,
			SystemUser: o.SystemUser, Streaming: o.STAN,
		}
		if o.STAN != nil && len(c.nodes) > 1 {
			for _, peer := range c.nodes {
				if peer != n {
					conf.Peers = append(conf.Peers, peer.name)
				}
			}
		}
		// A single node runs standalone JetStream: a cluster block whose
		// only route is the node itself leaves the meta layer "recovering"
		// for ever.
		for _, peer := range c.nodes {
			if len(c.nodes) == 1 {
				conf.Cluster = ""
				break
			}
			if !o.LinkProxies {
				conf.Routes = append(conf.Routes, fmt.Sprintf("nats-route://127.0.0.1:%d", peer.routePort))
				continue
			}
			if peer == n {
				continue
			}
			l, err := NewLink(n.name, peer.name, fmt.Sprintf("127.0.0.1:%d", peer.routePort))
			if err != nil {
				return fmt.Errorf("link %s->%s: %w", n.name, peer.name, err)
			}
			c.links[[2]string{n.name, peer.name}] = l
			conf.Routes = append(conf.Routes, "nats-route://"+l.Addr())
		}
		if o.LinkProxies && conf.Cluster != "" {
			sk, err := newSink()
			if err != nil {
				return err
			}
			c.sinks = append(c.sinks, sk)
			conf.Advertise = sk.addr()
			// Notice a cut route within seconds (default: minutes), so
			// /routez shows the peer gone while the cut lasts. (NATS
			// Streaming embeds nats-server 2.9, whose cluster block has
			// no ping settings: its Raft notices a cut by itself.)
			if o.STAN == nil {
				conf.RoutePingInterval, conf.RoutePingMax = "1s", 3
			}
		}
		if o.ClientLinks {
			l, err := NewLink("clients", n.name, fmt.Sprintf("127.0.0.1:%d", n.clientPort))
			if err != nil {
				return fmt.Errorf("client link to %s: %w", n.name, err)
			}
			c.clientLinks[n.name] = l
			n.clientAddr = l.Addr()
		}
		if err := os.MkdirAll(n.StoreDir(), 0o755); err != nil {
			return fmt.Errorf("node %s: %w", n.name, err)
		}
		n.conf = conf
		if err := n.writeConfig(); err != nil {
			return err
		}
	}
	return nil
}

// Link is the proxy on the route link from -> to (nil without LinkProxies).
func (c *ProcessCluster) Link(from, to string) LinkControl {
	if l := c.links[[2]string{from, to}]; l != nil {
		return l // not a typed nil in the interface
	}
	return nil
}

// ClientLink is the proxy between node and its clients (nil without
// ClientLinks).
func (c *ProcessCluster) ClientLink(node string) LinkControl {
	if l := c.clientLinks[node]; l != nil {
		return l
	}
	return nil
}

// Links lists every link proxy.
func (c *ProcessCluster) Links() []*Link {
	var ls []*Link
	for _, l := range c.links {
		ls = append(ls, l)
	}
	return ls
}

// allLinks are the route links' proxies and the client links'.
func (c *ProcessCluster) allLinks() []*Link {
	ls := c.Links()
	for _, l := range c.clientLinks {
		ls = append(ls, l)
	}
	return ls
}

// BypassAttempts counts connections that reached a sink: implicit routes a
// node tried to open from gossip, which the proxies made fail.
func (c *ProcessCluster) BypassAttempts() int64 {
	var n int64
	for _, s := range c.sinks {
		n += s.accepted.Load()
	}
	return n
}

// Recover undoes every fault: heals every link, resumes paused nodes and
// starts stopped ones.
func (c *ProcessCluster) Recover(ctx context.Context) error {
	for _, l := range c.allLinks() {
		l.HealAll()
		l.SetDelay(0)
		l.SetRate(0)
	}
	return recoverNodes(ctx, c.Nodes())
}

// recoverNodes resumes paused nodes and starts stopped ones.
func recoverNodes(ctx context.Context, nodes []Node) error {
	var errs []error
	for _, n := range nodes {
		if n.Paused() {
			errs = append(errs, n.Resume())
		}
		if !n.Running() {
			errs = append(errs, n.Start(ctx))
		}
	}
	return errors.Join(errs...)
}

func (c *ProcessCluster) Name() string { return c.opts.Name }

func (c *ProcessCluster) Nodes() []Node {
	ns := make([]Node, len(c.nodes))
	for i, n := range c.nodes {
		ns[i] = n
	}
	return ns
}

func (c *ProcessCluster) WaitHealthy(ctx context.Context) error {
	if c.opts.STAN != nil {
		return waitHealthyBy(ctx, func() []string {
			if err := stanHealth(ctx, c.Nodes()); err != nil {
				return []string{err.Error()}
			}
			return nil
		})
	}
	return WaitHealthy(ctx, c.Nodes())
}

// STAN reports whether the cluster runs NATS Streaming (cluster.system: stan).
func (c *ProcessCluster) STAN() bool { return c.opts.STAN != nil }

// Close SIGKILLs every node still running (a paused node is killed too).
// The store directories stay for inspection.
func (c *ProcessCluster) Close(ctx context.Context) error {
	var err error
	c.closeOnce.Do(func() {
		var errs []error
		for _, n := range c.nodes {
			errs = append(errs, n.Kill())
		}
		for _, n := range c.nodes {
			errs = append(errs, n.power.unmount())
		}
		for _, l := range c.allLinks() {
			l.Close()
		}
		for _, s := range c.sinks {
			s.close()
		}
		err = errors.Join(errs...)
	})
	return err
}
