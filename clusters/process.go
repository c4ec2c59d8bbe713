package clusters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	// StartTimeout bounds each node start (default 30s).
	StartTimeout time.Duration
	// LinkProxies puts a Link (a TCP proxy jetstorm owns) on every directed
	// route link, for partitions and slow links. Off by default: the extra
	// copy costs route latency.
	LinkProxies bool
	// PowerLossFS serves each node's store dir through powerfs (in a keeper
	// child process), so unsynced writes can be lost (PowerLoss). Writeback
	// is its emulated kernel writeback (0: unsynced data never reaches disk).
	PowerLossFS bool
	Writeback   time.Duration
}

// ProcessCluster runs every node as a child process.
type ProcessCluster struct {
	opts  ProcessOptions
	nodes []*ProcessNode
	links map[[2]string]*Link // [from, to] -> proxy, when LinkProxies
	sinks []*sink

	closeOnce sync.Once
}

// StartProcess writes every node's config and starts the nodes. On error
// whatever was started is killed.
func StartProcess(ctx context.Context, o ProcessOptions) (*ProcessCluster, error) {
	if o.Name == "" {
		o.Name = "jetstorm"
	}
	if o.Nodes <= 0 {
		o.Nodes = 3
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 30 * time.Second
	}
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find jetstorm executable: %w", err)
		}
		o.Exe = exe
	}
	ports, err := FreePorts(3 * o.Nodes)
	if err != nil {
		return nil, err
	}
	c := &ProcessCluster{opts: o, links: map[[2]string]*Link{}}
	for i := 0; i < o.Nodes; i++ {
		name := fmt.Sprintf("n%d", i+1)
		dir, err := filepath.Abs(filepath.Join(o.Dir, name))
		if err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, &ProcessNode{
			name: name, dir: dir, exe: o.Exe, serverBin: o.ServerBinary, startTimeout: o.StartTimeout,
			clientPort: ports[3*i], httpPort: ports[3*i+1], routePort: ports[3*i+2],
			powerFS: o.PowerLossFS, writeback: o.Writeback,
		})
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
			// /routez shows the peer gone while the cut lasts.
			conf.RoutePingInterval, conf.RoutePingMax = "1s", 3
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
func (c *ProcessCluster) Link(from, to string) *Link { return c.links[[2]string{from, to}] }

// Links lists every link proxy.
func (c *ProcessCluster) Links() []*Link {
	var ls []*Link
	for _, l := range c.links {
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
	for _, l := range c.links {
		l.HealAll()
		l.SetDelay(0)
		l.SetRate(0)
	}
	var errs []error
	for _, n := range c.nodes {
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
	return WaitHealthy(ctx, c.Nodes())
}

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
			errs = append(errs, n.stopKeeper())
		}
		for _, l := range c.links {
			l.Close()
		}
		for _, s := range c.sinks {
			s.close()
		}
		err = errors.Join(errs...)
	})
	return err
}

// NodeConfig is what a node's nats-server config file says.
type NodeConfig struct {
	Name, Cluster                   string // Cluster "" = standalone (no cluster block)
	ClientPort, HTTPPort, RoutePort int
	StoreDir                        string
	SyncInterval                    string // "" = server default
	Routes                          []string
	Advertise                       string // cluster advertise address; "" = the listen address
	RoutePingInterval               string // cluster ping_interval; "" = server default
	RoutePingMax                    int
}

// Render writes the config in nats-server's format, so a real nats-server
// binary of any version can run it too.
func (nc NodeConfig) Render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %s\n", nc.Name)
	fmt.Fprintf(&b, "listen: 127.0.0.1:%d\n", nc.ClientPort)
	fmt.Fprintf(&b, "http: 127.0.0.1:%d\n", nc.HTTPPort)
	fmt.Fprintf(&b, "logtime: true\n")
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n", nc.StoreDir)
	if nc.SyncInterval != "" {
		fmt.Fprintf(&b, "  sync_interval: %s\n", nc.SyncInterval)
	}
	fmt.Fprintf(&b, "}\n")
	if nc.Cluster == "" {
		return b.String() // standalone
	}
	fmt.Fprintf(&b, "cluster {\n  name: %s\n  listen: 127.0.0.1:%d\n", nc.Cluster, nc.RoutePort)
	if nc.Advertise != "" {
		fmt.Fprintf(&b, "  advertise: %q\n", nc.Advertise)
	}
	if nc.RoutePingInterval != "" {
		fmt.Fprintf(&b, "  ping_interval: %q\n  ping_max: %d\n", nc.RoutePingInterval, nc.RoutePingMax)
	}
	fmt.Fprintf(&b, "  routes: [\n")
	for _, r := range nc.Routes {
		fmt.Fprintf(&b, "    %s\n", r)
	}
	fmt.Fprintf(&b, "  ]\n}\n")
	return b.String()
}

