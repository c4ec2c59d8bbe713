package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"jetstorm/clusters"
)

// dockerRun is a docker-backend run long enough to be stopped mid-way.
const dockerRun = `name: docker-stop
cluster: {nodes: 3, backend: docker}
workload: {clients: 2, rate: 50, duration: 120s}
faults: {kinds: []}
`

// startDockerRun starts `jetstorm run` on the docker backend and waits
// until its workload publishes and its containers exist.
func startDockerRun(t *testing.T) *exitWatch {
	t.Helper()
	clusters.NeedDockerInTest(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	os.WriteFile(file, []byte(dockerRun), 0o644)
	out := filepath.Join(dir, "out")
	cmd := jetstorm("run", file, "--out", out, "-q")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &exitWatch{pid: cmd.Process.Pid, done: make(chan error, 1)}
	go func() { w.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		clusters.CleanDocker(context.Background()) // whatever a failed test left
	})
	// The first docker run may build the node binary and image: minutes.
	deadline := time.Now().Add(4 * time.Minute)
	for {
		b, _ := os.ReadFile(filepath.Join(out, "history.jsonl"))
		if bytes.Contains(b, []byte(`"f":"publish"`)) {
			break
		}
		select {
		case err := <-w.done:
			t.Fatalf("jetstorm ended before publishing: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the docker run never started publishing")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if owned := w.owned(t); len(owned) != 4 { // 3 containers and the network
		t.Fatalf("the run owns %d docker objects, want 4: %v", len(owned), owned)
	}
	return w
}

type exitWatch struct {
	pid  int
	done chan error
}

func (w *exitWatch) owned(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	owned, err := clusters.DockerOwned(ctx, w.pid)
	if err != nil {
		t.Fatal(err)
	}
	return owned
}

func (w *exitWatch) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-w.done:
		return err
	case <-time.After(within):
		t.Fatalf("jetstorm did not exit within %s", within)
		return nil
	}
}

// Ctrl-C mid-run on the docker backend: exit 2, and no container or
// network of the run is left. SIGKILL leaves them (nothing could remove
// them), and `jetstorm clean` then removes them, because their owner is
// dead.
func TestDockerStopLeavesNothing(t *testing.T) {
	t.Run("interrupt", func(t *testing.T) {
		w := startDockerRun(t)
		syscall.Kill(w.pid, syscall.SIGINT)
		if code := exitCode(t, w.wait(t, 2*time.Minute)); code != 2 {
			t.Errorf("exit %d after SIGINT, want 2", code)
		}
		if owned := w.owned(t); len(owned) > 0 {
			t.Errorf("left after Ctrl-C: %v", owned)
		}
	})
	t.Run("kill -9, then clean", func(t *testing.T) {
		w := startDockerRun(t)
		syscall.Kill(w.pid, syscall.SIGKILL)
		w.wait(t, time.Minute)
		if owned := w.owned(t); len(owned) != 4 {
			t.Fatalf("after SIGKILL the run owns %v; want its 3 containers and network, for clean to remove", owned)
		}
		out, err := jetstorm("clean").CombinedOutput()
		if err != nil {
			t.Fatalf("jetstorm clean: %v\n%s", err, out)
		}
		if owned := w.owned(t); len(owned) > 0 {
			t.Errorf("left after jetstorm clean: %v\n%s", owned, out)
		}
	})
}
