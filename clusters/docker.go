package clusters

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"

	"github.com/moby/moby/api/types/container"
	mnet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcnet "github.com/testcontainers/testcontainers-go/network"

	"jetstorm/powerfs"
)

// The docker backend (cluster.backend: docker) runs each node in its own
// container, from a FROM-scratch image holding a static jetstorm or
// nats-server, or from a user's image (see dockerServer), on a network of
// its own per run. Inside, every node listens on the same fixed ports, and
// routes name peers by their network alias
// (nats-route://n2:6222); jetstorm reaches client and monitor ports through
// host ports on 127.0.0.1, fixed per node (see create) and read back from
// the engine at every start. A node's directory (config, log, store)
// is the host's nodes/nN, bind-mounted at /node, so a run directory looks
// as it does with the process backend. (An engine on another machine
// differs: see dockerremote.go.) Route links are cut in the
// kernel, inside the nodes' network namespaces (see dockerlink.go), which
// cannot slow them; when a slowlink is scheduled (DelayLinks), every route
// link goes through a userspace proxy on the host instead (dockerproxy.go).

// Ports inside a node container, and where its directory is mounted.
const (
	dockerClientPort = 4222
	dockerHTTPPort   = 8222
	dockerRoutePort  = 6222
	dockerNodeDir    = "/node"
)

// DockerCluster runs every node as a container.
type DockerCluster struct {
	name, run string
	cli       *testcontainers.DockerClient
	engine    dockerEngine
	network   *testcontainers.DockerNetwork
	nodes     []*DockerNode
	links     *dockerLinks   // kernel links; nil without LinkProxies, or with DelayLinks
	proxies   *dockerProxies // proxy mode (DelayLinks); nil otherwise

	closeOnce sync.Once
}