// FreePorts returns n distinct free TCP ports on 127.0.0.1, chosen below
// the kernel's ephemeral range: a port the kernel handed out as free (":0")
// can be taken as the source port of any outgoing connection before the node
// binds it, which made nodes fail with "address already in use".
func FreePorts(n int) ([]int, error) {
	lo, hi := portRange()
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	start := lo + rand.IntN(hi-lo)
	for p := start; len(ports) < n; {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			ls = append(ls, l)
			ports = append(ports, p)
		}
		if p++; p >= hi {
			p = lo
		}
		if p == start {
			return nil, fmt.Errorf("no %d free ports in 127.0.0.1:%d-%d", n, lo, hi)
		}
	}
	return ports, nil
}

// portRange is where FreePorts looks: from 10000 up to the start of the
// ephemeral range (/proc/sys/net/ipv4/ip_local_port_range).
func portRange() (lo, hi int) {
	lo, hi = 10000, 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var a, z int
		if _, err := fmt.Sscan(string(b), &a, &z); err == nil && a > lo+1000 {
			hi = a
		}
	}
	return lo, hi
}

// ProcessNode is one node of a ProcessCluster.
type ProcessNode struct {
	name, dir, exe                  string
	serverBin                       string // "" = embedded (exe node --config)
	clientPort, httpPort, routePort int
	startTimeout                    time.Duration
	powerFS                         bool
	writeback                       time.Duration

	mu     sync.Mutex
	conf   NodeConfig
	cmd    *exec.Cmd
	done   chan struct{} // closed when the current process has exited
	paused bool
	keeper *keeper // powerfs keeper serving StoreDir, when powerFS
}

// BackingDir is where a powerfs node's store really is on disk.
func (n *ProcessNode) BackingDir() string { return filepath.Join(n.dir, "store.disk") }

// PowerLoss cuts the node's power: SIGKILL the node, then its powerfs
// keeper, so every write the node had not fsynced is gone. It returns the
// bytes of unsynced data thrown away. Start brings the node back.
func (n *ProcessNode) PowerLoss() (int64, error) {
	if !n.powerFS {
		return 0, fmt.Errorf("power loss of %s: the cluster runs without powerloss_fs", n.name)
	}
	if err := n.Kill(); err != nil {
		return 0, err
	}
	n.mu.Lock()
	k := n.keeper
	n.keeper = nil
	n.mu.Unlock()
	if k == nil {
		return 0, nil
	}
	st, _ := k.stats()
	return st.PendingBytes, k.kill(n.StoreDir())
}

// UnsyncedBytes is how much written data the node has not fsynced yet.
func (n *ProcessNode) UnsyncedBytes() (int64, error) {
	n.mu.Lock()
	k := n.keeper
	n.mu.Unlock()
	if k == nil {
		return 0, fmt.Errorf("%s has no powerfs keeper", n.name)
	}
	st, err := k.stats()
	return st.PendingBytes, err
}

func (n *ProcessNode) stopKeeper() error {
	n.mu.Lock()
	k := n.keeper
	n.keeper = nil
	n.mu.Unlock()
	if k == nil {
		return nil
	}
	return k.stop(n.StoreDir())
}

func (n *ProcessNode) writeConfig() error {
	if err := os.WriteFile(n.ConfigPath(), []byte(n.conf.Render()), 0o644); err != nil {
		return fmt.Errorf("node %s: write config: %w", n.name, err)
	}
	return nil
}

// SetSyncInterval rewrites the node's config with a new sync_interval
// ("always", "\"2m\"", "" for the default). It takes effect at the next
// start: sync_interval is not reloadable.
func (n *ProcessNode) SetSyncInterval(v string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.conf.SyncInterval = v
	return n.writeConfig()
}

// Pause stops the process (SIGSTOP); Resume continues it (SIGCONT).
//
// Pause returns once the process is stopped: kill(2) only queues the
// signal, and the group stop starts when one of the process's threads next
// runs; until every thread has stopped, the others keep serving (seen on a
// busy machine: a "paused" node answered /healthz). It waits up to
// pauseWait for /proc to show every thread stopped.
func (n *ProcessNode) Pause() error {
	if err := n.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	n.mu.Lock()
	n.paused = true
	pid := n.cmd.Process.Pid
	n.mu.Unlock()
	for deadline := time.Now().Add(pauseWait); !stopped(pid); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("pause %s: SIGSTOP sent, but not every thread stopped within %v", n.name, pauseWait)
		}
	}
	return nil
}

