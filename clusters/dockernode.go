package clusters

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	mnet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// DockerNode is one node of a DockerCluster: a container, created once and
// started, stopped and killed in place, so a restart keeps its config and
// store (both in the bind-mounted node directory).
type DockerNode struct {
	name, dir, id string // dir: the host directory mounted at /node
	cli           *testcontainers.DockerClient
	engine        dockerEngine
	network       string         // the run's network
	links         *dockerLinks   // nil when links are not controlled, or proxied
	proxies       *dockerProxies // proxy mode only
	startTimeout  time.Duration
	// log copies the container's output into the node log; nil when the
	// node writes that itself (the embedded server).
	log   *containerLog
	power *powerStore // nil without powerloss_fs (see dockerpower.go)

	mu                   sync.Mutex
	conf                 NodeConfig
	clientPort, httpPort int // host ports, as the engine mapped them at the last start
}

// dockerOpTimeout bounds an engine call of a method that has no ctx.
const dockerOpTimeout = 30 * time.Second

func (n *DockerNode) Name() string       { return n.name }
func (n *DockerNode) Dir() string        { return n.dir }
func (n *DockerNode) ConfigPath() string { return filepath.Join(n.dir, n.name+".conf") }
func (n *DockerNode) LogPath() string    { return filepath.Join(n.dir, n.name+".log") }
func (n *DockerNode) StoreDir() string   { return filepath.Join(n.dir, "store") }

// ContainerID is the id of the node's container.
func (n *DockerNode) ContainerID() string { return n.id }

func (n *DockerNode) ClientURL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.engine.url("nats", n.clientPort)
}

func (n *DockerNode) MonitorURL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.engine.url("http", n.httpPort)
}

// Store is the store directory on the host (the container's is mounted
// from it); nil on a remote engine, where it is the container's own.
func (n *DockerNode) Store() Store {
	if n.engine.remote {
		return nil
	}
	return hostStore{n.StoreDir()}
}

func (n *DockerNode) writeConfig() error { return writeConfigFile(n.name, n.ConfigPath(), n.conf) }

// SetSyncInterval rewrites the config for the next start, as for a
// process node (sync_interval is not reloadable).
func (n *DockerNode) SetSyncInterval(v string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.conf.SyncInterval = v
	return n.writeConfig()
}

// ServerName is the server_name of the node's config.
func (n *DockerNode) ServerName() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.conf.Name
}

// SetServerName rewrites the config for the next start, as for a process
// node.
func (n *DockerNode) SetServerName(name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.conf.Name = name
	return n.writeConfig()
}

// SetServerBinary is not possible: every container runs the cluster's image.
func (n *DockerNode) SetServerBinary(string) error {
	return fmt.Errorf("%s: the docker backend runs one image for every node; a server change (upgrade) needs the process backend", n.name)
}

// state is the container's state as the engine sees it now.
func (n *DockerNode) state(ctx context.Context) (*container.State, error) {
	r, err := n.cli.ContainerInspect(ctx, n.id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", n.name, err)
	}
	if r.Container.State == nil {
		return nil, fmt.Errorf("inspect %s: no state", n.name)
	}
	return r.Container.State, nil
}

func (n *DockerNode) stateNow() (*container.State, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerOpTimeout)
	defer cancel()
	return n.state(ctx)
}

// Running: the container runs (paused or not). An engine that does not
// answer counts as not running.
func (n *DockerNode) Running() bool {
	st, err := n.stateNow()
	return err == nil && st.Running
}

func (n *DockerNode) Paused() bool {
	st, err := n.stateNow()
	return err == nil && st.Running && st.Paused
}

// Pid is the host pid of the container's init process (the node), 0 when
// it is not running, or runs on another machine.
func (n *DockerNode) Pid() int {
	st, err := n.stateNow()
	if err != nil || !st.Running || n.engine.remote {
		return 0
	}
	return st.Pid
}

