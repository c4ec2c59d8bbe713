package clusters

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) {
	RunNodeIfChild() // this test binary is also the node executable
	os.Exit(m.Run())
}

func TestNodeConfigRender(t *testing.T) {
	c := NodeConfig{Name: "n1", Cluster: "c", ClientPort: 1, HTTPPort: 2, RoutePort: 3,
		StoreDir: "/s", SyncInterval: "always", Routes: []string{"nats-route://127.0.0.1:3"}}
	got := c.Render()
	for _, want := range []string{"server_name: n1", "listen: 127.0.0.1:1", "sync_interval: always", `lame_duck_duration: "30s"`, `lame_duck_grace_period: "2s"`, "nats-route://127.0.0.1:3"} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	c.SyncInterval = ""
	if strings.Contains(c.Render(), "sync_interval") {
		t.Errorf("empty SyncInterval must keep the server default")
	}
}

// SystemUser's config parses in nats-server and logs the system user in
// to $SYS with the password jetstorm sends, checked against its hash.
func TestNodeConfigSystemUser(t *testing.T) {
	p := filepath.Join(t.TempDir(), "n1.conf")
	c := NodeConfig{Name: "n1", ClientPort: 1, HTTPPort: 2, StoreDir: "/s", SystemUser: true}
	if err := os.WriteFile(p, []byte(c.Render()), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(opts.Users) != 1 || opts.Users[0].Username != SysUser || opts.Users[0].Account == nil || opts.Users[0].Account.Name != "$SYS" {
		t.Fatalf("users %+v, want %s in $SYS", opts.Users, SysUser)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(opts.Users[0].Password), []byte(SysPassword)); err != nil {
		t.Errorf("the config's hash does not match SysPassword: %v", err)
	}
	c.SystemUser = false
	if strings.Contains(c.Render(), "accounts") {
		t.Errorf("no SystemUser, no accounts block:\n%s", c.Render())
	}
}

// A log whose last line a killed process left unfinished gets its line
// ended before the next start line, so the start line begins a line.
func TestOpenLogEndsPartialLine(t *testing.T) {
	p := t.TempDir() + "/n1.log"
	for _, tt := range []struct{ before, want string }{
		{"", "=== start\n"},
		{"[1] 2025/01/01 00:00:00.000000 [INF] cut of", "[1] 2025/01/01 00:00:00.000000 [INF] cut of\n=== start\n"},
		{"whole line\n", "whole line\n=== start\n"},
	} {
		os.Remove(p)
		if tt.before != "" {
			os.WriteFile(p, []byte(tt.before), 0o644)
		}
		f, err := openLog(p)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("=== start\n")
		f.Close()
		if b, _ := os.ReadFile(p); string(b) != tt.want {
			t.Errorf("after %q: %q, want %q", tt.before, b, tt.want)
		}
	}
}

// A real 3-node cluster: healthy, a SIGKILLed node really dies and comes back
// on the same store, Close leaves no process behind.
func TestProcessClusterKillRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real 3-node cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := StartProcess(ctx, ProcessOptions{Dir: t.TempDir(), Nodes: 3, SyncInterval: "always"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := Version(ctx, c)
	if err != nil || v != ServerVersion {
		t.Fatalf("version %q, %v; want %s", v, err, ServerVersion)
	}
	n := c.Nodes()[1]
	pid := n.Pid()
	if err := n.Kill(); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatalf("pid %d alive after Kill", pid)
	}
	if n.Running() {
		t.Fatal("Running after Kill")
	}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, n := range c.Nodes() {
		pids = append(pids, n.Pid())
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range pids {
		if alive(p) {
			t.Errorf("pid %d alive after Close", p)
		}
	}
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	return syscall.Kill(pid, 0) == nil
}

// One node is a standalone JetStream server (no cluster block): it becomes
// healthy and takes an R1 stream.
func TestProcessClusterSingleNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real node; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := StartProcess(ctx, ProcessOptions{Dir: t.TempDir(), Nodes: 1, LinkProxies: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Nodes()[0].(*ProcessNode).conf.Render(), "cluster {") {
		t.Fatal("a single node must run without a cluster block")
	}
	nc, err := nats.Connect(c.Nodes()[0].ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "s", Subjects: []string{"s"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "s", []byte("x")); err != nil {
		t.Fatal(err)
	}
}

// stopped sees a SIGSTOP take effect, and a SIGCONT undo it.
func TestStopped(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep command: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	waitStop := func(want bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); stopped(pid) != want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("stopped(%d) is not %v after 10s", pid, want)
			}
		}
	}
	if stopped(pid) {
		t.Fatal("a running process counts as stopped")
	}
	cmd.Process.Signal(syscall.SIGSTOP)
	waitStop(true)
	cmd.Process.Signal(syscall.SIGCONT)
	waitStop(false)
	cmd.Process.Kill()
	cmd.Wait()
	if !stopped(pid) {
		t.Fatal("a process that is gone must count as stopped (nothing left to stop)")
	}
}