// pauseWait bounds Pause's wait for the stop; it normally takes a few ms.
const pauseWait = 5 * time.Second

// stopped reports whether every thread of pid is stopped (state T, or t
// under a tracer), per /proc/PID/task/TID/stat; true too if it is gone or
// dead (nothing left to stop).
func stopped(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return true // gone
	}
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, t.Name()))
		if err != nil {
			continue // this thread exited
		}
		// "TID (comm) S ...": comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 || i+2 >= len(b) {
			return false
		}
		switch b[i+2] {
		case 'T', 't', 'Z', 'X':
		default:
			return false
		}
	}
	return true
}

func (n *ProcessNode) Resume() error {
	n.mu.Lock()
	n.paused = false
	n.mu.Unlock()
	if !n.Running() {
		return nil
	}
	return n.Signal(syscall.SIGCONT)
}

func (n *ProcessNode) Paused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused && n.runningLocked()
}

func (n *ProcessNode) Name() string       { return n.name }
func (n *ProcessNode) Dir() string        { return n.dir }
func (n *ProcessNode) ConfigPath() string { return filepath.Join(n.dir, n.name+".conf") }
func (n *ProcessNode) LogPath() string    { return filepath.Join(n.dir, n.name+".log") }
func (n *ProcessNode) StoreDir() string   { return filepath.Join(n.dir, "store") }
func (n *ProcessNode) ClientURL() string  { return fmt.Sprintf("nats://127.0.0.1:%d", n.clientPort) }
func (n *ProcessNode) MonitorURL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.httpPort) }
func (n *ProcessNode) RoutePort() int     { return n.routePort }

// KeeperLogPath is the log of the node's powerfs keeper (powerloss_fs).
func (n *ProcessNode) KeeperLogPath() string { return filepath.Join(n.dir, n.name+".keeper.log") }

func (n *ProcessNode) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.runningLocked()
}

func (n *ProcessNode) runningLocked() bool {
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

func (n *ProcessNode) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.runningLocked() {
		return 0
	}
	return n.cmd.Process.Pid
}