// Start starts the container (again: same config, same store), reads its
// mapped host ports back and waits until the node accepts clients.
func (n *DockerNode) Start(ctx context.Context) error {
	st, err := n.state(ctx)
	if err != nil {
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	if st.Running {
		return fmt.Errorf("start %s: already running", n.name)
	}
	// Before the container: its bind mount is resolved as it starts.
	if err := n.power.mount(ctx); err != nil {
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	logf, err := openLog(n.LogPath())
	if err != nil {
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	writeStartMarker(logf, n.name)
	logf.Close()
	if n.engine.remote { // nothing is mounted: the config as it is now
		if err := copyIn(ctx, n.cli, n.id, n.ConfigPath(), dockerNodeDir+"/"+filepath.Base(n.ConfigPath())); err != nil {
			return fmt.Errorf("start %s: %w", n.name, err)
		}
	}
	if _, err := n.cli.ContainerStart(ctx, n.id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	pid, ip, err := n.readState(ctx)
	if err != nil {
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	// At once: the node dials its routes as it comes up, and a link cut
	// while it was down must be cut before they get through.
	if n.proxies != nil {
		n.proxies.started(n.name, ip)
	}
	if n.links != nil {
		if err := n.links.started(n.name, pid, ip); err != nil {
			return fmt.Errorf("start %s: %w", n.name, err)
		}
	}
	return waitReady(ctx, n, n.startTimeout, func() bool {
		st, err := n.state(ctx)
		return err == nil && !st.Running
	})
}

// readState reads the host ports the engine mapped the client and monitor
// ports to, and returns the container's init pid and its address on the
// run's network.
func (n *DockerNode) readState(ctx context.Context) (pid int, ip netip.Addr, err error) {
	r, err := n.cli.ContainerInspect(ctx, n.id, client.ContainerInspectOptions{})
	if err != nil {
		return 0, ip, err
	}
	ns := r.Container.NetworkSettings
	if ns == nil || r.Container.State == nil {
		return 0, ip, errors.New("no network settings or state")
	}
	if ep := ns.Networks[n.network]; ep != nil {
		ip = ep.IPAddress
	}
	if !ip.IsValid() || r.Container.State.Pid <= 0 {
		return 0, ip, fmt.Errorf("no address on %s or no pid (running: %v)", n.network, r.Container.State.Running)
	}
	port := func(p int) (int, error) {
		for _, b := range ns.Ports[mnet.MustParsePort(fmt.Sprintf("%d/tcp", p))] {
			if hp, err := strconv.Atoi(b.HostPort); err == nil && hp > 0 {
				return hp, nil
			}
		}
		return 0, fmt.Errorf("port %d/tcp is not mapped to a host port", p)
	}
	cp, err := port(dockerClientPort)
	if err != nil {
		return 0, ip, err
	}
	hp, err := port(dockerHTTPPort)
	if err != nil {
		return 0, ip, err
	}
	n.mu.Lock()
	n.clientPort, n.httpPort = cp, hp
	n.mu.Unlock()
	return r.Container.State.Pid, ip, nil
}

// Kill SIGKILLs the node and waits until the container is stopped. Killing
// a node that is not running is a no-op; a paused one is killed too.
func (n *DockerNode) Kill() error {
	ctx, cancel := context.WithTimeout(context.Background(), dockerOpTimeout)
	defer cancel()
	st, err := n.state(ctx)
	if err != nil {
		return fmt.Errorf("kill %s: %w", n.name, err)
	}
	if !st.Running {
		return nil
	}
	if _, err := n.cli.ContainerKill(ctx, n.id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("kill %s: %w", n.name, err)
	}
	if st.Paused {
		// The pending SIGKILL is taken on thawing, before the node runs
		// any code of its own.
		n.cli.ContainerUnpause(ctx, n.id, client.ContainerUnpauseOptions{})
	}
	return n.waitStopped(ctx, "kill")
}

// Stop asks the node to shut down (SIGTERM) and kills it if it has not
// exited after 10 s.
func (n *DockerNode) Stop(ctx context.Context) error {
	st, err := n.state(ctx)
	if err != nil {
		return fmt.Errorf("stop %s: %w", n.name, err)
	}
	if !st.Running {
		return nil
	}
	if st.Paused { // a frozen node cannot handle SIGTERM
		if _, err := n.cli.ContainerUnpause(ctx, n.id, client.ContainerUnpauseOptions{}); err != nil {
			return fmt.Errorf("stop %s: %w", n.name, err)
		}
	}
	grace := 10
	if _, err := n.cli.ContainerStop(ctx, n.id, client.ContainerStopOptions{Timeout: &grace}); err != nil {
		return errors.Join(fmt.Errorf("stop %s: %w", n.name, err), n.Kill())
	}
	return n.waitStopped(ctx, "stop")
}

// waitStopped polls until the engine reports the container not running,
// then copies the last lines of its log, if jetstorm copies it.
func (n *DockerNode) waitStopped(ctx context.Context, op string) error {
	for {
		st, err := n.state(ctx)
		if err == nil && !st.Running {
			if n.log != nil {
				return n.log.sync(ctx)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s: still running: %w", op, n.name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Signal sends sig to the node (the container's main process).
func (n *DockerNode) Signal(sig syscall.Signal) error {
	ctx, cancel := context.WithTimeout(context.Background(), dockerOpTimeout)
	defer cancel()
	if _, err := n.cli.ContainerKill(ctx, n.id, client.ContainerKillOptions{Signal: strconv.Itoa(int(sig))}); err != nil {
		return fmt.Errorf("signal %s: %w", n.name, err)
	}
	return nil
}

// Pause freezes the container (docker pause: the cgroup freezer, so every
// thread is stopped when it returns); Resume thaws it.
func (n *DockerNode) Pause() error {
	ctx, cancel := context.WithTimeout(context.Background(), dockerOpTimeout)
	defer cancel()
	if _, err := n.cli.ContainerPause(ctx, n.id, client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("pause %s: %w", n.name, err)
	}
	return nil
}

func (n *DockerNode) Resume() error {
	ctx, cancel := context.WithTimeout(context.Background(), dockerOpTimeout)
	defer cancel()
	st, err := n.state(ctx)
	if err != nil {
		return fmt.Errorf("resume %s: %w", n.name, err)
	}
	if !st.Paused {
		return nil
	}
	if _, err := n.cli.ContainerUnpause(ctx, n.id, client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("resume %s: %w", n.name, err)
	}
	return nil
}
