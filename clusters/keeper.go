package clusters

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"jetstorm/powerfs"
)

// keeperEnv marks a child process started as a powerfs keeper.
const keeperEnv = "JETSTORM_POWERFS_CHILD"

// keeper is the child process that serves a node's store dir through
// powerfs: unsynced writes live in its memory, so SIGKILLing it is a power
// cut for that node. It runs in its own process group and gets SIGTERM if
// jetstorm dies (it then syncs and unmounts: no mount is left behind).
type keeper struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	done chan struct{}
	mu   sync.Mutex // one command at a time
}

// startKeeper starts the keeper of node's store, appending its stderr to
// logPath after a start line.
func startKeeper(ctx context.Context, exe, backing, mountpoint string, writeback time.Duration, logPath, node string) (*keeper, error) {
	// A keeper killed earlier (power loss) leaves a dead mount behind.
	if err := powerfs.ForceUnmount(mountpoint); err != nil {
		return nil, fmt.Errorf("clear stale mount %s: %w", mountpoint, err)
	}
	for _, d := range []string{backing, mountpoint} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	logf, err := openLog(logPath)
	if err != nil {
		return nil, fmt.Errorf("powerfs keeper log: %w", err)
	}
	defer logf.Close() // the keeper has its own copy once started
	fmt.Fprintf(logf, "=== jetstorm: starting the powerfs keeper of %s at %s\n", node, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(exe, "powerfs", "--backing", backing, "--mount", mountpoint, "--writeback", writeback.String())
	cmd.Env = append(os.Environ(), keeperEnv+"=1")
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start powerfs keeper: %w", err)
	}
	k := &keeper{cmd: cmd, in: in, out: bufio.NewReader(outPipe), done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		line, err := k.out.ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "ready" {
			err = fmt.Errorf("unexpected %q", line)
		}
		ready <- err
	}()
	go func() { cmd.Wait(); close(k.done) }()
	select {
	case err := <-ready:
		if err != nil {
			k.kill(mountpoint)
			return nil, fmt.Errorf("powerfs keeper for %s did not mount: %v (see %s)", mountpoint, err, logPath)
		}
		return k, nil
	case <-ctx.Done():
		k.kill(mountpoint)
		return nil, ctx.Err()
	case <-time.After(15 * time.Second):
		k.kill(mountpoint)
		return nil, fmt.Errorf("powerfs keeper for %s not ready after 15s", mountpoint)
	}
}

func (k *keeper) running() bool {
	select {
	case <-k.done:
		return false
	default:
		return true
	}
}

// stats asks the keeper for its counters.
func (k *keeper) stats() (powerfs.Stats, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var st powerfs.Stats
	if _, err := io.WriteString(k.in, "stats\n"); err != nil {
		return st, err
	}
	line, err := k.out.ReadString('\n')
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(line), &st)
}

// kill is the power cut: SIGKILL (the unsynced data dies with the process),
// then detach the dead mount.
func (k *keeper) kill(mountpoint string) error {
	k.cmd.Process.Signal(syscall.SIGKILL)
	<-k.done
	return powerfs.ForceUnmount(mountpoint)
}

// stop is a clean shutdown: stdin EOF makes the keeper sync and unmount.
func (k *keeper) stop(mountpoint string) error {
	k.in.Close()
	select {
	case <-k.done:
		if mounted, _ := powerfs.IsMounted(mountpoint); !mounted {
			return nil
		}
	case <-time.After(15 * time.Second):
	}
	return errors.Join(fmt.Errorf("powerfs keeper for %s did not unmount cleanly", mountpoint), k.kill(mountpoint))
}