// Start runs the node process and waits until its monitor port answers
// /healthz?js-enabled-only=true. Starting a running node is an error.
func (n *ProcessNode) Start(ctx context.Context) error {
	n.mu.Lock()
	if n.runningLocked() {
		n.mu.Unlock()
		return fmt.Errorf("start %s: already running", n.name)
	}
	logf, err := openLog(n.LogPath())
	if err != nil {
		n.mu.Unlock()
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	if n.powerFS && (n.keeper == nil || !n.keeper.running()) {
		// The keeper logs to its own file: a node log holds only the
		// server's output, so a crash found there is the server's.
		k, err := startKeeper(ctx, n.exe, n.BackingDir(), n.StoreDir(), n.writeback, n.KeeperLogPath(), n.name)
		if err != nil {
			logf.Close()
			n.mu.Unlock()
			return fmt.Errorf("start %s: %w", n.name, err)
		}
		n.keeper = k
	}
	// The start line the node-log check splits a log on (checker.StartMarker).
	fmt.Fprintf(logf, "=== jetstorm: starting %s at %s\n", n.name, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(n.exe, "node", "--config", n.ConfigPath())
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	if n.serverBin != "" {
		cmd = exec.Command(n.serverBin, "-c", n.ConfigPath())
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a terminal's Ctrl-C reaches jetstorm only, which
		// then kills its nodes in order. Pdeathsig: if jetstorm dies anyhow
		// (panic, SIGKILL) the kernel kills the node too, so nothing leaks.
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		n.mu.Unlock()
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	done := make(chan struct{})
	n.cmd, n.done, n.paused = cmd, done, false
	n.mu.Unlock()
	go func() {
		cmd.Wait()
		logf.Close()
		close(done)
	}()

	ctx, cancel := context.WithTimeout(ctx, n.startTimeout)
	defer cancel()
	for {
		if healthz(ctx, n.MonitorURL()+"/healthz?js-enabled-only=true") == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("start %s: process exited: %s", n.name, lastLines(n.LogPath(), 5))
		case <-ctx.Done():
			return fmt.Errorf("start %s: not ready after %s: %w (log %s)", n.name, n.startTimeout, ctx.Err(), n.LogPath())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Kill sends SIGKILL and waits for the process to be gone. Killing a node
// that is not running is a no-op.
func (n *ProcessNode) Kill() error {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s: %w", n.name, err)
	}
	<-done
	return nil
}

// Stop asks the node to shut down (SIGTERM) and kills it if it has not
// exited when ctx ends or after 10 s.
func (n *ProcessNode) Stop(ctx context.Context) error {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(syscall.SIGCONT) // a paused node cannot handle SIGTERM
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s: %w", n.name, err)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
	}
	return n.Kill()
}

// Signal sends sig to the node process.
func (n *ProcessNode) Signal(sig syscall.Signal) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.runningLocked() {
		return fmt.Errorf("signal %s: not running", n.name)
	}
	return n.cmd.Process.Signal(sig)
}

// WaitHealthy polls every node until each answers /healthz with 200 and
// has a route to every other node.
//
// It must hold for HealthyFor in a row: right after a restart /healthz can
// answer 200 for a moment while a replica is still catching up, then fail
// again (seen after a whole-cluster power loss).
func WaitHealthy(ctx context.Context, nodes []Node) error {
	var since time.Time // first poll of the current all-healthy streak
	for {
		var bad []string
		for _, n := range nodes {
			if err := nodeHealth(ctx, n, len(nodes)); err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", n.Name(), err))
			}
		}
		switch {
		case len(bad) > 0:
			since = time.Time{}
		case since.IsZero():
			since = time.Now()
		}
		if len(bad) == 0 && time.Since(since) >= HealthyFor {
			return nil
		}
		select {
		case <-ctx.Done():
			if len(bad) == 0 {
				return fmt.Errorf("cluster healthy for only %s, not %s", time.Since(since).Round(time.Millisecond), HealthyFor)
			}
			return fmt.Errorf("cluster not healthy: %s", strings.Join(bad, "; "))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// nodeHealth is one health probe of n in a cluster of size nodes: /healthz
// 200 and a route to every peer.
func nodeHealth(ctx context.Context, n Node, nodes int) error {
	if err := healthz(ctx, n.MonitorURL()+"/healthz"); err != nil {
		return err
	}
	peers, err := RoutedPeers(ctx, n)
	if err != nil {
		return err
	}
	if len(peers) != nodes-1 {
		// /healthz can be 200 on a node whose routes are still down
		// (e.g. just after a partition heals).
		return fmt.Errorf("routes to %v only", peers)
	}
	return nil
}

// HealthErrors probes every node once and returns each unhealthy node's
// error (nil when all are healthy): /healthz, then routes to every peer
// that answered /healthz itself (a node is not blamed for missing a route
// to a node that is down). A process node that is not running says so,
// with the tail of its log: why it exited.
func HealthErrors(ctx context.Context, nodes []Node) map[string]string {
	out := map[string]string{}
	up := map[string]bool{}
	for _, n := range nodes {
		if err := healthz(ctx, n.MonitorURL()+"/healthz"); err != nil {
			out[n.Name()] = err.Error()
			if !n.Running() && n.LogPath() != "" {
				out[n.Name()] = "not running; log ends: " + lastLines(n.LogPath(), 3)
			}
			continue
		}
		up[n.Name()] = true
	}
	for _, n := range nodes {
		if !up[n.Name()] {
			continue
		}
		peers, err := RoutedPeers(ctx, n)
		if err != nil {
			out[n.Name()] = err.Error()
			continue
		}
		var missing []string
		for _, p := range nodes {
			if p.Name() != n.Name() && up[p.Name()] && !slices.Contains(peers, p.Name()) {
				missing = append(missing, p.Name())
			}
		}
		if len(missing) > 0 {
			out[n.Name()] = fmt.Sprintf("no route to %s (routes to %v only)", strings.Join(missing, ", "), peers)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// HealthyFor is how long every node must stay healthy for WaitHealthy.
var HealthyFor = time.Second

var httpClient = &http.Client{Timeout: 2 * time.Second}

func healthz(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// openLog opens a log for appending. When its last line is unfinished (a
// process killed mid-write), it ends that line first, so the next start
// line begins a line of its own.
func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, st.Size()-1); err == nil && b[0] != '\n' {
			f.WriteString("\n")
		}
	}
	return f, nil
}

func lastLines(path string, k int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > k {
		lines = lines[len(lines)-k:]
	}
	return strings.Join(lines, " | ")
}

// sink accepts connections and closes them at once, counting them.
type sink struct {
	ln       net.Listener
	accepted atomic.Int64
}

func newSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	s := &sink{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			c.Close()
		}
	}()
	return s, nil
}

func (s *sink) addr() string { return s.ln.Addr().String() }
func (s *sink) close()       { s.ln.Close() }