// startDocker starts a docker cluster: it removes what dead runs left
// (CleanDocker), builds the node image if needed, then creates the network
// and the containers and starts them. On error nothing is left behind.
func startDocker(ctx context.Context, cfg Config) (Cluster, error) {
	o := cfg.ProcessOptions.withDefaults()
	if o.PowerLossFS {
		if err := powerfs.Available(); err != nil {
			return nil, &SpecError{err}
		}
	}
	// LinkProxies asks for links jetstorm controls: here, kernel rules,
	// or with DelayLinks proxies on the host (see dockerproxy.go).
	o.LinkProxies = o.LinkProxies || o.DelayLinks
	if o.LinkProxies && !o.DelayLinks {
		if err := DockerLinksAvailable(); err != nil {
			return nil, &SpecError{err}
		}
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	engine := engineAt(cli.DaemonHost())
	if err := RemoteEngineRefuses(engine.daemon, o.LinkProxies, o.PowerLossFS, false); err != nil {
		cli.Close()
		return nil, err
	}
	removed, err := cleanDead(ctx, cli)
	for _, r := range removed {
		logf("removed %s: left by a jetstorm that is gone", r)
	}
	if err != nil {
		logf("cleaning up after dead runs: %v", err)
	}
	server, err := resolveDockerServer(ctx, cli, cfg, logf)
	if err != nil {
		cli.Close()
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	c := &DockerCluster{name: o.Name, run: fmt.Sprintf("%08x", rand.Uint32()), cli: cli, engine: engine}
	if o.LinkProxies && !o.DelayLinks {
		c.links = newDockerLinks(NodeNames("docker", o.Nodes), logf)
	}
	if err := c.create(sctx, o, server); err != nil {
		c.Close(context.Background())
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	// Start all nodes at once: a node waits for its routes to form JetStream.
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Go(func() { errs[i] = n.Start(sctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Close(context.Background())
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	return c, nil
}

// create makes the run's network, and for each node its directory, config
// and (stopped) container.
func (c *DockerCluster) create(ctx context.Context, o ProcessOptions, server dockerServer) error {
	labels := ownerLabels(c.run)
	nw, err := tcnet.New(ctx, tcnet.WithLabels(labels))
	if err != nil {
		return fmt.Errorf("network: %w", err)
	}
	c.network = nw
	names := NodeNames("docker", o.Nodes)
	if o.DelayLinks {
		if c.proxies, err = newDockerProxies(ctx, c.cli, nw.ID, names); err != nil {
			return err
		}
	}
	// Fixed host ports, not engine-chosen ones: those change at every
	// start, and a workload client pinned to a node's URL would never find
	// the node again after a restart (seen: half the smoke run's publishes
	// failed). The engine keeps an explicit binding across restarts.
	ports, err := FreePorts(2 * o.Nodes)
	if err != nil {
		return err
	}
	for i, name := range names {
		dir, err := filepath.Abs(filepath.Join(o.Dir, name))
		if err != nil {
			return err
		}
		n := &DockerNode{name: name, dir: dir, cli: c.cli, engine: c.engine, network: nw.Name, links: c.links, proxies: c.proxies, startTimeout: o.StartTimeout}
		if o.PowerLossFS {
			// The keeper runs on the host (see dockerpower.go).
			exe, err := hostExe(o.Exe)
			if err != nil {
				return err
			}
			n.power = newPowerStore(exe, name, dir, o.Writeback)
		}
		n.conf = NodeConfig{
			Name: name, Cluster: o.Name, Host: "0.0.0.0", NoAdvertise: true,
			ClientPort: dockerClientPort, HTTPPort: dockerHTTPPort, RoutePort: dockerRoutePort,
			StoreDir: dockerNodeDir + "/store", SyncInterval: o.SyncInterval,
		}
		if len(names) == 1 {
			n.conf.Cluster = "" // standalone, as in the process backend (see configure)
		} else if c.links != nil || c.proxies != nil {
			// As with link proxies: notice a cut route within seconds
			// (default: minutes), so /routez shows the peer gone.
			n.conf.RoutePingInterval, n.conf.RoutePingMax = "1s", 3
		}
		if c.proxies != nil && len(names) > 1 {
			n.conf.Routes = c.proxies.routes(name, names)
			n.conf.Advertise = c.proxies.sink.addr()
		} else {
			for _, peer := range names {
				n.conf.Routes = append(n.conf.Routes, fmt.Sprintf("nats-route://%s:%d", peer, dockerRoutePort))
			}
		}
		local := n.dir // the config and log; the store too, unless remote
		if !c.engine.remote {
			local = n.StoreDir()
		}
		if err := os.MkdirAll(local, 0o755); err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
		if err := n.writeConfig(); err != nil {
			return err
		}
		c.nodes = append(c.nodes, n)
		if n.id, err = c.createContainer(ctx, n, server, labels, ports[2*i], ports[2*i+1]); err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
		if !server.embedded || c.engine.remote {
			n.log = followLog(c.cli, n.id, n.LogPath())
		}
	}
	return nil
}

// createContainer creates n's container, not started. On an engine on
// this machine it runs as the user jetstorm runs as, so the files it
// writes in the bind-mounted node directory are that user's (faults that
// damage the store write them from the host). On a remote engine nothing
// is mounted (see dockerremote.go), and it runs as its image says.
func (c *DockerCluster) createContainer(ctx context.Context, n *DockerNode, server dockerServer, labels map[string]string, clientPort, httpPort int) (string, error) {
	inside := func(f string) string { return dockerNodeDir + "/" + filepath.Base(f) }
	logTo := inside(n.LogPath())
	if c.engine.remote {
		logTo = "" // its stdout, which the engine keeps and jetstorm copies
	}
	req := testcontainers.ContainerRequest{
		Image:  server.image,
		Name:   fmt.Sprintf("jetstorm-%s-%s", c.run, n.name),
		Cmd:    server.cmd(inside(n.ConfigPath())),
		Env:    server.env(logTo),
		Labels: labels,
		ExposedPorts: []string{
			fmt.Sprintf("%d/tcp", dockerClientPort), fmt.Sprintf("%d/tcp", dockerHTTPPort),
		},
		Networks:       []string{c.network.Name},
		NetworkAliases: map[string][]string{c.network.Name: {n.name}},
		ConfigModifier: func(cc *container.Config) {
			if !c.engine.remote {
				cc.User = fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid())
			}
		},
		HostConfigModifier: func(hc *container.HostConfig) {
			if !c.engine.remote {
				hc.Binds = []string{n.dir + ":" + dockerNodeDir}
			}
			// Host ports on loopback only, or on a remote engine on the
			// address jetstorm reaches it at.
			hc.PortBindings = mnet.PortMap{}
			for p, host := range map[int]int{dockerClientPort: clientPort, dockerHTTPPort: httpPort} {
				hc.PortBindings[mnet.MustParsePort(fmt.Sprintf("%d/tcp", p))] = []mnet.PortBinding{{HostIP: c.engine.bind, HostPort: strconv.Itoa(host)}}
			}
		},
	}
	ctr, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req})
	if ctr == nil {
		return "", err
	}
	return ctr.GetContainerID(), err
}

// Link controls the route link from -> to (nil without LinkProxies, or
// for an unknown node): its proxy in proxy mode (DelayLinks), else its
// kernel rules.
// ClientLink is nil: the docker backend does not proxy client links
// (client faults need the process backend).
func (c *DockerCluster) ClientLink(string) LinkControl { return nil }

func (c *DockerCluster) Link(from, to string) LinkControl {
	if c.proxies != nil {
		if l := c.proxies.links[[2]string{from, to}]; l != nil {
			return l // not a typed nil in the interface
		}
		return nil
	}
	names := NodeNames("docker", len(c.nodes))
	if c.links == nil || from == to || !slices.Contains(names, from) || !slices.Contains(names, to) {
		return nil
	}
	return &DockerLink{From: from, To: to, ls: c.links}
}

// Recover heals every link, resumes paused nodes and starts stopped ones.
func (c *DockerCluster) Recover(ctx context.Context) error {
	if c.links != nil {
		c.links.healAll()
	}
	if c.proxies != nil {
		c.proxies.recover()
	}
	return recoverNodes(ctx, c.Nodes())
}

func (c *DockerCluster) Name() string { return c.name }

// Run is the id in the jetstorm.run label of the run's containers and network.
func (c *DockerCluster) Run() string { return c.run }

func (c *DockerCluster) Nodes() []Node {
	ns := make([]Node, len(c.nodes))
	for i, n := range c.nodes {
		ns[i] = n
	}
	return ns
}

func (c *DockerCluster) WaitHealthy(ctx context.Context) error {
	return WaitHealthy(ctx, c.Nodes())
}

// Close removes every container (killing it) and the network, and
// unmounts the stores (powerloss_fs). The node directories stay for
// inspection, the logs complete: a container whose log jetstorm copies is
// killed, and its last lines copied, first.
func (c *DockerCluster) Close(ctx context.Context) error {
	var err error
	c.closeOnce.Do(func() {
		var errs []error
		for _, n := range c.nodes {
			if n.id == "" {
				continue
			}
			if n.log != nil {
				errs = append(errs, n.Kill(), n.log.close(ctx))
			}
			if _, e := c.cli.ContainerRemove(ctx, n.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); e != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", n.name, e))
			}
		}
		// Only once the containers are gone: the keeper's unmount waits
		// for every copy of its mount, and a container holds one.
		for _, n := range c.nodes {
			errs = append(errs, n.power.unmount())
		}
		if c.network != nil {
			if _, e := c.cli.NetworkRemove(ctx, c.network.ID, client.NetworkRemoveOptions{}); e != nil {
				errs = append(errs, fmt.Errorf("remove network %s: %w", c.network.Name, e))
			}
		}
		if c.links != nil {
			c.links.close()
		}
		if c.proxies != nil {
			c.proxies.close()
		}
		errs = append(errs, c.cli.Close())
		err = errors.Join(errs...)
	})
	return err
}
