package clusters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	// StartTimeout bounds each node start (default 30s).
	StartTimeout time.Duration
}

// ProcessCluster runs every node as a child process.
type ProcessCluster struct {
	opts  ProcessOptions
	nodes []*ProcessNode

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
	c := &ProcessCluster{opts: o}
	var routes []string
	for i := 0; i < o.Nodes; i++ {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[3*i+2]))
	}
	for i := 0; i < o.Nodes; i++ {
		name := fmt.Sprintf("n%d", i+1)
		dir, err := filepath.Abs(filepath.Join(o.Dir, name))
		if err != nil {
			return nil, err
		}
		n := &ProcessNode{
			name: name, dir: dir, exe: o.Exe, startTimeout: o.StartTimeout,
			clientPort: ports[3*i], httpPort: ports[3*i+1], routePort: ports[3*i+2],
		}
		if err := os.MkdirAll(n.StoreDir(), 0o755); err != nil {
			return nil, fmt.Errorf("node %s: %w", name, err)
		}
		conf := NodeConfig{
			Name: name, Cluster: o.Name, ClientPort: n.clientPort, HTTPPort: n.httpPort,
			RoutePort: n.routePort, StoreDir: n.StoreDir(), SyncInterval: o.SyncInterval, Routes: routes,
		}
		if err := os.WriteFile(n.ConfigPath(), []byte(conf.Render()), 0o644); err != nil {
			return nil, fmt.Errorf("node %s: write config: %w", name, err)
		}
		c.nodes = append(c.nodes, n)
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
		err = errors.Join(errs...)
	})
	return err
}

// NodeConfig is what a node's nats-server config file says.
type NodeConfig struct {
	Name, Cluster                   string
	ClientPort, HTTPPort, RoutePort int
	StoreDir                        string
	SyncInterval                    string // "" = server default
	Routes                          []string
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
	fmt.Fprintf(&b, "cluster {\n  name: %s\n  listen: 127.0.0.1:%d\n  routes: [\n", nc.Cluster, nc.RoutePort)
	for _, r := range nc.Routes {
		fmt.Fprintf(&b, "    %s\n", r)
	}
	fmt.Fprintf(&b, "  ]\n}\n")
	return b.String()
}

// FreePorts returns n distinct free TCP ports on 127.0.0.1.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// ProcessNode is one node of a ProcessCluster.
type ProcessNode struct {
	name, dir, exe                  string
	clientPort, httpPort, routePort int
	startTimeout                    time.Duration

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current process has exited
}

func (n *ProcessNode) Name() string       { return n.name }
func (n *ProcessNode) Dir() string        { return n.dir }
func (n *ProcessNode) ConfigPath() string { return filepath.Join(n.dir, n.name+".conf") }
func (n *ProcessNode) LogPath() string    { return filepath.Join(n.dir, n.name+".log") }
func (n *ProcessNode) StoreDir() string   { return filepath.Join(n.dir, "store") }
func (n *ProcessNode) ClientURL() string  { return fmt.Sprintf("nats://127.0.0.1:%d", n.clientPort) }
func (n *ProcessNode) MonitorURL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.httpPort) }
func (n *ProcessNode) RoutePort() int     { return n.routePort }

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
	logf, err := os.OpenFile(n.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.mu.Unlock()
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	fmt.Fprintf(logf, "=== jetstorm: starting %s at %s\n", n.name, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(n.exe, "node", "--config", n.ConfigPath())
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
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
	n.cmd, n.done = cmd, done
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

// WaitHealthy polls every node's /healthz until all answer 200.
func WaitHealthy(ctx context.Context, nodes []Node) error {
	for {
		var bad []string
		for _, n := range nodes {
			if err := healthz(ctx, n.MonitorURL()+"/healthz"); err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", n.Name(), err))
			}
		}
		if len(bad) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not healthy: %s", strings.Join(bad, "; "))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

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
