package clusters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ProcessNode is one node of a ProcessCluster.
type ProcessNode struct {
	name, dir, exe                  string
	serverBin                       string // "" = embedded (exe node --config)
	clientPort, httpPort, routePort int
	clientAddr                      string // the client link proxy's address; "": clients connect directly
	startTimeout                    time.Duration
	power                           *powerStore // nil without powerloss_fs

	mu     sync.Mutex
	conf   NodeConfig
	cmd    *exec.Cmd
	done   chan struct{} // closed when the current process has exited
	paused bool
}

// BackingDir is where a powerfs node's store really is on disk.
func (n *ProcessNode) BackingDir() string { return backingDir(n.dir) }

// PowerLoss cuts the node's power: SIGKILL the node, then its powerfs
// keeper, so every write the node had not fsynced is gone. It returns the
// bytes of unsynced data thrown away. Start brings the node back.
func (n *ProcessNode) PowerLoss() (int64, error) { return powerLoss(n.name, n.power, n.Kill) }

// UnsyncedBytes is how much written data the node has not fsynced yet.
func (n *ProcessNode) UnsyncedBytes() (int64, error) { return n.power.unsynced(n.name) }

func (n *ProcessNode) writeConfig() error { return writeConfigFile(n.name, n.ConfigPath(), n.conf) }

// SetSyncInterval rewrites the node's config with a new sync_interval
// ("always", "\"2m\"", "" for the default). It takes effect at the next
// start: sync_interval is not reloadable.
func (n *ProcessNode) SetSyncInterval(v string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.conf.SyncInterval = v
	return n.writeConfig()
}

// SetServerBinary changes the executable the node runs from its next start.
func (n *ProcessNode) SetServerBinary(bin string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.serverBin = bin
	return nil
}

// ServerName is the server_name of the node's config.
func (n *ProcessNode) ServerName() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.conf.Name
}

// SetServerName rewrites the node's config with a new server_name, for
// its next start.
func (n *ProcessNode) SetServerName(name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.conf.Name = name
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

// ClientURL is where clients connect: the node's port, or with client
// links the proxy in front of it.
func (n *ProcessNode) ClientURL() string {
	if n.clientAddr != "" {
		return "nats://" + n.clientAddr
	}
	return fmt.Sprintf("nats://127.0.0.1:%d", n.clientPort)
}
func (n *ProcessNode) MonitorURL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.httpPort) }
func (n *ProcessNode) RoutePort() int     { return n.routePort }

// KeeperLogPath is the log of the node's powerfs keeper (powerloss_fs).
func (n *ProcessNode) KeeperLogPath() string { return keeperLogPath(n.dir, n.name) }

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
	if err := n.power.mount(ctx); err != nil {
		logf.Close()
		n.mu.Unlock()
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	writeStartMarker(logf, n.name)
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

	return waitReady(ctx, n, n.startTimeout, func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
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

// writeStartMarker writes the start line the node-log check splits a log
// on (checker.StartMarker).
func writeStartMarker(w io.Writer, node string) {
	fmt.Fprintf(w, "=== jetstorm: starting %s at %s\n", node, time.Now().UTC().Format(time.RFC3339Nano))
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
